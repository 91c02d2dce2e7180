/* internal.h: the state of one check run, shared by the files of the check layer only. */
#ifndef SV_CHECK_INTERNAL_H
#define SV_CHECK_INTERNAL_H

#include "check.h"

/* per-inode state bits (istate[]) */
#define IS_USED 0x01      /* in use (links > 0, or a reserved inode) */
#define IS_DIR 0x02
#define IS_ERR 0x04       /* at least one error reported about it */
#define IS_ORPHAN 0x08    /* on the orphan list: the kernel frees or truncates it at mount */
#define IS_BAD 0x10       /* its fields are too damaged to trust its entries (pass 2 skips it) */
#define IS_DIRSEEN 0x20   /* directory: already named by an entry (has a parent) */
#define IS_WANT 0x40      /* path wanted (path naming) */
#define IS_REG 0x80

struct ea_ent {           /* an extended attribute block seen from inodes */
	uint64_t blk;
	uint32_t refs;        /* inodes referring to it */
	uint32_t h_refcount;  /* the count stored in it */
	uint32_t first_ino;
	bool valid;
};

struct dup_pair {         /* pass 1b: inode a holds n blocks that inode b also claims (b 0: metadata) */
	uint32_t a, b;
	uint64_t n;
};

struct ck {
	struct sv_fs *fs;
	const struct sv_super *sb;
	struct sv_check_result *res;
	size_t max_problems;
	uint32_t bsize, ngroups, ipg, ninodes, first_ino, isize;
	uint64_t nblocks, nclusters;
	unsigned cbits;            /* log2(blocks per cluster) */
	bool csum, uninit_bg, extents, filetype, dir_index, inline_data, flex_bg, bigalloc, huge_file;
	bool is64, largedir, encrypt, casefold;
	uint8_t *used;             /* clusters in use (metadata + inodes' blocks) */
	uint8_t *dup;              /* clusters claimed more than once */
	uint8_t *meta;             /* clusters of filesystem metadata */
	uint64_t ndups;
	uint8_t *istate;           /* per inode (index ino) */
	uint16_t *ilinks;          /* i_links_count */
	uint16_t *irefs;           /* references counted from directories */
	uint32_t *iparent;         /* the directory whose entry first named it */
	uint32_t *idotdot;         /* for directories: where ".." points (0 unknown) */
	uint8_t *iftype;           /* EXT4_FT_* from the mode, for checking entries' file types */
	uint32_t *dirs;            /* directory inodes in use, in inode order */
	size_t ndirs, capdirs;
	struct ea_ent *eas;        /* EA blocks (small: shared blocks are few) */
	size_t neas, capeas;
	struct dup_pair *pairs;
	size_t npairs, cappairs;
	uint32_t lost_found;
	uint32_t *qids;            /* quota feature: per inode, its user, group and project ids */
	uint64_t *qspace;          /* quota feature: per inode, the bytes it uses (i_blocks) */
	bool quota_skip;           /* usage cannot be summed (EA inodes charge their referrers) */
	uint8_t *buf, *buf2;       /* scratch blocks */
	/* pass 1: the inode being walked */
	bool quiet;                /* pass 1b: walk without reporting */
	uint32_t cur_ino;
	uint64_t cur_blocks;       /* blocks owned (data + tree), in fs blocks */
	int64_t cur_last;          /* last logical block mapped, -1 none */
	int64_t cur_last_init;     /* last logical block mapped by an initialised extent */
	uint64_t cur_last_cluster; /* bigalloc: last cluster marked by this inode */
	unsigned cur_illegal;      /* illegal block numbers in this inode */
	uint64_t cur_dups;
	bool cur_is_dir;
	bool cur_ea_inum;          /* the inode's attributes keep values in EA inodes */
	/* pass 1b */
	uint32_t *dup_owner_ino;   /* hash: dup cluster -> owners (open addressing) */
	void *dupmap;
	/* the fs report channel, borrowed */
	struct sv_report *rep;
	sv_problem_fn saved_fn;
	void *saved_ctx;
};

static inline bool bit_get(const uint8_t *m, uint64_t i) { return m[i >> 3] & (1u << (i & 7)); }
static inline void bit_set(uint8_t *m, uint64_t i) { m[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void bit_clr(uint8_t *m, uint64_t i) { m[i >> 3] &= (uint8_t)~(1u << (i & 7)); }

/* metadata_csum seed of one inode: crc32c(fs seed, inode number, generation). */
static inline uint32_t ck_iseed(const struct ck *c, uint32_t ino, uint32_t gen)
{
	uint8_t le[4];
	sv_put_le32(le, ino);
	uint32_t s = sv_crc32c(sv_fs_csum_seed(c->fs), le, 4);
	sv_put_le32(le, gen);
	return sv_crc32c(s, le, 4);
}

/* report.c */
void ck_problem(struct ck *c, int kind, int sev, uint32_t ino, uint64_t blk, uint32_t group, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
#define ck_err(c, kind, ino, blk, ...) ck_problem(c, kind, SV_CHECK_ERROR, ino, blk, UINT32_MAX, __VA_ARGS__)
#define ck_note(c, kind, ino, blk, ...) ck_problem(c, kind, SV_CHECK_NOTE, ino, blk, UINT32_MAX, __VA_ARGS__)
int ck_finish(struct ck *c);          /* paths, duplicate-block messages, files affected */

/* super.c */
void ck_super(struct ck *c);
void ck_journal(struct ck *c);
/* groups.c */
void ck_groups(struct ck *c);
void ck_mark_metadata(struct ck *c);
bool ck_group_has_super(struct ck *c, uint32_t g);
uint64_t ck_group_first(struct ck *c, uint32_t g);
uint64_t ck_group_blocks(struct ck *c, uint32_t g);
/* inodes.c */
void ck_orphans(struct ck *c);
int ck_inodes(struct ck *c);
/* blocks.c */
void ck_mark(struct ck *c, uint64_t blk, uint64_t n);
void ck_walk_blocks(struct ck *c, const struct sv_inode *in);
int ck_dups(struct ck *c);
/* xattr.c */
void ck_xattr_block(struct ck *c, const struct sv_inode *in);
void ck_xattr_refs(struct ck *c);
void ck_xattr_ibody(struct ck *c, const struct sv_inode *in, bool *has_data);
/* the value of attribute (index, name) in the inode or its block: size (up to cap bytes copied), -1 none */
long ck_xattr_get(struct ck *c, const struct sv_inode *in, uint8_t idx, const char *name, uint8_t *val, size_t cap);
#define IFT_ENC 0x40      /* iftype[] bit: an encrypted inode with a valid encryption context */
/* dirs.c */
int ck_dirs(struct ck *c);
/* links.c */
void ck_connect(struct ck *c);
void ck_links(struct ck *c);
/* quota.c */
void ck_quota(struct ck *c);
/* bitmaps.c */
void ck_bitmaps(struct ck *c);

#endif
