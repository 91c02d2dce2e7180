/* internal.h: the open filesystem's state, shared by the files of the ext layer only. */
#ifndef SV_EXT_INTERNAL_H
#define SV_EXT_INTERNAL_H

#include "ext.h"

/* runset.c: disjoint runs of physical blocks [p, p+n), first used by logical blocks [l, l+n). */
struct sv_run {
	uint64_t p, l, n;
};
struct sv_rs_leaf;
struct sv_runset {
	struct sv_rs_leaf **leaf;
	size_t nleaf, cap;
	uint64_t count;            /* runs held */
};
void sv_runset_init(struct sv_runset *s);
void sv_runset_free(struct sv_runset *s);
/* The run holding p or, failing that, the first run after p; NULL if none. Valid until the next add. */
const struct sv_run *sv_runset_find(const struct sv_runset *s, uint64_t p);
/* Add [p, p+n) first used by logical block l; it must not overlap the set. SV_OK or SV_ERR_NOMEM. */
int sv_runset_add(struct sv_runset *s, uint64_t p, uint64_t l, uint64_t n);
/* Visited-set use: 1 if blk was already in the set, else adds it and returns SV_OK (or SV_ERR_NOMEM). */
int sv_runset_visit(struct sv_runset *s, uint64_t blk);
/* Move every run of src into dst (no run of src may overlap dst); src is left empty. */
int sv_runset_merge(struct sv_runset *dst, struct sv_runset *src);

/* file.c: blocks shared between inodes. No two inodes of a sound filesystem share a block, but a
 * hostile image can give thousands of inodes the same blocks, so that cp or tar of a 4 MiB image
 * writes gigabytes. The blocks map walks deliver are remembered for the open filesystem; a block
 * an earlier inode already had is delivered again only while a budget of half the device's blocks
 * lasts, then it reads as a hole (reported). The inodes walked last keep their own sets and the
 * budget their first walk began with, so walking one again (tar walks a file three times, with
 * other reads in between) gives the same runs. */
#define SV_CLAIM_RECENT 8
struct sv_claim_recent {
	bool set;
	uint32_t ino;
	uint64_t left;             /* the budget when this inode's first walk began */
	struct sv_runset fresh;    /* blocks first delivered to it */
};
struct sv_claims {
	bool off;                  /* sv_fs_share_blocks(fs, true): every map as it is (check) */
	struct sv_runset held;     /* blocks of the inodes before the recent ones (l = p) */
	struct sv_claim_recent recent[SV_CLAIM_RECENT];
	unsigned next;             /* slot of recent[] to reuse next */
	uint64_t left;             /* blocks inodes may still get that an earlier inode had */
	unsigned told;             /* shared runs given and reported (the first few) */
	/* xattr.c: values kept outside the inode (an xattr block, an ea_inode) may be shared by every
	 * inode, as ext4 shares identical ones; what they hand out in all is bounded the same way */
	uint64_t xattr_left;       /* bytes such values may still give (half the device) */
	unsigned xattr_told;
};
void sv_claims_reset(struct sv_fs *fs);

/* file.c: sv_file_read's memory of the file it read last: the runs of one whole sv_file_map
 * walk, so that a file read in chunks is walked once and reads as sv_file_map gives it. */
struct sv_maprun {
	uint64_t l, p, n;
	unsigned flags;
};
struct sv_fcursor {
	bool valid;
	struct sv_dev *dev;        /* identity of the file: device, inode number and map fields */
	uint32_t ino, generation, flags;
	uint64_t size;
	uint8_t block[60];
	struct sv_maprun *runs;    /* in logical order, disjoint */
	size_t n, cap;
	int st;                    /* the walk's status (SV_ERR_CORRUPT: the map is damaged) */
};
void sv_fcursor_reset(struct sv_fcursor *c);

struct sv_fs {
	struct sv_dev *dev;
	struct sv_cache *cache;
	struct sv_report *rep;
	struct sv_super sb;
	uint32_t bsize;            /* block size in bytes */
	uint32_t log_bsize;        /* log2(bsize) */
	uint32_t cluster_ratio;    /* blocks per cluster (1 without bigalloc) */
	uint32_t ngroups;          /* groups whose descriptors are kept: bounded by the device, see fs.c */
	uint32_t ninodes;          /* inodes those groups can hold (<= s_inodes_count) */
	uint64_t dev_blocks;       /* blocks the device really holds (the last one may be partial) */
	uint64_t blocks_end;       /* min(s_blocks_count, dev_blocks): blocks that can be read */
	uint32_t desc_size;
	uint32_t inode_size;
	uint32_t csum_seed;
	bool has_csum;             /* metadata_csum */
	bool has_gdt_csum;
	uint64_t sb_location;      /* block of the superblock used (0 primary) */
	char sb_source[96];
	struct sv_group *groups;   /* ngroups entries */
	size_t cache_blocks;
	size_t cache_size_bytes;
	/* Read-ahead window for bulk data (sv_fs_read_blocks): small reads that follow each other on
	 * disk, as the files of one directory usually do, are served from one large read. */
	uint8_t *ra_buf;
	uint64_t ra_blk;           /* first block in the window */
	uint64_t ra_n;             /* blocks valid in the window (0: empty) */
	uint64_t last_end;         /* block after the previous bulk read */
	struct sv_fcursor cur;     /* sv_file_read's last file */
	struct sv_claims claims;   /* blocks delivered so far, for the rule against shared blocks */
};

/* superblock.c */
bool sv_super_group_has_backup(const struct sv_super *sb, uint32_t g);
/* Block number of group g's first block. */
static inline uint64_t sv_group_first_block(const struct sv_fs *fs, uint32_t g)
{
	return (uint64_t)fs->sb.s_first_data_block + (uint64_t)g * fs->sb.s_blocks_per_group;
}
/* Is blk a block of this filesystem that the device really holds? Blocks past the end of a
 * truncated image are treated like blocks outside the filesystem: mapped there, a file reads
 * as a hole, never as endless zeros read one failed block at a time. */
static inline bool sv_blk_ok(const struct sv_fs *fs, uint64_t blk)
{
	return blk >= fs->sb.s_first_data_block && blk < fs->blocks_end;
}
static inline bool sv_run_ok(const struct sv_fs *fs, uint64_t blk, uint64_t len)
{
	return len > 0 && sv_blk_ok(fs, blk) && len <= fs->blocks_end - blk;
}

/* The raw map walkers: runs in logical order, each tree node visited at most once per walk.
 * Callers go through sv_file_map (file.c), which applies the once-per-file rule. */
int sv_extent_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx);
int sv_blockmap_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx);
/* The same walks, also telling node (when not NULL) each tree block (extent index/leaf block,
 * indirect block) once, before it is read. fn NULL: only the nodes are wanted, so the blocks
 * that hold nothing but data pointers (extent leaves, single indirect blocks) are not read. */
typedef int (*sv_node_fn)(void *ctx, uint64_t blk);
int sv_extent_walk(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, sv_node_fn node, void *ctx);
int sv_blockmap_walk(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, sv_node_fn node, void *ctx);
/* Find an xattr in the inode body by (index, name); copies the value up to cap; sets *len. */
int sv_xattr_ibody_find(struct sv_fs *fs, const struct sv_inode *in, int index, const char *name,
			uint8_t *buf, size_t cap, size_t *len);
/* metadata_csum seed for one inode: crc32c(fs seed, ino, generation). */
uint32_t sv_inode_csum_seed(const struct sv_fs *fs, uint32_t ino, uint32_t gen);

#endif
