/* bitmaps.c: pass 5: the block and inode bitmaps on disk against the usage computed from the
 * metadata and the inodes, their checksums (metadata_csum), the padding past the last group's
 * end, and the free and directory counts in each descriptor and in the superblock.
 * Uninitialised groups (BLOCK_UNINIT / INODE_UNINIT) are read as the kernel and libext2fs do:
 * an uninitialised inode bitmap is all free; an uninitialised block bitmap holds only the
 * group's superblock copy, descriptors, and the tables of uninitialised groups. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

static void diff_msg(struct ck *c, uint32_t g, const char *what, uint64_t plus, uint64_t plus_first,
		     uint64_t minus, uint64_t minus_first, const char *unit)
{
	if (plus)
		ck_problem(c, SV_CK_BITMAP, SV_CHECK_ERROR, 0, plus_first, g, "group %u: %llu %s%s in use but marked "
			   "free in the %s bitmap (first: %llu); the kernel could hand %s out again", g,
			   (unsigned long long)plus, unit, plus == 1 ? "" : "s", what, (unsigned long long)plus_first,
			   plus == 1 ? "it" : "them");
	if (minus)
		ck_problem(c, SV_CK_BITMAP, SV_CHECK_ERROR, 0, minus_first, g, "group %u: %llu %s%s marked in use in "
			   "the %s bitmap but used by nothing (first: %llu)", g, (unsigned long long)minus, unit,
			   minus == 1 ? "" : "s", what, (unsigned long long)minus_first);
}

static bool bitmap_csum_ok(struct ck *c, const uint8_t *b, size_t bytes, uint32_t stored)
{
	uint32_t s = sv_crc32c(sv_fs_csum_seed(c->fs), b, bytes);
	bool wide = c->is64 && c->sb->s_desc_size >= 64;
	return wide ? s == stored : (s & 0xFFFF) == (stored & 0xFFFF);
}

void ck_bitmaps(struct ck *c)
{
	uint64_t cpg = c->sb->s_clusters_per_group ? c->sb->s_clusters_per_group : c->sb->s_blocks_per_group;
	uint64_t first_cl = c->sb->s_first_data_block >> c->cbits;
	uint64_t checked = first_cl;    /* clusters looked at: before the first group, then the groups' */
	uint64_t sum_free_b = 0, sum_free_i = 0, sum_dirs = 0, calc_free_b = 0, calc_free_i = 0;
	bool pad_b = false, pad_i = false;
	/* tables of BLOCK_UNINIT groups: libext2fs marks them in use wherever they are */
	struct ck_table umeta = { 0 };
	uint64_t itb = ck_itable_blocks(c);
	for (uint32_t g = 0; g < c->ngroups && c->uninit_bg; g++) {
		const struct sv_group *gd = sv_fs_group(c->fs, g);
		if (!(gd->bg_flags & EXT4_BG_BLOCK_UNINIT))
			continue;
		if (!umeta.root && ck_table_init(&umeta, c->nclusters / 8 + 1, 1, 16) != SV_OK)
			break;
		if (gd->bg_block_bitmap < c->nblocks)
			bm_set(&umeta, gd->bg_block_bitmap >> c->cbits);
		if (gd->bg_inode_bitmap < c->nblocks)
			bm_set(&umeta, gd->bg_inode_bitmap >> c->cbits);
		for (uint64_t k = 0; k < itb && gd->bg_inode_table + k < c->nblocks; k++)
			bm_set(&umeta, (gd->bg_inode_table + k) >> c->cbits);
	}
	for (uint32_t g = 0; g < c->ngroups; g++) {
		const struct sv_group *gd = sv_fs_group(c->fs, g);
		uint64_t gfirst = first_cl + (uint64_t)g * cpg;
		uint64_t gn = gfirst < c->nclusters ? c->nclusters - gfirst : 0;
		if (gn > cpg)
			gn = cpg;
		/* ---- blocks ---- */
		bool buninit = c->uninit_bg && (gd->bg_flags & EXT4_BG_BLOCK_UNINIT);
		bool have = false;
		if (!buninit && gd->bg_block_bitmap >= c->sb->s_first_data_block && gd->bg_block_bitmap < c->nblocks) {
			have = sv_fs_read_block(c->fs, gd->bg_block_bitmap, c->buf) == SV_OK;
			if (have && c->csum &&
			    !bitmap_csum_ok(c, c->buf, cpg / 8, gd->bg_block_bitmap_csum))
				ck_problem(c, SV_CK_BITMAP_CSUM, SV_CHECK_ERROR, 0, gd->bg_block_bitmap, g,
					   "group %u: the block bitmap fails its checksum", g);
		}
		uint64_t plus = 0, minus = 0, pf = 0, mf = 0, used = 0;
		uint64_t gblk0 = ck_group_first(c, g), sbgdt_end = gblk0;
		if (buninit) {
			/* what libext2fs synthesises: the superblock copy and descriptors at the group start */
			for (uint64_t b = gblk0; b < gblk0 + ck_group_blocks(c, g) && bm_get(&c->meta, b >> c->cbits); b++)
				sbgdt_end = b + 1;
		}
		for (uint64_t i = 0; i < gn; i++) {
			uint64_t cl = gfirst + i;
			bool disk;
			if (buninit)
				disk = (cl << c->cbits) < sbgdt_end || bm_get(&umeta, cl);
			else if (have)
				disk = bit_get(c->buf, i);
			else
				disk = bm_get(&c->used, cl);   /* no bitmap to compare: reported with the descriptors */
			bool u = bm_get(&c->used, cl);
			used += u;
			if (u && !disk) {
				if (!plus++)
					pf = cl << c->cbits;
			} else if (!u && disk) {
				if (!minus++)
					mf = cl << c->cbits;
			}
		}
		if (have && g + 1 == c->ngroups_claimed)
			for (uint64_t i = gn; i < (uint64_t)c->bsize * 8; i++)
				if (!bit_get(c->buf, i)) {
					pad_b = true;
					break;
				}
		diff_msg(c, g, "block", plus, pf, minus, mf, "block");
		checked += gn;
		uint64_t free_b = gn - used;
		calc_free_b += free_b;
		sum_free_b += gd->bg_free_blocks_count;
		if (free_b != gd->bg_free_blocks_count)
			ck_problem(c, SV_CK_COUNTS, SV_CHECK_ERROR, 0, SV_NOBLOCK, g, "group %u: free block count is %u, "
				   "counted %llu", g, gd->bg_free_blocks_count, (unsigned long long)free_b);
		/* ---- inodes ---- */
		bool iuninit = c->uninit_bg && (gd->bg_flags & EXT4_BG_INODE_UNINIT);
		have = false;
		if (!iuninit && gd->bg_inode_bitmap >= c->sb->s_first_data_block && gd->bg_inode_bitmap < c->nblocks) {
			have = sv_fs_read_block(c->fs, gd->bg_inode_bitmap, c->buf) == SV_OK;
			if (have && c->csum &&
			    !bitmap_csum_ok(c, c->buf, c->ipg / 8, gd->bg_inode_bitmap_csum))
				ck_problem(c, SV_CK_BITMAP_CSUM, SV_CHECK_ERROR, 0, gd->bg_inode_bitmap, g,
					   "group %u: the inode bitmap fails its checksum", g);
		}
		plus = minus = used = 0;
		uint64_t dirs = 0;
		for (uint32_t i = 0; i < c->ipg; i++) {
			uint32_t ino = g * c->ipg + i + 1;
			if (ino > c->ninodes)
				break;
			bool disk = iuninit ? false : have ? bit_get(c->buf, i) : (ck_state(c, ino) & IS_USED);
			bool u = ck_state(c, ino) & IS_USED;
			used += u;
			if (u && (ck_state(c, ino) & IS_DIR))
				dirs++;
			if (u && !disk) {
				if (!plus++)
					pf = ino;
			} else if (!u && disk) {
				if (!minus++)
					mf = ino;
			}
		}
		if (have && g + 1 == c->ngroups_claimed)
			for (uint64_t i = c->ipg; i < (uint64_t)c->bsize * 8; i++)
				if (!bit_get(c->buf, i)) {
					pad_i = true;
					break;
				}
		diff_msg(c, g, "inode", plus, pf, minus, mf, "inode");
		uint64_t free_i = c->ipg - used;
		calc_free_i += free_i;
		sum_free_i += gd->bg_free_inodes_count;
		sum_dirs += dirs;
		if (free_i != gd->bg_free_inodes_count)
			ck_problem(c, SV_CK_COUNTS, SV_CHECK_ERROR, 0, SV_NOBLOCK, g, "group %u: free inode count is %u, "
				   "counted %llu", g, gd->bg_free_inodes_count, (unsigned long long)free_i);
		if (dirs != gd->bg_used_dirs_count)
			ck_problem(c, SV_CK_COUNTS, SV_CHECK_ERROR, 0, SV_NOBLOCK, g, "group %u: directory count is %u, "
				   "counted %llu", g, gd->bg_used_dirs_count, (unsigned long long)dirs);
	}
	if (umeta.oom)
		c->used.oom = true;    /* the run ends with SV_ERR_NOMEM */
	ck_table_free(&umeta);
	c->res->blocks_used = (checked - calc_free_b) << c->cbits;
	if (pad_b)
		ck_note(c, SV_CK_BITMAP, 0, SV_NOBLOCK, "the block bitmap's padding past the last block is not set");
	if (pad_i)
		ck_note(c, SV_CK_BITMAP, 0, SV_NOBLOCK, "the inode bitmap's padding past the last inode is not set");
	/* the superblock's totals: e2fsck recomputes them from the groups without counting it as damage */
	/* (after some journal replays e2fsck does count them: f_jnl_64bit; not j_recover_csum3_64bit) */
	int sev = SV_CHECK_NOTE;
	uint64_t sbfree = c->sb->s_free_blocks_count >> c->cbits;
	if (sbfree != calc_free_b)
		ck_problem(c, SV_CK_COUNTS, sev, 0, SV_NOBLOCK, UINT32_MAX,
			   "the superblock's free block count is %llu, counted %llu",
			(unsigned long long)c->sb->s_free_blocks_count, (unsigned long long)(calc_free_b << c->cbits));
	if (c->sb->s_free_inodes_count != calc_free_i)
		ck_problem(c, SV_CK_COUNTS, sev, 0, SV_NOBLOCK, UINT32_MAX,
			   "the superblock's free inode count is %u, counted %llu",
			c->sb->s_free_inodes_count, (unsigned long long)calc_free_i);
	(void)sum_free_b;
	(void)sum_free_i;
	(void)sum_dirs;
}
