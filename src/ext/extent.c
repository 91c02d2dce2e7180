/* extent.c: walking an ext4 extent tree (Documentation/filesystems/ext4/ifork.rst, "Extent Tree").
 * Depth must strictly decrease, entries must fit eh_max and the node, children must be inside the
 * filesystem; a damaged node is reported and skipped, the rest of the tree is still walked. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define EXT4_EXT_MAGIC 0xF30A
#define EXT4_MAX_DEPTH 5

struct ext_hdr {
	uint16_t eh_magic, eh_entries, eh_max, eh_depth;
};

static bool decode_hdr(const uint8_t *p, size_t len, struct ext_hdr *h)
{
	if (len < 12)
		return false;
	h->eh_magic = sv_le16(p);
	h->eh_entries = sv_le16(p + 2);
	h->eh_max = sv_le16(p + 4);
	h->eh_depth = sv_le16(p + 6);
	return h->eh_magic == EXT4_EXT_MAGIC && h->eh_entries <= h->eh_max && 12 + 12u * h->eh_max <= len;
}

struct walk {
	struct sv_fs *fs;
	const struct sv_inode *in;
	uint64_t from;
	sv_map_fn fn;
	void *ctx;
	uint8_t *bufs[EXT4_MAX_DEPTH + 1];
	unsigned long nodes;   /* tree blocks visited: bounds the work on a looping tree */
	int stop;              /* nonzero value a callback returned */
};

/* Extent block tail checksum: crc32c(inode seed, block up to the tail) ("Extent Tree"). */
static bool node_csum_ok(struct walk *w, const uint8_t *blk, const struct ext_hdr *h)
{
	size_t tail = 12 + 12u * h->eh_max;
	if (tail + 4 > w->fs->bsize)
		return true;
	uint32_t c = sv_crc32c(sv_inode_csum_seed(w->fs, w->in->ino, w->in->generation), blk, tail);
	return c == sv_le32(blk + tail);
}

static int walk_node(struct walk *w, const uint8_t *node, size_t len, unsigned depth, uint64_t node_blk,
		     uint64_t end_lblk)
{
	struct ext_hdr h;
	uint32_t ino = w->in->ino;
	if (!decode_hdr(node, len, &h)) {
		sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
			  "inode %u: extent node %s is damaged (bad magic or entry count); the file's blocks "
			  "under it read as zeros", ino, node_blk == SV_NOBLOCK ? "in the inode" : "block");
		return SV_ERR_CORRUPT;
	}
	if (h.eh_depth != depth) {
		sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
			  "inode %u: extent node at depth %u claims depth %u; skipping it", ino, depth, h.eh_depth);
		return SV_ERR_CORRUPT;
	}
	int worst = SV_OK;
	const uint8_t *e = node + 12;
	if (depth == 0) {
		for (unsigned i = 0; i < h.eh_entries; i++, e += 12) {
			uint64_t lblk = sv_le32(e);
			uint32_t len16 = sv_le16(e + 4);
			uint64_t pblk = sv_le32(e + 8) | (uint64_t)sv_le16(e + 6) << 32;
			unsigned flags = 0;
			if (len16 > 32768) {   /* unwritten (preallocated) extent */
				len16 -= 32768;
				flags = SV_MAP_UNWRITTEN;
			}
			if (len16 == 0)
				continue;
			if (lblk + len16 <= w->from)
				continue;
			if (lblk >= end_lblk) {
				sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
					  "inode %u: extent at logical block %llu lies outside its parent's range; ignoring it",
					  ino, (unsigned long long)lblk);
				worst = SV_ERR_CORRUPT;
				continue;
			}
			if (!sv_run_ok(w->fs, pblk, len16)) {
				sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
					  "inode %u: extent for logical blocks %llu-%llu points to blocks %llu-%llu outside "
					  "the filesystem; that part of the file reads as zeros", ino,
					  (unsigned long long)lblk, (unsigned long long)(lblk + len16 - 1),
					  (unsigned long long)pblk, (unsigned long long)(pblk + len16 - 1));
				worst = SV_ERR_CORRUPT;
				continue;
			}
			int r = w->fn(w->ctx, lblk, pblk, len16, flags);
			if (r) {
				w->stop = r;
				return r;
			}
		}
		return worst;
	}
	for (unsigned i = 0; i < h.eh_entries; i++, e += 12) {
		uint64_t lblk = sv_le32(e);
		uint64_t child = sv_le32(e + 4) | (uint64_t)sv_le16(e + 8) << 32;
		uint64_t next = i + 1 < h.eh_entries ? sv_le32(e + 12) : end_lblk;
		if (next <= w->from)
			continue;     /* the whole subtree lies before the range asked for */
		if (next > end_lblk)
			next = end_lblk;
		if (!sv_blk_ok(w->fs, child)) {
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
				  "inode %u: extent index for logical block %llu points to block %llu outside the "
				  "filesystem; that part of the file reads as zeros", ino, (unsigned long long)lblk,
				  (unsigned long long)child);
			worst = SV_ERR_CORRUPT;
			continue;
		}
		if (++w->nodes > (w->fs->sb.s_blocks_count < 100000000 ? w->fs->sb.s_blocks_count : 100000000)) {
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, child, "inode %u: extent tree visits more blocks than "
				  "the filesystem has; stopping", ino);
			return SV_ERR_CORRUPT;
		}
		uint8_t *buf = w->bufs[depth - 1];
		if (sv_fs_read_block(w->fs, child, buf) != SV_OK) {
			worst = SV_ERR_IO;
			continue;
		}
		struct ext_hdr ch;
		if (w->fs->has_csum && decode_hdr(buf, w->fs->bsize, &ch) && !node_csum_ok(w, buf, &ch))
			sv_report(w->fs->rep, SV_PB_EXTENT_CSUM, ino, child,
				  "inode %u: extent block %llu fails its checksum; using it anyway", ino,
				  (unsigned long long)child);
		int r = walk_node(w, buf, w->fs->bsize, depth - 1, child, next);
		if (w->stop)
			return w->stop;
		if (r)
			worst = r;
	}
	return worst;
}

int sv_extent_map(struct sv_fs *fs, const struct sv_inode *in, uint64_t from, sv_map_fn fn, void *ctx)
{
	struct ext_hdr h;
	if (!decode_hdr(in->block, 60, &h)) {
		sv_report(fs->rep, SV_PB_EXTENT, in->ino, SV_NOBLOCK,
			  "inode %u: the extent tree root in the inode is damaged; the file's data cannot be found",
			  in->ino);
		return SV_ERR_CORRUPT;
	}
	if (h.eh_depth > EXT4_MAX_DEPTH) {
		sv_report(fs->rep, SV_PB_EXTENT, in->ino, SV_NOBLOCK,
			  "inode %u: extent tree depth %u is beyond the maximum of %d", in->ino, h.eh_depth, EXT4_MAX_DEPTH);
		return SV_ERR_CORRUPT;
	}
	struct walk w = { fs, in, from, fn, ctx, { 0 }, 0, 0 };
	int r = SV_OK;
	for (unsigned i = 0; i < h.eh_depth; i++)
		if (!(w.bufs[i] = malloc(fs->bsize)))
			r = SV_ERR_NOMEM;
	if (r == SV_OK)
		r = walk_node(&w, in->block, 60, h.eh_depth, SV_NOBLOCK, 1ull << 32);
	if (w.stop)
		r = w.stop;
	for (unsigned i = 0; i < h.eh_depth; i++)
		free(w.bufs[i]);
	return r;
}
