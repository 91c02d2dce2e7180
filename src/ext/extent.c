/* extent.c: walking an ext4 extent tree (Documentation/filesystems/ext4/ifork.rst, "Extent Tree").
 * Depth must strictly decrease, entries must fit eh_max and the node, be sorted, not overlap and
 * lie in the parent's range, children must be inside the filesystem and are visited once per
 * walk; a damaged node or entry is reported and skipped, the rest of the tree is still walked. */
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
	sv_map_fn fn;          /* NULL: only the nodes are wanted (leaves are not read) */
	sv_node_fn node;       /* NULL, or told each tree block before it is read */
	void *ctx;
	uint8_t *bufs[EXT4_MAX_DEPTH + 1];
	struct sv_runset seen; /* tree blocks visited in this walk: each is read once */
	unsigned reports;      /* entry damage reported in this walk (capped) */
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

/* Whether to report one more damage of this walk: a hostile tree holds millions, so the first
 * few are told and the rest summed up in one line. */
static bool tell(struct walk *w, uint64_t blk)
{
	if (w->reports++ < 8)
		return true;
	if (w->reports == 9)
		sv_report(w->fs->rep, SV_PB_EXTENT, w->in->ino, blk,
			  "inode %u: more damage in this extent tree; not reporting each", w->in->ino);
	return false;
}

/* One entry that breaks the order of its node. */
static void bad_entry(struct walk *w, uint64_t node_blk, const char *what, uint64_t lblk, uint64_t start,
		      uint64_t end)
{
	uint32_t ino = w->in->ino;
	if (tell(w, node_blk))
		sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
			  "inode %u: %s for logical block %llu %s (entries of a node must be sorted, must not "
			  "overlap and must lie in logical blocks %llu-%llu of the parent); ignoring it", ino, what,
			  (unsigned long long)lblk, lblk >= end || lblk < start ? "lies outside its parent's range" :
			  "overlaps or is out of order with the entries before it", (unsigned long long)start,
			  (unsigned long long)(end - 1));
}

static int walk_node(struct walk *w, const uint8_t *node, size_t len, unsigned depth, uint64_t node_blk,
		     uint64_t start, uint64_t end);

/* Follow one index entry to the child covering logical blocks [start, end). */
static int walk_child(struct walk *w, unsigned depth, uint64_t node_blk, uint64_t child, uint64_t start,
		      uint64_t end)
{
	uint32_t ino = w->in->ino;
	if (!sv_blk_ok(w->fs, child)) {
		if (tell(w, node_blk))
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
				  "inode %u: extent index for logical block %llu points to block %llu outside the "
				  "filesystem (or past the end of the device); that part of the file reads as zeros", ino,
				  (unsigned long long)start, (unsigned long long)child);
		return SV_ERR_CORRUPT;
	}
	/* Each tree block once per walk: an index that leads back to a block already visited (a loop,
	 * or many entries sharing one leaf) would otherwise multiply the work without bound. With the
	 * device's blocks as the only nodes, a walk reads at most the device. */
	int seen = sv_runset_visit(&w->seen, child);
	if (seen < 0)
		return seen;
	if (seen) {
		if (tell(w, child))
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, child,
				  "inode %u: extent block %llu is referenced a second time (for logical block %llu); "
				  "that part of the file reads as zeros", ino, (unsigned long long)child, (unsigned long long)start);
		return SV_ERR_CORRUPT;
	}
	if (w->node) {
		int r = w->node(w->ctx, child);
		if (r) {
			w->stop = r;
			return r;
		}
	}
	if (!w->fn && depth == 1)
		return SV_OK;   /* a leaf holds only data extents: nothing more to find */
	uint8_t *buf = w->bufs[depth - 1];
	if (sv_fs_read_block(w->fs, child, buf) != SV_OK)
		return SV_ERR_IO;
	struct ext_hdr ch;
	if (w->fs->has_csum && decode_hdr(buf, w->fs->bsize, &ch) && !node_csum_ok(w, buf, &ch))
		sv_report(w->fs->rep, SV_PB_EXTENT_CSUM, ino, child,
			  "inode %u: extent block %llu fails its checksum; using it anyway", ino,
			  (unsigned long long)child);
	return walk_node(w, buf, w->fs->bsize, depth - 1, child, start, end);
}

/* Leaf entries ("Extent Tree", struct ext4_extent). Like the kernel's ext4_valid_extent_entries,
 * entries must be sorted, must not overlap, and must lie inside the parent's range; an entry that
 * breaks this is ignored (reported), and one running past the range is cut at its end. */
static int walk_leaf(struct walk *w, const uint8_t *e, unsigned n, uint64_t node_blk, uint64_t start,
		     uint64_t end)
{
	uint32_t ino = w->in->ino;
	int worst = SV_OK;
	uint64_t cur = start;   /* first logical block the next extent may use */
	for (unsigned i = 0; i < n; i++, e += 12) {
		uint64_t lblk = sv_le32(e);
		uint32_t len = sv_le16(e + 4);
		uint64_t pblk = sv_le32(e + 8) | (uint64_t)sv_le16(e + 6) << 32;
		unsigned flags = 0;
		if (len > 32768) {   /* unwritten (preallocated) extent */
			len -= 32768;
			flags = SV_MAP_UNWRITTEN;
		}
		if (len == 0)
			continue;
		if (lblk < cur || lblk >= end) {
			bad_entry(w, node_blk, "extent", lblk, start, end);
			worst = SV_ERR_CORRUPT;
			continue;
		}
		if (len > end - lblk) {
			if (tell(w, node_blk))
				sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
					  "inode %u: extent at logical block %llu (%u blocks) runs past its parent's range, "
					  "which ends at %llu; the rest is ignored", ino, (unsigned long long)lblk, len,
					  (unsigned long long)(end - 1));
			len = (uint32_t)(end - lblk);
			worst = SV_ERR_CORRUPT;
		}
		cur = lblk + len;
		if (!sv_run_ok(w->fs, pblk, len)) {
			if (tell(w, node_blk))
				sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
					  "inode %u: extent for logical blocks %llu-%llu points to blocks %llu-%llu outside "
					  "the filesystem (or past the end of the device); that part of the file reads as zeros",
					  ino, (unsigned long long)lblk, (unsigned long long)(lblk + len - 1),
					  (unsigned long long)pblk, (unsigned long long)(pblk + len - 1));
			worst = SV_ERR_CORRUPT;
			continue;
		}
		int r = w->fn ? w->fn(w->ctx, lblk, pblk, len, flags) : 0;
		if (r) {
			w->stop = r;
			return r;
		}
	}
	return worst;
}

/* Index entries (struct ext4_extent_idx): the same order rules; entry i covers logical blocks
 * from its ei_block up to the next accepted entry's (or the parent's end). */
static int walk_index(struct walk *w, const uint8_t *e, unsigned n, unsigned depth, uint64_t node_blk,
		      uint64_t start, uint64_t end)
{
	int worst = SV_OK;
	uint64_t cur = start;
	bool pending = false;
	uint64_t p_lblk = 0, p_child = 0;
	for (unsigned i = 0; i <= n; i++, e += 12) {
		uint64_t lblk = end, child = 0;
		if (i < n) {
			lblk = sv_le32(e);
			child = sv_le32(e + 4) | (uint64_t)sv_le16(e + 8) << 32;
			if (lblk < cur || lblk >= end) {
				bad_entry(w, node_blk, "extent index", lblk, start, end);
				worst = SV_ERR_CORRUPT;
				continue;
			}
			cur = lblk + 1;
		}
		if (pending) {
			int r = walk_child(w, depth, node_blk, p_child, p_lblk, lblk);
			if (w->stop)
				return w->stop;
			if (r == SV_ERR_NOMEM)
				return r;
			if (r)
				worst = r;
		}
		pending = true;
		p_lblk = lblk;
		p_child = child;
	}
	return worst;
}

/* A node covering logical blocks [start, end). */
static int walk_node(struct walk *w, const uint8_t *node, size_t len, unsigned depth, uint64_t node_blk,
		     uint64_t start, uint64_t end)
{
	struct ext_hdr h;
	uint32_t ino = w->in->ino;
	if (!decode_hdr(node, len, &h)) {
		if (tell(w, node_blk))
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
				  "inode %u: extent node %s is damaged (bad magic or entry count); the file's blocks "
				  "under it read as zeros", ino, node_blk == SV_NOBLOCK ? "in the inode" : "block");
		return SV_ERR_CORRUPT;
	}
	if (h.eh_depth != depth) {
		if (tell(w, node_blk))
			sv_report(w->fs->rep, SV_PB_EXTENT, ino, node_blk,
				  "inode %u: extent node at depth %u claims depth %u; skipping it", ino, depth, h.eh_depth);
		return SV_ERR_CORRUPT;
	}
	if (depth == 0)
		return walk_leaf(w, node + 12, h.eh_entries, node_blk, start, end);
	return walk_index(w, node + 12, h.eh_entries, depth, node_blk, start, end);
}

int sv_extent_walk(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, sv_node_fn node, void *ctx)
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
	struct walk w = { fs, in, fn, node, ctx, { 0 }, { 0 }, 0, 0 };
	sv_runset_init(&w.seen);
	int r = SV_OK;
	for (unsigned i = 0; i < h.eh_depth; i++)
		if (!(w.bufs[i] = malloc(fs->bsize)))
			r = SV_ERR_NOMEM;
	if (r == SV_OK)
		r = walk_node(&w, in->block, 60, h.eh_depth, SV_NOBLOCK, 0, 1ull << 32);
	if (w.stop)
		r = w.stop;
	sv_runset_free(&w.seen);
	for (unsigned i = 0; i < h.eh_depth; i++)
		free(w.bufs[i]);
	return r;
}

int sv_extent_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx)
{
	return sv_extent_walk(fs, in, fn, NULL, ctx);
}
