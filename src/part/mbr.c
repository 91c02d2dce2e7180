/* mbr.c: the DOS/MBR partition table: four primary slots in sector 0 and the chain of extended
 * boot records (EBRs) that holds the logical partitions, numbered from 5 as Linux does. */
#include "internal.h"
#include <stdio.h>
#include <string.h>

/* One 16-byte slot: boot flag at 0, CHS at 1 and 5 (ignored: LBA fields are authoritative),
 * type at 4, first LBA at 8, sector count at 12. */
struct mbr_entry {
	uint8_t boot_ind;
	uint8_t sys_ind;
	uint32_t start_sect;
	uint32_t nr_sects;
};

static void mbr_entry_decode(const uint8_t sec[SV_MBR_SIZE], int slot, struct mbr_entry *e)
{
	const uint8_t *p = sec + 446 + 16 * slot;
	e->boot_ind = p[0];
	e->sys_ind = p[4];
	e->start_sect = sv_le32(p + 8);
	e->nr_sects = sv_le32(p + 12);
}

bool sv_mbr_is_extended_type(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static bool has_signature(const uint8_t sec[SV_MBR_SIZE])
{
	return sec[510] == 0x55 && sec[511] == 0xaa;
}

bool sv_mbr_valid(const uint8_t sec[SV_MBR_SIZE])
{
	if (!has_signature(sec))
		return false;
	for (int i = 0; i < 4; i++) {
		struct mbr_entry e;
		mbr_entry_decode(sec, i, &e);
		if (e.boot_ind != 0x00 && e.boot_ind != 0x80)
			return false;
	}
	return true;
}

bool sv_mbr_has_type(const uint8_t sec[SV_MBR_SIZE], uint8_t type)
{
	for (int i = 0; i < 4; i++) {
		struct mbr_entry e;
		mbr_entry_decode(sec, i, &e);
		if (e.sys_ind == type && e.nr_sects != 0)
			return true;
	}
	return false;
}

/* Add a partition of nr_sects sectors starting at sector base + rel. Returns SV_OK also when
 * the entry was skipped (reported); only NOMEM and the list cap are errors. */
static int mbr_add(struct sv_dev *dev, struct sv_report *rep, struct sv_part_list *out, uint32_t sector,
		   int index, uint64_t base, const struct mbr_entry *e)
{
	uint64_t lba, start, size;
	struct sv_part p;
	if (!sv_add64(base, e->start_sect, &lba) || !sv_mul64(lba, sector, &start) ||
	    !sv_mul64(e->nr_sects, sector, &size)) {
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK, "MBR partition %d has an impossible address; skipped",
			  index);
		return SV_OK;
	}
	if (!sv_part_fit(dev, rep, "MBR", index, &start, &size))
		return SV_OK;
	memset(&p, 0, sizeof p);
	p.index = index;
	p.start = start;
	p.size = size;
	p.mbr_type = e->sys_ind;
	p.is_extended = sv_mbr_is_extended_type(e->sys_ind);
	sv_part_mbr_type_name(e->sys_ind, p.type_name, sizeof p.type_name);
	return sv_part_list_add(out, &p);
}

/* Follow one extended partition's chain. In each EBR the data entry's start is relative to that
 * EBR, while the link to the next EBR is relative to the start of the outermost extended
 * partition. The chain is bounded and each EBR may be visited once. */
static int mbr_chain(struct sv_dev *dev, struct sv_report *rep, struct sv_part_list *out, uint32_t sector,
		     uint64_t ext_lba, uint64_t ext_sects, int *next_index)
{
	uint64_t seen[SV_MBR_MAX_EBRS];
	int nseen = 0;
	uint64_t ebr = ext_lba;
	uint8_t sec[SV_MBR_SIZE];

	for (;;) {
		for (int i = 0; i < nseen; i++)
			if (seen[i] == ebr) {
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "extended partition chain loops back to the EBR at sector %llu; "
					  "stopped after %d EBRs", (unsigned long long)ebr, nseen);
				return SV_OK;
			}
		if (nseen == SV_MBR_MAX_EBRS) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "extended partition chain longer than %d EBRs; stopped", SV_MBR_MAX_EBRS);
			return SV_OK;
		}
		seen[nseen++] = ebr;

		uint64_t off;
		int st = sv_mul64(ebr, sector, &off) ? sv_dev_read(dev, off, sec, sizeof sec) : SV_ERR_CORRUPT;
		if (st != SV_OK) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "cannot read the EBR at sector %llu (%s); logical partitions from %d on are lost",
				  (unsigned long long)ebr, sv_strerror(st), *next_index);
			return SV_OK;
		}
		if (!has_signature(sec)) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "the EBR at sector %llu has no 0x55AA signature; logical partitions from %d on "
				  "are lost", (unsigned long long)ebr, *next_index);
			return SV_OK;
		}

		/* As fdisk does: the first data slot is the logical, the first extended slot the link. */
		struct mbr_entry data = { 0, 0, 0, 0 }, link = { 0, 0, 0, 0 };
		bool have_data = false, have_link = false;
		for (int i = 0; i < 4; i++) {
			struct mbr_entry e;
			mbr_entry_decode(sec, i, &e);
			if (e.sys_ind == 0 || e.nr_sects == 0)
				continue;
			bool is_link = sv_mbr_is_extended_type(e.sys_ind);
			if (is_link ? have_link : have_data) {
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "the EBR at sector %llu has an extra %s entry in slot %d; ignored",
					  (unsigned long long)ebr, is_link ? "link" : "data", i + 1);
				continue;
			}
			if (is_link) {
				link = e;
				have_link = true;
			} else {
				data = e;
				have_data = true;
			}
		}

		if (have_data) {
			if (*next_index - 5 >= SV_MBR_MAX_LOGICALS) {
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "more than %d logical partitions; the rest are ignored", SV_MBR_MAX_LOGICALS);
				return SV_OK;
			}
			uint64_t first = ebr + data.start_sect, end = first + data.nr_sects;
			if (first < ext_lba || end > ext_lba + ext_sects)
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "logical partition %d (sectors %llu+%llu) lies outside its extended "
					  "partition", *next_index, (unsigned long long)first,
					  (unsigned long long)data.nr_sects);
			st = mbr_add(dev, rep, out, sector, (*next_index)++, ebr, &data);
			if (st != SV_OK)
				return st;
		}
		if (!have_link)
			return SV_OK;
		uint64_t next = ext_lba + link.start_sect;
		if (next >= ext_lba + ext_sects) {
			sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
				  "the EBR at sector %llu links to sector %llu, outside the extended partition; "
				  "chain stopped", (unsigned long long)ebr, (unsigned long long)next);
			return SV_OK;
		}
		ebr = next;
	}
}

int sv_mbr_read(struct sv_dev *dev, struct sv_report *rep, const uint8_t sec[SV_MBR_SIZE], uint32_t sector,
		struct sv_part_list *out)
{
	struct mbr_entry e[4];
	int st;
	for (int i = 0; i < 4; i++) {
		mbr_entry_decode(sec, i, &e[i]);
		/* Linux ignores a slot whose size is zero, whatever its type. */
		if (e[i].sys_ind == 0 || e[i].nr_sects == 0)
			continue;
		st = mbr_add(dev, rep, out, sector, i + 1, 0, &e[i]);
		if (st != SV_OK)
			return st;
	}
	/* Logicals follow all primaries, numbered from 5 across every extended partition. */
	int next_index = 5;
	for (int i = 0; i < 4; i++) {
		if (e[i].nr_sects == 0 || !sv_mbr_is_extended_type(e[i].sys_ind))
			continue;
		if ((uint64_t)e[i].start_sect * sector >= dev->size)
			continue; /* already reported as past the end */
		st = mbr_chain(dev, rep, out, sector, e[i].start_sect, e[i].nr_sects, &next_index);
		if (st != SV_OK)
			return st;
	}
	return SV_OK;
}
