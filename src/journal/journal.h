/* journal.h: the JBD (ext3) and JBD2 (ext4) journal: its superblock, a scan of the pending log
 * like the kernel's recovery (fs/jbd2/recovery.c: scan, revoke and replay passes), an in-memory
 * replay into an io overlay, and the orphan list the kernel processes after recovery.
 * The source is never written: the overlay maps each replayed block to its copy in the journal.
 * Everything on disk is untrusted; damage goes to the sv_report with journal block numbers.
 * Nothing here prints or exits. */
#ifndef SV_JOURNAL_H
#define SV_JOURNAL_H

#include "../base/base.h"
#include "../io/io.h"
#include "../ext/ext.h"

#define JBD2_MAGIC_NUMBER 0xC03B3998u
/* block types (journal header h_blocktype) */
#define JBD2_DESCRIPTOR_BLOCK 1
#define JBD2_COMMIT_BLOCK 2
#define JBD2_SUPERBLOCK_V1 3
#define JBD2_SUPERBLOCK_V2 4
#define JBD2_REVOKE_BLOCK 5
#define JBD2_FC_BLOCK 6
/* features (journal superblock v2 only) */
#define JBD2_FEATURE_COMPAT_CHECKSUM 0x1
#define JBD2_FEATURE_INCOMPAT_REVOKE 0x1
#define JBD2_FEATURE_INCOMPAT_64BIT 0x2
#define JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT 0x4
#define JBD2_FEATURE_INCOMPAT_CSUM_V2 0x8
#define JBD2_FEATURE_INCOMPAT_CSUM_V3 0x10
#define JBD2_FEATURE_INCOMPAT_FAST_COMMIT 0x20
#define JBD2_KNOWN_INCOMPAT 0x3f
/* descriptor tag flags */
#define JBD2_FLAG_ESCAPE 1
#define JBD2_FLAG_SAME_UUID 2
#define JBD2_FLAG_DELETED 4
#define JBD2_FLAG_LAST_TAG 8
/* checksum types (s_checksum_type, commit h_chksum_type) */
#define JBD2_CRC32_CHKSUM 1
#define JBD2_MD5_CHKSUM 2
#define JBD2_SHA1_CHKSUM 3
#define JBD2_CRC32C_CHKSUM 4

/* The journal superblock, host order (journal_superblock_t; on disk big-endian). */
struct sv_jsb {
	uint32_t h_blocktype;         /* JBD2_SUPERBLOCK_V1 or _V2 */
	uint32_t h_sequence;
	uint32_t s_blocksize, s_maxlen, s_first;
	uint32_t s_sequence, s_start;
	int32_t s_errno;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat; /* zero for v1 */
	uint8_t s_uuid[16];
	uint32_t s_nr_users;
	uint32_t s_max_transaction, s_max_trans_data;
	uint8_t s_checksum_type;
	uint32_t s_num_fc_blks;
	uint32_t s_head;
	uint32_t s_checksum;
	uint8_t s_users[16 * 48];
};
/* Decode a journal superblock (len >= 1024). SV_ERR_CORRUPT with a reason when the magic or
 * block type is wrong. Field values are not validated here (see sv_journal_scan). */
int sv_jsb_decode(const uint8_t *raw, size_t len, struct sv_jsb *out, char *why, size_t whylen);

/* Why the log scan stopped. */
enum sv_journal_stop {
	SV_JSTOP_NONE = 0,      /* not scanned */
	SV_JSTOP_CLEAN,         /* s_start is 0: the journal is empty */
	SV_JSTOP_END,           /* a block that is not the next expected one: the normal end of the log */
	SV_JSTOP_BADTYPE,       /* a block of unknown type with the expected sequence */
	SV_JSTOP_COMMIT_CSUM,   /* a commit block failed its checksum: the log ends before it */
	SV_JSTOP_STALE,         /* a checksum mismatch on an older commit: stale blocks, log ends */
	SV_JSTOP_TOO_LONG,      /* the log ran longer than the journal: stopped (looping sequences) */
	SV_JSTOP_IO,            /* a journal block could not be read or mapped */
	SV_JSTOP_FATAL,         /* the kernel would refuse the whole log (bad descriptor checksum in a
				 * committed transaction, bad revoke count): nothing replayed */
};
const char *sv_journal_stop_text(int stop);

#define SV_JOURNAL_TX_LIST 64     /* transactions described one by one in sv_journal_info */

struct sv_journal_tx {
	uint32_t tid;
	uint32_t start;               /* journal block of its first block */
	uint32_t blocks;              /* data blocks logged (tags) */
	uint32_t revokes;             /* revoke records */
	bool committed;               /* has a valid commit block (else it is the torn tail) */
};

struct sv_journal_info {
	bool present;                 /* the fs has a journal (COMPAT_HAS_JOURNAL) */
	bool external;                /* journal on another device (s_journal_inum 0) */
	bool usable;                  /* the journal superblock was read and is valid */
	bool fs_needs_recovery;       /* fs superblock has INCOMPAT_RECOVER */
	bool from_backup;             /* internal journal mapped from s_jnl_blocks (inode damaged) */
	char location[160];           /* "inode 8", "external device X (uuid ...)" */
	uint32_t ino;                 /* journal inode, 0 for external */
	uint64_t first_fs_block;      /* fs/device block holding journal block 0 (first extent) */
	int version;                  /* 1 (ext3 JBD v1 superblock) or 2 */
	struct sv_jsb sb;
	bool sb_csum_ok;              /* v2/v3 superblock checksum (true when not applicable) */
	int csum_version;             /* 0 none, 1 compat crc32 (commit blocks), 2, 3 (crc32c) */
	uint32_t tag_bytes;           /* descriptor tag size in bytes */
	uint32_t last;                /* end of the log area (exclusive): s_maxlen less fast-commit blocks */
	bool fast_commit;             /* INCOMPAT_FAST_COMMIT: fast-commit area present */
	uint32_t fc_blocks;           /* its size in blocks */
	bool fc_pending;              /* fast-commit blocks look used: they were not replayed */
	/* the log (after sv_journal_scan / sv_journal_replay) */
	bool log_pending;             /* s_start != 0 */
	int stop;                     /* enum sv_journal_stop */
	uint32_t stop_block;          /* journal block where the scan stopped */
	char stop_msg[200];           /* person-readable detail */
	uint32_t tx_count;            /* complete transactions to replay */
	uint32_t first_tid, end_tid;  /* [first_tid, end_tid) are replayed */
	uint32_t tx_listed;           /* entries in tx[] (<= SV_JOURNAL_TX_LIST; the torn tail included) */
	struct sv_journal_tx tx[SV_JOURNAL_TX_LIST];
	bool torn_tail;               /* a transaction without a valid commit was found after the last one */
	uint64_t log_blocks;          /* data blocks in complete transactions */
	uint64_t revoke_records;      /* revoke records in complete transactions */
	/* replay results (sv_journal_replay only) */
	uint64_t replayed;            /* logged copies mapped into the overlay (later ones replace earlier) */
	uint64_t revoke_hits;         /* logged blocks skipped because revoked */
	uint64_t bad_csum;            /* logged blocks skipped for a bad checksum */
	uint64_t out_of_range;        /* logged blocks skipped: beyond the filesystem */
	uint64_t distinct_blocks;     /* distinct fs blocks in the overlay */
};

/* Read the journal superblock and scan the log (PASS_SCAN, plus counting revokes). The fs must
 * be open on the raw device (not a replayed overlay). ext_journal is the external journal device
 * (NULL: none given; an external journal then reports SV_ERR_NOTFOUND). info is always filled
 * as far as it got. Returns SV_OK when the journal could be read (the log may still be empty or
 * refused: see info->stop), SV_ERR_NOTFOUND without a journal, else an error. */
int sv_journal_scan(struct sv_fs *fs, struct sv_dev *ext_journal, struct sv_report *rep,
		    struct sv_journal_info *info);

/* Scan, then replay the complete transactions into a new overlay over sv_fs_dev(fs) with the fs
 * block size (its owns_lower is false). *overlay_out is set on SV_OK, even when nothing was
 * replayed (then it holds no block); the caller closes it with sv_dev_close and must reopen the
 * filesystem on it to see the recovered state (superblock and descriptors may have changed).
 * Memory stays at one overlay entry per replayed block: the overlay reads each block from the
 * journal when asked (a read that fails then gives zeros and an SV_PB_IO report to rep). So rep,
 * sv_fs_dev(fs) and ext_journal must stay valid while the overlay is read; hand ext_journal to
 * the overlay with sv_overlay_adopt to have it closed with it.
 * The replayed superblock keeps INCOMPAT_RECOVER: salvage shows the state, it does not clear it. */
int sv_journal_replay(struct sv_fs *fs, struct sv_dev *ext_journal, struct sv_report *rep,
		      struct sv_dev **overlay_out, struct sv_journal_info *info);

/* ---- orphans: inodes deleted or truncated while open, processed by the kernel at mount ---- */
enum { SV_ORPHAN_CHAIN = 1, SV_ORPHAN_FILE = 2 };
struct sv_orphan {
	uint32_t ino;
	int source;                   /* SV_ORPHAN_CHAIN (s_last_orphan via i_dtime) or SV_ORPHAN_FILE */
	bool readable;                /* inode read (in valid) */
	struct sv_inode in;           /* valid when readable */
	bool will_delete;             /* links_count 0: the kernel frees it; else truncates to i_size */
};
typedef int (*sv_orphan_fn)(void *ctx, const struct sv_orphan *o);
/* Walk the orphan chain (s_last_orphan, next in i_dtime) and the orphan file (COMPAT_ORPHAN_FILE).
 * Bounded: each inode is listed once (a loop or a repeated entry is reported and skipped), the
 * chain stops after as many inodes as the device can hold and the orphan file after as many blocks
 * as the device has (65536 at most). Return nonzero from fn to stop (that value is returned). */
int sv_orphan_each(struct sv_fs *fs, struct sv_report *rep, sv_orphan_fn fn, void *ctx);

#endif
