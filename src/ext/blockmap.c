/* blockmap.c: ext2/ext3 block maps: 12 direct pointers, then single, double and triple indirect
 * blocks (Documentation/filesystems/ext4/ifork.rst, "Direct/Indirect Block Addressing"). Runs of
 * physically contiguous blocks are merged before they are handed to the callback. */
#include "internal.h"
#include <stdlib.h>

struct bm {
	struct sv_fs *fs;
	const struct sv_inode *in;
	sv_map_fn fn;                   /* NULL: only the indirect blocks are wanted */
	sv_node_fn node;                /* NULL, or told each indirect block before it is read */
	void *ctx;
	uint64_t run_l, run_p, run_n;   /* the run being merged */
	uint8_t *bufs[3];
	uint32_t per;                   /* pointers per block */
	struct sv_runset seen;          /* indirect blocks visited in this walk */
	unsigned reports;               /* damage reported in this walk (capped) */
};

/* Report one damaged pointer; a hostile map holds millions, so only the first few are told. */
static void bad_ptr(struct bm *b, uint64_t ptr, unsigned level, uint64_t lblk, const char *why)
{
	uint32_t ino = b->in->ino;
	if (b->reports < 8)
		sv_report(b->fs->rep, SV_PB_BLOCKMAP, ino, ptr,
			  "inode %u: %s for logical block %llu is block %llu, %s; that part of the file reads as zeros",
			  ino, level ? "indirect block" : "block pointer", (unsigned long long)lblk,
			  (unsigned long long)ptr, why);
	else if (b->reports == 8)
		sv_report(b->fs->rep, SV_PB_BLOCKMAP, ino, SV_NOBLOCK,
			  "inode %u: more damaged block pointers; not reporting each", ino);
	b->reports++;
}

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

/* Map the subtree under pointer ptr of the given level (0 = data block) covering lblk onward.
 * Recursion is bounded by the format: level <= 3. */
static int walk(struct bm *b, uint64_t ptr, unsigned level, uint64_t lblk, uint64_t *worst)
{
	uint64_t span = 1;
	for (unsigned i = 0; i < level; i++)
		span *= b->per;
	if (ptr == 0)
		return 0;
	if (!sv_blk_ok(b->fs, ptr)) {
		bad_ptr(b, ptr, level, lblk, "outside the filesystem (or past the end of the device)");
		*worst = 1;
		return 0;
	}
	if (level == 0)
		return b->fn ? emit(b, lblk, ptr) : 0;
	/* Each indirect block once per walk: one that points to itself or to another already visited
	 * would loop or multiply the file without end (issue 7). */
	int seen = sv_runset_visit(&b->seen, ptr);
	if (seen < 0)
		return seen;
	if (seen) {
		bad_ptr(b, ptr, level, lblk, "which this block map already used (a loop); it is skipped");
		*worst = 1;
		return 0;
	}
	if (b->node) {
		int r = b->node(b->ctx, ptr);
		if (r)
			return r;
	}
	if (!b->fn && level == 1)
		return 0;       /* its pointers lead to data blocks only: nothing more to find */
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

int sv_blockmap_walk(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, sv_node_fn node, void *ctx)
{
	struct bm b = { fs, in, fn, node, ctx, 0, 0, 0, { 0 }, fs->bsize / 4, { 0 }, 0 };
	sv_runset_init(&b.seen);
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
	sv_runset_free(&b.seen);
	if (r)
		return r;
	return worst ? SV_ERR_CORRUPT : SV_OK;
}

int sv_blockmap_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx)
{
	return sv_blockmap_walk(fs, in, fn, NULL, ctx);
}
