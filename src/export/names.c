/* names.c: what every tree walker shares: one directory's entries read whole with names made
 * safe and unique, a set of inode numbers, and a compact tree of the directory paths a walk has
 * entered (a path is rebuilt from parent links when a message or a hard link needs it). */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable arrays ---- */
static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return false;
		n *= 2;
	}
	void *q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* ---- inode map: open addressing on the inode number, linear probing, no deletion ---- */
static size_t ino_slot(uint32_t ino, size_t cap)
{
	return (size_t)((ino * 2654435761u) & (uint32_t)(cap - 1));
}

uint32_t *sv_inomap_get(struct sv_inomap *m, uint32_t ino)
{
	if (!m->cap || !ino)
		return NULL;
	for (size_t i = ino_slot(ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->key[i] == ino)
			return &m->val[i];
		if (!m->key[i])
			return NULL;
	}
}

int sv_inomap_put(struct sv_inomap *m, uint32_t ino, uint32_t val)
{
	uint32_t *v = sv_inomap_get(m, ino);
	if (v) {
		*v = val;
		return SV_OK;
	}
	if (!ino)
		return SV_ERR_INVAL;
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		uint32_t *nk = calloc(ncap, sizeof *nk), *nv = malloc(ncap * sizeof *nv);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return SV_ERR_NOMEM;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->key[i])
				continue;
			size_t j = ino_slot(m->key[i], ncap);
			while (nk[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = m->key[i];
			nv[j] = m->val[i];
		}
		free(m->key);
		free(m->val);
		m->key = nk;
		m->val = nv;
		m->cap = ncap;
	}
	size_t i = ino_slot(ino, m->cap);
	while (m->key[i])
		i = (i + 1) & (m->cap - 1);
	m->key[i] = ino;
	m->val[i] = val;
	m->n++;
	return SV_OK;
}

void sv_inomap_free(struct sv_inomap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof *m);
}

/* ---- path tree: node 0 is the walk root; every other node is (parent, name) ---- */
uint32_t sv_pathtree_add(struct sv_pathtree *t, uint32_t parent, const char *name, size_t len)
{
	if (t->n >= UINT32_MAX - 1 || (t->n && parent >= t->n) || len > UINT16_MAX)
		return SV_PATHTREE_NONE;
	if (!grow((void **)&t->node, &t->cap, t->n + 1, sizeof *t->node) ||
	    !grow((void **)&t->names, &t->names_cap, t->names_len + len + 1, 1))
		return SV_PATHTREE_NONE;
	t->node[t->n].parent = t->n ? parent : 0;
	t->node[t->n].len = (uint16_t)len;
	t->node[t->n].off = t->names_len;
	memcpy(t->names + t->names_len, name, len);
	t->names_len += len;
	t->names[t->names_len++] = 0;
	return (uint32_t)t->n++;
}

/* Parents always have smaller ids than their children, so the climb ends at node 0. */
int sv_pathtree_rel(const struct sv_pathtree *t, uint32_t id, char **buf, size_t *cap, size_t *len)
{
	if (id >= t->n)
		return SV_ERR_INVAL;
	size_t total = 0;
	for (uint32_t k = id; k; k = t->node[k].parent)
		total += t->node[k].len + (t->node[k].parent ? 1u : 0u);
	if (!grow((void **)buf, cap, total + 1, 1))
		return SV_ERR_NOMEM;
	size_t end = total;
	(*buf)[end] = 0;
	for (uint32_t k = id; k; k = t->node[k].parent) {
		end -= t->node[k].len;
		memcpy(*buf + end, t->names + t->node[k].off, t->node[k].len);
		if (t->node[k].parent)
			(*buf)[--end] = '/';
	}
	*len = total;
	return SV_OK;
}

void sv_pathtree_free(struct sv_pathtree *t)
{
	free(t->node);
	free(t->names);
	memset(t, 0, sizeof *t);
}

/* ---- one directory's entries ---- */
struct collect {
	struct sv_dirlist *l;
	uint64_t *budget;
	bool nomem, exhausted;
};

/* "", ".", "..", or a name holding '/' or NUL would write outside the entry's own place. */
static bool bad_name(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return true;
	return memchr(s, '/', n) || memchr(s, 0, n);
}

static bool add_name(struct sv_dirlist *l, const char *s, size_t n, size_t *off)
{
	if (!grow((void **)&l->names, &l->names_cap, l->names_len + n + 1, 1))
		return false;
	*off = l->names_len;
	memcpy(l->names + l->names_len, s, n);
	l->names_len += n;
	l->names[l->names_len++] = 0;
	return true;
}

static int collect_one(void *ctx, const struct sv_dirent *de)
{
	struct collect *c = ctx;
	struct sv_dirlist *l = c->l;
	/* "." and ".." are skipped; one that says it is not a directory is damage, and its file is
	 * kept under a safe name */
	bool dots = (de->name_len == 1 && de->name[0] == '.') ||
		    (de->name_len == 2 && de->name[0] == '.' && de->name[1] == '.');
	if (dots && (de->file_type == EXT4_FT_DIR || de->file_type == EXT4_FT_UNKNOWN))
		return 0;
	/* An entry takes at least 8 bytes and its name on disk: the walk cannot meet more than the
	 * device holds unless the directories repeat blocks. */
	uint64_t cost = 8u + de->name_len;
	if (*c->budget < cost) {
		c->exhausted = true;
		return 1;
	}
	*c->budget -= cost;
	if (!grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) {
		c->nomem = true;
		return 1;
	}
	struct sv_dirlist_ent *e = &l->v[l->n];
	memset(e, 0, sizeof *e);
	e->ino = de->ino;
	e->file_type = de->file_type;
	if (bad_name(de->name, de->name_len)) {
		e->renamed = SV_NAME_BAD;
		e->raw_len = de->name_len;
	} else if (!add_name(l, de->name, de->name_len, &e->name_off)) {
		c->nomem = true;
		return 1;
	} else {
		e->name_len = de->name_len;
	}
	l->n++;
	return 0;
}

/* Names used in the directory: indices of entries (+1; 0 is an empty slot), FNV-1a hash. */
struct nameset {
	const struct sv_dirlist *l;
	uint32_t *t;
	size_t cap;
};

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* Slot of name s: where it is, or the empty slot where it would go. */
static size_t ns_find(const struct nameset *ns, const char *s, size_t n)
{
	for (size_t i = name_hash(s, n) & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
		if (!ns->t[i])
			return i;
		const struct sv_dirlist_ent *e = &ns->l->v[ns->t[i] - 1];
		if (e->name_len == n && !memcmp(ns->l->names + e->name_off, s, n))
			return i;
	}
}

/* A replacement name "__salvage_<kind>name_<ino>", with "_<k>" added when the directory already
 * has it. k only grows within one directory, so every failed try is a distinct name already in
 * the set and the search stays linear in the directory's size. */
static int rename_entry(struct sv_dirlist *l, struct nameset *ns, size_t i, unsigned *k)
{
	struct sv_dirlist_ent *e = &l->v[i];
	char cand[64];
	const char *kind = e->renamed == SV_NAME_BAD ? "bad" : "dup";
	int n = snprintf(cand, sizeof cand, "__salvage_%sname_%u", kind, e->ino);
	size_t slot = ns_find(ns, cand, (size_t)n);
	while (ns->t[slot]) {
		n = snprintf(cand, sizeof cand, "__salvage_%sname_%u_%u", kind, e->ino, (*k)++);
		slot = ns_find(ns, cand, (size_t)n);
	}
	if (!add_name(l, cand, (size_t)n, &e->name_off))
		return SV_ERR_NOMEM;
	e->name_len = (uint16_t)n;
	ns->t[slot] = (uint32_t)i + 1;
	return SV_OK;
}

static void report_rename(struct sv_fs *fs, const struct sv_inode *dir, const char *path,
			  const struct sv_dirlist *l, const struct sv_dirlist_ent *e, size_t old_off)
{
	const char *old = e->renamed == SV_NAME_DUP ? l->names + old_off : "";
	struct sv_report *rep = sv_fs_report(fs);
	if (!rep)
		return;
	const char *saved = rep->path;
	size_t pl = strlen(path);
	char *full = malloc(pl + e->name_len + 2);
	if (full)
		snprintf(full, pl + e->name_len + 2, "%s%s%s", path, pl && path[pl - 1] == '/' ? "" : "/",
			 l->names + e->name_off);
	rep->path = full ? full : path;
	if (e->renamed == SV_NAME_BAD)
		sv_report(rep, SV_PB_DIR, e->ino, SV_NOBLOCK,
			  "directory inode %u has an entry for inode %u whose name (%u bytes) cannot be used as a "
			  "file name; it is written as \"%s\"", dir->ino, e->ino, e->raw_len, l->names + e->name_off);
	else
		sv_report(rep, SV_PB_DIR, e->ino, SV_NOBLOCK,
			  "directory inode %u has a second entry named \"%.200s\" (inode %u); it is written as \"%s\" "
			  "so that it cannot take the place of the first", dir->ino, old, e->ino,
			  l->names + e->name_off);
	rep->path = saved;
	free(full);
}

/* First names win: every usable name keeps its place when it is the first of its kind, then
 * the bad and repeated ones get replacements that none of them holds. */
static int make_unique(struct sv_fs *fs, const struct sv_inode *dir, const char *path, struct sv_dirlist *l)
{
	struct nameset ns = { l, NULL, 64 };
	while (ns.cap < l->n * 2 + 2)
		ns.cap *= 2;
	if (!(ns.t = calloc(ns.cap, sizeof *ns.t)))
		return SV_ERR_NOMEM;
	bool any = false;
	for (size_t i = 0; i < l->n; i++) {
		struct sv_dirlist_ent *e = &l->v[i];
		if (e->renamed) {
			any = true;
			continue;
		}
		size_t slot = ns_find(&ns, l->names + e->name_off, e->name_len);
		if (ns.t[slot]) {
			e->renamed = SV_NAME_DUP;
			any = true;
		} else {
			ns.t[slot] = (uint32_t)i + 1;
		}
	}
	unsigned k = 2;
	int st = SV_OK;
	for (size_t i = 0; any && i < l->n && st == SV_OK; i++) {
		struct sv_dirlist_ent *e = &l->v[i];
		if (!e->renamed)
			continue;
		size_t old_off = e->name_off;
		if ((st = rename_entry(l, &ns, i, &k)) == SV_OK)
			report_rename(fs, dir, path, l, e, old_off);
	}
	free(ns.t);
	return st;
}

int sv_dirlist_read(struct sv_fs *fs, const struct sv_inode *dir, const char *path, uint64_t *budget,
		    struct sv_dirlist *l)
{
	l->n = 0;
	l->names_len = 0;
	struct collect c = { l, budget, false, false };
	int st = sv_dir_iterate(fs, dir, collect_one, &c);
	if (c.nomem)
		return SV_ERR_NOMEM;
	if (l->n > UINT32_MAX - 1)
		return SV_ERR_NOMEM;
	int r = make_unique(fs, dir, path, l);
	if (r != SV_OK)
		return r;
	if (c.exhausted)
		return SV_ERR_STOP;
	return st == 1 ? SV_OK : st;
}

void sv_dirlist_free(struct sv_dirlist *l)
{
	free(l->v);
	free(l->names);
	memset(l, 0, sizeof *l);
}
