/* quota.c: quota usage. With the quota feature, each quota file (user, group, project) records,
 * per id, the bytes and inodes its files use. The files are the v2 quota format: a header (magic,
 * version), then a radix tree of 1 KiB blocks (4 levels of 256 block references, root at block 1,
 * indexed by the id's bytes from the top) whose leaves are data blocks holding usage records.
 * Usage is summed here from the inodes (i_blocks bytes, one inode each) and compared per id. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define QBLK 1024u

struct qent { uint32_t id; bool used, seen; uint64_t space, inodes; };
struct qtab { struct qent *e; size_t cap, n; };

static struct qent *qt_get(struct qtab *t, uint32_t id, bool add)
{
	if (add && (t->n + 1) * 2 > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct qent *ne = nc < ((size_t)1 << 28) ? calloc(nc, sizeof *ne) : NULL;
		if (!ne)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->e[i].used)
				continue;
			size_t h = (t->e[i].id * 2654435761u) & (nc - 1);
			while (ne[h].used)
				h = (h + 1) & (nc - 1);
			ne[h] = t->e[i];
		}
		free(t->e);
		t->e = ne;
		t->cap = nc;
	}
	if (!t->cap)
		return NULL;
	size_t h = (id * 2654435761u) & (t->cap - 1);
	while (t->e[h].used) {
		if (t->e[h].id == id)
			return &t->e[h];
		h = (h + 1) & (t->cap - 1);
	}
	if (!add)
		return NULL;
	t->e[h].used = true;
	t->e[h].id = id;
	t->n++;
	return &t->e[h];
}

struct qctx {
	struct ck *c;
	struct sv_inode in;
	int type;
	struct qtab *tab;
	uint8_t *blk;
	uint8_t *seen;          /* file blocks already visited (cycles, shared data blocks) */
	uint64_t nblk;
	size_t esize, off_inodes, off_space;
	unsigned reported, mismatches;
	bool damaged;
};

static const char *const qname[3] = { "user", "group", "project" };

static void mismatch(struct qctx *q, uint32_t id, uint64_t fs, uint64_t fi, uint64_t cs, uint64_t ci)
{
	q->mismatches++;
	if (q->reported++ < 10)
		ck_err(q->c, SV_CK_QUOTA, q->in.ino, SV_NOBLOCK, "%s quota of id %u records %llu bytes and %llu inodes, "
		       "but the files use %llu bytes and %llu inodes", qname[q->type], id, (unsigned long long)fs,
		       (unsigned long long)fi, (unsigned long long)cs, (unsigned long long)ci);
}

static bool qread(struct qctx *q, uint32_t b)
{
	if (b >= q->nblk || bit_get(q->seen, b)) {
		q->damaged = true;
		return false;
	}
	bit_set(q->seen, b);
	if (sv_file_read(q->c->fs, &q->in, (uint64_t)b * QBLK, q->blk, QBLK) != SV_OK) {
		q->damaged = true;
		return false;
	}
	return true;
}

static void qdata(struct qctx *q, uint32_t b)
{
	if (!qread(q, b))
		return;
	for (size_t o = 16; o + q->esize <= QBLK; o += q->esize) {
		const uint8_t *e = q->blk + o;
		size_t z = 0;
		while (z < q->esize && !e[z])
			z++;
		if (z == q->esize)
			continue;    /* a free slot */
		uint32_t id = sv_le32(e);
		uint64_t fi = q->esize == 72 ? sv_le64(e + q->off_inodes) : sv_le32(e + q->off_inodes);
		uint64_t fs = sv_le64(e + q->off_space);
		struct qent *x = qt_get(q->tab, id, false);
		uint64_t cs = x ? x->space : 0, ci = x ? x->inodes : 0;
		if (x) {
			if (x->seen)
				q->damaged = true;
			x->seen = true;
		}
		if (fs != cs || fi != ci)
			mismatch(q, id, fs, fi, cs, ci);
	}
}

static void qtree(struct qctx *q, uint32_t b, int depth)
{
	if (!qread(q, b))
		return;
	uint32_t refs[256];
	for (int i = 0; i < 256; i++)
		refs[i] = sv_le32(q->blk + 4 * i);
	for (int i = 0; i < 256 && !q->damaged; i++) {
		if (!refs[i])
			continue;
		if (depth == 3) {
			if (refs[i] < q->nblk && bit_get(q->seen, refs[i]))
				continue;    /* data blocks hold several ids: met again from another branch */
			qdata(q, refs[i]);
		} else {
			qtree(q, refs[i], depth + 1);
		}
	}
}

static void check_file(struct ck *c, int type, uint32_t ino, struct qtab *tab)
{
	static const uint32_t magic[3] = { 0xd9c01f11u, 0xd9c01927u, 0xd9c03f14u };
	struct qctx q;
	memset(&q, 0, sizeof q);
	q.c = c;
	q.type = type;
	q.tab = tab;
	if (ino < 1 || ino > c->ninodes || sv_inode_read(c->fs, ino, &q.in) != SV_OK)
		return;    /* an invalid number is reported by the superblock check */
	uint8_t h[8];
	/* blocks of the quota file: as its size says, but no more than the filesystem could hold */
	q.nblk = q.in.size / QBLK;
	if (q.nblk > c->dev_blocks * (c->bsize / QBLK))
		q.nblk = c->dev_blocks * (c->bsize / QBLK);
	if (q.nblk < 2 || q.nblk > ((uint64_t)1 << 30) || sv_file_read(c->fs, &q.in, 0, h, 8) != SV_OK ||
	    sv_le32(h) != magic[type] || sv_le32(h + 4) > 1) {
		ck_err(c, SV_CK_QUOTA, ino, SV_NOBLOCK, "the %s quota file is not a valid v2 quota file; its usage "
		       "cannot be checked", qname[type]);
		return;
	}
	if (sv_le32(h + 4) == 1) {
		q.esize = 72, q.off_inodes = 24, q.off_space = 48;
	} else {
		q.esize = 48, q.off_inodes = 12, q.off_space = 24;
	}
	q.blk = malloc(QBLK);
	q.seen = calloc((size_t)(q.nblk / 8 + 1), 1);
	if (q.blk && q.seen) {
		qtree(&q, 1, 0);
		for (size_t i = 0; i < tab->cap && !q.damaged; i++) {
			struct qent *x = &tab->e[i];
			if (x->used && !x->seen && (x->space || x->inodes))
				mismatch(&q, x->id, 0, 0, x->space, x->inodes);
		}
		if (q.damaged)
			ck_err(c, SV_CK_QUOTA, ino, SV_NOBLOCK, "the %s quota file's tree is damaged (a block out of "
			       "range, unreadable, or referenced twice)", qname[type]);
		else if (q.mismatches > 10)
			ck_err(c, SV_CK_QUOTA, ino, SV_NOBLOCK, "%u more %s quota ids disagree with the files' usage",
			       q.mismatches - 10, qname[type]);
	}
	free(q.blk);
	free(q.seen);
}

void ck_quota(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	if (!(sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_QUOTA) || c->quota_skip)
		return;
	uint32_t qi[3] = { sb->s_usr_quota_inum, sb->s_grp_quota_inum,
			   (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_PROJECT) ? sb->s_prj_quota_inum : 0 };
	struct qtab tab[3];
	memset(tab, 0, sizeof tab);
	bool ok = true;
	for (uint64_t i = ck_table_next(&c->quota, 1); i <= c->ninodes && ok; i = ck_table_next(&c->quota, i + 1)) {
		uint32_t ino = (uint32_t)i;
		const struct qrec *qr = ck_table_peek(&c->quota, ino);
		if (!qr || !(ck_state(c, ino) & IS_USED) || (ck_state(c, ino) & IS_ORPHAN) ||
		    (ino < c->first_ino && ino != EXT4_ROOT_INO) || ino == qi[0] || ino == qi[1] || ino == qi[2])
			continue;
		for (int t = 0; t < 3 && ok; t++) {
			if (!qi[t])
				continue;
			struct qent *x = qt_get(&tab[t], qr->id[t], true);
			if (!x) {
				ok = false;
				break;
			}
			x->space += qr->space;
			x->inodes++;
		}
	}
	for (int t = 0; t < 3 && ok; t++)
		if (qi[t])
			check_file(c, t, qi[t], &tab[t]);
	for (int t = 0; t < 3; t++)
		free(tab[t].e);
}
