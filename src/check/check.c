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
	free(c->used);
	free(c->dup);
	free(c->meta);
	free(c->istate);
	free(c->ilinks);
	free(c->irefs);
	free(c->iparent);
	free(c->idotdot);
	free(c->iftype);
	free(c->dirs);
	free(c->eas);
	free(c->pairs);
	free(c->qids);
	free(c->qspace);
	free(c->buf);
	free(c->buf2);
}

int sv_check_run(struct sv_fs *fs, const struct sv_check_opts *o, struct sv_check_result **out)
{
	struct ck ck, *c = &ck;
	memset(c, 0, sizeof *c);
	const struct sv_super *sb = sv_fs_super(fs);
	c->fs = fs;
	c->sb = sb;
	c->max_problems = o && o->max_problems ? o->max_problems : 10000;
	c->bsize = sv_fs_block_size(fs);
	c->ngroups = sv_fs_group_count(fs);
	c->ipg = sb->s_inodes_per_group;
	c->ninodes = sb->s_inodes_count;
	c->first_ino = sb->s_rev_level ? sb->s_first_ino : 11;
	c->isize = sb->s_rev_level ? sb->s_inode_size : 128;
	c->nblocks = sb->s_blocks_count;
	c->cbits = sb->s_log_cluster_size > sb->s_log_block_size ? sb->s_log_cluster_size - sb->s_log_block_size : 0;
	if (c->cbits > 16 || c->ipg == 0 || c->ngroups == 0 || c->bsize < 1024)
		return SV_ERR_CORRUPT;
	c->nclusters = (c->nblocks + (1ull << c->cbits) - 1) >> c->cbits;
	/* inodes the tables really hold: a larger s_inodes_count is reported, not trusted */
	if ((uint64_t)c->ipg * c->ngroups < c->ninodes)
		c->ninodes = c->ipg * c->ngroups;
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

	size_t bm = (size_t)(c->nclusters / 8 + 1), ni = (size_t)c->ninodes + 1;
	c->res = calloc(1, sizeof *c->res);
	if (c->res)
		c->res->problems = calloc(c->max_problems, sizeof *c->res->problems);
	c->used = calloc(bm, 1);
	c->dup = calloc(bm, 1);
	c->meta = calloc(bm, 1);
	c->istate = calloc(ni, 1);
	c->iftype = calloc(ni, 1);
	c->ilinks = calloc(ni, sizeof *c->ilinks);
	c->irefs = calloc(ni, sizeof *c->irefs);
	c->iparent = calloc(ni, sizeof *c->iparent);
	c->idotdot = calloc(ni, sizeof *c->idotdot);
	if (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_QUOTA) {
		c->qids = calloc(ni, 3 * sizeof *c->qids);
		c->qspace = calloc(ni, sizeof *c->qspace);
		c->quota_skip = !c->qids || !c->qspace || (inc & EXT4_FEATURE_INCOMPAT_EA_INODE);
	}
	c->buf = malloc(c->bsize);
	c->buf2 = malloc(c->bsize);
	if (!c->res || !c->res->problems || !c->used || !c->dup || !c->meta || !c->istate || !c->iftype ||
	    !c->ilinks || !c->irefs || !c->iparent || !c->idotdot || !c->buf || !c->buf2) {
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
	int st = ck_inodes(c);
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
	ck_free(c);
	if (st != SV_OK) {
		sv_check_result_free(r);
		return st;
	}
	*out = r;
	return SV_OK;
}
