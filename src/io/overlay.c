/* overlay.c: a device that replaces some blocks of the one below with in-memory copies. The
 * journal replay fills it, the way SQLite's pager asks the WAL before the database file. Memory
 * grows with the number of replaced blocks only (open-addressing hash, grown by doubling). */
#include "io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ov_slot {
	uint64_t blk;
	uint8_t *data;     /* NULL: empty slot */
};

struct overlay_dev {
	struct sv_dev d;
	uint32_t bsize;
	size_t count, cap;  /* cap is a power of two */
	struct ov_slot *slots;
};

static size_t ov_hash(uint64_t blk, size_t cap)
{
	return (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct ov_slot *ov_find(struct overlay_dev *o, uint64_t blk)
{
	if (!o->cap)
		return NULL;
	for (size_t i = ov_hash(blk, o->cap);; i = (i + 1) & (o->cap - 1)) {
		if (!o->slots[i].data)
			return NULL;
		if (o->slots[i].blk == blk)
			return &o->slots[i];
	}
}

static int ov_grow(struct overlay_dev *o)
{
	size_t ncap = o->cap ? o->cap * 2 : 64;
	struct ov_slot *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return SV_ERR_NOMEM;
	for (size_t i = 0; i < o->cap; i++) {
		if (!o->slots[i].data)
			continue;
		size_t j = ov_hash(o->slots[i].blk, ncap);
		while (ns[j].data)
			j = (j + 1) & (ncap - 1);
		ns[j] = o->slots[i];
	}
	free(o->slots);
	o->slots = ns;
	o->cap = ncap;
	return SV_OK;
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
			memcpy(out, s->data + in, n);
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

static void ov_close(struct sv_dev *d)
{
	struct overlay_dev *o = (struct overlay_dev *)d;
	for (size_t i = 0; i < o->cap; i++)
		free(o->slots[i].data);
	free(o->slots);
	free(o);
}

static const struct sv_dev_ops ov_ops = { ov_read, ov_close };

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
	snprintf(o->d.name, sizeof o->d.name, "%s", lower->name);
	*out = &o->d;
	return SV_OK;
}

int sv_overlay_put(struct sv_dev *d, uint64_t blk, const void *data)
{
	if (d->ops != &ov_ops)
		return SV_ERR_INVAL;
	struct overlay_dev *o = (struct overlay_dev *)d;
	struct ov_slot *s = ov_find(o, blk);
	if (s) {
		memcpy(s->data, data, o->bsize);
		return SV_OK;
	}
	if ((o->count + 1) * 4 > o->cap * 3 && ov_grow(o) != SV_OK)
		return SV_ERR_NOMEM;
	uint8_t *copy = malloc(o->bsize);
	if (!copy)
		return SV_ERR_NOMEM;
	memcpy(copy, data, o->bsize);
	size_t i = ov_hash(blk, o->cap);
	while (o->slots[i].data)
		i = (i + 1) & (o->cap - 1);
	o->slots[i].blk = blk;
	o->slots[i].data = copy;
	o->count++;
	return SV_OK;
}

size_t sv_overlay_count(struct sv_dev *d)
{
	return d->ops == &ov_ops ? ((struct overlay_dev *)d)->count : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int sv_overlay_each(struct sv_dev *d, int (*fn)(void *ctx, uint64_t blk), void *ctx)
{
	if (d->ops != &ov_ops)
		return SV_ERR_INVAL;
	struct overlay_dev *o = (struct overlay_dev *)d;
	if (!o->count)
		return SV_OK;
	uint64_t *list = malloc(o->count * sizeof *list);
	if (!list)
		return SV_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < o->cap; i++)
		if (o->slots[i].data)
			list[n++] = o->slots[i].blk;
	qsort(list, n, sizeof *list, cmp_u64);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++)
		r = fn(ctx, list[i]);
	free(list);
	return r;
}
