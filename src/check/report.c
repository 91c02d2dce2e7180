/* report.c: collecting problems (capped), naming the inodes they concern with paths rebuilt from
 * the parents recorded in pass 2, and the duplicate-block messages that need those paths. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_ID_(name, id, desc) id,
static const char *const kind_ids[] = { SV_CHECK_KINDS(CK_ID_) };
#define CK_DESC_(name, id, desc) desc,
static const char *const kind_descs[] = { SV_CHECK_KINDS(CK_DESC_) };

const char *sv_check_kind_id(int kind)
{
	return kind >= 0 && kind < SV_CK__COUNT ? kind_ids[kind] : "unknown";
}

const char *sv_check_kind_desc(int kind)
{
	return kind >= 0 && kind < SV_CK__COUNT ? kind_descs[kind] : "unknown";
}

void ck_problem(struct ck *c, int kind, int sev, uint32_t ino, uint64_t blk, uint32_t group, const char *fmt, ...)
{
	struct sv_check_result *r = c->res;
	if (c->quiet)
		return;
	if (sev == SV_CHECK_ERROR) {
		r->errors++;
		r->by_kind[kind]++;
		if (ino && ino <= c->ninodes)
			ist_w(c, ino)->state |= IS_ERR;
		else
			r->fs_errors++;
	} else {
		r->notes++;
		r->notes_by_kind[kind]++;
	}
	if (r->nproblems >= c->max_problems) {
		r->dropped++;
		return;
	}
	struct sv_check_problem *p = &r->problems[r->nproblems++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->severity = sev;
	p->ino = ino;
	p->block = blk;
	p->group = group;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof p->msg, fmt, ap);
	va_end(ap);
}

/* ---- names: a small hash of wanted inode -> name in its parent ---- */
struct names {
	uint32_t *key;
	char **name;
	size_t cap, n;
};

/* Add ino as wanted; false when the table is full (then it stays unnamed). */
static size_t nm_slot(const struct names *n, uint32_t ino);
static bool nm_add(struct names *n, uint32_t ino)
{
	if (n->n * 2 >= n->cap)
		return false;
	size_t h = nm_slot(n, ino);
	if (!n->key[h]) {
		n->key[h] = ino;
		n->n++;
	}
	return true;
}

static size_t nm_slot(const struct names *n, uint32_t ino)
{
	size_t h = (ino * 2654435761u) & (n->cap - 1);
	while (n->key[h] && n->key[h] != ino)
		h = (h + 1) & (n->cap - 1);
	return h;
}

static int nm_init(struct names *n, size_t want)
{
	n->cap = 64;
	while (n->cap < want * 2 + 16)
		n->cap <<= 1;
	n->key = calloc(n->cap, sizeof *n->key);
	n->name = calloc(n->cap, sizeof *n->name);
	return n->key && n->name ? SV_OK : SV_ERR_NOMEM;
}

static void nm_free(struct names *n)
{
	if (n->name)
		for (size_t i = 0; i < n->cap; i++)
			free(n->name[i]);
	free(n->key);
	free(n->name);
}

struct name_scan {
	struct ck *c;
	struct names *nm;
	uint32_t dir;
};

static int name_cb(void *ctx, const struct sv_dirent *de)
{
	struct name_scan *s = ctx;
	struct ck *c = s->c;
	if (de->ino == 0 || de->ino > c->ninodes || !(ck_state(c, de->ino) & IS_WANT))
		return 0;
	if (ist_r(c, de->ino)->parent != s->dir || (de->name_len == 1 && de->name[0] == '.') ||
	    (de->name_len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	size_t h = nm_slot(s->nm, de->ino);
	if (s->nm->key[h] == de->ino && !s->nm->name[h])
		s->nm->name[h] = strdup(de->name);
	return 0;
}

/* Name every wanted inode and its ancestors: each round reads the directories holding the
 * entries of the inodes still unnamed, then moves one level up. */
static void resolve_names(struct ck *c, struct names *nm, uint32_t *want, size_t nwant)
{
	uint32_t *dirs = malloc((nwant + 1) * sizeof *dirs);
	if (!dirs)
		return;
	size_t cur = nwant;
	for (int round = 0; round < 4096 && cur; round++) {
		/* the distinct parents of this round's inodes */
		size_t nd = 0;
		for (size_t i = 0; i < cur && nd <= 4096; i++) {
			uint32_t p = ist_r(c, want[i])->parent;
			if (!p || p > c->ninodes || (ck_state(c, p) & IS_MARK))
				continue;
			ist_w(c, p)->state |= IS_MARK;
			dirs[nd++] = p;
		}
		for (size_t j = 0; j < nd; j++)
			ist_w(c, dirs[j])->state &= (uint16_t)~IS_MARK;
		for (size_t j = 0; j < nd; j++) {
			struct sv_inode in;
			int st = sv_inode_read(c->fs, dirs[j], &in);
			if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFDIR)
				continue;
			/* a directory costs its blocks (as its size says, at most the source's) */
			uint64_t cost = in.size / c->bsize + 1;
			if (!budget_take(&c->dir_budget, cost < c->dev_blocks ? cost : c->dev_blocks))
				break;
			struct name_scan s = { c, nm, dirs[j] };
			sv_dir_iterate(c->fs, &in, name_cb, &s);
		}
		/* next round: the parents themselves, unless already wanted (named or queued) */
		size_t next = 0;
		for (size_t j = 0; j < nd; j++) {
			uint32_t d = dirs[j];
			if (d == EXT4_ROOT_INO || (ck_state(c, d) & IS_WANT))
				continue;
			if (!nm_add(nm, d))
				continue;
			ist_w(c, d)->state |= IS_WANT;
			want[next++] = d;
		}
		cur = next;
	}
	free(dirs);
}

/* The path of ino, from the names found: "/a/b", or "<unattached inode N>/b" when the chain stops. */
static char *build_path(struct ck *c, struct names *nm, uint32_t ino)
{
	char *parts[512];
	size_t np = 0;
	uint32_t cur = ino;
	char head[64] = "";
	while (cur != EXT4_ROOT_INO) {
		size_t h = nm_slot(nm, cur);
		char *nmv = nm->key[h] == cur ? nm->name[h] : NULL;
		if (!nmv || np >= 512) {
			const struct sv_super *sb = c->sb;
			const char *what = ist_r(c, cur)->parent ? "inode" : "unattached inode";
			if (cur == sb->s_usr_quota_inum || cur == sb->s_grp_quota_inum || cur == sb->s_prj_quota_inum)
				what = cur == sb->s_usr_quota_inum ? "user quota file, inode" : cur == sb->s_grp_quota_inum ?
				       "group quota file, inode" : "project quota file, inode";
			else if (cur == sb->s_journal_inum)
				what = "journal, inode";
			else if (cur < c->first_ino)
				what = "reserved inode";
			snprintf(head, sizeof head, "<%s %u>", what, cur);
			break;
		}
		parts[np++] = nmv;
		cur = ist_r(c, cur)->parent;
		if (!cur || cur > c->ninodes) {
			snprintf(head, sizeof head, "<unattached>");
			break;
		}
	}
	size_t len = strlen(head) + 2;
	for (size_t i = 0; i < np; i++)
		len += strlen(parts[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, head);
	if (np == 0 && !head[0])
		strcpy(s, "/");
	for (size_t i = np; i-- > 0;) {
		strcat(s, "/");
		strcat(s, parts[i]);
	}
	return s;
}

int ck_finish(struct ck *c)
{
	struct sv_check_result *r = c->res;
	/* the inodes to name: those in stored problems and in duplicate pairs */
	size_t nwant = 0, cap = r->nproblems + 2 * c->npairs + 1;
	uint32_t *want = malloc(cap * sizeof *want);
	struct names nm = { 0 };
	if (!want || nm_init(&nm, cap + 4096) != SV_OK) {
		free(want);
		nm_free(&nm);
		return SV_ERR_NOMEM;
	}
	for (size_t i = 0; i < r->nproblems + 2 * c->npairs; i++) {
		uint32_t ino;
		if (i < r->nproblems)
			ino = r->problems[i].ino;
		else if ((i - r->nproblems) % 2 == 0)
			ino = c->pairs[(i - r->nproblems) / 2].a;
		else
			ino = c->pairs[(i - r->nproblems) / 2].b;
		if (!ino || ino > c->ninodes || ino == EXT4_ROOT_INO || (ck_state(c, ino) & IS_WANT))
			continue;
		if (!nm_add(&nm, ino))
			continue;
		ist_w(c, ino)->state |= IS_WANT;
		want[nwant++] = ino;
	}
	bool q = c->quiet;
	c->quiet = true;     /* directory damage met while naming was reported already */
	c->dir_budget = c->dir_budget0;
	resolve_names(c, &nm, want, nwant);
	c->quiet = q;
	free(want);

	/* duplicate blocks: one problem per (holder, other claimant) */
	for (size_t i = 0; i < c->npairs; i++) {
		struct dup_pair *p = &c->pairs[i];
		if (p->b == 0) {
			ck_err(c, SV_CK_DUP, p->a, SV_NOBLOCK, "%llu block%s also used by filesystem metadata "
			       "(bitmaps, inode table or group descriptors): the content there is not this file's",
			       (unsigned long long)p->n, p->n == 1 ? " is" : "s are");
			continue;
		}
		if (p->b == p->a) {
			ck_err(c, SV_CK_DUP, p->a, SV_NOBLOCK, "%llu block%s claimed twice within this file",
			       (unsigned long long)p->n, p->n == 1 ? " is" : "s are");
			continue;
		}
		char *other = build_path(c, &nm, p->b);
		ck_err(c, SV_CK_DUP, p->a, SV_NOBLOCK, "%llu block%s also claimed by %s (inode %u): one of the "
		       "two files holds the other's data", (unsigned long long)p->n, p->n == 1 ? "" : "s",
		       other ? other : "?", p->b);
		free(other);
	}
	for (size_t i = 0; i < r->nproblems; i++) {
		struct sv_check_problem *p = &r->problems[i];
		if (p->ino && p->ino <= c->ninodes)
			p->path = build_path(c, &nm, p->ino);
	}
	nm_free(&nm);
	if (c->pairs_dropped)
		ck_err(c, SV_CK_DUP, 0, SV_NOBLOCK, "%lu more pairs of files share blocks (not named one by one)",
		       c->pairs_dropped);
	for (uint64_t i = ck_table_next(&c->inodes, 1); i <= c->ninodes; i = ck_table_next(&c->inodes, i + 1))
		if (ck_state(c, (uint32_t)i) & IS_ERR)
			r->files_affected++;
	return SV_OK;
}

void sv_check_result_free(struct sv_check_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nproblems; i++)
		free((char *)r->problems[i].path);
	free(r->problems);
	free(r);
}
