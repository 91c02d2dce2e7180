/* gpt.c: the GUID partition table (UEFI spec 2.x, section 5.3): primary header at LBA 1, backup
 * at the last LBA, both CRC32-checked along with their entry arrays. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPT_HEADER_MIN 92
#define GPT_ENTRY_MIN 128
#define GPT_ENTRY_MAX 4096
#define GPT_ENTRIES_MAX 16384
#define GPT_ARRAY_MAX (4u << 20)     /* bytes of entry array read into memory */
#define GPT_NAME_UNITS 36

struct gpt_header {
	uint32_t revision;
	uint32_t header_size;
	uint32_t header_crc32;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint8_t disk_guid[16];
	uint64_t partition_entry_lba;
	uint32_t num_partition_entries;
	uint32_t sizeof_partition_entry;
	uint32_t partition_entry_array_crc32;
};

/* How far a header got: the worst candidate's reason is not worth reporting when another got
 * further (a bad CRC at LBA 1 says more than "no signature" at the 4096-byte LBA 1). */
enum { HDR_ABSENT = 0, HDR_BAD = 1, HDR_OK = 2 };

struct gpt_try {
	int level;
	char why[160];
};

static void note(struct gpt_try *t, int level, const char *why, uint64_t lba, uint32_t sector)
{
	if (level < t->level)
		return;
	t->level = level;
	snprintf(t->why, sizeof t->why, "%s (LBA %llu, %u-byte sectors)", why, (unsigned long long)lba,
		 (unsigned)sector);
}

/* Read and check the header at lba for the given sector size. */
static int header_load(struct sv_dev *dev, uint32_t sector, uint64_t lba, struct gpt_header *h,
		       struct gpt_try *t)
{
	uint64_t off, end;
	if (!sv_mul64(lba, sector, &off) || !sv_add64(off, sector, &end) || end > dev->size)
		return HDR_ABSENT;
	uint8_t *buf = malloc(sector);
	if (!buf)
		return SV_ERR_NOMEM;
	int level = HDR_BAD;
	const char *why = NULL;
	if (sv_dev_read(dev, off, buf, sector) != SV_OK) {
		why = "read error";
		goto out;
	}
	struct sv_cur c = sv_cur_make(buf, sector);
	const uint8_t *sig = sv_cur_take(&c, 8);
	if (!sig || memcmp(sig, "EFI PART", 8) != 0) {
		level = HDR_ABSENT;
		goto out;
	}
	struct gpt_header g;
	g.revision = sv_cur_le32(&c);
	g.header_size = sv_cur_le32(&c);
	g.header_crc32 = sv_cur_le32(&c);
	(void)sv_cur_le32(&c); /* reserved */
	g.my_lba = sv_cur_le64(&c);
	g.alternate_lba = sv_cur_le64(&c);
	g.first_usable_lba = sv_cur_le64(&c);
	g.last_usable_lba = sv_cur_le64(&c);
	const uint8_t *guid = sv_cur_take(&c, 16);
	if (guid)
		memcpy(g.disk_guid, guid, 16);
	g.partition_entry_lba = sv_cur_le64(&c);
	g.num_partition_entries = sv_cur_le32(&c);
	g.sizeof_partition_entry = sv_cur_le32(&c);
	g.partition_entry_array_crc32 = sv_cur_le32(&c);
	if (c.bad) {
		why = "header cut short";
		goto out;
	}
	if (g.header_size < GPT_HEADER_MIN || g.header_size > sector) {
		why = "header size out of range";
		goto out;
	}
	/* The CRC covers header_size bytes with its own field taken as zero. */
	memset(buf + 16, 0, 4);
	if (sv_crc32(0, buf, g.header_size) != g.header_crc32) {
		why = "header CRC32 mismatch";
		goto out;
	}
	if (g.my_lba != lba) {
		why = "header names a different LBA as its own";
		goto out;
	}
	if (g.sizeof_partition_entry < GPT_ENTRY_MIN || g.sizeof_partition_entry > GPT_ENTRY_MAX ||
	    g.sizeof_partition_entry % 8 != 0) {
		why = "partition entry size out of range";
		goto out;
	}
	if (g.num_partition_entries > GPT_ENTRIES_MAX ||
	    (uint64_t)g.num_partition_entries * g.sizeof_partition_entry > GPT_ARRAY_MAX) {
		why = "too many partition entries";
		goto out;
	}
	if (g.first_usable_lba > g.last_usable_lba) {
		why = "first usable LBA after last usable LBA";
		goto out;
	}
	level = HDR_OK;
	*h = g;
out:
	free(buf);
	if (level != HDR_OK && why)
		note(t, level, why, lba, sector);
	return level;
}

/* Read the entry array of h; *crc_ok tells whether it matches the header's CRC. */
static int array_load(struct sv_dev *dev, uint32_t sector, const struct gpt_header *h, uint8_t **out,
		      size_t *len, bool *crc_ok)
{
	size_t n = (size_t)h->num_partition_entries * h->sizeof_partition_entry;
	uint64_t off;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return SV_ERR_NOMEM;
	int st = sv_mul64(h->partition_entry_lba, sector, &off) ? sv_dev_read(dev, off, buf, n) : SV_ERR_IO;
	if (st != SV_OK) {
		free(buf);
		return st;
	}
	*crc_ok = sv_crc32(0, buf, n) == h->partition_entry_array_crc32;
	*out = buf;
	*len = n;
	return SV_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Decode every used entry (type GUID not zero) into out. */
static int entries_decode(struct sv_dev *dev, struct sv_report *rep, uint32_t sector, const struct gpt_header *h,
			  const uint8_t *arr, size_t len, struct sv_part_list *out)
{
	struct sv_cur c = sv_cur_make(arr, len);
	for (uint32_t i = 0; i < h->num_partition_entries; i++) {
		const uint8_t *e = sv_cur_take(&c, h->sizeof_partition_entry);
		if (!e)
			break;
		if (all_zero(e, 16))
			continue;
		int index = (int)i + 1;
		uint64_t first = sv_le64(e + 32), last = sv_le64(e + 40), start, size;
		if (first > last) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "GPT partition %d ends (LBA %llu) before it starts (LBA %llu); skipped", index,
				  (unsigned long long)last, (unsigned long long)first);
			continue;
		}
		if (!sv_mul64(first, sector, &start) || !sv_mul64(last - first, sector, &size) ||
		    !sv_add64(size, sector, &size)) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "GPT partition %d has an impossible address (LBA %llu-%llu); skipped", index,
				  (unsigned long long)first, (unsigned long long)last);
			continue;
		}
		if (first < h->first_usable_lba || last > h->last_usable_lba)
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "GPT partition %d (LBA %llu-%llu) lies outside the usable area (LBA %llu-%llu)",
				  index, (unsigned long long)first, (unsigned long long)last,
				  (unsigned long long)h->first_usable_lba, (unsigned long long)h->last_usable_lba);
		if (!sv_part_fit(dev, rep, "GPT", index, &start, &size))
			continue;
		struct sv_part p;
		memset(&p, 0, sizeof p);
		p.index = index;
		p.start = start;
		p.size = size;
		memcpy(p.gpt_type, e, 16);
		memcpy(p.gpt_guid, e + 16, 16);
		sv_part_utf16le_to_utf8(e + 56, GPT_NAME_UNITS, p.name, sizeof p.name);
		sv_part_gpt_type_name(p.gpt_type, p.type_name, sizeof p.type_name);
		int st = sv_part_list_add(out, &p);
		if (st != SV_OK)
			return st;
	}
	return SV_OK;
}

/* A header with its array; arr is NULL until loaded. */
struct gpt_found {
	struct gpt_header h;
	uint32_t sector;
	uint8_t *arr;
	size_t len;
	bool crc_ok;
};

/* Load a header at lba and its array. Returns HDR_* or a negative status. */
static int load_both(struct sv_dev *dev, uint32_t sector, uint64_t lba, struct gpt_found *f, struct gpt_try *t)
{
	int level = header_load(dev, sector, lba, &f->h, t);
	if (level != HDR_OK)
		return level;
	f->sector = sector;
	int st = array_load(dev, sector, &f->h, &f->arr, &f->len, &f->crc_ok);
	if (st == SV_ERR_NOMEM)
		return st;
	if (st != SV_OK) {
		note(t, HDR_BAD, "entry array unreadable", lba, sector);
		return HDR_BAD;
	}
	if (!f->crc_ok)
		note(t, HDR_BAD, "entry array CRC32 mismatch", f->h.partition_entry_lba, sector);
	return HDR_OK;
}

static void found_free(struct gpt_found *f)
{
	free(f->arr);
	f->arr = NULL;
}

/* The last LBA for a sector size, or 0 when the device is too small to hold a backup. */
static uint64_t last_lba(struct sv_dev *dev, uint32_t sector)
{
	uint64_t n = dev->size / sector;
	return n >= 3 ? n - 1 : 0;
}

/* Look for a backup header for a primary found at sector size s: at the LBA the primary names,
 * else at the last LBA. Fills b on success (array CRC good). */
static int find_backup(struct sv_dev *dev, uint32_t s, uint64_t named, struct gpt_found *b, struct gpt_try *t)
{
	uint64_t cand[2] = { named, last_lba(dev, s) };
	for (int i = 0; i < 2; i++) {
		if (cand[i] < 2 || (i == 1 && cand[1] == cand[0]))
			continue;
		int r = load_both(dev, s, cand[i], b, t);
		if (r < 0)
			return r;
		if (r == HDR_OK && b->crc_ok)
			return HDR_OK;
		found_free(b);
	}
	return HDR_ABSENT;
}

static int use(struct sv_dev *dev, struct sv_report *rep, struct gpt_found *f, struct sv_part_list *out,
	       uint32_t *sector, bool *used_backup, bool backup)
{
	int st = entries_decode(dev, rep, f->sector, &f->h, f->arr, f->len, out);
	found_free(f);
	if (st != SV_OK)
		return st;
	*sector = f->sector;
	*used_backup = backup;
	return SV_OK;
}

int sv_gpt_read(struct sv_dev *dev, struct sv_report *rep, const uint32_t *sizes, int nsizes,
		bool report_missing, struct sv_part_list *out, uint32_t *sector, bool *used_backup)
{
	struct gpt_try t = { HDR_ABSENT, "no \"EFI PART\" header at LBA 1" };
	struct gpt_found p = { .arr = NULL }, b = { .arr = NULL };
	int r;

	/* 1. The primary header at LBA 1, for each sector size in turn. */
	for (int i = 0; i < nsizes; i++) {
		r = load_both(dev, sizes[i], 1, &p, &t);
		if (r < 0)
			return r;
		if (r != HDR_OK)
			continue;
		if (p.crc_ok) {
			/* Say so when the backup is gone: the image is often truncated. */
			struct gpt_header bh;
			struct gpt_try bt = { HDR_ABSENT, "no \"EFI PART\" signature there" };
			uint64_t boff;
			if (!sv_mul64(p.h.alternate_lba, p.sector, &boff) || boff >= dev->size)
				snprintf(bt.why, sizeof bt.why, "past the end of the device; is the image truncated?");
			int br = header_load(dev, p.sector, p.h.alternate_lba, &bh, &bt);
			if (br < 0) {
				found_free(&p);
				return br;
			}
			if (br != HDR_OK)
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "%s: the backup GPT header at LBA %llu is missing or damaged (%s); the "
					  "primary is intact", dev->name, (unsigned long long)p.h.alternate_lba, bt.why);
			return use(dev, rep, &p, out, sector, used_backup, false);
		}
		/* Header good, array bad: the backup's array may still be intact. */
		r = find_backup(dev, p.sector, p.h.alternate_lba, &b, &t);
		if (r < 0) {
			found_free(&p);
			return r;
		}
		if (r == HDR_OK) {
			found_free(&p);
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "%s: primary GPT entry array damaged (CRC32 mismatch); using the backup GPT at "
				  "LBA %llu", dev->name, (unsigned long long)b.h.my_lba);
			return use(dev, rep, &b, out, sector, used_backup, true);
		}
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
			  "%s: primary GPT entry array fails its CRC32 and no intact backup exists; listing its "
			  "entries anyway, check them before trusting them", dev->name);
		return use(dev, rep, &p, out, sector, used_backup, false);
	}

	/* 2. No usable primary at any size: the backup at the last LBA. */
	struct gpt_found weak = { .arr = NULL };
	bool have_weak = false;
	for (int i = 0; i < nsizes; i++) {
		uint64_t lba = last_lba(dev, sizes[i]);
		if (lba == 0)
			continue;
		struct gpt_try bt = { HDR_ABSENT, "" };
		r = load_both(dev, sizes[i], lba, &b, &bt);
		if (r < 0) {
			if (have_weak)
				found_free(&weak);
			return r;
		}
		if (r != HDR_OK)
			continue;
		if (b.crc_ok) {
			if (have_weak)
				found_free(&weak);
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "%s: primary GPT unusable (%s); using the backup GPT at LBA %llu", dev->name,
				  t.why, (unsigned long long)lba);
			return use(dev, rep, &b, out, sector, used_backup, true);
		}
		if (!have_weak) {
			weak = b;
			b.arr = NULL;
			have_weak = true;
		} else {
			found_free(&b);
		}
	}
	if (have_weak) {
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
			  "%s: primary GPT unusable (%s) and the backup's entry array fails its CRC32; listing "
			  "the backup's entries anyway, check them before trusting them", dev->name, t.why);
		return use(dev, rep, &weak, out, sector, used_backup, true);
	}
	if (report_missing)
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
			  "%s: protective MBR but no usable GPT (%s; no usable backup either); listing the MBR "
			  "entries only, try scanning the device for filesystems", dev->name, t.why);
	return SV_ERR_NOTFOUND;
}
