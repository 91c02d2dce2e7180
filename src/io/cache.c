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

int sv_cache_read(struct sv_cache *c, uint64_t blk, void *buf)
{
	size_t slot = (size_t)(blk % c->n);
	uint8_t *d = c->data + slot * (size_t)c->bsize;
	if (c->tag[slot] == blk + 1) {
		memcpy(buf, d, c->bsize);
		return SV_OK;
	}
	uint64_t off;
	if (!sv_mul64(blk, c->bsize, &off)) {
		memset(buf, 0, c->bsize);
		return SV_ERR_IO;
	}
	int st = sv_dev_read(c->dev, off, buf, c->bsize);
	if (st != SV_OK)
		return st;     /* failed reads are not cached: a retry may succeed */
	memcpy(d, buf, c->bsize);
	c->tag[slot] = blk + 1;
	return SV_OK;
}

void sv_cache_flush(struct sv_cache *c)
{
	memset(c->tag, 0, c->n * sizeof *c->tag);
}
