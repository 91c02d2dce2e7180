/* dev.c: the generic device calls, slices (partitions, --offset) and memory devices. */
#include "io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sv_dev_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	if (len == 0)
		return SV_OK;
	/* Clip at the end of the device: the tail reads as zeros and the read reports an error. */
	if (off >= d->size) {
		memset(buf, 0, len);
		return SV_ERR_IO;
	}
	if (len > d->size - off) {
		size_t part = (size_t)(d->size - off);
		int st = d->ops->read(d, off, buf, part);
		if (st != SV_OK && st != SV_ERR_IO)
			memset(buf, 0, part);   /* a layer that failed otherwise left nothing usable */
		memset((uint8_t *)buf + part, 0, len - part);
		return SV_ERR_IO;
	}
	int st = d->ops->read(d, off, buf, len);
	if (st != SV_OK && st != SV_ERR_IO)
		memset(buf, 0, len);
	return st == SV_OK ? SV_OK : SV_ERR_IO;
}

int sv_dev_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx)
{
	if (!len)
		return 0;
	if (len > UINT64_MAX - off)
		len = UINT64_MAX - off;
	uint64_t in = off >= d->size ? 0 : (len < d->size - off ? len : d->size - off);
	int r = 0;
	if (in) {
		if (d->ops->bad)
			r = d->ops->bad(d, off, in, fn, ctx);
		else if (d->lower)
			r = sv_dev_bad(d->lower, off, in, fn, ctx);
	}
	if (!r && in < len)
		r = fn(ctx, off + in, len - in);   /* past the end: never readable */
	return r;
}

void sv_dev_close(struct sv_dev *d)
{
	if (!d)
		return;
	struct sv_dev *lower = d->owns_lower ? d->lower : NULL;
	d->ops->close(d);
	sv_dev_close(lower);
}

struct slice_dev {
	struct sv_dev d;
	uint64_t off;
};

static int slice_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct slice_dev *s = (struct slice_dev *)d;
	return sv_dev_read(d->lower, s->off + off, buf, len);
}

/* Translate a lower device's bad parts back into the slice's addresses. */
struct shift_ctx {
	sv_bad_fn fn;
	void *ctx;
	uint64_t base;
};

static int shift_bad(void *ctx, uint64_t off, uint64_t len)
{
	struct shift_ctx *s = ctx;
	return s->fn(s->ctx, off - s->base, len);
}

static int slice_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx)
{
	struct slice_dev *s = (struct slice_dev *)d;
	struct shift_ctx sc = { fn, ctx, s->off };
	return sv_dev_bad(d->lower, s->off + off, len, shift_bad, &sc);
}

static void plain_close(struct sv_dev *d) { free(d); }

static const struct sv_dev_ops slice_ops = { slice_read, plain_close, slice_bad };

int sv_dev_slice(struct sv_dev *lower, uint64_t off, uint64_t len, bool owns_lower, struct sv_dev **out)
{
	if (off > lower->size)
		return SV_ERR_INVAL;
	if (len > lower->size - off)
		len = lower->size - off;
	struct slice_dev *s = calloc(1, sizeof *s);
	if (!s)
		return SV_ERR_NOMEM;
	s->d.ops = &slice_ops;
	s->d.size = len;
	s->d.sector = lower->sector;
	s->d.lower = lower;
	s->d.owns_lower = owns_lower;
	s->off = off;
	snprintf(s->d.name, sizeof s->d.name, "%s", lower->name);
	*out = &s->d;
	return SV_OK;
}

uint64_t sv_dev_slice_offset(const struct sv_dev *d)
{
	return d && d->ops == &slice_ops ? ((const struct slice_dev *)d)->off : 0;
}

struct mem_dev {
	struct sv_dev d;
	const uint8_t *buf;
};

static int mem_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct mem_dev *m = (struct mem_dev *)d;
	memcpy(buf, m->buf + off, len);
	return SV_OK;
}

static const struct sv_dev_ops mem_ops = { mem_read, plain_close, NULL };

int sv_dev_mem(const void *buf, size_t len, struct sv_dev **out)
{
	struct mem_dev *m = calloc(1, sizeof *m);
	if (!m)
		return SV_ERR_NOMEM;
	m->d.ops = &mem_ops;
	m->d.size = len;
	m->d.sector = 512;
	m->buf = buf;
	snprintf(m->d.name, sizeof m->d.name, "(memory)");
	*out = &m->d;
	return SV_OK;
}
