/* file.c: mapping a file's logical blocks (extents or block map) and reading its content, with
 * the rule that makes a hostile map harmless: a physical block holds the data of at most one
 * logical block of a file.
 *
 * A block map whose indirect blocks point to each other, or an extent tree whose entries all
 * lead to the same blocks, would otherwise make a 16 MiB image read as a file of terabytes. The
 * raw walkers (extent.c, blockmap.c) deliver runs in logical order; the first logical block to use
 * a physical block keeps it, later ones are reported and read as a hole. As runs come in logical
 * order, "first in the walk" is "first in the file". sv_file_read serves its reads from the runs
 * of one such whole walk, kept while the same file is read, so every way of reading a file (one
 * walk, or chunks of any size) gives the same bytes and a file read in chunks is walked once.
 * The blocks used are kept as runs (runset.c): a healthy file costs one entry per extent. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

struct once {
	struct sv_fs *fs;
	const struct sv_inode *in;
	struct sv_runset used;      /* physical runs and the logical blocks that first used them */
	sv_map_fn fn;
	void *ctx;
	unsigned reports;           /* repeats seen (reported up to a cap) */
	bool denied;                /* blocks of earlier inodes left out (the budget is spent) */
	bool rewalk;                /* the inode is one of the recent ones: walked again */
	bool told_deny;             /* a left-out shared run was reported in this walk */
	struct sv_claim_recent *slot;
	uint64_t left, first_left;  /* shared blocks this walk may still give; at its start */
	int err;                    /* SV_ERR_NOMEM when the set could not grow */
};

/* ---- blocks shared between inodes (struct sv_claims in internal.h) ---- */

void sv_claims_reset(struct sv_fs *fs)
{
	struct sv_claims *c = &fs->claims;
	bool off = c->off;
	sv_runset_free(&c->held);
	for (unsigned i = 0; i < SV_CLAIM_RECENT; i++)
		sv_runset_free(&c->recent[i].fresh);
	memset(c, 0, sizeof *c);
	c->off = off;
	c->left = fs->dev_blocks / 2;    /* all files then hold at most 1.5 times the device */
	c->xattr_left = fs->dev_blocks / 2 * fs->bsize;
}

void sv_fs_share_blocks(struct sv_fs *fs, bool share)
{
	fs->claims.off = share;
}

/* Before a walk of u->in: find its recent slot, or take one (the oldest inode's blocks go to held).
 * The walk decides with the budget of the inode's first walk, kept in u->left. */
static int claims_begin(struct once *u)
{
	struct sv_claims *c = &u->fs->claims;
	if (c->off)
		return SV_OK;
	for (unsigned i = 0; i < SV_CLAIM_RECENT; i++)
		if (c->recent[i].set && c->recent[i].ino == u->in->ino) {
			u->slot = &c->recent[i];
			u->left = u->first_left = c->recent[i].left;
			u->rewalk = true;
			return SV_OK;
		}
	struct sv_claim_recent *r = &c->recent[c->next];
	c->next = (c->next + 1) % SV_CLAIM_RECENT;
	int st = sv_runset_merge(&c->held, &r->fresh);
	r->set = true;
	r->ino = u->in->ino;
	r->left = c->left;
	u->slot = r;
	u->left = u->first_left = c->left;
	return st;
}

/* After the walk: a first walk spends from the filesystem's budget what it gave out. */
static void claims_end(struct once *u)
{
	struct sv_claims *c = &u->fs->claims;
	if (c->off || u->rewalk)
		return;
	uint64_t spent = u->first_left - u->left;
	c->left = spent < c->left ? c->left - spent : 0;
}

/* Where [p, ...) was delivered before: 1 this inode, 2 another inode, 0 nowhere; *k is how many
 * blocks from p share that answer (at most n). */
static int claims_owner(struct once *u, uint64_t p, uint64_t n, uint64_t *k)
{
	struct sv_claims *c = &u->fs->claims;
	bool mine_ok = u->slot->set && u->slot->ino == u->in->ino;
	uint64_t free_len = n;
	for (int i = -1; i < SV_CLAIM_RECENT; i++) {
		const struct sv_runset *s = i < 0 ? &c->held : &c->recent[i].fresh;
		const struct sv_run *r = sv_runset_find(s, p);
		if (r && r->p <= p) {
			*k = r->p + r->n - p < n ? r->p + r->n - p : n;
			return i >= 0 && mine_ok && &c->recent[i] == u->slot ? 1 : 2;
		}
		if (r && r->p - p < free_len)
			free_len = r->p - p;
	}
	*k = free_len;
	return 0;
}

/* A shared run given (the first few of the filesystem are told) or left out (told once per walk:
 * each such file lost bytes). */
static void claims_tell(struct once *u, uint64_t l, uint64_t p, uint64_t k, bool give)
{
	struct sv_claims *c = &u->fs->claims;
	uint32_t ino = u->in->ino;
	if (give ? c->told >= 4 : u->told_deny)
		return;
	if (give)
		c->told++;
	else
		u->told_deny = true;
	sv_report(u->fs->rep, u->in->flags & EXT4_EXTENTS_FL ? SV_PB_EXTENT : SV_PB_BLOCKMAP, ino, p,
		  give ? "inode %u: blocks %llu-%llu (logical %llu) also belong to another file (cross-linked "
		  "blocks); `salvage check` names the files that share them" :
		  "inode %u: blocks %llu-%llu (logical %llu) and maybe more also belong to other files, and "
		  "the files already hold more than half the device again (cross-linked blocks): they read "
		  "as zeros; `salvage check` names the files that share them",
		  ino, (unsigned long long)p, (unsigned long long)(p + k - 1), (unsigned long long)l);
}

/* Deliver [p, p+n) (logical l) past the shared-block rule. */
static int claims_run(struct once *u, uint64_t l, uint64_t p, uint64_t n, unsigned flags)
{
	struct sv_claims *c = &u->fs->claims;
	if (c->off)
		return u->fn(u->ctx, l, p, n, flags);
	while (n) {
		uint64_t k;
		int who = claims_owner(u, p, n, &k);
		bool give = true;
		if (who == 2) {                  /* an earlier inode had [p, p+k) */
			give = k <= u->left;
			if (give)
				u->left -= k;
			else
				u->denied = true;
			claims_tell(u, l, p, k, give);
		} else if (who == 0) {           /* first delivered now: remember it for this inode */
			bool mine_ok = u->slot->set && u->slot->ino == u->in->ino;
			if (sv_runset_add(mine_ok ? &u->slot->fresh : &c->held, p, p, k) != SV_OK)
				return SV_ERR_NOMEM;
		}
		if (give) {
			int st = u->fn(u->ctx, l, p, k, flags);
			if (st)
				return st;
		}
		l += k;
		p += k;
		n -= k;
	}
	return 0;
}

static void report_repeat(struct once *u, uint64_t l, uint64_t p, uint64_t n, uint64_t first)
{
	uint32_t ino = u->in->ino;
	int code = (u->in->flags & EXT4_EXTENTS_FL) ? SV_PB_EXTENT : SV_PB_BLOCKMAP;
	if (u->reports < 8)
		sv_report(u->fs->rep, code, ino, p,
			  "inode %u: logical blocks %llu-%llu map to blocks %llu-%llu, which logical block %llu of "
			  "the same file already uses (a looping or overlapping map); they read as zeros", ino,
			  (unsigned long long)l, (unsigned long long)(l + n - 1), (unsigned long long)p,
			  (unsigned long long)(p + n - 1), (unsigned long long)first);
	else if (u->reports == 8)
		sv_report(u->fs->rep, code, ino, SV_NOBLOCK,
			  "inode %u: more blocks used twice by this file; not reporting each", ino);
	u->reports++;
}

/* The filter between a raw walker and the caller's callback. */
static int once_run(void *ctx, uint64_t l, uint64_t p, uint64_t n, unsigned flags)
{
	struct once *u = ctx;
	while (n) {
		const struct sv_run *r = sv_runset_find(&u->used, p);
		uint64_t k;
		if (r && r->p <= p) {            /* p already has a user: a hole here */
			k = r->p + r->n - p < n ? r->p + r->n - p : n;
			report_repeat(u, l, p, k, r->l + (p - r->p));
		} else {                         /* first use of [p, p+k) */
			k = r && r->p - p < n ? r->p - p : n;
			if (sv_runset_add(&u->used, p, l, k) != SV_OK) {
				u->err = SV_ERR_NOMEM;
				return SV_ERR_NOMEM;
			}
			int st = claims_run(u, l, p, k, flags);
			if (st == SV_ERR_NOMEM)
				u->err = SV_ERR_NOMEM;
			if (st)
				return st;
		}
		l += k;
		p += k;
		n -= k;
	}
	return 0;
}

int sv_file_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx)
{
	if (in->flags & EXT4_INLINE_DATA_FL)
		return SV_ERR_INVAL;
	struct once u = { fs, in, { 0 }, fn, ctx, 0, false, false, false, NULL, 0, 0, SV_OK };
	if (claims_begin(&u) != SV_OK)
		return SV_ERR_NOMEM;
	sv_runset_init(&u.used);
	int r = (in->flags & EXT4_EXTENTS_FL) ? sv_extent_map(fs, in, once_run, &u) : sv_blockmap_map(fs, in, once_run, &u);
	sv_runset_free(&u.used);
	claims_end(&u);
	if (u.err)
		return u.err;
	return r == SV_OK && (u.reports || u.denied) ? SV_ERR_CORRUPT : r;
}

void sv_fcursor_reset(struct sv_fcursor *c)
{
	free(c->runs);
	memset(c, 0, sizeof *c);
}

/* Collect the runs of one whole walk, merging those that continue each other. */
static int cursor_add(void *ctx, uint64_t l, uint64_t p, uint64_t n, unsigned flags)
{
	struct sv_fcursor *c = ctx;
	struct sv_maprun *last = c->n ? &c->runs[c->n - 1] : NULL;
	if (last && last->l + last->n == l && last->p + last->n == p && last->flags == flags) {
		last->n += n;
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct sv_maprun *nr = realloc(c->runs, nc * sizeof *nr);
		if (!nr)
			return SV_ERR_NOMEM;
		c->runs = nr;
		c->cap = nc;
	}
	c->runs[c->n++] = (struct sv_maprun){ l, p, n, flags };
	return 0;
}

/* The map of inode in, as one whole sv_file_map walk gave it: kept while the same file is read
 * (a file read in chunks is walked once), rebuilt for another file. */
static int cursor_for(struct sv_fs *fs, const struct sv_inode *in, struct sv_fcursor **out)
{
	struct sv_fcursor *c = &fs->cur;
	if (!(c->valid && c->dev == fs->dev && c->ino == in->ino && c->generation == in->generation &&
	      c->flags == in->flags && c->size == in->size && !memcmp(c->block, in->block, sizeof c->block))) {
		sv_fcursor_reset(c);
		int st = sv_file_map(fs, in, cursor_add, c);
		if (st == SV_ERR_NOMEM || st == SV_ERR_INVAL) {
			sv_fcursor_reset(c);
			return st;
		}
		c->valid = true;
		c->st = st < 0 ? st : SV_OK;
		c->dev = fs->dev;
		c->ino = in->ino;
		c->generation = in->generation;
		c->flags = in->flags;
		c->size = in->size;
		memcpy(c->block, in->block, sizeof c->block);
	}
	*out = c;
	return SV_OK;
}

struct rd {
	struct sv_fs *fs;
	const struct sv_inode *in;
	uint8_t *buf;
	uint64_t off, len;     /* byte range wanted */
	int st;
};

/* A failed read of file bytes starting at foff from device bytes [dev_off, ...): each unreadable
 * part the device names becomes a report in file bytes (the first few of one read; then a count). */
struct rd_bad {
	struct rd *r;
	uint64_t dev_off, foff;
	unsigned long n;
};

#define RD_SHOWN 4

static int rd_bad_one(void *ctx, uint64_t off, uint64_t len)
{
	struct rd_bad *b = ctx;
	uint64_t bs = b->r->fs->bsize, f = b->foff + (off - b->dev_off);
	if (++b->n <= RD_SHOWN)
		sv_report(b->r->fs->rep, SV_PB_IO, b->r->in->ino, off / bs,
			  "file inode %u: bytes %llu-%llu cannot be read (filesystem bytes %llu-%llu, block %llu of %s); "
			  "zeros in their place", b->r->in->ino, (unsigned long long)f, (unsigned long long)(f + len - 1),
			  (unsigned long long)off, (unsigned long long)(off + len - 1), (unsigned long long)(off / bs),
			  b->r->fs->dev->name);
	return 0;
}

static void rd_run(struct rd *r, const struct sv_maprun *m)
{
	uint64_t bs = r->fs->bsize;
	uint64_t a = m->l * bs, b = (m->l + m->n) * bs;
	if (m->flags & SV_MAP_UNWRITTEN)
		return;                        /* unwritten extents read as zeros */
	uint64_t lo = a > r->off ? a : r->off;
	uint64_t hi = b < r->off + r->len ? b : r->off + r->len;
	if (lo >= hi)
		return;
	uint64_t dev_off = m->p * bs + (lo - a);
	if (sv_dev_read(r->fs->dev, dev_off, r->buf + (lo - r->off), (size_t)(hi - lo)) == SV_OK)
		return;
	r->st = SV_ERR_IO;
	struct rd_bad bad = { r, dev_off, lo, 0 };
	sv_dev_bad(r->fs->dev, dev_off, hi - lo, rd_bad_one, &bad);
	if (!bad.n)
		sv_report(r->fs->rep, SV_PB_IO, r->in->ino, dev_off / bs,
			  "file inode %u: bytes %llu-%llu cannot be read (blocks %llu-%llu of %s); zeros in their place",
			  r->in->ino, (unsigned long long)lo, (unsigned long long)(hi - 1), (unsigned long long)(dev_off / bs),
			  (unsigned long long)((dev_off + (hi - lo) - 1) / bs), r->fs->dev->name);
	else if (bad.n > RD_SHOWN)
		sv_report(r->fs->rep, SV_PB_IO, r->in->ino, dev_off / bs,
			  "file inode %u: %lu more unreadable areas in bytes %llu-%llu; zeros in their place", r->in->ino,
			  bad.n - RD_SHOWN, (unsigned long long)lo, (unsigned long long)(hi - 1));
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
	struct sv_fcursor *c;
	int st = cursor_for(fs, in, &c);
	if (st != SV_OK)
		return st;
	struct rd r = { fs, in, buf, off, len, SV_OK };
	uint64_t lo = off / fs->bsize, hi = (off + len - 1) / fs->bsize + 1;
	/* first run ending past lo: runs are sorted and disjoint in logical order */
	size_t a = 0, b = c->n;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (c->runs[mid].l + c->runs[mid].n > lo)
			b = mid;
		else
			a = mid + 1;
	}
	for (size_t i = a; i < c->n && c->runs[i].l < hi; i++)
		rd_run(&r, &c->runs[i]);
	return c->st < 0 ? c->st : r.st;
}
