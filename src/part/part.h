/* part.h: partition tables: MBR (primary + extended/logical chain), GPT (header and entry-array
 * CRC32 verified, backup GPT when the primary is damaged), protective MBR; 512- and 4096-byte sectors. */
#ifndef SV_PART_H
#define SV_PART_H

#include "../base/base.h"
#include "../io/io.h"

enum sv_part_scheme { SV_PART_NONE = 0, SV_PART_MBR = 1, SV_PART_GPT = 2 };

struct sv_part {
	int index;               /* 1-based as Linux numbers them: MBR primaries 1-4, logicals 5+; GPT entry+1 */
	uint64_t start;          /* byte offset on the device */
	uint64_t size;           /* bytes */
	uint8_t mbr_type;        /* MBR type byte (0 for GPT) */
	uint8_t gpt_type[16];    /* GPT type GUID, on-disk byte order (zero for MBR) */
	uint8_t gpt_guid[16];    /* GPT unique partition GUID */
	char name[73];           /* GPT name converted from UTF-16LE to UTF-8 (empty for MBR) */
	char type_name[40];      /* "Linux filesystem", "EFI System", "Linux swap", "Extended", ... */
	bool is_extended;        /* an MBR extended container (not a filesystem) */
};

struct sv_part_table {
	int scheme;              /* enum sv_part_scheme */
	uint32_t sector;         /* sector size the table was found with (512 or 4096) */
	bool used_backup;        /* GPT: primary damaged, backup used */
	int count;
	struct sv_part *parts;   /* count entries, owned; free with sv_part_table_free */
};

/* Read the partition table of dev. No table is not an error (scheme SV_PART_NONE, count 0).
 * Damage (bad CRCs, loops in the extended chain, entries past the end) goes to rep and the
 * readable part is returned. Tries the device's sector size first, then 512 and 4096. */
int sv_part_read(struct sv_dev *dev, struct sv_report *rep, struct sv_part_table *out);
void sv_part_table_free(struct sv_part_table *t);
/* "MBR", "GPT", "none" */
const char *sv_part_scheme_name(int scheme);
/* Format a GUID (on-disk mixed-endian order) as text, 37 bytes incl. NUL. */
void sv_guid_format(const uint8_t g[16], char out[37]);

#endif
