/* overlay.c: a device that replaces some blocks of the one below, the way SQLite's pager asks the
 * WAL before the database file. A replaced block is either a redirect (its bytes are read on
 * demand from a byte offset of a source device, optionally with its first 4 bytes patched) or an
 * in-memory copy. The journal replay fills it with redirects into the journal, so memory is one
 * 24-byte hash slot per replaced block, never a copy of the block (open addressing, doubled at 3/4). */
#include "io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OV_EMPTY = 0, OV_COPY, OV_REDIRECT, OV_REDIRECT_HEAD };
#define OV_MAX_SOURCES 8
#define OV_REPORT_CAP 20               /* read failures reported one by one, then summarised once */

struct ov_slot {
	uint64_t blk;
	union {
		uint64_t off;              /* redirect: byte offset in sources[src] */
		uint8_t *data;             /* copy: bsize bytes owned by the overlay */
	} u;
	uint8_t head[4];                   /* OV_REDIRECT_HEAD: replaces bytes 0..3 of the block */
	uint8_t kind;                      /* OV_EMPTY: free slot */
	uint8_t src;
};

struct overlay_dev {
	struct sv_dev d;
	uint32_t bsize;
	size_t count, cap;                 /* cap is a power of two */
	struct ov_slot *slots;
	struct sv_dev *src[OV_MAX_SOURCES]; /* src[0] is the lower device */
	bool owns_src[OV_MAX_SOURCES];
	unsigned nsrc;
	struct sv_report *rep;
	unsigned failures;
};

static const struct sv_dev_ops ov_ops;

static struct overlay_dev *as_ov(struct sv_dev *d)
{
	return d && d->ops == &ov_ops ? (struct overlay_dev *)d : NULL;
}

static size_t ov_hash(uint64_t blk, size_t cap)
{
	return (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct ov_slot *ov_find(struct overlay_dev *o, uint64_t blk)
{
	if (!o->cap)
		return NULL;
	for (size_t i = ov_hash(blk, o->cap);; i = (i + 1) & (o->cap - 1)) {
		if (o->slots[i].kind == OV_EMPTY)
			return NULL;
		if (o->slots[i].blk == blk)
			return &o->slots[i];
	}
}

/* Rehash into a table of ncap slots (a power of two, above count). */
static int ov_resize(struct overlay_dev *o, size_t ncap)
{
	if (ncap > SIZE_MAX / sizeof(struct ov_slot))
		return SV_ERR_NOMEM;
	struct ov_slot *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return SV_ERR_NOMEM;
	for (size_t i = 0; i < o->cap; i++) {
		if (o->slots[i].kind == OV_EMPTY)
			continue;
		size_t j = ov_hash(o->slots[i].blk, ncap);
		while (ns[j].kind != OV_EMPTY)
			j = (j + 1) & (ncap - 1);
		ns[j] = o->slots[i];
	}
	free(o->slots);
	o->slots = ns;
	o->cap = ncap;
	return SV_OK;
}

/* Slots for n entries at a load of at most 3/4. */
static size_t ov_cap_for(size_t n)
{
	size_t cap = 64;
	while (cap < SIZE_MAX / 8 && n > cap / 4 * 3)
		cap *= 2;
	return cap;
}

/* The slot for blk: the existing one (its old copy freed), or a new empty one. */
static struct ov_slot *ov_slot_for(struct overlay_dev *o, uint64_t blk)
{
	struct ov_slot *s = ov_find(o, blk);
	if (s) {
		if (s->kind == OV_COPY)
			free(s->u.data);
		return s;
	}
	if ((o->count + 1) * 4 > o->cap * 3 && ov_resize(o, ov_cap_for(o->count + 1)) != SV_OK)
		return NULL;
	size_t i = ov_hash(blk, o->cap);
	while (o->slots[i].kind != OV_EMPTY)
		i = (i + 1) & (o->cap - 1);
	o->count++;
	s = &o->slots[i];
	s->blk = blk;
	return s;
}

/* Part [in, in+n) of the redirected block s into out. The sectors that cannot be read give zeros
 * and a report (capped), never stale bytes; the rest of the block is kept. */
static int ov_read_redirect(struct overlay_dev *o, const struct ov_slot *s, size_t in, uint8_t *out, size_t n)
{
	struct sv_dev *src = o->src[s->src];
	int st = SV_ERR_IO;
	uint64_t off;
	if (sv_add64(s->u.off, in, &off))
		st = sv_dev_read(src, off, out, n);   /* zero-fills just the unreadable sectors */
	else
		memset(out, 0, n);
	if (st != SV_OK) {
		if (o->failures < OV_REPORT_CAP)
			sv_report(o->rep, SV_PB_IO, 0, s->blk,
				  "block %llu is replaced by the copy at byte %llu of %s, which cannot be read: it reads as "
				  "zeros (copy that device with ddrescue and retry)", (unsigned long long)s->blk,
				  (unsigned long long)s->u.off, src->name);
		else if (o->failures == OV_REPORT_CAP)
			sv_report(o->rep, SV_PB_IO, 0, SV_NOBLOCK, "more replaced blocks cannot be read; not listed");
		o->failures++;
	}
	if (s->kind == OV_REDIRECT_HEAD)
		for (size_t k = in; k < 4 && k < in + n; k++)
			out[k - in] = s->head[k];
	return st;
}

static int ov_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct overlay_dev *o = (struct overlay_dev *)d;
	if (o->count == 0)
		return sv_dev_read(d->lower, off, buf, len);
	uint8_t *out = buf;
	int st = SV_OK;
	/* Walk the range block by block; runs of blocks not in the overlay are read in one go. */
	uint64_t run_off = off;
	size_t run_len = 0;
	while (len > 0) {
		uint64_t blk = off / o->bsize;
		size_t in = (size_t)(off % o->bsize);
		size_t n = o->bsize - in < len ? o->bsize - in : len;
		struct ov_slot *s = ov_find(o, blk);
		if (s) {
			if (run_len && sv_dev_read(d->lower, run_off, out - run_len, run_len) != SV_OK)
				st = SV_ERR_IO;
			run_len = 0;
			if (s->kind == OV_COPY)
				memcpy(out, s->u.data + in, n);
			else if (ov_read_redirect(o, s, in, out, n) != SV_OK)
				st = SV_ERR_IO;
		} else {
			if (!run_len)
				run_off = off;
			run_len += n;
		}
		out += n;
		off += n;
		len -= n;
	}
	if (run_len && sv_dev_read(d->lower, run_off, out - run_len, run_len) != SV_OK)
		st = SV_ERR_IO;
	return st;
}

/* Translate a source's bad parts back into overlay addresses (base: where the piece starts in the
 * source, at: where it starts in the overlay). */
struct ov_bad_ctx {
	sv_bad_fn fn;
	void *ctx;
	uint64_t base, at;
};

static int ov_bad_cb(void *ctx, uint64_t off, uint64_t len)
{
	struct ov_bad_ctx *b = ctx;
	return b->fn(b->ctx, b->at + (off - b->base), len);
}

static int ov_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx)
{
	struct overlay_dev *o = (struct overlay_dev *)d;
	if (o->count == 0)
		return sv_dev_bad(d->lower, off, len, fn, ctx);
	struct ov_bad_ctx b = { fn, ctx, 0, 0 };
	uint64_t run_off = off, run_len = 0;
	int r = 0;
	while (len > 0 && !r) {
		uint64_t blk = off / o->bsize;
		uint64_t in = off % o->bsize;
		uint64_t n = o->bsize - in < len ? o->bsize - in : len;
		struct ov_slot *s = ov_find(o, blk);
		if (s) {
			if (run_len)
				r = sv_dev_bad(d->lower, run_off, run_len, fn, ctx);
			run_len = 0;
			uint64_t soff;
			if (!r && s->kind != OV_COPY) {
				if (!sv_add64(s->u.off, in, &soff))
					r = fn(ctx, off, n);
				else {
					b.base = soff;
					b.at = off;
					r = sv_dev_bad(o->src[s->src], soff, n, ov_bad_cb, &b);
				}
			}
		} else {
			if (!run_len)
				run_off = off;
			run_len += n;
		}
		off += n;
		len -= n;
	}
	if (!r && run_len)
		r = sv_dev_bad(d->lower, run_off, run_len, fn, ctx);
	return r;
}

static void ov_close(struct sv_dev *d)
{
	struct overlay_dev *o = (struct overlay_dev *)d;
	for (size_t i = 0; i < o->cap; i++)
		if (o->slots[i].kind == OV_COPY)
			free(o->slots[i].u.data);
	free(o->slots);
	for (unsigned i = 1; i < o->nsrc; i++)
		if (o->owns_src[i])
			sv_dev_close(o->src[i]);
	free(o);
}

static const struct sv_dev_ops ov_ops = { ov_read, ov_close, ov_bad };

int sv_dev_overlay(struct sv_dev *lower, uint32_t bsize, bool owns_lower, struct sv_dev **out)
{
	if (bsize == 0)
		return SV_ERR_INVAL;
	struct overlay_dev *o = calloc(1, sizeof *o);
	if (!o)
		return SV_ERR_NOMEM;
	o->d.ops = &ov_ops;
	o->d.size = lower->size;
	o->d.sector = lower->sector;
	o->d.lower = lower;
	o->d.owns_lower = owns_lower;
	o->bsize = bsize;
	o->src[0] = lower;
	o->nsrc = 1;
	snprintf(o->d.name, sizeof o->d.name, "%s", lower->name);
	*out = &o->d;
	return SV_OK;
}

int sv_overlay_reserve(struct sv_dev *d, uint64_t n)
{
	struct overlay_dev *o = as_ov(d);
	if (!o || n > SIZE_MAX / 2 / sizeof(struct ov_slot))
		return SV_ERR_INVAL;
	size_t cap = ov_cap_for((size_t)n);
	return cap > o->cap ? ov_resize(o, cap) : SV_OK;
}

void sv_overlay_set_report(struct sv_dev *d, struct sv_report *rep)
{
	struct overlay_dev *o = as_ov(d);
	if (o)
		o->rep = rep;
}

int sv_overlay_source(struct sv_dev *d, struct sv_dev *src, unsigned *idx)
{
	struct overlay_dev *o = as_ov(d);
	if (!o || !src)
		return SV_ERR_INVAL;
	for (unsigned i = 0; i < o->nsrc; i++)
		if (o->src[i] == src) {
			*idx = i;
			return SV_OK;
		}
	if (o->nsrc == OV_MAX_SOURCES)
		return SV_ERR_NOMEM;
	o->src[o->nsrc] = src;
	*idx = o->nsrc++;
	return SV_OK;
}

int sv_overlay_adopt(struct sv_dev *d, struct sv_dev *src)
{
	unsigned idx;
	int st = sv_overlay_source(d, src, &idx);
	if (st != SV_OK)
		return st;
	if (idx == 0)
		return SV_ERR_INVAL;               /* the lower device: use owns_lower */
	as_ov(d)->owns_src[idx] = true;
	return SV_OK;
}

int sv_overlay_redirect(struct sv_dev *d, uint64_t blk, unsigned src, uint64_t off, const uint8_t *head)
{
	struct overlay_dev *o = as_ov(d);
	if (!o || src >= o->nsrc)
		return SV_ERR_INVAL;
	struct ov_slot *s = ov_slot_for(o, blk);
	if (!s)
		return SV_ERR_NOMEM;
	s->kind = head ? OV_REDIRECT_HEAD : OV_REDIRECT;
	s->src = (uint8_t)src;
	s->u.off = off;
	if (head)
		memcpy(s->head, head, 4);
	return SV_OK;
}

int sv_overlay_put(struct sv_dev *d, uint64_t blk, const void *data)
{
	struct overlay_dev *o = as_ov(d);
	if (!o)
		return SV_ERR_INVAL;
	uint8_t *copy = malloc(o->bsize);
	if (!copy)
		return SV_ERR_NOMEM;
	memcpy(copy, data, o->bsize);
	struct ov_slot *s = ov_slot_for(o, blk);
	if (!s) {
		free(copy);
		return SV_ERR_NOMEM;
	}
	s->kind = OV_COPY;
	s->u.data = copy;
	return SV_OK;
}

size_t sv_overlay_count(struct sv_dev *d)
{
	struct overlay_dev *o = as_ov(d);
	return o ? o->count : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int sv_overlay_each(struct sv_dev *d, int (*fn)(void *ctx, uint64_t blk), void *ctx)
{
	struct overlay_dev *o = as_ov(d);
	if (!o)
		return SV_ERR_INVAL;
	if (!o->count)
		return SV_OK;
	uint64_t *list = malloc(o->count * sizeof *list);
	if (!list)
		return SV_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < o->cap; i++)
		if (o->slots[i].kind != OV_EMPTY)
			list[n++] = o->slots[i].blk;
	qsort(list, n, sizeof *list, cmp_u64);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++)
		r = fn(ctx, list[i]);
	free(list);
	return r;
}
