/* groups.c: group geometry (where superblock copies and descriptor blocks sit, classic and
 * meta_bg), the group descriptors' checks (bounds, flags, checksums), and marking every
 * metadata block in use before the inodes are walked, as e2fsck does before its pass 1. */
#include "internal.h"

bool ck_group_has_super(struct ck *c, uint32_t g) { return sv_fs_group_has_super(c->fs, g); }

uint64_t ck_group_first(struct ck *c, uint32_t g)
{
	return (uint64_t)c->sb->s_first_data_block + (uint64_t)g * c->sb->s_blocks_per_group;
}

uint64_t ck_group_blocks(struct ck *c, uint32_t g)
{
	uint64_t f = ck_group_first(c, g);
	if (f >= c->nblocks)
		return 0;
	uint64_t n = c->nblocks - f;
	return n < c->sb->s_blocks_per_group ? n : c->sb->s_blocks_per_group;
}

/* Blocks of a group's inode table that the check reads: those of the inodes that fit in a
 * group (all of them unless the superblock is damaged). */
uint64_t ck_itable_blocks(const struct ck *c)
{
	return ((uint64_t)c->ipg_fit * c->isize + c->bsize - 1) / c->bsize;
}

/* Blocks at the start of group g taken by a superblock copy and descriptor blocks (the ext
 * layer's geometry, classic and meta_bg: sv_fs_group_head). */
static uint64_t group_sb_gdt(struct ck *c, uint32_t g)
{
	struct sv_group_head h;
	sv_fs_group_head(c->fs, g, &h);
	return (h.has_super ? 1 : 0) + h.gdt_n + h.rsv_n;
}

/* Mark n blocks of metadata at blk; a block already marked is a conflict between two tables. */
static void mark_meta(struct ck *c, uint64_t blk, uint64_t n, const char *what, uint32_t g)
{
	bool conflict = false;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t b = blk + i;
		if (b >= c->nblocks)
			break;
		uint64_t cl = b >> c->cbits;
		if (bm_get(&c->meta, cl) && !c->bigalloc)
			conflict = true;
		bm_set(&c->meta, cl);
		bm_set(&c->used, cl);
	}
	if (conflict)
		ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, blk, g,
			   "group %u: the %s at block %llu overlaps other filesystem metadata", g, what,
			   (unsigned long long)blk);
}

/* Each inode table block is read once: a group whose table overlaps an earlier group's would
 * show the same bytes again as other inodes (a crafted or garbled descriptor table can point
 * every group at one table). Its inodes are not read; the overlap is reported. */
static bool itable_once(struct ck *c, struct ck_table *itab, uint32_t g, uint64_t blk, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		if (bm_get(itab, blk + k)) {
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, blk, g, "group %u: the inode table at block %llu "
				   "overlaps the inode table of an earlier group; the inodes it would hold are not read",
				   g, (unsigned long long)blk);
			return false;
		}
	}
	for (uint64_t k = 0; k < n; k++)
		bm_set(itab, blk + k);
	return true;
}

void ck_mark_metadata(struct ck *c)
{
	/* blocks before the first group (block 0 on 1 KiB-block filesystems) */
	for (uint64_t b = 0; b < c->sb->s_first_data_block && b < c->nblocks; b++) {
		bm_set(&c->used, b >> c->cbits);
		bm_set(&c->meta, b >> c->cbits);
	}
	for (uint32_t g = 0; g < c->ngroups; g++) {
		uint64_t n = group_sb_gdt(c, g), len = ck_group_blocks(c, g);
		mark_meta(c, ck_group_first(c, g), n < len ? n : len, "superblock and descriptors", g);
	}
	uint64_t itb = ck_itable_blocks(c);
	bool flex = c->flex_bg;
	struct ck_table itab = { 0 };     /* blocks of the inode tables met so far */
	if (ck_table_init(&itab, c->nblocks / 8 + 1, 1, 16) != SV_OK)
		itab.oom = true;
	for (uint32_t g = 0; g < c->ngroups; g++) {
		const struct sv_group *gd = sv_fs_group(c->fs, g);
		uint64_t lo = flex ? c->sb->s_first_data_block : ck_group_first(c, g);
		uint64_t hi = flex ? c->nblocks : ck_group_first(c, g) + ck_group_blocks(c, g);
		const char *where = flex ? "the filesystem" : "its group";
		if (gd->bg_block_bitmap < lo || gd->bg_block_bitmap >= hi)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, gd->bg_block_bitmap, g,
				   "group %u: block bitmap at block %llu is outside %s; the block bitmap is lost",
				   g, (unsigned long long)gd->bg_block_bitmap, where);
		else
			mark_meta(c, gd->bg_block_bitmap, 1, "block bitmap", g);
		if (gd->bg_inode_bitmap < lo || gd->bg_inode_bitmap >= hi)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, gd->bg_inode_bitmap, g,
				   "group %u: inode bitmap at block %llu is outside %s; the inode bitmap is lost",
				   g, (unsigned long long)gd->bg_inode_bitmap, where);
		else
			mark_meta(c, gd->bg_inode_bitmap, 1, "inode bitmap", g);
		if (gd->bg_inode_table < lo || gd->bg_inode_table >= hi || itb > hi - gd->bg_inode_table)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, gd->bg_inode_table, g,
				   "group %u: inode table at block %llu (%llu blocks) is outside %s; the inodes "
				   "%u-%u cannot be trusted", g, (unsigned long long)gd->bg_inode_table,
				   (unsigned long long)itb, where, g * c->ipg + 1, (g + 1) * c->ipg);
		else if (!itable_once(c, &itab, g, gd->bg_inode_table, itb))
			bm_set(&c->gskip, g);
		else
			mark_meta(c, gd->bg_inode_table, itb, "inode table", g);
	}
	if (itab.oom)
		c->gskip.oom = true;    /* the run ends with SV_ERR_NOMEM */
	ck_table_free(&itab);
}

void ck_groups(struct ck *c)
{
	unsigned bad_csum = 0;
	uint32_t first_bad = 0;
	for (uint32_t g = 0; g < c->ngroups; g++) {
		const struct sv_group *gd = sv_fs_group(c->fs, g);
		if (!gd->csum_ok) {
			if (!bad_csum++)
				first_bad = g;
		}
		if ((gd->bg_flags & (EXT4_BG_INODE_UNINIT | EXT4_BG_BLOCK_UNINIT)) && !c->uninit_bg)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, SV_NOBLOCK, g,
				   "group %u: descriptor flags 0x%x mark it uninitialised, but the filesystem has "
				   "neither uninit_bg nor metadata_csum", g, gd->bg_flags);
		if (c->uninit_bg && (gd->bg_flags & EXT4_BG_BLOCK_UNINIT) && g + 1 == c->ngroups_claimed && g > 0)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, SV_NOBLOCK, g,
				   "group %u: the last group is marked BLOCK_UNINIT, which the kernel never does", g);
		if (c->uninit_bg && gd->bg_itable_unused > gd->bg_free_inodes_count)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, SV_NOBLOCK, g,
				   "group %u: %u unused inode table entries but only %u free inodes", g,
				   gd->bg_itable_unused, gd->bg_free_inodes_count);
		if (gd->bg_itable_unused > c->ipg || gd->bg_free_inodes_count > c->ipg)
			ck_problem(c, SV_CK_GROUP, SV_CHECK_ERROR, 0, SV_NOBLOCK, g,
				   "group %u: counts larger than the %u inodes per group (free %u, unused %u)", g,
				   c->ipg, gd->bg_free_inodes_count, gd->bg_itable_unused);
	}
	/* e2fsck rewrites descriptor checksums without counting it as damage. */
	if (bad_csum)
		ck_problem(c, SV_CK_GROUP_CSUM, SV_CHECK_NOTE, 0, SV_NOBLOCK, first_bad,
			   "%u group descriptor%s fail%s the checksum (first: group %u); the fields themselves are "
			   "checked below", bad_csum, bad_csum == 1 ? "" : "s", bad_csum == 1 ? "s" : "", first_bad);
}
