/* internal.h: the open filesystem's state, shared by the files of the ext layer only. */
#ifndef SV_EXT_INTERNAL_H
#define SV_EXT_INTERNAL_H

#include "ext.h"

struct sv_fs {
	struct sv_dev *dev;
	struct sv_cache *cache;
	struct sv_report *rep;
	struct sv_super sb;
	uint32_t bsize;            /* block size in bytes */
	uint32_t log_bsize;        /* log2(bsize) */
	uint32_t cluster_ratio;    /* blocks per cluster (1 without bigalloc) */
	uint32_t ngroups;
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
};

/* superblock.c */
bool sv_super_group_has_backup(const struct sv_super *sb, uint32_t g);
/* Block number of group g's first block. */
static inline uint64_t sv_group_first_block(const struct sv_fs *fs, uint32_t g)
{
	return (uint64_t)fs->sb.s_first_data_block + (uint64_t)g * fs->sb.s_blocks_per_group;
}
/* Is blk a valid data block number for this filesystem? */
static inline bool sv_blk_ok(const struct sv_fs *fs, uint64_t blk)
{
	return blk >= fs->sb.s_first_data_block && blk < fs->sb.s_blocks_count;
}
static inline bool sv_run_ok(const struct sv_fs *fs, uint64_t blk, uint64_t len)
{
	return len > 0 && sv_blk_ok(fs, blk) && len <= fs->sb.s_blocks_count - blk;
}

/* Walk the map of a file starting at logical block `from` (runs before it may be skipped). */
int sv_file_map_from(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx);
int sv_extent_map(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx);
int sv_blockmap_map(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx);
/* Find an xattr in the inode body by (index, name); copies the value up to cap; sets *len. */
int sv_xattr_ibody_find(struct sv_fs *fs, const struct sv_inode *in, int index, const char *name,
			uint8_t *buf, size_t cap, size_t *len);
/* metadata_csum seed for one inode: crc32c(fs seed, ino, generation). */
uint32_t sv_inode_csum_seed(const struct sv_fs *fs, uint32_t ino, uint32_t gen);

#endif
