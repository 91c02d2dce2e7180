/* part.c: partition-table dispatch (MBR, protective MBR -> GPT), scheme and type names,
 * GUID text, UTF-16LE names, and the bounded list the decoders fill. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sv_part_list_add(struct sv_part_list *l, const struct sv_part *p)
{
	if (l->n >= l->max)
		return SV_ERR_CORRUPT;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 8;
		if (cap > l->max)
			cap = l->max;
		struct sv_part *v = realloc(l->v, (size_t)cap * sizeof *v);
		if (!v)
			return SV_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return SV_OK;
}

bool sv_part_fit(struct sv_dev *dev, struct sv_report *rep, const char *scheme, int index,
		 uint64_t *start, uint64_t *size)
{
	if (*start >= dev->size) {
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
			  "%s partition %d starts at byte %llu, past the end of %s (%llu bytes); skipped "
			  "(is the image truncated?)", scheme, index, (unsigned long long)*start, dev->name,
			  (unsigned long long)dev->size);
		return false;
	}
	if (*size > dev->size - *start) {
		uint64_t cut = dev->size - *start;
		sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
			  "%s partition %d (bytes %llu+%llu) runs past the end of %s; shortened to %llu bytes "
			  "(is the image truncated?)", scheme, index, (unsigned long long)*start,
			  (unsigned long long)*size, dev->name, (unsigned long long)cut);
		*size = cut;
	}
	return true;
}

const char *sv_part_scheme_name(int scheme)
{
	switch (scheme) {
	case SV_PART_MBR: return "MBR";
	case SV_PART_GPT: return "GPT";
	}
	return "none";
}

/* The first three GUID fields are stored little-endian, the last two as plain bytes (UEFI spec,
 * appendix A), so the text form does not follow the byte order. */
void sv_guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 (unsigned)sv_le32(g), (unsigned)sv_le16(g + 4), (unsigned)sv_le16(g + 6), g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

static const struct { uint8_t type; const char *name; } mbr_types[] = {
	{ 0x01, "FAT12" },
	{ 0x04, "FAT16 <32M" },
	{ 0x05, "Extended" },
	{ 0x06, "FAT16" },
	{ 0x07, "HPFS/NTFS/exFAT" },
	{ 0x0b, "W95 FAT32" },
	{ 0x0c, "W95 FAT32 (LBA)" },
	{ 0x0e, "W95 FAT16 (LBA)" },
	{ 0x0f, "W95 Extended (LBA)" },
	{ 0x11, "Hidden FAT12" },
	{ 0x14, "Hidden FAT16 <32M" },
	{ 0x16, "Hidden FAT16" },
	{ 0x17, "Hidden HPFS/NTFS" },
	{ 0x1b, "Hidden W95 FAT32" },
	{ 0x1c, "Hidden W95 FAT32 (LBA)" },
	{ 0x1e, "Hidden W95 FAT16 (LBA)" },
	{ 0x27, "Hidden NTFS WinRE" },
	{ 0x42, "Windows dynamic (LDM)" },
	{ 0x82, "Linux swap" },
	{ 0x83, "Linux" },
	{ 0x85, "Linux extended" },
	{ 0x8e, "Linux LVM" },
	{ 0xa5, "FreeBSD" },
	{ 0xa6, "OpenBSD" },
	{ 0xa8, "Darwin UFS" },
	{ 0xa9, "NetBSD" },
	{ 0xaf, "HFS / HFS+" },
	{ 0xbf, "Solaris" },
	{ 0xda, "Non-FS data" },
	{ 0xde, "Dell Utility" },
	{ 0xee, "GPT protective" },
	{ 0xef, "EFI (FAT-12/16/32)" },
	{ 0xfb, "VMware VMFS" },
	{ 0xfc, "VMware VMKCORE" },
	{ 0xfd, "Linux RAID autodetect" },
};

void sv_part_mbr_type_name(uint8_t type, char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof mbr_types / sizeof mbr_types[0]; i++)
		if (mbr_types[i].type == type) {
			snprintf(out, cap, "%s", mbr_types[i].name);
			return;
		}
	snprintf(out, cap, "Unknown (0x%02x)", type);
}

static const struct { const char *guid, *name; } gpt_types[] = {
	{ "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System" },
	{ "024DEE41-33E7-11D3-9D69-0008C781F39F", "MBR partition scheme" },
	{ "21686148-6449-6E6F-744E-656564454649", "BIOS boot" },
	{ "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem" },
	{ "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap" },
	{ "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM" },
	{ "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID" },
	{ "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)" },
	{ "44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)" },
	{ "B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM-64)" },
	{ "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux root (ARM)" },
	{ "8484680C-9521-48C6-9C11-B0720656F69E", "Linux /usr (x86-64)" },
	{ "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home" },
	{ "3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux server data" },
	{ "BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot" },
	{ "CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS" },
	{ "7FFEC5C9-2D00-49B7-8941-3EA10A5586B7", "Linux dm-crypt" },
	{ "8DA63339-0007-60C0-C436-083AC8230908", "Linux reserved" },
	{ "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
	{ "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved" },
	{ "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery environment" },
	{ "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Microsoft LDM metadata" },
	{ "AF9B60A0-1431-4F62-BC68-3311714A69AD", "Microsoft LDM data" },
	{ "48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS/HFS+" },
	{ "7C3457EF-0000-11AA-AA11-00306543ECAC", "Apple APFS" },
	{ "516E7CB6-6ECF-11D6-8FF8-00022D09712B", "FreeBSD UFS" },
	{ "516E7CBA-6ECF-11D6-8FF8-00022D09712B", "FreeBSD ZFS" },
	{ "6A898CC3-1DD2-11B2-99A6-080020736631", "Solaris /usr & Apple ZFS" },
};

void sv_part_gpt_type_name(const uint8_t guid[16], char *out, size_t cap)
{
	char text[37];
	sv_guid_format(guid, text);
	for (size_t i = 0; i < sizeof gpt_types / sizeof gpt_types[0]; i++)
		if (strcasecmp(gpt_types[i].guid, text) == 0) {
			snprintf(out, cap, "%s", gpt_types[i].name);
			return;
		}
	snprintf(out, cap, "Unknown");
}

static size_t utf8_put(uint32_t c, char b[4])
{
	if (c < 0x80) {
		b[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (c >> 18));
	b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	b[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

void sv_part_utf16le_to_utf8(const uint8_t *in, size_t units, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = sv_le16(in + 2 * i);
		if (c == 0)
			break;
		if (c >= 0xd800 && c <= 0xdbff) {
			/* A high surrogate counts only when a low one follows. */
			uint32_t lo = i + 1 < units ? sv_le16(in + 2 * (i + 1)) : 0;
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else {
				c = 0xfffd;
			}
		} else if (c >= 0xdc00 && c <= 0xdfff) {
			c = 0xfffd;
		}
		char b[4];
		size_t n = utf8_put(c, b);
		if (n >= cap - o)
			break;
		memcpy(out + o, b, n);
		o += n;
	}
	out[o] = '\0';
}

static bool sector_size_ok(uint32_t s)
{
	return s >= 512 && s <= 65536 && (s & (s - 1)) == 0;
}

int sv_part_read(struct sv_dev *dev, struct sv_report *rep, struct sv_part_table *out)
{
	if (!dev || !out)
		return SV_ERR_INVAL;
	/* Sizes to try: the device's own, then 512, then 4096 (an image of a 4Kn disk reads as 512). */
	uint32_t sizes[3];
	int nsizes = 0;
	if (sector_size_ok(dev->sector))
		sizes[nsizes++] = dev->sector;
	if (nsizes == 0 || sizes[0] != 512)
		sizes[nsizes++] = 512;
	if (sizes[0] != 4096)
		sizes[nsizes++] = 4096;

	struct sv_part_table t = { SV_PART_NONE, sizes[0], false, 0, NULL };
	struct sv_part_list l = { NULL, 0, 0, 0 };
	int st = SV_OK;
	uint8_t mbr[SV_MBR_SIZE];
	if (dev->size < SV_MBR_SIZE) {
		*out = t;
		return SV_OK;
	}
	st = sv_dev_read(dev, 0, mbr, sizeof mbr);
	if (st != SV_OK) {
		sv_report(rep, SV_PB_IO, 0, SV_NOBLOCK, "cannot read sector 0 of %s (%s); no partition table read",
			  dev->name, sv_strerror(st));
		return st;
	}
	bool mbr_ok = sv_mbr_valid(mbr);
	bool protective = mbr_ok && sv_mbr_has_type(mbr, 0xee);

	/* A GPT is looked for behind a protective MBR, and also when sector 0 holds no MBR at all
	 * (a wiped sector 0 should not hide an intact GPT). */
	if (!mbr_ok || protective) {
		l.max = 16384;
		st = sv_gpt_read(dev, rep, sizes, nsizes, protective, &l, &t.sector, &t.used_backup);
		if (st == SV_OK) {
			if (!mbr_ok)
				sv_report(rep, SV_PB_PART, 0, SV_NOBLOCK,
					  "%s: sector 0 holds no protective MBR, but a GPT was found; using the GPT",
					  dev->name);
			t.scheme = SV_PART_GPT;
			goto done;
		}
		free(l.v);
		l = (struct sv_part_list){ NULL, 0, 0, 0 };
		if (st != SV_ERR_NOTFOUND)
			return st;
		if (!mbr_ok) {
			*out = t;
			return SV_OK;
		}
		/* sv_gpt_read reported it; hybrid MBRs keep their other entries usable. */
	}
	/* MBR addresses are in logical sectors; an image file cannot tell us that size, so the
	 * device's own is used. */
	t.sector = sizes[0];
	l.max = 4 + SV_MBR_MAX_LOGICALS;
	st = sv_mbr_read(dev, rep, mbr, t.sector, &l);
	if (st != SV_OK) {
		free(l.v);
		return st;
	}
	t.scheme = SV_PART_MBR;
done:
	t.count = l.n;
	t.parts = l.v;
	*out = t;
	return SV_OK;
}

void sv_part_table_free(struct sv_part_table *t)
{
	if (!t)
		return;
	free(t->parts);
	t->parts = NULL;
	t->count = 0;
}
