/* cache.c: a fixed-size block cache (direct-mapped by block number, which keeps runs of
 * consecutive metadata blocks such as inode tables from evicting each other). Reads copy into the
 * caller's buffer so nothing borrowed can go stale. */
#include "io.h"
#include <stdlib.h>
#include <string.h>

struct sv_cache {
	struct sv_dev *dev;
	uint32_t bsize;
	size_t n;
	uint64_t *tag;     /* block number + 1; 0 = empty */
	uint8_t *data;
};

int sv_cache_open(struct sv_dev *dev, uint32_t bsize, size_t nblocks, struct sv_cache **out)
{
	if (!bsize || !nblocks)
		return SV_ERR_INVAL;
	struct sv_cache *c = calloc(1, sizeof *c);
	if (!c)
		return SV_ERR_NOMEM;
	c->dev = dev;
	c->bsize = bsize;
	c->n = nblocks;
	c->tag = calloc(nblocks, sizeof *c->tag);
	c->data = malloc(nblocks * (size_t)bsize);
	if (!c->tag || !c->data) {
		sv_cache_close(c);
		return SV_ERR_NOMEM;
	}
	*out = c;
	return SV_OK;
}

void sv_cache_close(struct sv_cache *c)
{
	if (!c)
		return;
	free(c->tag);
	free(c->data);
	free(c);
}

/* Make block blk present in its slot; returns the slot's data. On a failed read *st is SV_ERR_IO
 * and the slot holds what could be read (zeros for the unreadable sectors) but is not kept: a
 * retry may succeed, and a later reader must not take the zeros for data. */
static uint8_t *cache_fill(struct sv_cache *c, uint64_t blk, int *st)
{
	size_t slot = (size_t)(blk % c->n);
	uint8_t *d = c->data + slot * (size_t)c->bsize;
	*st = SV_OK;
	if (c->tag[slot] == blk + 1)
		return d;
	uint64_t off;
	c->tag[slot] = 0;
	if (!sv_mul64(blk, c->bsize, &off)) {
		*st = SV_ERR_INVAL;
		return NULL;
	}
	if ((*st = sv_dev_read(c->dev, off, d, c->bsize)) != SV_OK)
		return d;
	c->tag[slot] = blk + 1;
	return d;
}

int sv_cache_read(struct sv_cache *c, uint64_t blk, void *buf)
{
	return sv_cache_read_part(c, blk, 0, buf, c->bsize);
}

static int any_bad(void *ctx, uint64_t off, uint64_t len)
{
	(void)ctx, (void)off, (void)len;
	return 1;
}

int sv_cache_read_part(struct sv_cache *c, uint64_t blk, uint32_t off, void *buf, size_t len)
{
	if (off > c->bsize || len > c->bsize - off)
		return SV_ERR_INVAL;
	int st;
	uint8_t *d = cache_fill(c, blk, &st);
	if (!d) {
		memset(buf, 0, len);
		return SV_ERR_IO;
	}
	memcpy(buf, d + off, len);
	/* A block with a bad sector: the part asked for may still be whole (an inode in another
	 * sector of an inode table block). Only the sectors that really fail are lost. */
	if (st != SV_OK && sv_dev_bad(c->dev, blk * c->bsize + off, len, any_bad, NULL) == 0 &&
	    sv_dev_find_rescue(c->dev))
		st = SV_OK;
	return st;
}

void sv_cache_flush(struct sv_cache *c)
{
	memset(c->tag, 0, c->n * sizeof *c->tag);
}
