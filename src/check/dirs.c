/* dirs.c: pass 2: every block of every directory is read raw and its entries checked: record
 * lengths, names, inode numbers, file types, "." and "..", block checksums, and the hashed index
 * (htree) structure (Documentation/filesystems/ext4/directory.rst). Each entry counts a link to
 * its inode and records the directory as the inode's parent, for pass 3/4 and for naming. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

struct dirck {
	struct ck *c;
	struct sv_inode in;
	uint32_t ino;
	uint64_t nblocks;        /* blocks within i_size */
	uint64_t next;           /* next logical block expected (holes) */
	bool htree, encrypted;
	uint32_t levels;         /* htree indirect levels */
	uint8_t *node;           /* per logical block: 0 unseen, 1 leaf referenced, 2 dx node */
	bool node_ok;
	unsigned bad_blocks;
};

static bool is_dot(const char *n, size_t l) { return l == 1 && n[0] == '.'; }
static bool is_dotdot(const char *n, size_t l) { return l == 2 && n[0] == '.' && n[1] == '.'; }

/* One live entry (not "." / ".." in their places). */
static void entry(struct dirck *d, uint32_t t, const char *name, size_t nl, uint8_t ft, uint64_t blk)
{
	struct ck *c = d->c;
	uint32_t ino = d->ino;
	if (is_dot(name, nl) || is_dotdot(name, nl)) {
		ck_err(c, SV_CK_DIR, ino, blk, "a second \"%s\" entry (to inode %u)", name, t);
		return;
	}
	if (d->encrypted && nl < 16)
		ck_err(c, SV_CK_DIR, ino, blk, "encrypted entry (inode %u) has a %zu-byte name, shorter than any "
		       "encrypted name", t, nl);
	if (!d->encrypted && (memchr(name, '/', nl) || memchr(name, 0, nl))) {
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" has a '/' or NUL in its name", (int)nl, name);
	}
	if ((t < c->first_ino && t != EXT4_ROOT_INO) || t > c->ninodes) {
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" has an invalid inode number %u", (int)nl, name, t);
		return;
	}
	if (!(ck_state(c, t) & IS_USED)) {
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" points to inode %u, which is not in use (deleted or "
		       "never written)", (int)nl, name, t);
		return;
	}
	if (c->filetype && ft != (ist_r(c, t)->ftype & 0x0F))
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" (inode %u) has file type %u, but the inode's type is %u",
		       (int)nl, name, t, ft, ist_r(c, t)->ftype & 0x0F);
	else if (!c->filetype && ft)
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" has a file type set without the filetype feature",
		       (int)nl, name);
	uint8_t tt = ist_r(c, t)->ftype & 0x0F;
	if (d->encrypted && c->encrypt && (tt == EXT4_FT_REG_FILE || tt == EXT4_FT_DIR || tt == EXT4_FT_SYMLINK) &&
	    !(ist_r(c, t)->ftype & IFT_ENC))
		ck_err(c, SV_CK_DIR, ino, blk, "entry (inode %u) in an encrypted directory refers to an inode that is "
		       "not encrypted (or whose encryption context is damaged)", t);
	if (t == EXT4_ROOT_INO) {
		ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" is a link to the root directory", (int)nl, name);
		return;
	}
	if (ck_state(c, t) & IS_DIR) {
		if (ck_state(c, t) & IS_DIRSEEN) {
			ck_err(c, SV_CK_DIR, ino, blk, "entry \"%.*s\" is a second link to directory inode %u "
			       "(already in directory inode %u)", (int)nl, name, t, ist_r(c, t)->parent);
			return;
		}
		ist_w(c, t)->state |= IS_DIRSEEN;
		ist_w(c, t)->parent = ino;
	} else if (!ist_r(c, t)->parent) {
		ist_w(c, t)->parent = ino;
	}
	if (ist_r(c, t)->refs < UINT16_MAX)
		ist_w(c, t)->refs++;
	if (ino == EXT4_ROOT_INO && nl == 10 && !memcmp(name, "lost+found", 10))
		c->lost_found = t;
}

/* Entries of a block (or of an inline area) in [p, p+len); first tells whether "." and ".."
 * are expected at its start. Returns false when the block is damaged. */
static bool entries(struct dirck *d, const uint8_t *p, size_t len, uint64_t blk, uint64_t lblk, bool first)
{
	struct ck *c = d->c;
	size_t pos = 0;
	unsigned idx = 0;
	while (pos < len) {
		if (len - pos < 12) {
			ck_err(c, SV_CK_DIR, d->ino, blk, "block %llu (logical %llu): entries end %zu bytes short of the "
			       "block end", (unsigned long long)blk, (unsigned long long)lblk, len - pos);
			return false;
		}
		uint32_t t = sv_le32(p + pos);
		uint32_t rec = sv_le16(p + pos + 4);
		if (c->bsize >= 65536)
			rec = (rec == 65535 || rec == 0) ? c->bsize : ((rec & 65532) | ((rec & 3) << 16));
		size_t nl = c->filetype ? p[pos + 6] : sv_le16(p + pos + 6);
		uint8_t ft = c->filetype ? p[pos + 7] : 0;
		if (rec < 12 || (rec & 3) || rec > len - pos || ((8 + nl + 3) & ~(size_t)3) > rec) {
			ck_err(c, SV_CK_DIR, d->ino, blk, "block %llu (logical %llu): damaged entry at offset %zu "
			       "(record length %u, name length %zu); the rest of the block is lost",
			       (unsigned long long)blk, (unsigned long long)lblk, pos, rec, nl);
			return false;
		}
		const char *name = (const char *)p + pos + 8;
		if (first && idx == 0) {
			if (!is_dot(name, nl) || t != d->ino)
				ck_err(c, SV_CK_DIR, d->ino, blk, "the first entry is not \".\" pointing to the directory "
				       "itself");
			else if (rec > 24 && !d->htree)
				ck_err(c, SV_CK_DIR, d->ino, blk, "the \".\" entry is %u bytes long (should be 12)", rec);
			if (!is_dot(name, nl) && t && nl)
				entry(d, t, name, nl, ft, blk);
		} else if (first && idx == 1) {
			if (!is_dotdot(name, nl) || !t)
				ck_err(c, SV_CK_DIR, d->ino, blk, "the second entry is not \"..\"");
			else
				ist_w(c, d->ino)->dotdot = t;
			if (!is_dotdot(name, nl) && t && nl)
				entry(d, t, name, nl, ft, blk);
		} else if (t) {
			if (nl == 0)
				ck_err(c, SV_CK_DIR, d->ino, blk, "an entry for inode %u has an empty name", t);
			else
				entry(d, t, name, nl, ft, blk);
		}
		pos += rec;
		idx++;
	}
	if (first && idx < 2)
		ck_err(c, SV_CK_DIR, d->ino, blk, "the \"..\" entry is missing");
	return true;
}

/* A directory leaf block's checksum tail: a fake entry of 12 bytes (inode 0, rec_len 12, 0xDE). */
static bool has_tail(const uint8_t *b, uint32_t bs)
{
	const uint8_t *t = b + bs - 12;
	return sv_le32(t) == 0 && sv_le16(t + 4) == 12 && t[6] == 0 && t[7] == 0xDE;
}

/* dx node: limit/count at off; returns entries or -1. Checks limit, count, order and csum. */
static int dx_entries(struct dirck *d, const uint8_t *b, size_t off, uint64_t blk, uint32_t *lbs, int cap)
{
	struct ck *c = d->c;
	uint32_t limit = sv_le16(b + off), count = sv_le16(b + off + 2);
	uint32_t want = (uint32_t)((c->bsize - off - (c->csum ? 8 : 0)) / 8);
	if (limit != want || count == 0 || count > limit) {
		ck_err(c, SV_CK_HTREE, d->ino, blk, "index block %llu has limit %u and count %u (limit should be %u)",
		       (unsigned long long)blk, limit, count, want);
		return -1;
	}
	if (c->csum) {
		/* dx_tail {dt_reserved, dt_checksum} right after the limit's slots; the checksum covers
		 * the block up to the last used entry, then dt_reserved and a zero dt_checksum. Bytes
		 * between count and limit (stale leaf data) are not covered. */
		size_t sz = off + (size_t)count * 8;
		size_t toff = off + (size_t)limit * 8;
		static const uint8_t zero4[4];
		if (toff + 8 <= c->bsize) {
			uint32_t s = ck_iseed(c, d->ino, d->in.generation);
			s = sv_crc32c(s, b, sz);
			s = sv_crc32c(s, b + toff, 4);
			s = sv_crc32c(s, zero4, 4);
			if (s != sv_le32(b + toff + 4))
				ck_err(c, SV_CK_DIR_CSUM, d->ino, blk, "index block %llu fails its checksum: the hashed "
				       "index may be damaged; lookups by name may miss entries", (unsigned long long)blk);
		}
	}
	uint32_t prev = 0;
	int n = 0;
	for (uint32_t i = 0; i < count && n < cap; i++) {
		uint32_t hash = i ? sv_le32(b + off + 8 * i) & ~1u : 0;
		uint32_t lb = sv_le32(b + off + 8 * i + 4) & 0x0FFFFFFF;
		if (i > 1 && hash < prev)
			ck_err(c, SV_CK_HTREE, d->ino, blk, "index block %llu: hashes out of order at entry %u",
			       (unsigned long long)blk, i);
		prev = hash;
		if (lb >= d->nblocks) {
			ck_err(c, SV_CK_HTREE, d->ino, blk, "index points to block %u, past the directory's end", lb);
			continue;
		}
		lbs[n++] = lb;
	}
	return n;
}

/* Collecting a directory's map: logical -> physical (0: hole) for its first blocks. The array
 * grows with the blocks really mapped, not with i_size; runs are counted so a map that repeats
 * itself cannot keep the walk going. */
struct dmap {
	struct dirck *d;
	uint64_t *p;
	uint64_t len, cap;       /* entries set up to the last mapped block; allocated */
	uint64_t runs;
	bool oom;
};

static int collect(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct dmap *m = ctx;
	uint64_t lim = m->d->nblocks;
	if (++m->runs > lim + 16)
		return 1;
	if (lblk >= lim || len == 0)
		return lblk >= lim;
	uint64_t end = len < lim - lblk ? lblk + len : lim;
	if (end > m->cap) {
		uint64_t nc = m->cap ? m->cap : 16;
		while (nc < end)
			nc *= 2;
		if (nc > lim)
			nc = lim;
		uint64_t *np = nc <= SIZE_MAX / sizeof *np ? realloc(m->p, (size_t)nc * sizeof *np) : NULL;
		if (!np) {
			m->oom = true;
			return 1;
		}
		memset(np + m->cap, 0, (size_t)(nc - m->cap) * sizeof *np);
		m->p = np;
		m->cap = nc;
	}
	for (uint64_t l = lblk; l < end; l++)
		m->p[l] = pblk + (l - lblk);
	if (end > m->len)
		m->len = end;
	return end >= lim ? 1 : 0;
}

/* Walk the htree: mark index nodes (2) and referenced leaves (1). */
static void htree(struct dirck *d, const uint64_t *map)
{
	struct ck *c = d->c;
	uint8_t *b = c->buf;
	if (!map[0] || sv_fs_read_block(c->fs, map[0], b) != SV_OK)
		return;
	uint32_t reserved = sv_le32(b + 0x18);
	uint8_t hv = b[0x1C], ilen = b[0x1D], levels = b[0x1E];
	uint32_t maxlev = c->largedir ? 2 : 1;
	if (reserved || ilen != 8 || hv > 6 || levels > maxlev || sv_le16(b + 0x10) != c->bsize - 12) {
		ck_err(c, SV_CK_HTREE, d->ino, map[0], "the hashed index root is damaged (%s); lookups by name may "
		       "miss entries", reserved ? "reserved field set" : ilen != 8 ? "bad info length" :
		       hv > 6 ? "unknown hash version" : levels > maxlev ? "too deep" : "bad '..' record length");
		d->htree = false;
		return;
	}
	d->node[0] = 2;
	if (sv_le32(b) != d->ino || sv_le16(b + 6) != (c->filetype ? 0x0201 : 1) || b[8] != '.')
		ck_err(c, SV_CK_DIR, d->ino, map[0], "the first entry is not \".\" pointing to the directory itself");
	if (sv_le32(b + 12) && b[12 + 8] == '.' && b[12 + 9] == '.')
		ist_w(c, d->ino)->dotdot = sv_le32(b + 12);
	else
		ck_err(c, SV_CK_DIR, d->ino, map[0], "the second entry is not \"..\"");
	uint32_t *lv[2];
	int cap = d->nblocks < 0x7fffffff ? (int)d->nblocks + 1 : 0x7fffffff;
	lv[0] = malloc((size_t)cap * sizeof(uint32_t));
	lv[1] = malloc((size_t)cap * sizeof(uint32_t));
	int n = lv[0] && lv[1] ? dx_entries(d, b, 0x20, map[0], lv[0], cap) : -1;
	if (n < 0) {
		d->htree = false;
		free(lv[0]);
		free(lv[1]);
		return;
	}
	for (uint32_t level = 0; level < levels; level++) {
		int m = 0;
		for (int i = 0; i < n; i++) {
			uint32_t lb = lv[level & 1][i];
			if (d->node[lb]) {
				ck_err(c, SV_CK_HTREE, d->ino, map[lb], "index block at logical %u is referenced twice", lb);
				continue;
			}
			d->node[lb] = 2;
			if (!map[lb] || sv_fs_read_block(c->fs, map[lb], b) != SV_OK)
				continue;
			if (sv_le32(b) != 0 || sv_le16(b + 4) != (c->bsize >= 65536 ? 0 : c->bsize)) {
				ck_err(c, SV_CK_HTREE, d->ino, map[lb], "index block at logical %u does not look like an "
				       "index node", lb);
				continue;
			}
			int k = dx_entries(d, b, 8, map[lb], lv[(level + 1) & 1] + m, cap - m);
			if (k > 0)
				m += k;
		}
		n = m;
	}
	for (int i = 0; i < n; i++) {
		uint32_t lb = lv[levels & 1][i];
		if (d->node[lb])
			ck_err(c, SV_CK_HTREE, d->ino, map[lb], "leaf block at logical %u is referenced twice in the "
			       "index", lb);
		else
			d->node[lb] = 1;
	}
	free(lv[0]);
	free(lv[1]);
}

static int dir_inline(void *ctx, const struct sv_dirent *de)
{
	struct dirck *d = ctx;
	if (is_dot(de->name, de->name_len) && de->ino == d->ino)
		return 0;
	if (is_dotdot(de->name, de->name_len) && !ist_r(d->c, d->ino)->dotdot) {
		ist_w(d->c, d->ino)->dotdot = de->ino;
		return 0;
	}
	entry(d, de->ino, de->name, de->name_len, de->file_type, SV_NOBLOCK);
	return 0;
}

/* Blocks [from, to) of a directory that i_size covers but nothing maps. */
static void trailing_holes(struct ck *c, uint32_t ino, uint64_t from, uint64_t to)
{
	const char *why = from == 0 ? "\".\" and \"..\" are missing" : "not allowed in a directory";
	if (from + 1 == to)
		ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "block %llu of the directory is a hole: %s",
		       (unsigned long long)from, why);
	else if (from < to)
		ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "blocks %llu-%llu of the directory are holes: %s",
		       (unsigned long long)from, (unsigned long long)to - 1, why);
}

static void check_dir(struct ck *c, uint32_t ino)
{
	struct dirck d;
	memset(&d, 0, sizeof d);
	d.c = c;
	d.ino = ino;
	int st = sv_inode_read(c->fs, ino, &d.in);
	if (st != SV_OK && st != SV_ERR_CSUM)
		return;
	d.encrypted = d.in.flags & EXT4_ENCRYPT_FL;
	if (d.in.flags & EXT4_INLINE_DATA_FL) {
		c->quiet = true;
		sv_dir_iterate(c->fs, &d.in, dir_inline, &d);
		c->quiet = false;
		return;
	}
	if (c->dir_budget_told)
		return;    /* pass 2's budget is spent (reported once) */
	d.nblocks = d.in.size / c->bsize;
	if (d.nblocks > c->dev_blocks)
		d.nblocks = c->dev_blocks;    /* no directory holds more blocks than the source */
	if (d.nblocks == 0) {
		ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "the directory has no blocks: \".\" and \"..\" are missing");
		return;
	}
	struct dmap dm = { &d, NULL, 0, 0, 0, false };
	c->quiet = true;
	sv_file_map(c->fs, &d.in, collect, &dm);
	c->quiet = false;
	uint64_t *map = dm.p;
	uint64_t size_blocks = d.nblocks;
	d.nblocks = dm.len;     /* the blocks past the last mapped one are holes: reported at the end */
	/* pass 2 budget: a directory costs the blocks it maps */
	if (!budget_take(&c->dir_budget, d.nblocks + 1)) {
		if (!c->dir_budget_told)
			ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "the directories map far more blocks than the source "
			       "holds (%llu blocks): this directory and the ones after it are not checked",
			       (unsigned long long)c->dev_blocks);
		c->dir_budget_told = true;
		free(map);
		return;
	}
	if (d.nblocks == 0 || !map) {
		trailing_holes(c, ino, 0, size_blocks);
		free(map);
		return;
	}
	d.node = calloc((size_t)d.nblocks, 1);
	if (!d.node) {
		free(map);
		return;
	}
	d.htree = (d.in.flags & EXT4_INDEX_FL) && c->dir_index;
	if (d.htree)
		htree(&d, map);
	unsigned holes = 0;
	for (uint64_t l = 0; l < d.nblocks; l++) {
		uint64_t blk = map[l];
		if (!blk) {
			if (++holes <= 8)
				ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "block %llu of the directory is a hole: %s",
				       (unsigned long long)l, l == 0 ? "\".\" and \"..\" are missing" :
				       "not allowed in a directory");
			continue;
		}
		if (d.node[l] == 2)
			continue;    /* index node: checked by htree() */
		if (d.htree && d.node[l] != 1 && l > 0)
			ck_err(c, SV_CK_HTREE, ino, blk, "leaf block at logical %llu is not referenced by the index",
			       (unsigned long long)l);
		if (sv_fs_read_block(c->fs, blk, c->buf) != SV_OK) {
			ck_err(c, SV_CK_IO, ino, blk, "directory block %llu is unreadable", (unsigned long long)blk);
			continue;
		}
		size_t len = c->bsize;
		if (c->csum) {
			if (!has_tail(c->buf, c->bsize)) {
				ck_err(c, SV_CK_DIR_CSUM, ino, blk, "directory block %llu (logical %llu) has no checksum "
				       "tail", (unsigned long long)blk, (unsigned long long)l);
			} else {
				len -= 12;
				uint32_t s = sv_crc32c(ck_iseed(c, ino, d.in.generation), c->buf, c->bsize - 12);
				if (s != sv_le32(c->buf + c->bsize - 4))
					ck_err(c, SV_CK_DIR_CSUM, ino, blk, "directory block %llu (logical %llu) fails its "
					       "checksum", (unsigned long long)blk, (unsigned long long)l);
			}
		}
		entries(&d, c->buf, len, blk, l, l == 0);
	}
	if (holes > 8)
		ck_err(c, SV_CK_DIR, ino, SV_NOBLOCK, "%u holes in the directory in all", holes);
	trailing_holes(c, ino, d.nblocks, size_blocks);
	free(map);
	free(d.node);
}

int ck_dirs(struct ck *c)
{
	for (size_t i = 0; i < c->ndirs; i++) {
		uint32_t ino = c->dirs[i];
		if (!(ck_state(c, ino) & IS_BAD))
			check_dir(c, ino);
	}
	return SV_OK;
}
