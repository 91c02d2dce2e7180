/* blocks.c: walking one inode's extent tree or block map with the checks e2fsck's pass 1 makes
 * (header, depth, order, overlaps, bounds, checksums), marking every block it owns in the in-use
 * bitmap; a block found marked already goes to the duplicate bitmap. Pass 1b then walks the
 * inodes again, only to collect the owners of the duplicated blocks, and pairs them up.
 * Extent tree: Documentation/filesystems/ext4/ifork.rst; block maps: the same, "Direct/Indirect". */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define EXT_MAGIC 0xF30A
#define MAX_DEPTH 5
#define ILLEGAL_SHOWN 3
#define OWNERS_MAX (1u << 20)   /* pass 1b: (cluster, inode) records kept (16 MiB) */
#define PAIRS_MAX (1u << 16)    /* distinct pairs of files sharing blocks that are named */

/* pass 1b: owners of duplicated clusters, (cluster, inode) records */
struct owner {
	uint64_t cl;
	uint32_t ino;
};
struct dupcol {
	struct owner *o;
	size_t n, cap;
	bool full;
};

void ck_mark(struct ck *c, uint64_t blk, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t cl = (blk + i) >> c->cbits;
		if (c->bigalloc) {
			if (cl == c->cur_last_cluster)
				continue;
			c->cur_last_cluster = cl;
		}
		if (c->dupmap) {
			struct dupcol *d = c->dupmap;
			if (!bm_get(&c->dup, cl) || d->full)
				continue;
			if (d->n == d->cap) {
				size_t nc = d->cap ? d->cap * 2 : 1024;
				struct owner *no = nc <= OWNERS_MAX ? realloc(d->o, nc * sizeof *no) : NULL;
				if (!no) {
					d->full = true;
					continue;
				}
				d->o = no;
				d->cap = nc;
			}
			d->o[d->n].cl = cl;
			d->o[d->n].ino = c->cur_ino;
			d->n++;
			continue;
		}
		if (bm_get(&c->used, cl)) {
			if (!bm_get(&c->dup, cl)) {
				bm_set(&c->dup, cl);
				c->ndups++;
			}
			c->cur_dups++;
		} else {
			bm_set(&c->used, cl);
		}
	}
}

/* The map walks of pass 1 and 1b share one budget, derived from the blocks the source holds: a
 * node read or a block marked costs one unit. A clean filesystem marks each block once; maps
 * that send every file through the same blocks run out of it, and are reported once. */
bool ck_map_budget(struct ck *c, uint64_t n)
{
	if (budget_take(&c->map_budget, n))
		return true;
	if (!c->map_budget_told) {
		c->map_budget_told = true;
		ck_err(c, SV_CK_DUP, c->cur_ino, SV_NOBLOCK, "the block maps claim far more blocks than the "
		       "source holds (%llu blocks): the maps from this inode on are not checked further",
		       (unsigned long long)c->dev_blocks);
	}
	return false;
}

static bool run_ok(struct ck *c, uint64_t blk, uint64_t len)
{
	return len > 0 && blk >= c->sb->s_first_data_block && blk < c->nblocks && len <= c->nblocks - blk;
}

static void illegal(struct ck *c, const char *what, uint64_t lblk, uint64_t blk)
{
	if (++c->cur_illegal <= ILLEGAL_SHOWN)
		ck_err(c, SV_CK_BAD_BLOCK, c->cur_ino, blk, "%s for logical block %llu points to block %llu, outside "
		       "the filesystem (blocks %u-%llu)", what, (unsigned long long)lblk, (unsigned long long)blk,
		       c->sb->s_first_data_block, (unsigned long long)c->nblocks - 1);
}

/* ---- extent trees ---- */
struct ehdr {
	uint16_t magic, entries, max, depth;
};

static void ehdr_decode(const uint8_t *p, struct ehdr *h)
{
	h->magic = sv_le16(p);
	h->entries = sv_le16(p + 2);
	h->max = sv_le16(p + 4);
	h->depth = sv_le16(p + 6);
}

/* Header sanity as e2fsck's ext2fs_extent_header_verify: magic, entries <= max, and max close
 * to what the node's size allows. */
static bool ehdr_ok(const struct ehdr *h, size_t len)
{
	size_t room = (len - 12) / 12;
	return h->magic == EXT_MAGIC && h->entries <= h->max && h->max <= room && (size_t)h->max + 2 >= room;
}

struct ewalk {
	struct ck *c;
	const struct sv_inode *in;
	uint8_t *bufs[MAX_DEPTH];
	uint64_t next_lblk;     /* the first logical block a following extent may use */
	bool stop;              /* the map budget is spent */
};

static void ext_node(struct ewalk *w, const uint8_t *node, size_t len, unsigned depth, uint64_t nblk,
		     uint64_t lo, uint64_t hi)
{
	struct ck *c = w->c;
	uint32_t ino = c->cur_ino;
	struct ehdr h;
	ehdr_decode(node, &h);
	const uint8_t *e = node + 12;
	if (depth == 0) {
		for (unsigned i = 0; i < h.entries; i++, e += 12) {
			uint64_t lblk = sv_le32(e);
			uint32_t n = sv_le16(e + 4);
			uint64_t pblk = sv_le32(e + 8) | (uint64_t)sv_le16(e + 6) << 32;
			bool unwritten = n > 32768;
			if (unwritten)
				n -= 32768;
			if (n == 0) {
				ck_err(c, SV_CK_EXTENT, ino, nblk, "an extent at logical block %llu has length zero",
				       (unsigned long long)lblk);
				continue;
			}
			if (!run_ok(c, pblk, n)) {
				illegal(c, "an extent", lblk, pblk);
				continue;
			}
			if (lblk < w->next_lblk) {
				ck_err(c, SV_CK_EXTENT, ino, nblk, "extent at logical block %llu (%u blocks) overlaps or "
				       "is out of order with the extent before it (which ends at %llu)",
				       (unsigned long long)lblk, n, (unsigned long long)w->next_lblk - 1);
				continue;
			}
			if (lblk < lo || lblk + n > hi) {
				ck_err(c, SV_CK_EXTENT, ino, nblk, "extent at logical block %llu (%u blocks) lies "
				       "outside the range %llu-%llu its index gives", (unsigned long long)lblk, n,
				       (unsigned long long)lo, (unsigned long long)hi - 1);
				continue;
			}
			if (lblk + n > (1ull << 32)) {
				ck_err(c, SV_CK_EXTENT, ino, nblk, "extent at logical block %llu ends past the largest "
				       "logical block", (unsigned long long)lblk);
				continue;
			}
			if (unwritten && c->cur_is_dir)
				ck_err(c, SV_CK_EXTENT, ino, nblk, "directory has an unwritten extent at logical "
				       "block %llu", (unsigned long long)lblk);
			if (!ck_map_budget(c, n)) {
				w->stop = true;
				return;
			}
			ck_mark(c, pblk, n);
			c->cur_blocks += n;
			w->next_lblk = lblk + n;
			c->cur_last = (int64_t)(lblk + n - 1);
			if (!unwritten)
				c->cur_last_init = (int64_t)(lblk + n - 1);
		}
		return;
	}
	uint64_t prev = 0;
	for (unsigned i = 0; i < h.entries && !w->stop; i++, e += 12) {
		uint64_t lblk = sv_le32(e);
		uint64_t child = sv_le32(e + 4) | (uint64_t)sv_le16(e + 8) << 32;
		uint64_t next = i + 1 < h.entries ? sv_le32(e + 12) : hi;
		if ((i > 0 && lblk <= prev) || lblk < lo || lblk >= hi) {
			ck_err(c, SV_CK_EXTENT, ino, nblk, "extent index for logical block %llu is out of order or "
			       "outside its parent's range; the subtree under it is skipped", (unsigned long long)lblk);
			continue;
		}
		prev = lblk;
		if (next > hi || next <= lblk)
			next = hi;
		if (!run_ok(c, child, 1)) {
			illegal(c, "an extent index", lblk, child);
			continue;
		}
		if (!blkset_add(&c->seen, child)) {
			if (++c->cur_repeats <= ILLEGAL_SHOWN)
				ck_err(c, SV_CK_EXTENT, ino, child, "extent tree refers to block %llu more than once; it "
				       "is read once", (unsigned long long)child);
			continue;
		}
		if (!ck_map_budget(c, 1)) {
			w->stop = true;
			return;
		}
		ck_mark(c, child, 1);
		c->cur_blocks++;
		uint8_t *buf = w->bufs[depth - 1];
		if (sv_fs_read_block(c->fs, child, buf) != SV_OK) {
			ck_err(c, SV_CK_IO, ino, child, "extent block %llu is unreadable", (unsigned long long)child);
			continue;
		}
		struct ehdr ch;
		ehdr_decode(buf, &ch);
		if (!ehdr_ok(&ch, c->bsize) || ch.depth != depth - 1) {
			ck_err(c, SV_CK_EXTENT, ino, child, "extent block %llu (for logical blocks from %llu) is damaged: "
			       "%s; the data under it is lost", (unsigned long long)child, (unsigned long long)lblk,
			       ch.magic != EXT_MAGIC ? "bad magic" : ch.depth != depth - 1 ? "wrong depth" :
			       "bad entry counts");
			continue;
		}
		if (c->csum) {
			size_t tail = 12 + 12u * ch.max;
			if (tail + 4 <= c->bsize) {
				uint32_t s = ck_iseed(c, ino, w->in->generation);
				if (sv_crc32c(s, buf, tail) != sv_le32(buf + tail))
					ck_err(c, SV_CK_EXTENT, ino, child, "extent block %llu fails its checksum",
					       (unsigned long long)child);
			}
		}
		if (ch.entries > 0 && sv_le32(buf + 12) != lblk)
			ck_err(c, SV_CK_EXTENT, ino, child, "extent index says logical block %llu but the block it "
			       "points to starts at %u", (unsigned long long)lblk, sv_le32(buf + 12));
		if (ch.entries == 0)
			ck_err(c, SV_CK_EXTENT, ino, child, "extent block %llu is empty", (unsigned long long)child);
		ext_node(w, buf, c->bsize, depth - 1, child, lblk, next);
	}
}

static void walk_extents(struct ck *c, const struct sv_inode *in)
{
	struct ehdr h;
	ehdr_decode(in->block, &h);
	if (!ehdr_ok(&h, 60) || h.depth > MAX_DEPTH) {
		ck_err(c, SV_CK_EXTENT, c->cur_ino, SV_NOBLOCK, "the extent tree root in the inode is damaged (%s); "
		       "the file's data cannot be found", h.magic != EXT_MAGIC ? "bad magic" :
		       h.depth > MAX_DEPTH ? "impossible depth" : "bad entry counts");
		ist_w(c, c->cur_ino)->state |= IS_BAD;
		return;
	}
	struct ewalk w = { c, in, { 0 }, 0, false };
	for (unsigned i = 0; i < h.depth; i++)
		if (!(w.bufs[i] = malloc(c->bsize)))
			goto out;
	ext_node(&w, in->block, 60, h.depth, SV_NOBLOCK, 0, 1ull << 32);
out:
	for (unsigned i = 0; i < h.depth; i++)
		free(w.bufs[i]);
}

/* ---- block maps ---- */
/* One pointer of a block map at level (0: a data block); false when the map budget is spent. */
static bool bmap_walk(struct ck *c, uint8_t **bufs, uint64_t ptr, unsigned level, uint64_t lblk, uint64_t per)
{
	if (ptr == 0)
		return true;
	if (!run_ok(c, ptr, 1)) {
		illegal(c, level ? "an indirect block" : "a block pointer", lblk, ptr);
		return true;
	}
	if (level && !blkset_add(&c->seen, ptr)) {
		if (++c->cur_repeats <= ILLEGAL_SHOWN)
			ck_err(c, SV_CK_BLOCKMAP, c->cur_ino, ptr, "the block map refers to indirect block %llu more "
			       "than once (for logical block %llu); it is read once", (unsigned long long)ptr,
			       (unsigned long long)lblk);
		return true;
	}
	if (!ck_map_budget(c, 1))
		return false;
	ck_mark(c, ptr, 1);
	c->cur_blocks++;
	if (level == 0) {
		c->cur_last = c->cur_last_init = (int64_t)lblk;
		return true;
	}
	uint8_t *buf = bufs[level - 1];
	if (sv_fs_read_block(c->fs, ptr, buf) != SV_OK) {
		ck_err(c, SV_CK_IO, c->cur_ino, ptr, "indirect block %llu is unreadable", (unsigned long long)ptr);
		return true;
	}
	uint64_t span = 1;
	for (unsigned i = 1; i < level; i++)
		span *= per;
	for (uint64_t i = 0; i < per; i++)
		if (!bmap_walk(c, bufs, sv_le32(buf + 4 * i), level - 1, lblk + i * span, per))
			return false;
	return true;
}

static void walk_blockmap(struct ck *c, const struct sv_inode *in)
{
	uint8_t *bufs[3] = { 0 };
	uint64_t per = c->bsize / 4;
	for (int i = 0; i < 3; i++)
		if (!(bufs[i] = malloc(c->bsize)))
			goto out;
	for (int i = 0; i < 12; i++)
		if (!bmap_walk(c, bufs, sv_le32(in->block + 4 * i), 0, (uint64_t)i, per))
			goto out;
	uint64_t l = 12, span = per;
	for (unsigned level = 1; level <= 3; level++) {
		if (!bmap_walk(c, bufs, sv_le32(in->block + 44 + 4 * level), level, l, per))
			goto out;
		l += span;
		span *= per;
	}
out:
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
}

void ck_walk_blocks(struct ck *c, const struct sv_inode *in)
{
	c->cur_ino = in->ino;
	c->cur_blocks = 0;
	c->cur_last = c->cur_last_init = -1;
	c->cur_last_cluster = UINT64_MAX;
	c->cur_illegal = 0;
	c->cur_repeats = 0;
	c->cur_dups = 0;
	c->cur_is_dir = (in->mode & SV_IFMT) == SV_IFDIR;
	c->cur_unwalked = c->map_budget_told;
	if (c->cur_unwalked)
		return;
	blkset_reset(&c->seen);
	if (in->flags & EXT4_EXTENTS_FL)
		walk_extents(c, in);
	else
		walk_blockmap(c, in);
	blkset_reset(&c->seen);
	c->cur_unwalked = c->map_budget_told;
	if (c->cur_illegal > ILLEGAL_SHOWN)
		ck_err(c, SV_CK_BAD_BLOCK, in->ino, SV_NOBLOCK, "%u block numbers outside the filesystem in all",
		       c->cur_illegal);
	if (c->cur_repeats > ILLEGAL_SHOWN)
		ck_err(c, in->flags & EXT4_EXTENTS_FL ? SV_CK_EXTENT : SV_CK_BLOCKMAP, in->ino, SV_NOBLOCK,
		       "%u references to tree blocks met before in this file's map, in all", c->cur_repeats);
}

/* ---- pass 1b ---- */
static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	if (x->cl != y->cl)
		return x->cl < y->cl ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct dup_pair *x = a, *y = b;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

/* Count one more cluster shared by (a, b). Distinct pairs are kept up to PAIRS_MAX (found through
 * a hash of pair -> index + 1); more are counted in pairs_dropped. */
static int add_pair(struct ck *c, uint32_t a, uint32_t b, uint32_t *hash)
{
	size_t mask = 2 * PAIRS_MAX - 1;
	size_t h = (size_t)(((uint64_t)a * 2654435761u) ^ ((uint64_t)b * 0x9E3779B97F4A7C15ull >> 32)) & mask;
	while (hash[h]) {
		struct dup_pair *p = &c->pairs[hash[h] - 1];
		if (p->a == a && p->b == b) {
			p->n++;
			return SV_OK;
		}
		h = (h + 1) & mask;
	}
	if (c->npairs == PAIRS_MAX) {
		c->pairs_dropped++;
		return SV_OK;
	}
	if (c->npairs == c->cappairs) {
		size_t nc = c->cappairs ? c->cappairs * 2 : 256;
		struct dup_pair *np = realloc(c->pairs, nc * sizeof *np);
		if (!np)
			return SV_ERR_NOMEM;
		c->pairs = np;
		c->cappairs = nc;
	}
	c->pairs[c->npairs++] = (struct dup_pair){ a, b, 1 };
	hash[h] = (uint32_t)c->npairs;
	return SV_OK;
}

/* The owners of one duplicated cluster, o[0..n) sorted by inode, as pairs. */
static int pair_owners(struct ck *c, const struct owner *o, size_t n, uint32_t *hash)
{
	uint32_t own[16];
	size_t no = 0;
	bool twice = false;
	for (size_t k = 0; k < n; k++) {
		if (no && own[no - 1] == o[k].ino)
			twice = true;
		else if (no < 16)
			own[no++] = o[k].ino;
	}
	int st = SV_OK;
	for (size_t a = 0; a < no && st == SV_OK; a++) {
		if (own[a] == 0)
			continue;
		for (size_t b = 0; b < no && st == SV_OK; b++)
			if (b != a)
				st = add_pair(c, own[a], own[b], hash);
		if (no == 1 && twice)
			st = add_pair(c, own[a], own[a], hash);
	}
	return st;
}

/* Pass 1b, first part: metadata owns the duplicated clusters it covers. */
static void dup_metadata(struct ck *c)
{
	for (uint64_t i = ck_table_next(&c->dup, 0); i < c->dup.n; i = ck_table_next(&c->dup, i + 1)) {
		const uint8_t *p = ck_table_peek(&c->dup, i);
		for (unsigned k = 0; p && *p && k < 8; k++) {
			uint64_t cl = i * 8 + k;
			if (!(*p & (1u << k)) || !bm_get(&c->meta, cl))
				continue;
			c->cur_ino = 0;
			c->cur_last_cluster = UINT64_MAX;
			ck_mark(c, cl << c->cbits, 1);
		}
	}
}

/* Pass 1b, second part: every in-use inode walked again, quietly, to collect owners. */
static void dup_inodes(struct ck *c)
{
	for (uint64_t i = ck_table_next(&c->inodes, 1); i <= c->ninodes; i = ck_table_next(&c->inodes, i + 1)) {
		uint32_t ino = (uint32_t)i;
		if (!(ck_state(c, ino) & IS_USED) || (ck_state(c, ino) & IS_BAD))
			continue;
		struct sv_inode in;
		int st = sv_inode_read(c->fs, ino, &in);
		if (st != SV_OK && st != SV_ERR_CSUM)
			continue;
		if (in.flags & EXT4_INLINE_DATA_FL)
			continue;
		bool fast_link = (in.mode & SV_IFMT) == SV_IFLNK && in.size < 60 && !(in.flags & EXT4_EXTENTS_FL);
		uint16_t t = in.mode & SV_IFMT;
		if (!fast_link && t != SV_IFCHR && t != SV_IFBLK && t != SV_IFIFO && t != SV_IFSOCK &&
		    !(ino == 7 && (c->sb->s_feature_compat & EXT4_FEATURE_COMPAT_RESIZE_INODE)))
			ck_walk_blocks(c, &in);
		if (in.file_acl && in.file_acl < c->nblocks) {
			c->cur_ino = ino;
			c->cur_last_cluster = UINT64_MAX;
			ck_mark(c, in.file_acl, 1);
		}
	}
}

/* Walk every in-use inode again, collecting who owns each duplicated cluster. */
int ck_dups(struct ck *c)
{
	if (!c->ndups)
		return SV_OK;
	struct dupcol d = { 0 };
	uint32_t *hash = calloc(2 * PAIRS_MAX, sizeof *hash);
	if (!hash)
		return SV_ERR_NOMEM;
	c->dupmap = &d;
	bool q = c->quiet;
	c->quiet = true;
	c->map_budget = c->map_budget0;    /* the same budget again for the second walk */
	c->map_budget_told = false;
	dup_metadata(c);
	dup_inodes(c);
	c->quiet = q;
	c->dupmap = NULL;
	/* qsort wants a valid pointer even for zero elements: sort only what is there */
	if (d.n > 1)
		qsort(d.o, d.n, sizeof *d.o, cmp_owner);
	int st = SV_OK;
	for (size_t i = 0; i < d.n && st == SV_OK;) {
		size_t j = i;
		while (j < d.n && d.o[j].cl == d.o[i].cl)
			j++;
		st = pair_owners(c, d.o + i, j - i, hash);
		i = j;
	}
	free(d.o);
	free(hash);
	if (c->npairs > 1)
		qsort(c->pairs, c->npairs, sizeof *c->pairs, cmp_pair);
	return st;
}
