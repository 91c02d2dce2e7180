/* check.c: sv_check_run: sets up the bitmaps and per-inode arrays, runs the passes in e2fsck's
 * order (superblock and descriptors, orphans, inodes, duplicate blocks, directories,
 * connectivity, link counts, bitmaps, journal), then names the inodes with problems. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

/* Problems the reader meets while the check reads: read errors become check problems; damage
 * it reports is found (and worded) by the check's own passes. */
static void reader_problem(void *ctx, const struct sv_problem *pb)
{
	struct ck *c = ctx;
	if (pb->code == SV_PB_IO)
		ck_err(c, SV_CK_IO, (uint32_t)pb->ino, pb->block, "%s", pb->msg);
}

static void ck_free(struct ck *c)
{
	ck_table_free(&c->used);
	ck_table_free(&c->dup);
	ck_table_free(&c->meta);
	ck_table_free(&c->gskip);
	ck_table_free(&c->inodes);
	ck_table_free(&c->quota);
	blkset_free(&c->seen);
	free(c->dirs);
	free(c->eas);
	free(c->eahash);
	free(c->pairs);
	free(c->buf);
	free(c->buf2);
}

static bool ck_oom(const struct ck *c)
{
	return c->used.oom || c->dup.oom || c->meta.oom || c->gskip.oom || c->inodes.oom || c->quota.oom;
}

/* The geometry the check works with: what the superblock claims, cut down to what the source
 * really holds (issue 7). Groups are those that start inside the source; a group's inodes are
 * those whose table fits in a group (ipg * inode size <= blocks per group * block size, as
 * e2fsck requires); the inode count is at most what those tables hold. Every table is sized,
 * and every loop bounded, from these; the superblock check reports what was cut. */
static int ck_geometry(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	uint32_t bpg = sb->s_blocks_per_group;
	c->nblocks = sb->s_blocks_count;
	c->cbits = sb->s_log_cluster_size > sb->s_log_block_size ? sb->s_log_cluster_size - sb->s_log_block_size : 0;
	if (c->cbits > 16 || c->ipg == 0 || bpg == 0 || c->bsize < 1024 || c->isize == 0 ||
	    sv_fs_group_count(c->fs) == 0 || c->nblocks <= sb->s_first_data_block)
		return SV_ERR_CORRUPT;
	c->nclusters = (c->nblocks + (1ull << c->cbits) - 1) >> c->cbits;
	c->dev_blocks = sv_fs_dev(c->fs)->size / c->bsize;
	if (c->dev_blocks > c->nblocks)
		c->dev_blocks = c->nblocks;
	uint64_t held = c->dev_blocks > sb->s_first_data_block ? c->dev_blocks - sb->s_first_data_block : 1;
	uint64_t groups = (held + bpg - 1) / bpg;
	/* the groups the superblock claims (the reader may hold fewer: those it could load) */
	uint64_t claimed = (c->nblocks - sb->s_first_data_block + bpg - 1) / bpg;
	c->ngroups_claimed = claimed < UINT32_MAX ? (uint32_t)claimed : UINT32_MAX;
	c->ngroups = sv_fs_group_count(c->fs);
	if (groups < c->ngroups)
		c->ngroups = (uint32_t)groups;
	uint64_t fit = (uint64_t)bpg * c->bsize / c->isize;
	c->ipg_fit = fit < c->ipg ? (uint32_t)fit : c->ipg;
	if (c->ipg_fit == 0)
		return SV_ERR_CORRUPT;
	uint64_t maxino = (uint64_t)(c->ngroups - 1) * c->ipg + c->ipg_fit;
	c->ninodes = maxino < sb->s_inodes_count ? (uint32_t)maxino : sb->s_inodes_count;
	/* Budgets: a clean filesystem needs about one unit per block it holds; four times that, and
	 * a floor for tiny images, leaves room for damage without letting loops multiply. */
	c->map_budget = 4 * c->dev_blocks + 4 * (uint64_t)c->ninodes + (1u << 20);
	c->map_budget0 = c->map_budget;
	c->dir_budget = c->dir_budget0 = 4 * c->dev_blocks + (1u << 16);
	return SV_OK;
}

static int ck_alloc(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	uint64_t bm = c->nclusters / 8 + 1;
	int st = SV_OK;
	/* 64 KiB chunks: 512 Ki clusters of a bitmap, 4096 inode records */
	if (ck_table_init(&c->used, bm, 1, 16) || ck_table_init(&c->dup, bm, 1, 16) ||
	    ck_table_init(&c->meta, bm, 1, 16) || ck_table_init(&c->gskip, c->ngroups / 8 + 1, 1, 16) ||
	    ck_table_init(&c->inodes, (uint64_t)c->ninodes + 1, sizeof(struct ist), 12))
		st = SV_ERR_NOMEM;
	if (st == SV_OK && (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_QUOTA)) {
		c->has_quota = true;
		c->quota_skip = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_EA_INODE;
		if (ck_table_init(&c->quota, (uint64_t)c->ninodes + 1, sizeof(struct qrec), 12))
			st = SV_ERR_NOMEM;
	}
	c->buf = malloc(c->bsize);
	c->buf2 = malloc(c->bsize);
	if (!c->buf || !c->buf2)
		st = SV_ERR_NOMEM;
	return st;
}

int sv_check_run(struct sv_fs *fs, const struct sv_check_opts *o, struct sv_check_result **out)
{
	struct ck ck, *c = &ck;
	memset(c, 0, sizeof *c);
	const struct sv_super *sb = sv_fs_super(fs);
	c->fs = fs;
	c->sb = sb;
	sv_fs_share_blocks(fs, true);    /* check sees every map as it is: it names the sharers itself */
	c->max_problems = o && o->max_problems ? o->max_problems : 10000;
	c->bsize = sv_fs_block_size(fs);
	c->ipg = sb->s_inodes_per_group;
	c->first_ino = sb->s_rev_level ? sb->s_first_ino : 11;
	c->isize = sb->s_rev_level ? sb->s_inode_size : 128;
	int st = ck_geometry(c);
	if (st != SV_OK)
		return st;
	uint32_t ro = sb->s_feature_ro_compat, inc = sb->s_feature_incompat;
	c->csum = sv_fs_has_csum(fs);
	c->uninit_bg = c->csum || (ro & EXT4_FEATURE_RO_COMPAT_GDT_CSUM);
	c->extents = inc & EXT4_FEATURE_INCOMPAT_EXTENTS;
	c->filetype = inc & EXT4_FEATURE_INCOMPAT_FILETYPE;
	c->dir_index = sb->s_feature_compat & EXT4_FEATURE_COMPAT_DIR_INDEX;
	c->inline_data = inc & EXT4_FEATURE_INCOMPAT_INLINE_DATA;
	c->flex_bg = inc & EXT4_FEATURE_INCOMPAT_FLEX_BG;
	c->bigalloc = ro & EXT4_FEATURE_RO_COMPAT_BIGALLOC;
	c->huge_file = ro & EXT4_FEATURE_RO_COMPAT_HUGE_FILE;
	c->is64 = inc & EXT4_FEATURE_INCOMPAT_64BIT;
	c->largedir = inc & EXT4_FEATURE_INCOMPAT_LARGEDIR;
	c->encrypt = inc & EXT4_FEATURE_INCOMPAT_ENCRYPT;
	c->casefold = inc & EXT4_FEATURE_INCOMPAT_CASEFOLD;

	c->res = calloc(1, sizeof *c->res);
	if (c->res)
		c->res->problems = calloc(c->max_problems, sizeof *c->res->problems);
	if (!c->res || !c->res->problems || ck_alloc(c) != SV_OK) {
		ck_free(c);
		sv_check_result_free(c->res);
		return SV_ERR_NOMEM;
	}
	struct sv_check_result *r = c->res;
	r->inodes_count = sb->s_inodes_count;
	r->blocks_count = sb->s_blocks_count;
	r->block_size = c->bsize;

	c->rep = sv_fs_report(fs);
	if (c->rep) {
		c->saved_fn = c->rep->fn;
		c->saved_ctx = c->rep->ctx;
		c->rep->fn = reader_problem;
		c->rep->ctx = c;
	}
	ck_super(c);
	ck_groups(c);
	ck_mark_metadata(c);
	ck_orphans(c);
	st = ck_inodes(c);
	if (st == SV_OK) {
		ck_xattr_refs(c);
		st = ck_dups(c);
	}
	if (st == SV_OK)
		st = ck_dirs(c);
	if (st == SV_OK) {
		ck_connect(c);
		ck_links(c);
		ck_bitmaps(c);
		ck_quota(c);
		ck_journal(c);
		st = ck_finish(c);
	}
	if (c->rep) {
		c->rep->fn = c->saved_fn;
		c->rep->ctx = c->saved_ctx;
	}
	if (st == SV_OK && ck_oom(c))
		st = SV_ERR_NOMEM;
	ck_free(c);
	if (st != SV_OK) {
		sv_check_result_free(r);
		return st;
	}
	*out = r;
	return SV_OK;
}
