/* truth.c: per-file truth while cp or tar writes a tree. A failed data read becomes the exact
 * FILE byte ranges lost (the device stack names the unreadable bytes: sv_dev_bad), which are
 * zeroed in the buffer here, reported with their source offsets and recorded in the damage
 * registry; a file whose extent or indirect blocks could not be read is marked for the bytes its
 * map did not give; metadata damage is filed as it is reported; the bytes written are hashed. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

enum { W_NONE, W_DIR, W_MAP };

static const uint8_t zeros[65536];

/* ---- what a reported problem concerns ---- */
/* The block's place in the group layout, or NULL (bitmaps and inode tables only). */
static const char *layout_of(struct sv_truth *t, uint64_t blk)
{
	const struct sv_super *sb = sv_fs_super(t->fs);
	uint64_t bs = sv_fs_block_size(t->fs);
	uint64_t itb = ((uint64_t)sb->s_inodes_per_group * sb->s_inode_size + bs - 1) / bs;
	for (uint32_t g = 0; g < sv_fs_group_count(t->fs); g++) {
		const struct sv_group *gd = sv_fs_group(t->fs, g);
		if (blk >= gd->bg_inode_table && blk - gd->bg_inode_table < itb)
			return "inode table";
		if (blk == gd->bg_block_bitmap)
			return "block bitmap";
		if (blk == gd->bg_inode_bitmap)
			return "inode bitmap";
	}
	return NULL;
}

static const char *what_of(struct sv_truth *t, const struct sv_problem *pb)
{
	const char *w = pb->block != SV_NOBLOCK ? layout_of(t, pb->block) : NULL;
	if (w)
		return w;
	if (t->where == W_DIR && (pb->code == SV_PB_IO || pb->code == SV_PB_DIR))
		return "directory";
	switch (pb->code) {
	case SV_PB_IO: return "block";
	case SV_PB_INODE: return "inode";
	case SV_PB_DIR: return "directory";
	case SV_PB_EXTENT: return "extent tree";
	case SV_PB_BLOCKMAP: return "block map";
	case SV_PB_XATTR: return "extended attributes";
	case SV_PB_SYMLINK: return "symlink";
	case SV_PB_INLINE: return "inline data";
	case SV_PB_LOOP: return "directory tree";
	case SV_PB_GROUP: return "group descriptors";
	case SV_PB_SUPER: return "superblock";
	default: return NULL;
	}
}

static void file_problem(struct sv_truth *t, const struct sv_problem *pb)
{
	int c = pb->code;
	if (t->where == W_MAP && (c == SV_PB_IO || c == SV_PB_EXTENT || c == SV_PB_BLOCKMAP) &&
	    (pb->ino == 0 || pb->ino == t->e->ino)) {
		bool ext = t->e->in->flags & EXT4_EXTENTS_FL;
		if (!t->map_bad)
			t->bad_from = t->pos;   /* runs come in logical order: what came before is sound */
		t->map_bad = true;
		sv_damage_meta(t->dmg, c == SV_PB_IO ? (ext ? "extent block" : "indirect block")
				       : c == SV_PB_EXTENT ? "extent tree" : "block map",
			       pb->block, t->e->ino, pb->path);
		return;
	}
	const char *what = what_of(t, pb);
	if (what)
		sv_damage_meta(t->dmg, what, pb->block, pb->ino ? (uint32_t)pb->ino : t->where == W_DIR ? t->dir_ino : 0,
			       pb->path);
}

/* In front of the report's sink: file the problem, then pass it on. */
static void tap(void *ctx, const struct sv_problem *pb)
{
	struct sv_truth *t = ctx;
	if (!t->quiet && pb->severity >= SV_SEV_ERROR)
		file_problem(t, pb);
	if (t->next_fn)
		t->next_fn(t->next_ctx, pb);
}

int sv_truth_begin(struct sv_truth *t, struct sv_fs *fs, struct sv_report *rep, struct sv_damage *dmg,
		   sv_file_done_fn done, void *done_ctx)
{
	memset(t, 0, sizeof *t);
	t->fs = fs;
	t->rep = rep;
	t->done = done;
	t->done_ctx = done_ctx;
	t->rescue = sv_dev_find_rescue(sv_fs_dev(fs));
	if (!dmg) {
		if (sv_damage_new(&dmg) != SV_OK)
			return SV_ERR_NOMEM;
		t->own_dmg = true;
	}
	t->dmg = dmg;
	t->next_fn = rep->fn;
	t->next_ctx = rep->ctx;
	rep->fn = tap;
	rep->ctx = t;
	return SV_OK;
}

void sv_truth_end(struct sv_truth *t)
{
	if (!t->dmg)
		return;
	t->rep->fn = t->next_fn;
	t->rep->ctx = t->next_ctx;
	if (t->own_dmg)
		sv_damage_free(t->dmg);
	sv_ranges_free(&t->gaps);
	sv_inomap_free(&t->sum_idx);
	free(t->sums);
	free(t->ovl);
	memset(t, 0, sizeof *t);
}

void sv_truth_dir(struct sv_truth *t, const struct sv_walk_entry *e)
{
	t->where = W_DIR;
	t->dir_ino = e->ino;
}

void sv_truth_idle(struct sv_truth *t)
{
	t->where = W_NONE;
}

/* ---- source offsets: fs device bytes -> SOURCE bytes (slices add their offset; a block a
 * journal overlay replaces lies elsewhere, so no source offset is claimed for it) ---- */
static int ovl_collect(void *ctx, uint64_t blk)
{
	struct sv_truth *t = ctx;
	if (t->novl == t->ovlcap) {
		size_t cap = t->ovlcap ? t->ovlcap * 2 : 64;
		uint64_t *p = realloc(t->ovl, cap * sizeof *p);
		if (!p)
			return 1;
		t->ovl = p;
		t->ovlcap = cap;
	}
	t->ovl[t->novl++] = blk;
	return 0;
}

static bool overlaid(struct sv_truth *t, struct sv_dev *d, uint64_t off, uint64_t len)
{
	if (t->ovl_dev != d) {
		if (t->ovl_dev)
			return true;   /* a second overlay: not expected; claim nothing */
		t->ovl_dev = d;
		if (sv_overlay_each(d, ovl_collect, t) != 0)
			t->ovl_bad = true;
	}
	if (t->ovl_bad)
		return true;
	uint64_t bs = sv_fs_block_size(t->fs), a = off / bs, z = (off + len - 1) / bs;
	size_t lo = 0, hi = t->novl;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ovl[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->novl && t->ovl[lo] <= z;
}

static bool source_off(struct sv_truth *t, uint64_t off, uint64_t len, uint64_t *src)
{
	uint64_t add = 0;
	for (struct sv_dev *d = sv_fs_dev(t->fs); d; d = d->lower) {
		if (d == t->rescue) {
			*src = off + add;
			return true;
		}
		if (sv_overlay_count(d) && overlaid(t, d, off + add, len))
			return false;
		add += sv_dev_slice_offset(d);
	}
	return false;
}

/* ---- data reads ---- */
static void lost_piece(struct sv_truth *t, uint64_t foff, uint64_t len, uint64_t dev_off)
{
	const struct sv_inode *in = t->e->in;
	uint64_t bs = sv_fs_block_size(t->fs), src = UINT64_MAX;
	unsigned why = 0;
	if (source_off(t, dev_off, len, &src) && t->rescue) {
		static const int kinds[] = { SV_BAD_SKIPPED, SV_BAD_MAP, SV_BAD_ERROR };
		static const unsigned bits[] = { SV_LOST_SKIPPED, SV_LOST_DDMAP, SV_LOST_READ };
		for (int k = 0; k < 3; k++) {
			const struct sv_ranges *a = sv_rescue_areas(t->rescue, kinds[k]);
			if (a && sv_ranges_any(a, src, len))
				why |= bits[k];
		}
	}
	if (!why)
		why = SV_LOST_READ;
	sv_damage_add(t->dmg, in, t->e->path, foff, len, src, why);
	const char *how = why == SV_LOST_SKIPPED ? "were not read (skipped in a run of read errors)"
			: why == SV_LOST_DDMAP ? "are not rescued (the ddrescue map does not mark them finished)"
			: "cannot be read";
	uint64_t b0 = dev_off / bs, b1 = (dev_off + len - 1) / bs;
	char where[96];
	if (src != UINT64_MAX)
		snprintf(where, sizeof where, "source bytes %llu-%llu, ", (unsigned long long)src,
			 (unsigned long long)(src + len - 1));
	else
		where[0] = 0;
	char blk[48];
	if (b0 == b1)
		snprintf(blk, sizeof blk, "block %llu", (unsigned long long)b0);
	else
		snprintf(blk, sizeof blk, "blocks %llu-%llu", (unsigned long long)b0, (unsigned long long)b1);
	t->quiet = true;
	sv_report(t->rep, SV_PB_IO, in->ino, b0, "file inode %u: bytes %llu-%llu %s (%s%s); zeros in their place",
		  in->ino, (unsigned long long)foff, (unsigned long long)(foff + len - 1), how, where, blk);
	t->quiet = false;
}

struct lost_ctx {
	struct sv_truth *t;
	uint64_t dev_off, dev_len, foff, bytes;
	uint8_t *buf;
	unsigned long named;
};

static int lost_one(void *ctx, uint64_t off, uint64_t len)
{
	struct lost_ctx *l = ctx;
	uint64_t a = off < l->dev_off ? l->dev_off : off;
	uint64_t z = off + len > l->dev_off + l->dev_len ? l->dev_off + l->dev_len : off + len;
	if (a >= z)
		return 0;
	l->named++;
	memset(l->buf + (a - l->dev_off), 0, (size_t)(z - a));
	/* bytes past the file's end in its last block are not file bytes */
	uint64_t f0 = l->foff + (a - l->dev_off), f1 = l->foff + (z - l->dev_off);
	if (f1 > l->foff + l->bytes)
		f1 = l->foff + l->bytes;
	if (f0 < f1)
		lost_piece(l->t, f0, f1 - f0, a);
	return 0;
}

int sv_truth_read(struct sv_truth *t, uint64_t pblk, uint64_t n, uint64_t foff, size_t bytes, uint8_t *buf)
{
	uint64_t bs = sv_fs_block_size(t->fs);
	/* the reader's own message names blocks only; the one below names the file's bytes */
	struct sv_report saved = *t->rep;
	t->rep->fn = NULL;
	int st = sv_fs_read_blocks(t->fs, pblk, n, buf);
	*t->rep = saved;
	if (st == SV_OK)
		return SV_OK;
	if (st == SV_ERR_CORRUPT) {
		const struct sv_inode *in = t->e->in;
		memset(buf, 0, (size_t)(n * bs));
		sv_damage_add(t->dmg, in, t->e->path, foff, bytes, UINT64_MAX, SV_LOST_OUTSIDE);
		t->quiet = true;
		sv_report(t->rep, SV_PB_EXTENT, in->ino, pblk, "file inode %u: bytes %llu-%llu map to blocks %llu-%llu, "
			  "outside the filesystem; zeros in their place", in->ino, (unsigned long long)foff,
			  (unsigned long long)(foff + bytes - 1), (unsigned long long)pblk, (unsigned long long)(pblk + n - 1));
		t->quiet = false;
		return st;
	}
	struct lost_ctx l = { t, pblk * bs, n * bs, foff, bytes, buf, 0 };
	sv_dev_bad(sv_fs_dev(t->fs), l.dev_off, l.dev_len, lost_one, &l);
	if (!l.named) {
		/* the device cannot say which bytes: all of them count as lost */
		memset(buf, 0, (size_t)(n * bs));
		lost_piece(t, foff, bytes, l.dev_off);
	}
	return st;
}

/* ---- the file being written ---- */
void sv_truth_file_begin(struct sv_truth *t, const struct sv_walk_entry *e)
{
	t->e = e;
	t->where = W_NONE;
	t->map_bad = false;
	t->pos = 0;
	t->gaps.n = 0;
	t->hpos = 0;
	if (t->done)
		sv_sha256_init(&t->sha);
}

void sv_truth_mapping(struct sv_truth *t, bool on)
{
	t->where = on ? W_MAP : W_NONE;
}

void sv_truth_run(struct sv_truth *t, uint64_t from, uint64_t to)
{
	if (from > t->pos)
		sv_ranges_add(&t->gaps, t->pos, from - t->pos);
	if (to > t->pos)
		t->pos = to;
}

static void hash_zeros(struct sv_truth *t, uint64_t n)
{
	while (n) {
		size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
		sv_sha256_update(&t->sha, zeros, k);
		n -= k;
	}
}

void sv_truth_data(struct sv_truth *t, uint64_t foff, const void *p, size_t n)
{
	if (!t->done)
		return;
	if (foff > t->hpos) {
		hash_zeros(t, foff - t->hpos);
		t->hpos = foff;
	}
	if (foff < t->hpos) {   /* already hashed (an overlapping run): not written again */
		uint64_t skip = t->hpos - foff;
		if (skip >= n)
			return;
		p = (const uint8_t *)p + skip;
		n -= (size_t)skip;
	}
	sv_sha256_update(&t->sha, p, n);
	t->hpos += n;
}

void sv_truth_inline_bad(struct sv_truth *t, size_t n)
{
	const struct sv_inode *in = t->e->in;
	if (n < in->size)
		sv_damage_add(t->dmg, in, t->e->path, n, in->size - n, UINT64_MAX, SV_LOST_INLINE);
	else
		sv_damage_add(t->dmg, in, t->e->path, 0, in->size, UINT64_MAX, SV_LOST_INLINE);
}

static void keep_sum(struct sv_truth *t, uint32_t ino, const uint8_t sum[32])
{
	uint32_t *v = sv_inomap_get(&t->sum_idx, ino);
	if (v) {
		memcpy(t->sums[*v - 1], sum, 32);
		return;
	}
	if (t->nsums == t->sumcap) {
		size_t nc = t->sumcap ? t->sumcap * 2 : 64;
		uint8_t (*p)[32] = realloc(t->sums, nc * sizeof *p);
		if (!p)
			return;
		t->sums = p;
		t->sumcap = nc;
	}
	if (t->nsums >= UINT32_MAX - 1 || sv_inomap_put(&t->sum_idx, ino, (uint32_t)t->nsums + 1) != SV_OK)
		return;
	memcpy(t->sums[t->nsums++], sum, 32);
}

void sv_truth_file_end(struct sv_truth *t, int map_status)
{
	const struct sv_walk_entry *e = t->e;
	const struct sv_inode *in = e->in;
	t->where = W_NONE;
	bool map_failed = map_status != SV_OK && map_status != SV_ERR_NOMEM && map_status != SV_ERR_INVAL &&
			  map_status != SV_ERR_CSUM;
	if (t->map_bad || map_failed) {
		/* Where the unreadable part of the map pointed is unknown: every byte the map did not give
		 * from where the walk was when the damage was met (a walker may hold back one run, so the
		 * gap just before it counts too: more than lost, never less). */
		uint64_t from = t->map_bad ? t->bad_from : 0;
		sv_truth_run(t, in->size, in->size);
		for (size_t i = 0; i < t->gaps.n; i++) {
			uint64_t a = t->gaps.v[i].off, z = a + t->gaps.v[i].len;
			if (a < from)
				a = from;
			if (a < z)
				sv_damage_add(t->dmg, in, e->path, a, z - a, UINT64_MAX, SV_LOST_MAP);
		}
	}
	if (!t->done)
		return;
	struct sv_file_done fd;
	memset(&fd, 0, sizeof fd);
	if (in->size > t->hpos)
		hash_zeros(t, in->size - t->hpos);
	sv_sha256_final(&t->sha, fd.sha256);
	fd.path = e->path;
	fd.ino = e->ino;
	fd.size = in->size;
	fd.lost = sv_damage_lost(t->dmg, e->ino);
	if (in->links_count > 1)
		keep_sum(t, e->ino, fd.sha256);
	t->done(t->done_ctx, &fd);
}

void sv_truth_link(struct sv_truth *t, const struct sv_walk_entry *e)
{
	sv_damage_add_name(t->dmg, e->ino, e->path);
	if (!t->done || (e->in->mode & SV_IFMT) != SV_IFREG)
		return;
	uint32_t *v = sv_inomap_get(&t->sum_idx, e->ino);
	if (!v)
		return;
	struct sv_file_done fd;
	memset(&fd, 0, sizeof fd);
	memcpy(fd.sha256, t->sums[*v - 1], 32);
	fd.path = e->path;
	fd.ino = e->ino;
	fd.size = e->in->size;
	fd.lost = sv_damage_lost(t->dmg, e->ino);
	t->done(t->done_ctx, &fd);
}
