/* internal.h: the state of one check run, shared by the files of the check layer only. */
#ifndef SV_CHECK_INTERNAL_H
#define SV_CHECK_INTERNAL_H

#include "check.h"
#include <string.h>

/* per-inode state bits (struct ist.state) */
#define IS_USED 0x01      /* in use (links > 0, or a reserved inode) */
#define IS_DIR 0x02
#define IS_ERR 0x04       /* at least one error reported about it */
#define IS_ORPHAN 0x08    /* on the orphan list: the kernel frees or truncates it at mount */
#define IS_BAD 0x10       /* its fields are too damaged to trust its entries (pass 2 skips it) */
#define IS_DIRSEEN 0x20   /* directory: already named by an entry (has a parent) */
#define IS_WANT 0x40      /* path wanted (path naming) */
#define IS_REG 0x80
#define IS_CONN 0x100     /* pass 3: directory known reachable from the root */
#define IS_CUT 0x200      /* pass 3: directory known cut off from the root */
#define IS_MARK 0x400     /* scratch mark of one walk (pass 3 chain, naming round) */

/* What the check keeps per inode. Kept in a ck_table, so only inodes something was recorded
 * about take memory. */
struct ist {
	uint16_t state;            /* IS_* */
	uint8_t ftype;             /* EXT4_FT_* from the mode, IFT_ENC, 0x80 for EA inodes */
	uint16_t links;            /* i_links_count */
	uint16_t refs;             /* references counted from directories */
	uint32_t parent;           /* the directory whose entry first named it */
	uint32_t dotdot;           /* for directories: where ".." points (0 unknown) */
};

struct qrec {                  /* quota feature: an inode's user, group and project ids, bytes used */
	uint32_t id[3];
	uint64_t space;
};

/* A table of fixed-size elements indexed by a 64-bit number (inode, byte of a cluster bitmap),
 * of which only the chunks written to exist: memory follows what the filesystem really holds,
 * never the counts its superblock claims. Two levels of chunk pointers, so even 2^51 clusters
 * need at most a few MiB of pointers. Unwritten elements read as zeros. */
#define TBL_MID_SHIFT 12
struct ck_table {
	uint8_t ***root;           /* root[ci >> TBL_MID_SHIFT][ci & mask] -> chunk */
	uint64_t n;                /* elements */
	uint64_t nroot;
	uint32_t esize;            /* bytes per element */
	unsigned shift;            /* log2(elements per chunk) */
	bool oom;                  /* a chunk could not be allocated */
};
int ck_table_init(struct ck_table *t, uint64_t n, uint32_t esize, unsigned shift);
void ck_table_free(struct ck_table *t);
void *ck_table_get_slow(struct ck_table *t, uint64_t i);

/* The element i, or NULL when it was never written (or is out of range). */
static inline void *ck_table_peek(const struct ck_table *t, uint64_t i)
{
	if (i >= t->n)
		return NULL;
	uint64_t ci = i >> t->shift;
	uint8_t **mid = t->root[ci >> TBL_MID_SHIFT];
	uint8_t *ch = mid ? mid[ci & ((1u << TBL_MID_SHIFT) - 1)] : NULL;
	return ch ? ch + (i & ((1ull << t->shift) - 1)) * t->esize : NULL;
}

/* The element i for writing (its chunk allocated, zeroed, on first use); NULL when out of range
 * or out of memory (t->oom is then set). */
static inline void *ck_table_get(struct ck_table *t, uint64_t i)
{
	void *p = ck_table_peek(t, i);
	return p ? p : ck_table_get_slow(t, i);
}

/* The first index >= i whose chunk exists (UINT64_MAX when none): lets loops skip what was never
 * written. */
uint64_t ck_table_next(const struct ck_table *t, uint64_t i);

/* cluster bitmaps kept in a ck_table of bytes */
static inline bool bm_get(const struct ck_table *t, uint64_t i)
{
	const uint8_t *p = ck_table_peek(t, i >> 3);
	return p && (*p & (1u << (i & 7)));
}
static inline void bm_set(struct ck_table *t, uint64_t i)
{
	uint8_t *p = ck_table_get(t, i >> 3);
	if (p)
		*p |= (uint8_t)(1u << (i & 7));
}

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

/* A set of block numbers visited by one walk (extent tree nodes, indirect blocks): a node met
 * twice in one file's map is damage, and is not walked again. */
struct blkset {
	uint64_t *v;               /* open addressing on block + 1; 0 is an empty slot */
	size_t cap, n;
};
bool blkset_add(struct blkset *s, uint64_t blk);   /* false when already there (or out of memory) */
void blkset_reset(struct blkset *s);
void blkset_free(struct blkset *s);

struct ck {
	struct sv_fs *fs;
	const struct sv_super *sb;
	struct sv_check_result *res;
	size_t max_problems;
	uint32_t bsize, ngroups, ipg, ninodes, first_ino, isize;
	uint32_t ngroups_claimed;  /* groups the superblock's block count makes (ngroups: those checked) */
	uint32_t ipg_fit;          /* inodes of a group whose table fits in a group (<= ipg) */
	uint64_t nblocks, nclusters;
	uint64_t dev_blocks;       /* blocks the source really holds (<= nblocks) */
	unsigned cbits;            /* log2(blocks per cluster) */
	bool csum, uninit_bg, extents, filetype, dir_index, inline_data, flex_bg, bigalloc, huge_file;
	bool is64, largedir, encrypt, casefold;
	struct ck_table used;      /* bitmap: clusters in use (metadata + inodes' blocks) */
	struct ck_table dup;       /* bitmap: clusters claimed more than once */
	struct ck_table meta;      /* bitmap: clusters of filesystem metadata */
	struct ck_table gskip;     /* bitmap: groups whose inodes are not read (table shared with another) */
	uint64_t ndups;
	struct ck_table inodes;    /* struct ist per inode (index ino) */
	struct ist sink;           /* written to when an inode's record cannot be had */
	uint32_t *dirs;            /* directory inodes in use, in inode order */
	size_t ndirs, capdirs;
	struct ea_ent *eas;        /* EA blocks, with a hash of block -> index + 1 */
	size_t neas, capeas;
	uint32_t *eahash;
	size_t eahcap;
	struct dup_pair *pairs;
	size_t npairs, cappairs;
	unsigned long pairs_dropped;   /* pairs beyond the cap: counted, not named */
	uint32_t lost_found;
	struct ck_table quota;     /* quota feature: struct qrec per inode */
	bool has_quota;
	bool quota_skip;           /* usage cannot be summed (EA inodes charge their referrers) */
	uint8_t *buf, *buf2;       /* scratch blocks */
	/* work budgets, derived from the blocks the source really holds (HACKING.md, walks) */
	uint64_t map_budget;       /* block-map and extent-tree nodes read plus blocks marked (pass 1, 1b) */
	uint64_t map_budget0;      /* what it starts at */
	uint64_t dir_budget;       /* directory blocks looked at (pass 2) and read for naming */
	uint64_t dir_budget0;      /* what it starts at (for each of the two) */
	bool map_budget_told, dir_budget_told;
	struct blkset seen;        /* tree nodes of the walk in progress */
	uint64_t cb_runs;          /* runs handed to a map callback in this walk */
	/* pass 1: the inode being walked */
	bool quiet;                /* pass 1b: walk without reporting */
	uint32_t cur_ino;
	uint64_t cur_blocks;       /* blocks owned (data + tree), in fs blocks */
	int64_t cur_last;          /* last logical block mapped, -1 none */
	int64_t cur_last_init;     /* last logical block mapped by an initialised extent */
	uint64_t cur_last_cluster; /* bigalloc: last cluster marked by this inode */
	unsigned cur_illegal;      /* illegal block numbers in this inode */
	unsigned cur_repeats;      /* tree nodes its map names more than once */
	bool cur_unwalked;         /* the map budget was spent before its map was walked to the end */
	uint64_t cur_dups;
	bool cur_is_dir;
	bool cur_ea_inum;          /* the inode's attributes keep values in EA inodes */
	/* pass 1b */
	void *dupmap;
	/* the fs report channel, borrowed */
	struct sv_report *rep;
	sv_problem_fn saved_fn;
	void *saved_ctx;
};

static inline bool bit_get(const uint8_t *m, uint64_t i) { return m[i >> 3] & (1u << (i & 7)); }
static inline void bit_set(uint8_t *m, uint64_t i) { m[i >> 3] |= (uint8_t)(1u << (i & 7)); }

/* An inode's record for reading: all zeros when nothing was recorded about it. */
static inline const struct ist *ist_r(const struct ck *c, uint32_t ino)
{
	static const struct ist zero;
	const struct ist *p = ck_table_peek(&c->inodes, ino);
	return p ? p : &zero;
}

/* An inode's record for writing. Out of range or out of memory: a scratch record (zeroed), and
 * the run ends with SV_ERR_NOMEM in the second case. */
static inline struct ist *ist_w(struct ck *c, uint32_t ino)
{
	struct ist *p = ino <= c->ninodes ? ck_table_get(&c->inodes, ino) : NULL;
	if (p)
		return p;
	memset(&c->sink, 0, sizeof c->sink);
	return &c->sink;
}

static inline uint16_t ck_state(const struct ck *c, uint32_t ino) { return ist_r(c, ino)->state; }

/* Take n units from a budget; false (and nothing taken) when it is spent. */
static inline bool budget_take(uint64_t *b, uint64_t n)
{
	if (*b < n)
		return false;
	*b -= n;
	return true;
}

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
uint64_t ck_itable_blocks(const struct ck *c);
/* inodes.c */
void ck_orphans(struct ck *c);
int ck_inodes(struct ck *c);
/* blocks.c */
void ck_mark(struct ck *c, uint64_t blk, uint64_t n);
bool ck_map_budget(struct ck *c, uint64_t n);   /* take n units; false (reported once) when spent */
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
