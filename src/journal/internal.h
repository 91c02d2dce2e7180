/* internal.h: the open journal, shared by the files of the journal layer only. */
#ifndef SV_JOURNAL_INTERNAL_H
#define SV_JOURNAL_INTERNAL_H

#include "journal.h"

struct jrun {
	uint64_t lblk, pblk, len;     /* journal blocks [lblk, lblk+len) live at device blocks pblk.. */
};

struct jnl {
	struct sv_fs *fs;
	struct sv_dev *dev;           /* where journal blocks are read (fs device or external) */
	struct sv_report *rep;
	uint32_t bs;
	uint32_t total;               /* journal blocks by its size (s_maxlen after validation) */
	uint64_t dev_blocks;          /* blocks of j->dev really there (its size / bs) */
	uint64_t mapped;              /* journal blocks really mapped to device blocks: the budget
				       * of every walk over the log, whatever the superblock claims */
	bool identity;                /* external: journal block n is device block n */
	struct jrun *runs;            /* internal: the journal inode's map, sorted by lblk */
	size_t nruns, cap;
	struct sv_jsb sb;
	uint32_t first, last;         /* log area [first, last) */
	uint32_t compat, incompat;    /* zero for a v1 superblock */
	int csum_v;                   /* 0, 1 (compat crc32), 2, 3 */
	uint32_t csum_seed;           /* crc32c of the journal uuid (v2/v3) */
	uint32_t tag_bytes;
	unsigned reported;            /* per-block problems reported so far (capped) */
};

/* journal.c */
int sv_jnl_open(struct sv_fs *fs, struct sv_dev *ext, struct sv_report *rep, struct jnl *j,
		struct sv_journal_info *info);
void sv_jnl_release(struct jnl *j);
/* Byte offset on j->dev of journal block jblk; false when it is not mapped or not on the device. */
bool sv_jnl_offset(struct jnl *j, uint32_t jblk, uint64_t *off);
/* Read journal block jblk into buf (j->bs bytes). Errors zero-fill. */
int sv_jnl_read(struct jnl *j, uint32_t jblk, uint8_t *buf);

#endif
