/* internal.h: helpers shared by mbr.c, gpt.c and part.c; not part of the public API. */
#ifndef SV_PART_INTERNAL_H
#define SV_PART_INTERNAL_H

#include "part.h"

/* A growing array of partitions with a hard cap, so a damaged table cannot use unbounded memory. */
struct sv_part_list {
	struct sv_part *v;
	int n, cap, max;
};
int sv_part_list_add(struct sv_part_list *l, const struct sv_part *p);

/* Fit [*start, *start + *size) to the device: report and return false when it starts past the
 * end (skip it), report and shorten it when only its tail is past the end. */
bool sv_part_fit(struct sv_dev *dev, struct sv_report *rep, const char *scheme, int index,
		 uint64_t *start, uint64_t *size);

void sv_part_mbr_type_name(uint8_t type, char *out, size_t cap);
void sv_part_gpt_type_name(const uint8_t guid[16], char *out, size_t cap);

/* Convert up to `units` UTF-16LE code units (stopping at a NUL unit) to NUL-terminated UTF-8.
 * Unpaired surrogates become U+FFFD; output is cut at a character boundary when cap is reached. */
void sv_part_utf16le_to_utf8(const uint8_t *in, size_t units, char *out, size_t cap);

/* mbr.c */
#define SV_MBR_SIZE 512
#define SV_MBR_MAX_LOGICALS 128  /* over all extended chains */
#define SV_MBR_MAX_EBRS 256      /* EBRs visited per chain, empty ones included */
bool sv_mbr_is_extended_type(uint8_t type);
/* The sector carries 0x55AA and every boot flag is 0x00 or 0x80 (a FAT or ext boot sector
 * usually fails the second test). */
bool sv_mbr_valid(const uint8_t sec[SV_MBR_SIZE]);
bool sv_mbr_has_type(const uint8_t sec[SV_MBR_SIZE], uint8_t type);
/* Decode the primaries of sec (already read from LBA 0) and follow every extended chain. */
int sv_mbr_read(struct sv_dev *dev, struct sv_report *rep, const uint8_t sec[SV_MBR_SIZE], uint32_t sector,
		struct sv_part_list *out);

/* gpt.c: sizes are tried in order. Returns SV_OK with the entries appended to out, or
 * SV_ERR_NOTFOUND when no usable GPT header exists at any size. Reports damage only when a GPT
 * was found (or when report_missing is set and none was). */
int sv_gpt_read(struct sv_dev *dev, struct sv_report *rep, const uint32_t *sizes, int nsizes,
		bool report_missing, struct sv_part_list *out, uint32_t *sector, bool *used_backup);

#endif
