/* check.h: a read-only consistency check of an ext2/3/4 filesystem, like `e2fsck -fn`, that
 * names the damaged files. It reads the superblock and its backups, the group descriptors, every
 * in-use inode with its extent tree or block map, every directory, the link counts, the bitmaps
 * and free counts, the orphan list and the journal superblock, and returns a list of problems
 * (each with the inode, block and path it concerns) and counts by kind.
 * Nothing is written anywhere; nothing here prints or exits.
 * Counts the superblock claims beyond what the source holds (groups past its end, inodes whose
 * tables cannot fit) are reported and left out: every table is sized, and every walk bounded,
 * from what the source really holds. Memory: sparse cluster bitmaps and 16 bytes per inode, both
 * taken only where something is recorded, and the problem list (capped). */
#ifndef SV_CHECK_H
#define SV_CHECK_H

#include "../base/base.h"
#include "../io/io.h"
#include "../ext/ext.h"

/* Kinds of problems. X(name, short id, description) */
#define SV_CHECK_KINDS(X) \
	X(SV_CK_IO, "io", "read errors") \
	X(SV_CK_SUPER, "superblock", "superblock fields") \
	X(SV_CK_SUPER_BACKUP, "superblock_backup", "backup superblocks") \
	X(SV_CK_GROUP, "group_desc", "group descriptors") \
	X(SV_CK_GROUP_CSUM, "group_desc_csum", "group descriptor checksums") \
	X(SV_CK_INODE, "inode", "inode fields") \
	X(SV_CK_INODE_CSUM, "inode_csum", "inode checksums") \
	X(SV_CK_EXTENT, "extent", "extent trees") \
	X(SV_CK_BLOCKMAP, "blockmap", "block maps") \
	X(SV_CK_BAD_BLOCK, "bad_block", "block numbers outside the filesystem") \
	X(SV_CK_DUP, "dup_blocks", "blocks claimed more than once") \
	X(SV_CK_SIZE, "size", "file sizes and block counts") \
	X(SV_CK_XATTR, "xattr", "extended attribute blocks") \
	X(SV_CK_SYMLINK, "symlink", "symlinks") \
	X(SV_CK_DIR, "dir", "directory entries") \
	X(SV_CK_DIR_CSUM, "dir_csum", "directory block checksums") \
	X(SV_CK_HTREE, "htree", "directory indexes") \
	X(SV_CK_CONNECT, "connectivity", "directory tree connectivity") \
	X(SV_CK_LINKS, "link_count", "link counts") \
	X(SV_CK_UNATTACHED, "unattached", "inodes in use but in no directory") \
	X(SV_CK_ORPHAN, "orphan", "orphan list") \
	X(SV_CK_BITMAP, "bitmap", "block and inode bitmaps") \
	X(SV_CK_BITMAP_CSUM, "bitmap_csum", "bitmap checksums") \
	X(SV_CK_COUNTS, "free_counts", "free and directory counts") \
	X(SV_CK_JOURNAL, "journal", "journal") \
	X(SV_CK_QUOTA, "quota", "quota usage")

#define SV_CK_ENUM_(name, id, desc) name,
enum sv_check_kind { SV_CHECK_KINDS(SV_CK_ENUM_) SV_CK__COUNT };
#undef SV_CK_ENUM_
const char *sv_check_kind_id(int kind);     /* "dup_blocks" */
const char *sv_check_kind_desc(int kind);   /* "blocks claimed more than once" */

/* Severity: an error makes the verdict "problems"; a note is a fact worth telling that e2fsck
 * fixes silently or does not count (superblock free counts, a journal needing recovery,
 * orphans the kernel will process, an extent tree that could be shorter). */
enum { SV_CHECK_NOTE = 0, SV_CHECK_ERROR = 1 };

struct sv_check_problem {
	int kind;                 /* enum sv_check_kind */
	int severity;             /* SV_CHECK_NOTE or SV_CHECK_ERROR */
	uint32_t ino;             /* 0 when not about one inode */
	uint64_t block;           /* SV_NOBLOCK when not about one block */
	uint32_t group;           /* UINT32_MAX when not about one group */
	const char *path;         /* path of ino ("/a/b", "<unattached inode 12>"), NULL when ino is 0;
				   * owned by the result */
	char msg[300];            /* what is wrong, in plain words */
};

struct sv_check_opts {
	size_t max_problems;      /* problems stored (0: 10000); the rest are counted in `dropped` */
};

struct sv_check_result {
	struct sv_check_problem *problems;   /* nproblems entries, in the order found */
	size_t nproblems;
	unsigned long dropped;               /* problems found beyond max_problems */
	unsigned long by_kind[SV_CK__COUNT]; /* errors by kind (dropped ones included) */
	unsigned long notes_by_kind[SV_CK__COUNT];
	unsigned long errors, notes;         /* totals (dropped ones included) */
	unsigned long files_affected;        /* distinct inodes with at least one error */
	unsigned long fs_errors;             /* errors not about one inode (bitmaps, groups, ...) */
	/* what was looked at */
	uint32_t inodes_count, inodes_used, dirs;
	uint64_t blocks_count, blocks_used;  /* blocks counted in use from the inodes and metadata */
	uint32_t block_size;
	bool journal_replayed;               /* informative: set by the caller if it replayed */
};

/* Run the check on an open filesystem. The fs's report channel is borrowed during the run
 * (reader problems become check problems of kind io/...) and restored before returning.
 * *out is set on SV_OK (the result may hold problems; the caller frees it with
 * sv_check_result_free). Returns SV_ERR_NOMEM when the bitmaps cannot be allocated, or
 * SV_ERR_CORRUPT when the geometry is too damaged to check anything. */
int sv_check_run(struct sv_fs *fs, const struct sv_check_opts *o, struct sv_check_result **out);
void sv_check_result_free(struct sv_check_result *r);   /* NULL-safe */

#endif
