/* image.c: filesystem-aware imaging (`salvage image`): the plan (what to read, stage by stage,
 * in SOURCE byte addresses) and the copy engine (ddrescue-like passes through the rescue reader,
 * every piece the media delivered written at its offset, a ddrescue mapfile of what is known). */
#include "export.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- range helpers ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct sv_range *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort v[0..*n) and merge overlapping or touching entries in place. */
static void sort_merge(struct sv_range *v, size_t *n)
{
	if (*n < 2)
		return;
	qsort(v, *n, sizeof *v, cmp_range);
	size_t w = 0;
	for (size_t i = 1; i < *n; i++) {
		uint64_t end = v[w].off + v[w].len;
		if (v[i].off <= end) {
			uint64_t e2 = v[i].off + v[i].len;
			if (e2 > end)
				v[w].len = e2 - v[w].off;
		} else {
			v[++w] = v[i];
		}
	}
	*n = w + 1;
}

static int push_range(struct sv_ranges *r, uint64_t off, uint64_t len)
{
	if (!len)
		return SV_OK;
	if (r->n && r->v[r->n - 1].off + r->v[r->n - 1].len == off) {
		r->v[r->n - 1].len += len;
		return SV_OK;
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		if (nc > SIZE_MAX / sizeof *r->v)
			return SV_ERR_NOMEM;
		struct sv_range *nv = realloc(r->v, nc * sizeof *nv);
		if (!nv)
			return SV_ERR_NOMEM;
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n++] = (struct sv_range){ off, len };
	return SV_OK;
}

/* out = a minus b (both sorted and disjoint), in one pass. */
static int ranges_diff(const struct sv_ranges *a, const struct sv_ranges *b, struct sv_ranges *out)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t at = a->v[i].off, end = at + a->v[i].len;
		while (j < b->n && b->v[j].off + b->v[j].len <= at)
			j++;
		for (size_t k = j; k < b->n && b->v[k].off < end && at < end; k++) {
			if (b->v[k].off > at && push_range(out, at, b->v[k].off - at) != SV_OK)
				return SV_ERR_NOMEM;
			uint64_t be = b->v[k].off + b->v[k].len;
			at = be > at ? be : at;
		}
		if (at < end && push_range(out, at, end - at) != SV_OK)
			return SV_ERR_NOMEM;
	}
	return SV_OK;
}

/* out = a intersected with b, in one pass. */
static int ranges_and(const struct sv_ranges *a, const struct sv_ranges *b, struct sv_ranges *out)
{
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		uint64_t lo = a->v[i].off > b->v[j].off ? a->v[i].off : b->v[j].off;
		uint64_t ae = a->v[i].off + a->v[i].len, be = b->v[j].off + b->v[j].len;
		uint64_t hi = ae < be ? ae : be;
		if (lo < hi && push_range(out, lo, hi - lo) != SV_OK)
			return SV_ERR_NOMEM;
		if (ae < be)
			i++;
		else
			j++;
	}
	return SV_OK;
}

static uint64_t overlap_bytes(const struct sv_ranges *a, const struct sv_ranges *b)
{
	struct sv_ranges x = { 0 };
	uint64_t t = ranges_and(a, b, &x) == SV_OK ? sv_ranges_total(&x) : 0;
	sv_ranges_free(&x);
	return t;
}

static int copy_ranges(const struct sv_ranges *a, struct sv_ranges *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; a && i < a->n; i++)
		if (push_range(out, a->v[i].off, a->v[i].len) != SV_OK)
			return SV_ERR_NOMEM;
	return SV_OK;
}

/* ---- the plan ---- */

struct pending {
	struct sv_range *v;
	size_t n, cap, merged;   /* merged: entries after the last sort (compaction threshold) */
};
struct sv_image_plan {
	struct pending add[SV_IMG_NSTAGES];
	struct sv_ranges stage[SV_IMG_NSTAGES];
	bool finished;
};

const char *sv_image_stage_name(int stage)
{
	static const char *const names[SV_IMG_NSTAGES] = {
		"partition table area", "superblocks, descriptors, bitmaps, inode tables", "directories",
		"extent, indirect and xattr blocks", "journal", "file data",
	};
	return stage >= 0 && stage < SV_IMG_NSTAGES ? names[stage] : "?";
}

int sv_image_plan_new(struct sv_image_plan **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? SV_OK : SV_ERR_NOMEM;
}

void sv_image_plan_free(struct sv_image_plan *p)
{
	if (!p)
		return;
	for (int s = 0; s < SV_IMG_NSTAGES; s++) {
		free(p->add[s].v);
		sv_ranges_free(&p->stage[s]);
	}
	free(p);
}

int sv_image_plan_add(struct sv_image_plan *p, int stage, uint64_t off, uint64_t len)
{
	if (stage < 0 || stage >= SV_IMG_NSTAGES)
		return SV_ERR_INVAL;
	if (!len)
		return SV_OK;
	if (len > UINT64_MAX - off)
		len = UINT64_MAX - off;
	struct pending *a = &p->add[stage];
	if (a->n && a->v[a->n - 1].off + a->v[a->n - 1].len == off) {
		a->v[a->n - 1].len += len;   /* the common case: runs come in order */
		return SV_OK;
	}
	if (a->n == a->cap) {
		/* compact first: runs added in any order cost one entry per distinct run */
		if (a->n >= 2 * a->merged + 4096) {
			sort_merge(a->v, &a->n);
			a->merged = a->n;
		}
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 256;
			if (nc > SIZE_MAX / sizeof *a->v)
				return SV_ERR_NOMEM;
			struct sv_range *nv = realloc(a->v, nc * sizeof *nv);
			if (!nv)
				return SV_ERR_NOMEM;
			a->v = nv;
			a->cap = nc;
		}
	}
	a->v[a->n++] = (struct sv_range){ off, len };
	return SV_OK;
}

int sv_image_plan_finish(struct sv_image_plan *p, uint64_t size)
{
	struct sv_ranges seen = { 0 };
	int st = SV_OK;
	for (int s = 0; s < SV_IMG_NSTAGES && st == SV_OK; s++) {
		struct pending *a = &p->add[s];
		sort_merge(a->v, &a->n);
		struct sv_ranges mine = { 0 }, fresh = { 0 }, all = { 0 };
		for (size_t i = 0; i < a->n && st == SV_OK; i++) {
			uint64_t off = a->v[i].off, len = a->v[i].len;
			if (off >= size)
				break;
			st = push_range(&mine, off, len < size - off ? len : size - off);
		}
		if (st == SV_OK)
			st = ranges_diff(&mine, &seen, &fresh);
		/* seen |= mine: both sorted; merge by adding the smaller set's runs to a copy */
		if (st == SV_OK)
			st = copy_ranges(&seen, &all);
		for (size_t i = 0; i < fresh.n && st == SV_OK; i++)
			st = sv_ranges_add(&all, fresh.v[i].off, fresh.v[i].len);
		sv_ranges_free(&mine);
		sv_ranges_free(&seen);
		seen = all;
		sv_ranges_free(&p->stage[s]);
		p->stage[s] = fresh;
		free(a->v);
		memset(a, 0, sizeof *a);
	}
	sv_ranges_free(&seen);
	p->finished = st == SV_OK;
	return st;
}

const struct sv_ranges *sv_image_plan_stage(const struct sv_image_plan *p, int stage)
{
	return stage >= 0 && stage < SV_IMG_NSTAGES ? &p->stage[stage] : NULL;
}

uint64_t sv_image_plan_total(const struct sv_image_plan *p)
{
	uint64_t t = 0;
	for (int s = 0; s < SV_IMG_NSTAGES; s++)
		t += sv_ranges_total(&p->stage[s]);
	return t;
}

/* ---- planning one filesystem ---- */

struct planner {
	struct sv_image_plan *p;
	struct sv_fs *fs;
	const struct sv_super *sb;
	const struct sv_image_plan_opts *o;
	uint64_t bsize, limit;    /* fs block size; bytes of the fs device */
	int stage;                /* where on_meta and on_run put blocks */
	uint32_t ninodes, first_ino;
};

static bool stopped(const struct planner *pl)
{
	return pl->o->stop && *pl->o->stop;
}

static int add_blocks(struct planner *pl, int stage, uint64_t blk, uint64_t count)
{
	uint64_t off, len;
	if (!sv_mul64(blk, pl->bsize, &off) || off >= pl->limit)
		return SV_OK;
	if (!sv_mul64(count, pl->bsize, &len) || len > pl->limit - off)
		len = pl->limit - off;
	return sv_image_plan_add(pl->p, stage, pl->o->vol_off + off, len);
}

static int on_layout(void *ctx, int kind, uint32_t group, uint64_t blk, uint64_t count)
{
	return add_blocks(ctx, SV_IMG_FSMETA, blk, count);
}

static int on_meta(void *ctx, int kind, uint32_t group, uint64_t blk, uint64_t count)
{
	struct planner *pl = ctx;
	return add_blocks(pl, pl->stage, blk, count);
}

static int on_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct planner *pl = ctx;
	if (flags & SV_MAP_UNWRITTEN)
		return 0;   /* reads as zeros: nothing on the media to rescue */
	return add_blocks(pl, pl->stage, pblk, len);
}

/* True when i_block is a block map or an extent tree (not device numbers, a fast symlink's
 * target or inline data). Fast symlinks as in symlink.c (ext4_inode_is_fast_symlink). */
static bool has_map(const struct planner *pl, const struct sv_inode *in)
{
	uint16_t t = in->mode & SV_IFMT;
	if (in->flags & EXT4_INLINE_DATA_FL)
		return false;
	if (t == SV_IFCHR || t == SV_IFBLK || t == SV_IFIFO || t == SV_IFSOCK)
		return false;
	if (t == SV_IFLNK && in->size < 60) {
		unsigned shift = pl->sb->s_log_cluster_size >= pl->sb->s_log_block_size &&
					 pl->sb->s_log_cluster_size - pl->sb->s_log_block_size < 16
				 ? pl->sb->s_log_cluster_size - pl->sb->s_log_block_size : 0;
		uint64_t ea_blocks = in->file_acl ? (pl->bsize << shift) >> 9 : 0;
		if ((in->flags & EXT4_EA_INODE_FL) || in->blocks <= ea_blocks)
			return false;
	}
	return true;
}

/* The data blocks of in into stage; errors other than running out of memory or being stopped
 * were reported by the reader. */
static int plan_map(struct planner *pl, const struct sv_inode *in, int stage)
{
	if (!has_map(pl, in))
		return SV_OK;
	pl->stage = stage;
	int st = sv_file_map(pl->fs, in, on_run, pl);
	return st == SV_ERR_NOMEM || st == SV_ERR_STOP ? st : SV_OK;
}

static bool is_special_ino(const struct planner *pl, uint32_t ino)
{
	const struct sv_super *sb = pl->sb;
	return ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum || ino == sb->s_prj_quota_inum ||
	       ino == sb->s_orphan_file_inum;
}

/* One inode from the tables: its metadata blocks, and its data by what it is. */
static int plan_inode(struct planner *pl, const struct sv_inode *in)
{
	uint32_t ino = in->ino;
	bool reserved = ino < pl->first_ino;
	if (!in->mode)
		return SV_OK;
	bool linked = in->links_count > 0 || reserved;
	/* an orphan (deleted while open) keeps its blocks: i_dtime links the orphan chain */
	if (!linked && in->dtime >= pl->ninodes)
		return SV_OK;
	bool dir = (in->mode & SV_IFMT) == SV_IFDIR;
	pl->stage = dir ? SV_IMG_DIRS : SV_IMG_FILEMETA;
	int st = sv_file_meta(pl->fs, in, on_meta, pl);   /* tree nodes and the xattr block */
	if (st != SV_ERR_NOMEM && st != SV_ERR_STOP)
		st = SV_OK;
	if (st != SV_OK || !linked || ino == 1)
		return st;   /* the bad blocks inode's "data" are the bad blocks: never read them */
	if (dir)
		return plan_map(pl, in, SV_IMG_DIRS);
	if (ino == pl->sb->s_journal_inum)
		return plan_map(pl, in, SV_IMG_JOURNAL);
	if (reserved || (in->flags & EXT4_EA_INODE_FL) || is_special_ino(pl, ino))
		return plan_map(pl, in, SV_IMG_FILEMETA);
	uint16_t t = in->mode & SV_IFMT;
	if (!pl->o->paths && (t == SV_IFREG || t == SV_IFLNK))
		return plan_map(pl, in, SV_IMG_DATA);
	return SV_OK;
}

/* Every inode the tables hold that is in use, read as `check` does: uninitialised parts of the
 * tables (uninit_bg / metadata_csum) are not looked at. */
static int scan_inodes(struct planner *pl)
{
	const struct sv_super *sb = pl->sb;
	uint32_t ipg = sb->s_inodes_per_group, ngroups = sv_fs_group_count(pl->fs);
	bool uninit_bg = sb->s_feature_ro_compat &
			 (EXT4_FEATURE_RO_COMPAT_GDT_CSUM | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM);
	uint64_t done = 0;
	for (uint32_t g = 0; g < ngroups && ipg; g++) {
		const struct sv_group *gd = sv_fs_group(pl->fs, g);
		uint32_t n = ipg;
		if (gd && uninit_bg)
			n = (gd->bg_flags & EXT4_BG_INODE_UNINIT) ? 0
				: ipg - (gd->bg_itable_unused < ipg ? gd->bg_itable_unused : ipg);
		if (g == 0 && n < pl->first_ino)
			n = pl->first_ino < ipg ? pl->first_ino : ipg;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t ino = (uint64_t)g * ipg + i + 1;
			if (ino > pl->ninodes)
				return SV_OK;
			if (stopped(pl))
				return SV_ERR_STOP;
			if (pl->o->progress && !(++done & 4095))
				pl->o->progress(pl->o->progress_ctx, ino, pl->ninodes);
			struct sv_inode in;
			int st = sv_inode_read(pl->fs, (uint32_t)ino, &in);
			if (st != SV_OK && st != SV_ERR_CSUM)
				continue;
			if ((st = plan_inode(pl, &in)) != SV_OK)
				return st;
		}
	}
	return SV_OK;
}

static int on_walk(void *ctx, int event, const struct sv_walk_entry *e)
{
	struct planner *pl = ctx;
	if (stopped(pl))
		return SV_ERR_STOP;
	uint16_t t = e->in->mode & SV_IFMT;
	if (event != SV_WALK_FILE || e->link_rel || (t != SV_IFREG && t != SV_IFLNK))
		return 0;
	int st = plan_map(pl, e->in, SV_IMG_DATA);
	return st == SV_OK ? 0 : st;
}

/* The data under each wanted path. */
static int plan_paths(struct planner *pl)
{
	for (size_t i = 0; i < pl->o->npaths; i++) {
		const char *path = pl->o->paths[i];
		uint32_t ino;
		struct sv_inode in;
		int st = sv_path_resolve(pl->fs, path, &ino);
		if (st == SV_OK) {
			st = sv_inode_read(pl->fs, ino, &in);
			st = st == SV_ERR_CSUM ? SV_OK : st;
		}
		if (st != SV_OK) {
			sv_report(sv_fs_report(pl->fs), SV_PB_SKIPPED, 0, SV_NOBLOCK,
				  "%s: cannot be reached in the filesystem (%s): its data is not imaged", path,
				  sv_strerror(st));
			continue;
		}
		if ((in.mode & SV_IFMT) == SV_IFDIR)
			st = sv_walk(pl->fs, ino, path, NULL, on_walk, pl);
		else if ((in.mode & SV_IFMT) == SV_IFREG || (in.mode & SV_IFMT) == SV_IFLNK)
			st = plan_map(pl, &in, SV_IMG_DATA);
		if (st == SV_ERR_NOMEM || st == SV_ERR_STOP)
			return st;
	}
	return SV_OK;
}

int sv_image_plan_fs(struct sv_image_plan *p, struct sv_fs *fs, const struct sv_image_plan_opts *o)
{
	struct planner pl = { 0 };
	pl.p = p;
	pl.fs = fs;
	pl.sb = sv_fs_super(fs);
	pl.o = o;
	pl.bsize = sv_fs_block_size(fs);
	pl.limit = sv_fs_dev(fs)->size;
	pl.ninodes = sv_fs_inode_count(fs);
	pl.first_ino = pl.sb->s_rev_level ? pl.sb->s_first_ino : 11;
	/* the boot area before the primary superblock (a boot record, or block 0 of a 1 KiB fs) */
	int st = sv_image_plan_add(p, SV_IMG_FSMETA, o->vol_off, pl.limit < 1024 ? pl.limit : 1024);
	if (st == SV_OK)
		st = sv_fs_layout(fs, on_layout, &pl);
	if (st == SV_ERR_NOMEM)
		return st;
	st = scan_inodes(&pl);
	if (st == SV_OK && o->paths)
		st = plan_paths(&pl);
	if (o->progress && st == SV_OK)
		o->progress(o->progress_ctx, pl.ninodes, pl.ninodes);
	return st;
}

/* ---- the copy engine ---- */

struct sv_image {
	struct sv_dev *rescue;
	int fd;
	struct sv_ranges have;     /* bytes in the image that were read from the media */
	uint64_t written;          /* this run */
	int werr;                  /* errno of the first failed write (0: none) */
	uint64_t werr_off;
	bool nomem;
};

/* The rescue reader's tap: the exact bytes the media delivered, written where they belong. A
 * piece counts as read only once it is wholly written. */
static void tap(void *ctx, uint64_t off, const void *buf, uint64_t len)
{
	struct sv_image *im = ctx;
	if (im->werr)
		return;
	const uint8_t *b = buf;
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
		ssize_t w = pwrite(im->fd, b + done, n, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			im->werr = w < 0 ? errno : ENOSPC;
			im->werr_off = off + done;
			return;
		}
		done += (uint64_t)w;
	}
	if (sv_ranges_add(&im->have, off, len) != SV_OK)
		im->nomem = true;
	im->written += len;
}

int sv_image_open(struct sv_dev *rescue, int fd, struct sv_image **out)
{
	if (!sv_rescue_areas(rescue, SV_BAD_ERROR))
		return SV_ERR_INVAL;
	struct sv_image *im = calloc(1, sizeof *im);
	if (!im)
		return SV_ERR_NOMEM;
	im->rescue = rescue;
	im->fd = fd;
	sv_rescue_set_tap(rescue, tap, im);
	*out = im;
	return SV_OK;
}

void sv_image_close(struct sv_image *im)
{
	if (!im)
		return;
	sv_rescue_set_tap(im->rescue, NULL, NULL);
	sv_ranges_free(&im->have);
	free(im);
}

int sv_image_resume(struct sv_image *im, const struct sv_ddmap *m)
{
	uint64_t size = im->rescue->size;
	for (size_t i = 0; i < m->n; i++) {
		const struct sv_ddmap_ent *e = &m->v[i];
		if (e->pos >= size)
			break;
		uint64_t len = e->size < size - e->pos ? e->size : size - e->pos;
		int st = SV_OK;
		if (e->status == '+')
			st = sv_ranges_add(&im->have, e->pos, len);
		else if (e->status == '-')
			st = sv_rescue_mark(im->rescue, e->pos, len, SV_BAD_ERROR);
		else if (e->status == '*' || e->status == '/')
			st = sv_rescue_mark(im->rescue, e->pos, len, SV_BAD_SKIPPED);
		if (st != SV_OK)
			return st;
	}
	return SV_OK;
}

int sv_image_error(const struct sv_image *im, char *err, size_t errlen)
{
	if (im->werr) {
		snprintf(err, errlen, "writing the image at byte %llu failed: %s", (unsigned long long)im->werr_off,
			 strerror(im->werr));
		return SV_ERR_IO;
	}
	if (im->nomem) {
		snprintf(err, errlen, "out of memory keeping track of what was read");
		return SV_ERR_NOMEM;
	}
	return SV_OK;
}

/* ---- a view of the source that takes what the image holds from the image ---- */

struct view_dev {
	struct sv_dev d;
	struct sv_image *im;
};

static bool pread_full(int fd, uint8_t *buf, uint64_t len, uint64_t off)
{
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
		ssize_t r = pread(fd, buf + done, n, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (uint64_t)r;
	}
	return true;
}

static int view_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct view_dev *v = (struct view_dev *)d;
	uint8_t *out = buf;
	uint64_t end = off + len;
	int st = SV_OK;
	while (off < end) {
		const struct sv_ranges *h = &v->im->have;   /* re-read: a source read below adds to it */
		size_t i = sv_ranges_find(h, off);
		uint64_t n;
		if (i < h->n && h->v[i].off <= off) {
			uint64_t e = h->v[i].off + h->v[i].len;
			n = (e < end ? e : end) - off;
			if (pread_full(v->im->fd, out, n, off)) {
				out += n;
				off += n;
				continue;
			}
			/* the image cannot be read back: ask the source */
		} else {
			n = (i < h->n && h->v[i].off < end ? h->v[i].off : end) - off;
		}
		if (sv_dev_read(d->lower, off, out, (size_t)n) != SV_OK)
			st = SV_ERR_IO;
		out += n;
		off += n;
	}
	return st;
}

static void view_close(struct sv_dev *d)
{
	free(d);
}

/* bad() NULL: the view maps 1:1 onto the rescue reader, which knows what failed */
static const struct sv_dev_ops view_ops = { view_read, view_close, NULL };

int sv_image_view(struct sv_image *im, struct sv_dev **out)
{
	struct view_dev *v = calloc(1, sizeof *v);
	if (!v)
		return SV_ERR_NOMEM;
	v->im = im;
	v->d.ops = &view_ops;
	v->d.size = im->rescue->size;
	v->d.sector = im->rescue->sector;
	v->d.lower = im->rescue;
	snprintf(v->d.name, sizeof v->d.name, "%s", im->rescue->name);
	*out = &v->d;
	return SV_OK;
}

struct copier {
	struct sv_image *im;
	const struct sv_image_copy_opts *o;
	struct sv_image_progress pr;
	uint8_t *buf;
	size_t chunk;
};

/* Why the engine must stop now: SV_OK to go on. */
static int halt(struct copier *c)
{
	if (c->im->werr)
		return SV_ERR_IO;
	if (c->im->nomem)
		return SV_ERR_NOMEM;
	if ((c->o->stop && *c->o->stop) || (c->o->stop_after && c->im->written >= c->o->stop_after))
		return SV_ERR_STOP;
	return SV_OK;
}

static void report(struct copier *c, uint64_t done)
{
	struct sv_rescue_stats rs;
	sv_rescue_get_stats(c->im->rescue, &rs);
	c->pr.pass_done = done;
	c->pr.failed_reads = rs.failed_reads;
	c->pr.bad_bytes = rs.bad_bytes;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, &c->pr);
}

/* Read the parts of [off, end) not in the image yet (the tap writes what comes). */
static void read_missing(struct copier *c, uint64_t off, uint64_t end)
{
	const struct sv_ranges *h = &c->im->have;
	while (off < end) {
		size_t i = sv_ranges_find(h, off);
		if (i < h->n && h->v[i].off <= off) {
			off = h->v[i].off + h->v[i].len;
			continue;
		}
		uint64_t stop = i < h->n && h->v[i].off < end ? h->v[i].off : end;
		sv_dev_read(c->im->rescue, off, c->buf, (size_t)(stop - off));
		off = stop;
	}
}

/* Pass 1: each stage in order, in chunk-aligned reads, with skip-ahead. */
static int pass_copy(struct copier *c, const struct sv_image_plan *p)
{
	struct sv_ranges todo[SV_IMG_NSTAGES];
	memset(todo, 0, sizeof todo);
	int st = SV_OK;
	c->pr.pass = 1;
	c->pr.pass_total = 0;
	for (int s = 0; s < SV_IMG_NSTAGES && st == SV_OK; s++) {
		st = ranges_diff(&p->stage[s], &c->im->have, &todo[s]);
		c->pr.pass_total += sv_ranges_total(&todo[s]);
	}
	uint64_t done = 0;
	for (int s = 0; s < SV_IMG_NSTAGES && st == SV_OK; s++) {
		c->pr.stage = s;
		for (size_t i = 0; i < todo[s].n && st == SV_OK; i++) {
			uint64_t off = todo[s].v[i].off, end = off + todo[s].v[i].len;
			while (off < end && (st = halt(c)) == SV_OK) {
				uint64_t next = (off / c->chunk + 1) * c->chunk;
				next = next < end ? next : end;
				read_missing(c, off, next);
				done += next - off;
				off = next;
				report(c, done);
			}
		}
	}
	for (int s = 0; s < SV_IMG_NSTAGES; s++)
		sv_ranges_free(&todo[s]);
	return st == SV_OK ? halt(c) : st;
}

/* Pass 2 and the retry passes: the parts of the plan in set (a copy of the rescue reader's
 * skipped or bad areas), stage by stage, come back through sv_rescue_retry. Bad areas are first
 * turned into skipped ones (retry passes) when forget_bad is set. */
static int pass_retry(struct copier *c, const struct sv_image_plan *p, int kind, unsigned pass)
{
	struct sv_ranges set, todo[SV_IMG_NSTAGES];
	memset(todo, 0, sizeof todo);
	int st = copy_ranges(sv_rescue_areas(c->im->rescue, kind), &set);
	c->pr.pass = pass;
	c->pr.pass_total = 0;
	for (int s = 0; s < SV_IMG_NSTAGES && st == SV_OK; s++) {
		st = ranges_and(&p->stage[s], &set, &todo[s]);
		c->pr.pass_total += sv_ranges_total(&todo[s]);
	}
	sv_ranges_free(&set);
	uint64_t done = 0;
	for (int s = 0; s < SV_IMG_NSTAGES && st == SV_OK; s++) {
		c->pr.stage = s;
		for (size_t i = 0; i < todo[s].n && st == SV_OK; i++) {
			uint64_t off = todo[s].v[i].off, end = off + todo[s].v[i].len;
			while (off < end && (st = halt(c)) == SV_OK) {
				/* small pieces: a stop request is seen between them */
				uint64_t n = end - off < 65536 ? end - off : 65536;
				if (kind == SV_BAD_ERROR) {
					st = sv_rescue_unmark(c->im->rescue, off, n, SV_BAD_ERROR);
					if (st == SV_OK)
						st = sv_rescue_mark(c->im->rescue, off, n, SV_BAD_SKIPPED);
				}
				if (st == SV_OK) {
					int r = sv_rescue_retry(c->im->rescue, off, n);
					st = r == SV_ERR_NOMEM ? r : SV_OK;
				}
				done += n;
				off += n;
				report(c, done);
			}
		}
	}
	for (int s = 0; s < SV_IMG_NSTAGES; s++)
		sv_ranges_free(&todo[s]);
	return st == SV_OK ? halt(c) : st;
}

int sv_image_copy(struct sv_image *im, const struct sv_image_plan *p, const struct sv_image_copy_opts *o)
{
	struct copier c;
	memset(&c, 0, sizeof c);
	c.im = im;
	c.o = o;
	c.chunk = o->chunk ? o->chunk : (1u << 20);
	c.chunk -= c.chunk % im->rescue->sector;
	if (!c.chunk)
		c.chunk = im->rescue->sector;
	if (!(c.buf = malloc(c.chunk)))
		return SV_ERR_NOMEM;
	/* skip-ahead while copying only: planning read metadata in full */
	struct sv_rescue_opts ro = { 0, o->skip_after ? o->skip_after : 2 };
	sv_rescue_set_opts(im->rescue, &ro);
	int st = pass_copy(&c, p);
	ro.skip_after = 0;
	sv_rescue_set_opts(im->rescue, &ro);
	if (st == SV_OK)
		st = pass_retry(&c, p, SV_BAD_SKIPPED, 2);
	for (unsigned k = 0; k < o->retry_passes && st == SV_OK; k++)
		st = pass_retry(&c, p, SV_BAD_ERROR, 3 + k);
	free(c.buf);
	return st;
}

static int map_push(struct sv_ddmap *m, uint64_t pos, uint64_t size, char status)
{
	if (m->n && m->v[m->n - 1].status == status && m->v[m->n - 1].pos + m->v[m->n - 1].size == pos) {
		m->v[m->n - 1].size += size;
		return SV_OK;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		if (nc > SIZE_MAX / sizeof *m->v)
			return SV_ERR_NOMEM;
		struct sv_ddmap_ent *nv = realloc(m->v, nc * sizeof *nv);
		if (!nv)
			return SV_ERR_NOMEM;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n++] = (struct sv_ddmap_ent){ pos, size, status };
	return SV_OK;
}

int sv_image_map(struct sv_image *im, uint64_t size, struct sv_ddmap *m)
{
	/* by priority: a byte in the image was read, whatever else was said of it */
	const struct sv_ranges *set[3] = { &im->have, sv_rescue_areas(im->rescue, SV_BAD_ERROR),
					   sv_rescue_areas(im->rescue, SV_BAD_SKIPPED) };
	static const char code[3] = { '+', '-', '*' };
	struct sv_ddmap nm;
	memset(&nm, 0, sizeof nm);
	nm.current_status = '?';
	nm.current_pass = 1;
	uint64_t at = 0;
	while (at < size) {
		char st = '?';
		uint64_t next = size;
		for (int k = 0; k < 3; k++) {
			if (!set[k])
				continue;
			size_t i = sv_ranges_find(set[k], at);
			if (i == set[k]->n)
				continue;
			const struct sv_range *r = &set[k]->v[i];
			uint64_t edge = r->off <= at ? r->off + r->len : r->off;
			if (r->off <= at && st == '?')
				st = code[k];
			next = edge < next ? edge : next;
		}
		if (map_push(&nm, at, next - at, st) != SV_OK) {
			free(nm.v);
			return SV_ERR_NOMEM;
		}
		at = next;
	}
	sv_ddmap_free(m);
	*m = nm;
	return SV_OK;
}

uint64_t sv_image_have_in(struct sv_image *im, const struct sv_ranges *r)
{
	return overlap_bytes(r, &im->have);
}

void sv_image_get_stats(struct sv_image *im, const struct sv_image_plan *p, struct sv_image_stats *st)
{
	memset(st, 0, sizeof *st);
	st->written = im->written;
	st->have = sv_ranges_total(&im->have);
	const struct sv_ranges *bad = sv_rescue_areas(im->rescue, SV_BAD_ERROR);
	const struct sv_ranges *sk = sv_rescue_areas(im->rescue, SV_BAD_SKIPPED);
	for (int s = 0; p && s < SV_IMG_NSTAGES; s++) {
		st->plan_have += overlap_bytes(&p->stage[s], &im->have);
		st->plan_bad += overlap_bytes(&p->stage[s], bad);
		st->plan_skipped += overlap_bytes(&p->stage[s], sk);
	}
}
