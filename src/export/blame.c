/* blame.c: what a set of bad areas hits (export.h, "blame"): the filesystem's structures, the
 * inodes in use with their data, maps and xattr blocks, the journal, and what lies in free space.
 * The bad set is kept twice: as bytes (for exact file byte ranges) and as the blocks those bytes
 * touch (to meet the runs of the maps); every run is met with a binary search in the bad blocks,
 * so a huge file costs its runs, never its blocks. */
#include "export.h"
#include <stdlib.h>
#include <string.h>

enum { ROLE_FILE, ROLE_JOURNAL, ROLE_RESERVED, ROLE_SKIP /* the resize inode */ };

struct bl {
	struct sv_fs *fs;
	struct sv_blame *b;
	const struct sv_ranges *bad;   /* device bytes */
	struct sv_ranges badblk;       /* the blocks they touch (off, len in blocks) */
	struct sv_ranges unclaimed;    /* of badblk: blocks nothing has claimed yet */
	uint64_t bs;
	uint32_t isize, ipg;
	struct sv_inomap idx;          /* ino -> index + 1 in b->files */
	const struct sv_inode *in;     /* the inode being looked at (NULL: the layout) */
	int role;
	int err;                       /* SV_ERR_NOMEM once memory ran out */
};

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static void nomem(struct bl *l, int st)
{
	if (st == SV_ERR_NOMEM)
		l->err = SV_ERR_NOMEM;
}

/* The entry of the inode being looked at, made on its first hit. */
static struct sv_blame_file *file_entry(struct bl *l)
{
	struct sv_blame *b = l->b;
	uint32_t *i = sv_inomap_get(&l->idx, l->in->ino);
	if (i)
		return &b->files[*i - 1];
	if (b->nfiles == b->capf) {
		size_t nc = b->capf ? b->capf * 2 : 16;
		struct sv_blame_file *nf = realloc(b->files, nc * sizeof *nf);
		if (!nf) {
			l->err = SV_ERR_NOMEM;
			return NULL;
		}
		b->files = nf;
		b->capf = nc;
	}
	if (sv_inomap_put(&l->idx, l->in->ino, (uint32_t)b->nfiles + 1) != SV_OK) {
		l->err = SV_ERR_NOMEM;
		return NULL;
	}
	struct sv_blame_file *f = &b->files[b->nfiles++];
	memset(f, 0, sizeof *f);
	f->ino = l->in->ino;
	f->mode = l->in->mode;
	f->size = l->in->size;
	return f;
}

/* Record blocks [blk, blk+n) of one kind as hit, merged with the previous entry it continues. */
static void add_meta(struct bl *l, int kind, uint32_t group, uint64_t blk, uint64_t n, uint32_t ino,
		     uint32_t ino_first, uint32_t ino_last)
{
	struct sv_blame *b = l->b;
	struct sv_blame_meta *m = b->nmeta ? &b->meta[b->nmeta - 1] : NULL;
	if (m && m->kind == kind && m->group == group && m->ino == ino &&
	    (kind == SV_META_INODE_TABLE ? m->ino_last + 1 == ino_first && m->blk + m->count >= blk
					 : m->blk + m->count == blk)) {
		m->count = blk + n - m->blk > m->count ? blk + n - m->blk : m->count;
		m->ino_last = ino_last;
		return;
	}
	if (b->nmeta == b->capm) {
		size_t nc = b->capm ? b->capm * 2 : 16;
		struct sv_blame_meta *nm = realloc(b->meta, nc * sizeof *nm);
		if (!nm) {
			l->err = SV_ERR_NOMEM;
			return;
		}
		b->meta = nm;
		b->capm = nc;
	}
	b->meta[b->nmeta++] = (struct sv_blame_meta){ kind, group, blk, n, ino, ino_first, ino_last };
}

/* Add the bad bytes of blocks [p, p+n), which hold file bytes from fbase on, to the file's lost
 * ranges (only bytes before its size: the rest of a last block holds nothing). */
static void add_lost(struct bl *l, uint64_t p, uint64_t n, uint64_t fbase)
{
	uint64_t a = p * l->bs, e = (p + n) * l->bs;
	const struct sv_ranges *bad = l->bad;
	struct sv_blame_file *f = NULL;
	for (size_t i = sv_ranges_find(bad, a); i < bad->n && bad->v[i].off < e; i++) {
		uint64_t lo = max64(a, bad->v[i].off), hi = min64(e, bad->v[i].off + bad->v[i].len);
		uint64_t foff = fbase + (lo - a);
		if (foff >= l->in->size)
			break;
		if (!f && !(f = file_entry(l)))
			return;
		nomem(l, sv_ranges_add(&f->lost, foff, min64(hi - lo, l->in->size - foff)));
		f->hit |= SV_BLAME_DATA;
	}
}

/* A run of file blocks from the map: logical lblk maps to [p, p+n). */
static int data_run(void *ctx, uint64_t lblk, uint64_t p, uint64_t n, unsigned flags)
{
	struct bl *l = ctx;
	const struct sv_ranges *bb = &l->badblk;
	bool dir = (l->in->mode & SV_IFMT) == SV_IFDIR;
	for (size_t i = sv_ranges_find(bb, p); i < bb->n && bb->v[i].off < p + n; i++) {
		uint64_t lo = max64(p, bb->v[i].off), hi = min64(p + n, bb->v[i].off + bb->v[i].len);
		nomem(l, sv_ranges_sub(&l->unclaimed, lo, hi - lo));
		if (l->role != ROLE_FILE) {
			add_meta(l, l->role == ROLE_JOURNAL ? SV_BLAME_JOURNAL : SV_BLAME_RESERVED, 0, lo, hi - lo,
				 l->in->ino, 0, 0);
			continue;
		}
		if (dir)
			add_meta(l, SV_BLAME_DIR, 0, lo, hi - lo, l->in->ino, 0, 0);
		if (!(flags & SV_MAP_UNWRITTEN))    /* unwritten extents read as zeros: nothing to lose */
			add_lost(l, lo, hi - lo, (lblk + (lo - p)) * l->bs);
	}
	return l->err;
}

/* Blocks [lo, hi) of group's inode table (which starts at block table) are hit: one entry per bad
 * piece, naming exactly the inodes whose bytes it touches. */
static void itable_hit(struct bl *l, uint32_t group, uint64_t table, uint64_t lo, uint64_t hi)
{
	const struct sv_ranges *bad = l->bad;
	uint64_t t0 = table * l->bs, a = lo * l->bs, e = hi * l->bs;
	uint64_t g0 = (uint64_t)group * l->ipg, tend = t0 + (uint64_t)l->ipg * l->isize;
	for (size_t i = sv_ranges_find(bad, a); i < bad->n && bad->v[i].off < e; i++) {
		uint64_t pa = max64(a, bad->v[i].off), pe = min64(min64(e, bad->v[i].off + bad->v[i].len), tend);
		if (pa >= pe)
			continue;       /* the tail of the last block, past the group's inodes */
		uint64_t first = g0 + (pa - t0) / l->isize + 1, last = g0 + (pe - 1 - t0) / l->isize + 1;
		add_meta(l, SV_META_INODE_TABLE, group, pa / l->bs, (pe - 1) / l->bs - pa / l->bs + 1, 0,
			 (uint32_t)min64(first, UINT32_MAX), (uint32_t)min64(last, UINT32_MAX));
	}
}

/* A run of metadata blocks, from sv_fs_layout (l->in NULL) or sv_file_meta. */
static int meta_run(void *ctx, int kind, uint32_t group, uint64_t blk, uint64_t count)
{
	struct bl *l = ctx;
	const struct sv_ranges *bb = &l->badblk;
	for (size_t i = sv_ranges_find(bb, blk); i < bb->n && bb->v[i].off < blk + count; i++) {
		uint64_t lo = max64(blk, bb->v[i].off), hi = min64(blk + count, bb->v[i].off + bb->v[i].len);
		nomem(l, sv_ranges_sub(&l->unclaimed, lo, hi - lo));
		if (kind == SV_META_SUPER) {
			/* the superblock is 1024 bytes at byte 1024 (group 0) or at the start of its block;
			 * the rest of that block holds nothing */
			uint64_t at = group == 0 ? 1024 : blk * l->bs;
			if (!sv_ranges_any(l->bad, at, 1024))
				continue;
		}
		if (kind == SV_META_INODE_TABLE) {
			itable_hit(l, group, blk, lo, hi);
			continue;
		}
		uint32_t ino = l->in ? l->in->ino : 0;
		add_meta(l, kind, group, lo, hi - lo, ino, 0, 0);
		if (l->in && l->role == ROLE_FILE) {
			struct sv_blame_file *f = file_entry(l);
			if (f)
				f->hit |= kind == SV_META_XATTR ? SV_BLAME_XATTR : SV_BLAME_MAP;
		}
	}
	return l->err;
}

static int role_of(struct bl *l, const struct sv_inode *in)
{
	const struct sv_super *sb = sv_fs_super(l->fs);
	uint32_t ino = in->ino;
	if (ino == sb->s_journal_inum && (sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL))
		return ROLE_JOURNAL;
	if (ino == 7)
		return ROLE_SKIP;     /* the resize inode: its blocks are the reserved GDT blocks (layout) */
	if (ino == EXT4_ROOT_INO)
		return ROLE_FILE;
	if (ino < sb->s_first_ino || ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum ||
	    ino == sb->s_prj_quota_inum || ino == sb->s_orphan_file_inum)
		return ROLE_RESERVED;
	return ROLE_FILE;
}

/* One inode in use, the k-th of the inode table at block table. */
static void scan_inode(struct bl *l, const struct sv_inode *in, uint64_t table, uint32_t k)
{
	l->in = in;
	l->role = role_of(l, in);
	if (l->role == ROLE_SKIP) {
		/* the resize inode maps the reserved GDT blocks (in the layout); its own block is the
		 * double indirect one (i_block[EXT4_DIND_BLOCK = 13]) */
		uint64_t dind = sv_le32(in->block + 13 * 4);
		if (dind)
			data_run(l, 0, dind, 1, 0);
		return;
	}
	uint64_t at = table * l->bs + (uint64_t)k * l->isize;
	if (l->role == ROLE_FILE && sv_ranges_any(l->bad, at, l->isize)) {
		struct sv_blame_file *f = file_entry(l);
		if (f) {
			f->hit |= SV_BLAME_INODE;
			if (in->size)
				nomem(l, sv_ranges_add(&f->lost, 0, in->size));
		}
	}
	if (sv_inode_has_map(l->fs, in))
		sv_file_map(l->fs, in, data_run, l);
	if (!l->err)
		sv_file_meta(l->fs, in, meta_run, l);
}

/* Every inode in use, group by group, as the inode tables hold them (groups never initialised
 * and the unused tail of a table are skipped, as the kernel does with uninit_bg). */
static void scan_inodes(struct bl *l)
{
	struct sv_fs *fs = l->fs;
	const struct sv_super *sb = sv_fs_super(fs);
	bool csum = sv_fs_has_csum(fs) || (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_GDT_CSUM);
	uint32_t ng = sv_fs_group_count(fs), ninodes = sv_fs_inode_count(fs);
	struct sv_inode *in = malloc(sizeof *in);
	if (!in) {
		l->err = SV_ERR_NOMEM;
		return;
	}
	for (uint32_t g = 0; g < ng && !l->err; g++) {
		const struct sv_group *gd = sv_fs_group(fs, g);
		if (!gd || (csum && (gd->bg_flags & EXT4_BG_INODE_UNINIT)))
			continue;
		uint32_t n = l->ipg;
		if (csum && gd->bg_itable_unused < n)
			n -= gd->bg_itable_unused;
		for (uint32_t k = 0; k < n && !l->err; k++) {
			uint64_t ino = (uint64_t)g * l->ipg + k + 1;
			if (ino > ninodes)
				break;
			int st = sv_inode_read(fs, (uint32_t)ino, in);
			if ((st != SV_OK && st != SV_ERR_CSUM) || in->mode == 0 || (in->links_count == 0 && in->dtime))
				continue;
			l->b->inodes_scanned++;
			scan_inode(l, in, gd->bg_inode_table, k);
		}
	}
	l->in = NULL;
	free(in);
}

/* The names of the inodes hit: every name the tree walk produces for them. */
static int name_cb(void *ctx, int event, const struct sv_walk_entry *e)
{
	struct bl *l = ctx;
	if (event == SV_WALK_LEAVE)
		return 0;
	uint32_t *i = sv_inomap_get(&l->idx, e->ino);
	if (!i)
		return 0;
	struct sv_blame_file *f = &l->b->files[*i - 1];
	char **np = realloc(f->paths, (f->npaths + 1) * sizeof *np);
	if (!np)
		return SV_ERR_NOMEM;
	f->paths = np;
	if (!(f->paths[f->npaths] = strdup(e->path)))
		return SV_ERR_NOMEM;
	f->npaths++;
	return 0;
}

/* Bad bytes within blocks nothing uses go to free; bytes outside the blocks (and the boot
 * sector, the first 1024 bytes, which the filesystem never uses) to outside. */
static void finish_ranges(struct bl *l, uint64_t fs_bytes)
{
	const struct sv_ranges *bad = l->bad;
	for (size_t i = 0; i < bad->n; i++) {
		uint64_t a = bad->v[i].off, e = a + bad->v[i].len;
		if (a < 1024)
			nomem(l, sv_ranges_add(&l->b->outside, a, min64(e, 1024) - a));
		if (e > fs_bytes)
			nomem(l, sv_ranges_add(&l->b->outside, max64(a, fs_bytes), e - max64(a, fs_bytes)));
	}
	for (size_t u = 0; u < l->unclaimed.n; u++) {
		uint64_t a = l->unclaimed.v[u].off * l->bs, e = a + l->unclaimed.v[u].len * l->bs;
		for (size_t i = sv_ranges_find(bad, a); i < bad->n && bad->v[i].off < e; i++) {
			uint64_t lo = max64(max64(a, bad->v[i].off), 1024), hi = min64(e, bad->v[i].off + bad->v[i].len);
			if (lo < hi)
				nomem(l, sv_ranges_add(&l->b->free, lo, hi - lo));
		}
	}
}

int sv_blame(struct sv_fs *fs, const struct sv_ranges *bad, struct sv_blame *b)
{
	const struct sv_super *sb = sv_fs_super(fs);
	struct bl l = { 0 };
	l.fs = fs;
	l.b = b;
	l.bad = bad;
	l.bs = sv_fs_block_size(fs);
	l.isize = sb->s_inode_size ? sb->s_inode_size : 128;
	l.ipg = sb->s_inodes_per_group;
	uint64_t nblocks = min64(sb->s_blocks_count, sv_fs_dev_blocks(fs));
	uint64_t fs_bytes = min64(nblocks * l.bs, sv_fs_dev(fs)->size);
	/* the blocks touched, leaving out the boot sector and what lies past the filesystem */
	for (size_t i = 0; i < bad->n && !l.err; i++) {
		uint64_t a = max64(bad->v[i].off, 1024), e = min64(bad->v[i].off + bad->v[i].len, fs_bytes);
		if (a < e) {
			nomem(&l, sv_ranges_add(&l.badblk, a / l.bs, (e + l.bs - 1) / l.bs - a / l.bs));
			nomem(&l, sv_ranges_add(&l.unclaimed, a / l.bs, (e + l.bs - 1) / l.bs - a / l.bs));
		}
	}
	sv_fs_share_blocks(fs, true);     /* every map as it is: a block two files claim hits both */
	if (!l.err && l.badblk.n)
		sv_fs_layout(fs, meta_run, &l);
	if (!l.err && l.badblk.n)
		scan_inodes(&l);
	if (!l.err && b->nfiles) {
		int st = sv_walk(fs, EXT4_ROOT_INO, "/", &(struct sv_walk_opts){ 0, false }, name_cb, &l);
		nomem(&l, st);
	}
	if (!l.err)
		finish_ranges(&l, fs_bytes);
	sv_ranges_free(&l.badblk);
	sv_ranges_free(&l.unclaimed);
	sv_inomap_free(&l.idx);
	return l.err ? l.err : SV_OK;
}

const struct sv_blame_file *sv_blame_find(const struct sv_blame *b, uint32_t ino)
{
	size_t lo = 0, hi = b->nfiles;     /* files are in inode order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->files[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->nfiles && b->files[lo].ino == ino ? &b->files[lo] : NULL;
}

bool sv_blame_any(const struct sv_blame *b)
{
	return b->nmeta > 0 || b->nfiles > 0;
}

void sv_blame_free(struct sv_blame *b)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		for (size_t k = 0; k < b->files[i].npaths; k++)
			free(b->files[i].paths[k]);
		free(b->files[i].paths);
		sv_ranges_free(&b->files[i].lost);
	}
	free(b->files);
	free(b->meta);
	sv_ranges_free(&b->free);
	sv_ranges_free(&b->outside);
	memset(b, 0, sizeof *b);
}
