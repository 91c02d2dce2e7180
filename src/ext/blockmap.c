/* blockmap.c: ext2/ext3 block maps: 12 direct pointers, then single, double and triple indirect
 * blocks (Documentation/filesystems/ext4/ifork.rst, "Direct/Indirect Block Addressing"). Runs of
 * physically contiguous blocks are merged before they are handed to the callback. */
#include "internal.h"
#include <stdlib.h>

struct bm {
	struct sv_fs *fs;
	const struct sv_inode *in;
	sv_map_fn fn;
	void *ctx;
	uint64_t from;
	uint64_t run_l, run_p, run_n;   /* the run being merged */
	uint8_t *bufs[3];
	uint32_t per;                   /* pointers per block */
};

static int emit(struct bm *b, uint64_t lblk, uint64_t pblk)
{
	if (b->run_n && b->run_l + b->run_n == lblk && b->run_p + b->run_n == pblk && b->run_n < (1u << 30)) {
		b->run_n++;
		return 0;
	}
	if (b->run_n) {
		int r = b->fn(b->ctx, b->run_l, b->run_p, b->run_n, 0);
		if (r)
			return r;
	}
	b->run_l = lblk;
	b->run_p = pblk;
	b->run_n = 1;
	return 0;
}

/* Map the subtree under pointer ptr of the given level (0 = data block) covering lblk onward. */
static int walk(struct bm *b, uint64_t ptr, unsigned level, uint64_t lblk, uint64_t *worst)
{
	uint64_t span = 1;
	for (unsigned i = 0; i < level; i++)
		span *= b->per;
	if (ptr == 0 || lblk + span <= b->from)
		return 0;
	if (!sv_blk_ok(b->fs, ptr)) {
		sv_report(b->fs->rep, SV_PB_BLOCKMAP, b->in->ino, ptr,
			  "inode %u: %s for logical block %llu points to block %llu outside the filesystem; that "
			  "part of the file reads as zeros", b->in->ino, level ? "indirect block" : "block pointer",
			  (unsigned long long)lblk, (unsigned long long)ptr);
		*worst = 1;
		return 0;
	}
	if (level == 0)
		return emit(b, lblk, ptr);
	uint8_t *buf = b->bufs[level - 1];
	if (sv_fs_read_block(b->fs, ptr, buf) != SV_OK) {
		*worst = 1;
		return 0;
	}
	uint64_t sub = span / b->per;
	for (uint32_t i = 0; i < b->per; i++) {
		uint32_t p = sv_le32(buf + 4 * i);
		if (!p)
			continue;
		int r = walk(b, p, level - 1, lblk + i * sub, worst);
		if (r)
			return r;
	}
	return 0;
}

int sv_blockmap_map(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx)
{
	struct bm b = { fs, in, fn, ctx, from, 0, 0, 0, { 0 }, fs->bsize / 4 };
	uint64_t worst = 0;
	int r = 0;
	for (int i = 0; i < 3; i++)
		if (!(b.bufs[i] = malloc(fs->bsize)))
			r = SV_ERR_NOMEM;
	uint64_t l = 0;
	for (int i = 0; i < 12 && !r; i++, l++)
		r = walk(&b, sv_le32(in->block + 4 * i), 0, l, &worst);
	uint64_t span = b.per;
	for (int level = 1; level <= 3 && !r; level++) {
		r = walk(&b, sv_le32(in->block + 44 + 4 * level), (unsigned)level, l, &worst);
		l += span;
		span *= b.per;
	}
	if (!r && b.run_n)
		r = fn(ctx, b.run_l, b.run_p, b.run_n, 0);
	for (int i = 0; i < 3; i++)
		free(b.bufs[i]);
	if (r)
		return r;
	return worst ? SV_ERR_CORRUPT : SV_OK;
}
