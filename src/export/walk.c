/* walk.c: the depth-first tree walker shared by cp, tar and du. It is iterative: a stack of
 * frames, one per directory on the current path, each holding that directory's entries (read
 * whole by sv_dirlist_read, so names are already safe and unique). Each directory inode is
 * entered once per walk (a set of inode numbers); hard links are remembered for multiply-linked
 * inodes only, as (directory node, name), never as a whole path. */
#include "internal.h"
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ON_PATH 0x80000000u   /* in the directory map: the directory is on the current path */
#define KEEP_ENTRIES 4096     /* a popped frame keeps a listing buffer up to this many entries */

/* ---- hard links: open addressing on the inode number, linear probing, backward-shift delete ---- */
struct link_rec {
	uint32_t ino;       /* 0: empty slot */
	uint32_t left;      /* links not seen yet */
	uint32_t dir;       /* path tree node of the directory it was first produced in */
	uint16_t len;
	char *name;         /* its name there (at most 255 bytes and a replacement's few more) */
};
struct links {
	struct link_rec *t;
	size_t cap, n;      /* cap is a power of two */
};

static size_t link_slot(const struct links *l, uint32_t ino)
{
	return (size_t)((ino * 2654435761u) & (uint32_t)(l->cap - 1));
}

static struct link_rec *link_find(struct links *l, uint32_t ino)
{
	if (!l->cap)
		return NULL;
	for (size_t i = link_slot(l, ino);; i = (i + 1) & (l->cap - 1)) {
		if (l->t[i].ino == ino)
			return &l->t[i];
		if (!l->t[i].ino)
			return NULL;
	}
}

static int link_add(struct links *l, uint32_t ino, uint32_t left, uint32_t dir, const char *name, size_t len)
{
	if ((l->n + 1) * 2 > l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct link_rec *nt = calloc(ncap, sizeof *nt);
		if (!nt)
			return SV_ERR_NOMEM;
		for (size_t i = 0; i < l->cap; i++) {
			if (!l->t[i].ino)
				continue;
			size_t j = (size_t)((l->t[i].ino * 2654435761u) & (uint32_t)(ncap - 1));
			while (nt[j].ino)
				j = (j + 1) & (ncap - 1);
			nt[j] = l->t[i];
		}
		free(l->t);
		l->t = nt;
		l->cap = ncap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return SV_ERR_NOMEM;
	memcpy(copy, name, len);
	copy[len] = 0;
	size_t i = link_slot(l, ino);
	while (l->t[i].ino)
		i = (i + 1) & (l->cap - 1);
	l->t[i] = (struct link_rec){ ino, left, dir, (uint16_t)len, copy };
	l->n++;
	return SV_OK;
}

/* Remove r and shift later members of its probe run back so lookups still find them. */
static void link_del(struct links *l, struct link_rec *r)
{
	size_t i = (size_t)(r - l->t);
	free(r->name);
	l->t[i].ino = 0;
	l->n--;
	for (size_t j = (i + 1) & (l->cap - 1); l->t[j].ino; j = (j + 1) & (l->cap - 1)) {
		size_t home = link_slot(l, l->t[j].ino);
		/* j's record may move to i when its home is not in the cyclic range (i, j]. */
		bool between = i < j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			l->t[i] = l->t[j];
			l->t[j].ino = 0;
			i = j;
		}
	}
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->cap; i++)
		if (l->t[i].ino)
			free(l->t[i].name);
	free(l->t);
}

/* ---- inodes already produced: a bitmap in 4 KiB pages, allocated where inodes are met ---- */
#define SEEN_PAGE_BITS 15   /* 32768 inodes per page */
struct seen {
	uint64_t **page;
	size_t n;
};

static bool seen_test(const struct seen *s, uint32_t ino)
{
	size_t p = ino >> SEEN_PAGE_BITS, b = ino & ((1u << SEEN_PAGE_BITS) - 1);
	return p < s->n && s->page[p] && (s->page[p][b / 64] >> (b % 64) & 1);
}

static int seen_set(struct seen *s, uint32_t ino)
{
	size_t p = ino >> SEEN_PAGE_BITS, b = ino & ((1u << SEEN_PAGE_BITS) - 1);
	if (p >= s->n) {
		size_t n = p + 1;
		uint64_t **np = realloc(s->page, n * sizeof *np);
		if (!np)
			return SV_ERR_NOMEM;
		memset(np + s->n, 0, (n - s->n) * sizeof *np);
		s->page = np;
		s->n = n;
	}
	if (!s->page[p] && !(s->page[p] = calloc((1u << SEEN_PAGE_BITS) / 64, sizeof(uint64_t))))
		return SV_ERR_NOMEM;
	s->page[p][b / 64] |= (uint64_t)1 << (b % 64);
	return SV_OK;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->page[i]);
	free(s->page);
}

/* ---- the walk ---- */
struct frame {
	struct sv_dirlist list;   /* the directory's entries */
	size_t next;              /* the next entry to visit */
	size_t plen;              /* length of the directory's path in walk.path */
	size_t name_off;          /* where its name starts in walk.path */
	uint32_t node;            /* its path tree node */
	struct sv_inode in;
};

struct walk {
	struct sv_fs *fs;
	struct sv_report *rep;
	sv_walk_fn fn;
	void *ctx;
	unsigned max_depth;
	bool track_links;
	const char *root_path;    /* as given, for the root's messages */
	size_t prefix_len;        /* root_path without trailing slashes */
	char *path;               /* prefix + "/" + rel of the entry being visited */
	size_t len, cap;
	size_t rel_off;           /* where rel starts in path for depth >= 1 */
	struct frame *fr;         /* fr[0..depth]: the directories on the current path */
	size_t nfr, frcap;
	struct sv_inode *in;      /* scratch inode for the entry being visited */
	struct links links;
	struct seen files;        /* non-directory inodes produced, so none is produced twice */
	struct sv_inomap dirs;    /* directory inode -> path tree node (| ON_PATH) */
	struct sv_pathtree tree;
	char *tmp;                /* a rebuilt path (link_rel, messages) */
	size_t tmpcap;
	uint64_t budget;          /* directory entry bytes the walk may still read */
	bool budget_noted;
};

static void set_report_path(struct walk *w)
{
	w->rep->path = w->len ? w->path : w->root_path;
}

static int append(struct walk *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		size_t nc = w->cap ? w->cap : 256;
		while (w->len + n + 1 > nc)
			nc *= 2;
		char *p = realloc(w->path, nc);
		if (!p)
			return SV_ERR_NOMEM;
		w->path = p;
		w->cap = nc;
	}
	memcpy(w->path + w->len, s, n);
	w->len += n;
	w->path[w->len] = 0;
	return SV_OK;
}

/* Point w->path at the directory of frame f again (entries of f are appended after it). */
static void cut_path(struct walk *w, size_t len)
{
	w->len = len;
	if (w->path)
		w->path[len] = 0;
}

/* The rel path of tree node dir, then "/" and name (name may be NULL) into w->tmp. */
static const char *rebuild(struct walk *w, uint32_t dir, const char *name, size_t nlen)
{
	size_t len = 0;
	if (sv_pathtree_rel(&w->tree, dir, &w->tmp, &w->tmpcap, &len) != SV_OK)
		return NULL;
	if (!name)
		return w->tmp;
	size_t need = len + 1 + nlen + 1;
	if (need > w->tmpcap) {
		char *p = realloc(w->tmp, need);
		if (!p)
			return NULL;
		w->tmp = p;
		w->tmpcap = need;
	}
	if (len)
		w->tmp[len++] = '/';
	memcpy(w->tmp + len, name, nlen);
	w->tmp[len + nlen] = 0;
	return w->tmp;
}

static void fill_entry(struct walk *w, struct sv_walk_entry *e, unsigned depth, size_t name_off, uint32_t ino,
		       const struct sv_inode *in)
{
	memset(e, 0, sizeof *e);
	e->path = depth ? w->path : w->root_path;
	e->rel = depth ? w->path + w->rel_off : "";
	e->rel_len = depth ? w->len - w->rel_off : 0;
	e->name = w->path + name_off;
	e->name_len = w->len - name_off;
	e->ino = ino;
	e->in = in;
	e->depth = depth;
}

static int push_frame(struct walk *w, size_t name_off, uint32_t node)
{
	if (w->nfr == w->frcap) {
		size_t n = w->frcap ? w->frcap * 2 : 16;
		struct frame *f = realloc(w->fr, n * sizeof *f);
		if (!f)
			return SV_ERR_NOMEM;
		memset(f + w->frcap, 0, (n - w->frcap) * sizeof *f);
		w->fr = f;
		w->frcap = n;
	}
	struct frame *f = &w->fr[w->nfr++];
	f->next = 0;
	f->list.n = 0;
	f->plen = w->len;
	f->name_off = name_off;
	f->node = node;
	f->in = *w->in;
	return SV_OK;
}

/* List the directory of the top frame. Damage was reported by the reader; only running out of
 * memory stops the walk. */
static int list_top(struct walk *w)
{
	struct frame *f = &w->fr[w->nfr - 1];
	if (f->in.flags & EXT4_ENCRYPT_FL) {
		sv_report(w->rep, SV_PB_ENCRYPTED, f->in.ino, SV_NOBLOCK,
			  "directory inode %u is encrypted and there is no key; its entries are not listed", f->in.ino);
		return SV_OK;
	}
	set_report_path(w);
	int st = sv_dirlist_read(w->fs, &f->in, w->len ? w->path : w->root_path, &w->budget, &f->list);
	if (st == SV_ERR_NOMEM)
		return st;
	if (st == SV_ERR_STOP && !w->budget_noted) {
		w->budget_noted = true;
		sv_report(w->rep, SV_PB_LOOP, f->in.ino, SV_NOBLOCK,
			  "the directories list more entries than the device has room for (directory blocks used "
			  "over and over); no more entries are read from here on");
	}
	return SV_OK;
}

/* A directory: enter it once, refuse it on the current path, send it empty under a second name. */
static int visit_dir(struct walk *w, unsigned depth, uint32_t ino, size_t name_off)
{
	struct sv_walk_entry e;
	uint32_t *seen = sv_inomap_get(&w->dirs, ino);
	if (seen && (*seen & ON_PATH)) {
		sv_report(w->rep, SV_PB_LOOP, ino, SV_NOBLOCK,
			  "directory inode %u is also one of its own parents (a directory cycle); this entry is skipped",
			  ino);
		return SV_OK;
	}
	if (w->max_depth && depth > w->max_depth) {
		sv_report(w->rep, SV_PB_LOOP, ino, SV_NOBLOCK, "directory nested deeper than %u levels; it is skipped",
			  w->max_depth);
		return SV_OK;
	}
	fill_entry(w, &e, depth, name_off, ino, w->in);
	if (seen) {
		const char *first = rebuild(w, *seen, NULL, 0);
		sv_report(w->rep, SV_PB_LOOP, ino, SV_NOBLOCK,
			  "directory inode %u has a second name here; its entries are under its first name, "
			  "%.*s/%.150s, and this one is kept empty", ino, (int)w->prefix_len, w->root_path,
			  first ? first : "?");
		e.repeat = true;
		int r = w->fn(w->ctx, SV_WALK_ENTER, &e);
		if (r < 0 || r == SV_WALK_SKIP)
			return r < 0 ? r : SV_OK;
		r = w->fn(w->ctx, SV_WALK_LEAVE, &e);
		return r < 0 ? r : SV_OK;
	}
	int r = w->fn(w->ctx, SV_WALK_ENTER, &e);
	if (r < 0 || r == SV_WALK_SKIP)
		return r < 0 ? r : SV_OK;
	uint32_t parent = depth ? w->fr[w->nfr - 1].node : 0;
	uint32_t node = depth ? sv_pathtree_add(&w->tree, parent, w->path + name_off, w->len - name_off)
			      : sv_pathtree_add(&w->tree, 0, "", 0);
	if (node >= ON_PATH || sv_inomap_put(&w->dirs, ino, node | ON_PATH) != SV_OK ||
	    push_frame(w, name_off, node) != SV_OK)
		return SV_ERR_NOMEM;
	return list_top(w);
}

static int visit_file(struct walk *w, unsigned depth, uint32_t ino, size_t name_off)
{
	const struct sv_inode *in = w->in;
	struct sv_walk_entry e;
	fill_entry(w, &e, depth, name_off, ino, in);
	struct link_rec *lr = NULL;
	bool multi = w->track_links && in->links_count > 1 && depth > 0;
	if (multi && (lr = link_find(&w->links, ino))) {
		if (!(e.link_rel = rebuild(w, lr->dir, lr->name, lr->len)))
			return SV_ERR_NOMEM;
	} else if (depth > 0 && w->track_links && seen_test(&w->files, ino)) {
		/* More names than the link count says: producing it again would let a small image write
		 * the same content without end. */
		sv_report(w->rep, SV_PB_DIR, ino, SV_NOBLOCK,
			  "inode %u was already saved under another name, and its link count (%u) says it has no "
			  "more names; this entry is skipped", ino, in->links_count);
		return SV_OK;
	}
	int r = w->fn(w->ctx, SV_WALK_FILE, &e);
	if (r < 0)
		return r;
	if (r == 0 && depth > 0 && w->track_links && seen_set(&w->files, ino) != SV_OK)
		return SV_ERR_NOMEM;
	if (lr) {
		if (--lr->left == 0)
			link_del(&w->links, lr);
	} else if (r == 0 && multi) {
		int st = link_add(&w->links, ino, in->links_count - 1u, w->fr[w->nfr - 1].node, e.name, e.name_len);
		if (st < 0)
			return st;
	}
	return SV_OK;
}

/* Read inode ino, named by w->path[name_off..len], and send it (a directory is pushed). */
static int visit(struct walk *w, unsigned depth, uint32_t ino, size_t name_off)
{
	set_report_path(w);
	unsigned long before = w->rep->count;
	int st = sv_inode_read(w->fs, ino, w->in);
	if (st != SV_OK && st != SV_ERR_CSUM) {
		if (depth == 0)
			return st;
		if (w->rep->count == before)
			sv_report(w->rep, SV_PB_INODE, ino, SV_NOBLOCK, "cannot read inode %u (%s); this entry is skipped",
				  ino, sv_strerror(st));
		return SV_OK;
	}
	if (w->in->mode == 0 || (w->in->links_count == 0 && w->in->dtime != 0)) {
		if (depth == 0)
			return SV_ERR_CORRUPT;
		sv_report(w->rep, SV_PB_DIR, ino, SV_NOBLOCK,
			  "the entry points to inode %u, which is not in use (deleted); it is skipped", ino);
		return SV_OK;
	}
	if ((w->in->mode & SV_IFMT) == SV_IFDIR)
		return visit_dir(w, depth, ino, name_off);
	return visit_file(w, depth, ino, name_off);
}

/* The top directory is done: LEAVE, then free what a big listing held. */
static int pop_frame(struct walk *w)
{
	struct frame *f = &w->fr[w->nfr - 1];
	unsigned depth = (unsigned)(w->nfr - 1);
	cut_path(w, f->plen);
	set_report_path(w);
	uint32_t *seen = sv_inomap_get(&w->dirs, f->in.ino);
	if (seen)
		*seen &= ~ON_PATH;
	struct sv_walk_entry e;
	fill_entry(w, &e, depth, f->name_off, f->in.ino, &f->in);
	int r = w->fn(w->ctx, SV_WALK_LEAVE, &e);
	if (f->list.cap > KEEP_ENTRIES)
		sv_dirlist_free(&f->list);
	w->nfr--;
	return r < 0 ? r : SV_OK;
}

/* Visit the next entry of the top directory, or leave it when it has no more. */
static int step(struct walk *w)
{
	struct frame *f = &w->fr[w->nfr - 1];
	if (f->next == f->list.n)
		return pop_frame(w);
	size_t i = f->next++;
	cut_path(w, f->plen);
	int st = append(w, "/", 1);
	size_t name_off = w->len;
	if (st == SV_OK)
		st = append(w, sv_dirlist_name(&f->list, i), f->list.v[i].name_len);
	if (st == SV_OK)
		st = visit(w, (unsigned)w->nfr, f->list.v[i].ino, name_off);
	return st;
}

int sv_walk(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_walk_opts *o, sv_walk_fn fn, void *ctx)
{
	struct sv_report dummy;
	memset(&dummy, 0, sizeof dummy);
	struct walk w;
	memset(&w, 0, sizeof w);
	w.fs = fs;
	w.rep = sv_fs_report(fs) ? sv_fs_report(fs) : &dummy;
	w.fn = fn;
	w.ctx = ctx;
	w.max_depth = o ? o->max_depth : 0;
	w.track_links = !(o && o->no_links);
	w.root_path = path && *path ? path : "/";
	w.budget = sv_fs_dev(fs)->size + 65536;
	const char *saved_path = w.rep->path;

	/* The prefix is the root path without trailing slashes ("" for "/"); the root's name is its
	 * last component. */
	size_t plen = strlen(w.root_path);
	while (plen > 0 && w.root_path[plen - 1] == '/')
		plen--;
	w.prefix_len = plen;
	size_t base = plen;
	while (base > 0 && w.root_path[base - 1] != '/')
		base--;
	int st = append(&w, w.root_path, plen);
	if (st == SV_OK && !(w.in = malloc(sizeof *w.in)))
		st = SV_ERR_NOMEM;
	if (st == SV_OK) {
		w.rel_off = w.len + 1;
		/* visit() takes the name from path + name_off up to len */
		st = visit(&w, 0, ino, base);
	}
	while (st == SV_OK && w.nfr)
		st = step(&w);
	w.rep->path = saved_path;
	links_free(&w.links);
	seen_free(&w.files);
	for (size_t i = 0; i < w.frcap; i++)
		sv_dirlist_free(&w.fr[i].list);
	free(w.fr);
	free(w.in);
	sv_inomap_free(&w.dirs);
	sv_pathtree_free(&w.tree);
	free(w.tmp);
	free(w.path);
	return st;
}

/* ---- selection ---- */
bool sv_select_skip(const struct sv_select *s, const struct sv_walk_entry *e, int *kind)
{
	if (!s || e->depth == 0)
		return false;
	for (size_t i = 0; i < s->nexclude; i++) {
		if (fnmatch(s->exclude[i], e->rel, 0) == 0 || fnmatch(s->exclude[i], e->name, 0) == 0) {
			*kind = SV_NOTE_EXCLUDED;
			return true;
		}
	}
	if ((e->in->mode & SV_IFMT) == SV_IFREG && s->max_size != UINT64_MAX && e->in->size > s->max_size) {
		*kind = SV_NOTE_TOO_BIG;
		return true;
	}
	return false;
}

struct sum {
	const struct sv_select *sel;
	uint64_t bytes;
};

static int sum_cb(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct sum *s = ctx;
	int kind;
	if (ev == SV_WALK_LEAVE)
		return 0;
	if (sv_select_skip(s->sel, e, &kind))
		return SV_WALK_SKIP;
	if (ev == SV_WALK_FILE && !e->link_rel && (e->in->mode & SV_IFMT) == SV_IFREG &&
	    !(e->in->flags & EXT4_ENCRYPT_FL))
		s->bytes += e->in->size;
	return 0;
}

int sv_tree_bytes(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_select *sel, uint64_t *bytes)
{
	struct sv_report *r = sv_fs_report(fs);
	struct sv_report saved;
	if (r) {
		saved = *r;
		r->fn = NULL;
	}
	struct sum s = { sel, 0 };
	int st = sv_walk(fs, ino, path, NULL, sum_cb, &s);
	if (r)
		*r = saved;
	if (st == SV_OK)
		*bytes = s.bytes;
	return st;
}
