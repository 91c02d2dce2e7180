/* layout.c: where the filesystem's own structures lie: per group the superblock copy, the group
 * descriptor blocks (classic or meta_bg), the reserved GDT blocks, the bitmaps and the inode
 * table (Documentation/filesystems/ext4/overview.rst, "Layout", "Meta Block Groups",
 * "Flexible Block Groups"), and per inode the blocks of its map that are not data (sv_file_meta).
 * Everything is computed from the superblock and the loaded descriptors; nothing beyond the
 * device is given out, and the work is one step per group (or per map node). */
#include "internal.h"

const char *sv_meta_kind_name(int kind)
{
	switch (kind) {
	case SV_META_SUPER: return "superblock";
	case SV_META_GDT: return "group descriptors";
	case SV_META_RESERVED_GDT: return "reserved GDT blocks";
	case SV_META_BLOCK_BITMAP: return "block bitmap";
	case SV_META_INODE_BITMAP: return "inode bitmap";
	case SV_META_INODE_TABLE: return "inode table";
	case SV_META_EXTENT: return "extent block";
	case SV_META_INDIRECT: return "indirect block";
	case SV_META_XATTR: return "xattr block";
	}
	return "metadata";
}

void sv_fs_group_head(const struct sv_fs *fs, uint32_t g, struct sv_group_head *h)
{
	const struct sv_super *sb = &fs->sb;
	uint32_t per = fs->bsize / fs->desc_size;          /* descriptors per block: a meta group */
	uint64_t groups = (sb->s_blocks_count - sb->s_first_data_block + sb->s_blocks_per_group - 1) /
			  sb->s_blocks_per_group;           /* the descriptor table covers the claim */
	uint64_t desc_blocks = (groups + per - 1) / per;
	bool meta_bg = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_META_BG;
	uint64_t first = sv_group_first_block(fs, g);
	/* bigalloc on 1 KiB blocks starts group 0 at block 0, yet the superblock is at byte 1024 */
	if (first == 0 && fs->bsize == 1024)
		first = 1;
	h->has_super = sv_super_group_has_backup(sb, g);
	h->sb_blk = first;
	h->gdt_blk = first + (h->has_super ? 1 : 0);
	h->gdt_n = h->rsv_n = 0;
	if (!meta_bg || g / per < sb->s_first_meta_bg) {
		/* classic layout: a copy of the whole table (with meta_bg: of its first s_first_meta_bg
		 * blocks) and the reserved GDT blocks follow every superblock copy. e2fsprogs reserves
		 * no GDT growth room with meta_bg (ext2fs_reserve_super_and_bgd). */
		if (h->has_super) {
			h->gdt_n = meta_bg ? sb->s_first_meta_bg : desc_blocks;
			h->rsv_n = meta_bg ? 0 : sb->s_reserved_gdt_blocks;
		}
	} else {
		/* meta_bg: one descriptor block per meta group, kept in its first, second and last group */
		uint32_t r = g % per;
		if (r == 0 || r == 1 || r == per - 1)
			h->gdt_n = 1;
	}
}

struct lay {
	struct sv_fs *fs;
	sv_layout_fn fn;
	void *ctx;
};

/* Give [blk, blk+n) clipped to the blocks that exist on the device and to lim (exclusive). */
static int give(struct lay *l, int kind, uint32_t g, uint64_t blk, uint64_t n, uint64_t lim)
{
	uint64_t end = l->fs->blocks_end < lim ? l->fs->blocks_end : lim;
	if (n == 0 || blk >= end)
		return 0;
	if (n > end - blk)
		n = end - blk;
	return l->fn(l->ctx, kind, g, blk, n);
}

static int group_layout(struct lay *l, uint32_t g, uint64_t itb)
{
	struct sv_fs *fs = l->fs;
	struct sv_group_head h;
	sv_fs_group_head(fs, g, &h);
	uint64_t gend = sv_group_first_block(fs, g) + fs->sb.s_blocks_per_group;
	int r = 0;
	if (h.has_super)
		r = give(l, SV_META_SUPER, g, h.sb_blk, 1, gend);
	if (!r)
		r = give(l, SV_META_GDT, g, h.gdt_blk, h.gdt_n, gend);
	if (!r && h.gdt_n < gend - h.gdt_blk)
		r = give(l, SV_META_RESERVED_GDT, g, h.gdt_blk + h.gdt_n, h.rsv_n, gend);
	const struct sv_group *gd = &fs->groups[g];
	/* with flex_bg the bitmaps and tables may sit in another group: bound them by the device only */
	if (!r && sv_blk_ok(fs, gd->bg_block_bitmap))
		r = give(l, SV_META_BLOCK_BITMAP, g, gd->bg_block_bitmap, 1, UINT64_MAX);
	if (!r && sv_blk_ok(fs, gd->bg_inode_bitmap))
		r = give(l, SV_META_INODE_BITMAP, g, gd->bg_inode_bitmap, 1, UINT64_MAX);
	if (!r && sv_blk_ok(fs, gd->bg_inode_table))
		r = give(l, SV_META_INODE_TABLE, g, gd->bg_inode_table, itb, UINT64_MAX);
	return r;
}

int sv_fs_layout(struct sv_fs *fs, sv_layout_fn fn, void *ctx)
{
	struct lay l = { fs, fn, ctx };
	uint64_t itb = ((uint64_t)fs->sb.s_inodes_per_group * fs->inode_size + fs->bsize - 1) / fs->bsize;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		int r = group_layout(&l, g, itb);
		if (r)
			return r;
	}
	return SV_OK;
}

/* ---- sv_file_meta: the map's own blocks, merged into runs of one kind ---- */
struct fmeta {
	sv_layout_fn fn;
	void *ctx;
	int kind;
	uint64_t blk, n;     /* the run being merged */
};

static int fmeta_flush(struct fmeta *m)
{
	if (!m->n)
		return 0;
	int r = m->fn(m->ctx, m->kind, 0, m->blk, m->n);
	m->n = 0;
	return r;
}

static int fmeta_node(void *ctx, uint64_t blk)
{
	struct fmeta *m = ctx;
	if (m->n && m->blk + m->n == blk) {
		m->n++;
		return 0;
	}
	int r = fmeta_flush(m);
	m->blk = blk;
	m->n = 1;
	return r;
}

/* Whether i_block holds a block map or an extent tree (not a device number, a fast symlink's
 * target or inline data; compare ext4_inode_is_fast_symlink). */
bool sv_inode_has_map(const struct sv_fs *fs, const struct sv_inode *in)
{
	if (in->flags & EXT4_INLINE_DATA_FL)
		return false;
	switch (in->mode & SV_IFMT) {
	case SV_IFREG:
	case SV_IFDIR:
		return true;
	case SV_IFLNK: {
		uint64_t ea = in->file_acl ? (uint64_t)(fs->bsize * fs->cluster_ratio) >> 9 : 0;
		return !(in->size < 60 && ((in->flags & EXT4_EA_INODE_FL) || in->blocks <= ea));
	}
	}
	return false;
}

int sv_file_meta(struct sv_fs *fs, const struct sv_inode *in, sv_layout_fn fn, void *ctx)
{
	struct fmeta m = { fn, ctx, 0, 0, 0 };
	int r = 0;
	if (sv_inode_has_map(fs, in)) {
		if (in->flags & EXT4_EXTENTS_FL) {
			m.kind = SV_META_EXTENT;
			r = sv_extent_walk(fs, in, NULL, fmeta_node, &m);
		} else {
			m.kind = SV_META_INDIRECT;
			r = sv_blockmap_walk(fs, in, NULL, fmeta_node, &m);
		}
		if (r > 0 || r == SV_ERR_NOMEM)
			return r;       /* stopped by fn (after a flush that stopped), or no memory */
		int f = fmeta_flush(&m);
		if (f)
			return f;
	}
	if (in->file_acl && sv_blk_ok(fs, in->file_acl)) {
		int f = fn(ctx, SV_META_XATTR, 0, in->file_acl, 1);
		if (f)
			return f;
	}
	return r;
}
