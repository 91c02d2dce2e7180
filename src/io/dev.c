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
		memset((uint8_t *)buf + part, 0, len - part);
		(void)st;
		return SV_ERR_IO;
	}
	int st = d->ops->read(d, off, buf, len);
	if (st != SV_OK)
		return st;
	return SV_OK;
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

static void plain_close(struct sv_dev *d) { free(d); }

static const struct sv_dev_ops slice_ops = { slice_read, plain_close };

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

static const struct sv_dev_ops mem_ops = { mem_read, plain_close };

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
