/* file.c: mapping a file's logical blocks (extents or block map) and reading its content. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

int sv_file_map_from(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx)
{
	if (in->flags & EXT4_INLINE_DATA_FL)
		return SV_ERR_INVAL;
	if (in->flags & EXT4_EXTENTS_FL)
		return sv_extent_map(fs, in, from, fn, ctx);
	return sv_blockmap_map(fs, in, from, fn, ctx);
}

int sv_file_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx)
{
	return sv_file_map_from(fs, in, 0, fn, ctx);
}

struct rd {
	struct sv_fs *fs;
	uint8_t *buf;
	uint64_t off, len;     /* byte range wanted */
	int st;
};

static int rd_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t n, unsigned flags)
{
	struct rd *r = ctx;
	uint64_t bs = r->fs->bsize;
	uint64_t a = lblk * bs, b = (lblk + n) * bs;
	if (a >= r->off + r->len)
		return 1;                      /* past the range: stop */
	if (flags & SV_MAP_UNWRITTEN)
		return 0;                      /* unwritten extents read as zeros */
	uint64_t lo = a > r->off ? a : r->off;
	uint64_t hi = b < r->off + r->len ? b : r->off + r->len;
	if (lo >= hi)
		return 0;
	uint64_t dev_off = pblk * bs + (lo - a);
	if (sv_dev_read(r->fs->dev, dev_off, r->buf + (lo - r->off), (size_t)(hi - lo)) != SV_OK) {
		sv_report(r->fs->rep, SV_PB_IO, 0, pblk + (lo - a) / bs,
			  "cannot read blocks %llu-%llu of %s; those bytes read as zeros",
			  (unsigned long long)(pblk + (lo - a) / bs), (unsigned long long)(pblk + (hi - a - 1) / bs),
			  r->fs->dev->name);
		r->st = SV_ERR_IO;
	}
	return 0;
}

int sv_file_read(struct sv_fs *fs, const struct sv_inode *in, uint64_t off, void *buf, size_t len)
{
	memset(buf, 0, len);
	if (in->flags & EXT4_ENCRYPT_FL)
		return SV_ERR_ENCRYPTED;
	if (off >= in->size || len == 0)
		return SV_OK;
	if (len > in->size - off)
		len = (size_t)(in->size - off);
	if (in->flags & EXT4_INLINE_DATA_FL) {
		uint8_t tmp[1024 + 60];
		size_t n = 0;
		int st = sv_inline_read(fs, in, tmp, sizeof tmp, &n);
		if (off < n)
			memcpy(buf, tmp + off, (size_t)(n - off) < len ? (size_t)(n - off) : len);
		return st;
	}
	struct rd r = { fs, buf, off, len, SV_OK };
	int st = sv_file_map_from(fs, in, off / fs->bsize, rd_run, &r);
	if (st < 0)
		return st;
	return r.st;
}
