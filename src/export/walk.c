/* walk.c: the depth-first tree walker shared by cp, tar and du: cycle detection on the current
 * path, hard-link memory for multiply-linked inodes only, and names made safe to write. */
#include "internal.h"
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_DEPTH 2048

/* ---- hard links: open addressing on the inode number, linear probing, backward-shift delete ---- */
struct link_rec {
	uint32_t ino;       /* 0: empty slot */
	uint32_t left;      /* links not seen yet */
	char *rel;
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

static int link_add(struct links *l, uint32_t ino, uint32_t left, const char *rel, size_t rel_len)
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
	char *copy = malloc(rel_len + 1);
	if (!copy)
		return SV_ERR_NOMEM;
	memcpy(copy, rel, rel_len + 1);
	size_t i = link_slot(l, ino);
	while (l->t[i].ino)
		i = (i + 1) & (l->cap - 1);
	l->t[i].ino = ino;
	l->t[i].left = left;
	l->t[i].rel = copy;
	l->n++;
	return SV_OK;
}

/* Remove r and shift later members of its probe run back so lookups still find them. */
static void link_del(struct links *l, struct link_rec *r)
{
	size_t i = (size_t)(r - l->t);
	free(r->rel);
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
			free(l->t[i].rel);
	free(l->t);
}

/* ---- the walk ---- */
struct walk {
	struct sv_fs *fs;
	struct sv_report *rep;
	sv_walk_fn fn;
	void *ctx;
	unsigned max_depth;
	bool track_links;
	const char *root_path;    /* as given, for the root's messages */
	char *path;               /* prefix + "/" + rel */
	size_t len, cap;
	size_t rel_off;           /* where rel starts in path for depth >= 1 */
	uint32_t *dirs;           /* directory inodes on the current path, by depth */
	struct sv_inode **in;     /* one inode buffer per depth */
	size_t levels;            /* allocated entries in dirs and in */
	struct links links;
	int stop;                 /* a negative status that ends the walk */
};

struct level {
	struct walk *w;
	unsigned depth;           /* of the directory being listed */
	size_t plen;              /* path length of that directory */
};

static void set_report_path(struct walk *w)
{
	w->rep->path = w->len ? w->path : w->root_path;
}

static int reserve_level(struct walk *w, unsigned depth)
{
	if (depth < w->levels)
		return SV_OK;
	size_t n = w->levels ? w->levels * 2 : 16;
	while (n <= depth)
		n *= 2;
	uint32_t *d = realloc(w->dirs, n * sizeof *d);
	if (!d)
		return SV_ERR_NOMEM;
	w->dirs = d;
	struct sv_inode **in = realloc(w->in, n * sizeof *in);
	if (!in)
		return SV_ERR_NOMEM;
	w->in = in;
	for (size_t i = w->levels; i < n; i++)
		w->in[i] = NULL;
	w->levels = n;
	return SV_OK;
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

static bool bad_name(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return true;
	return memchr(s, '/', n) || memchr(s, 0, n);
}

static int visit(struct walk *w, unsigned depth, uint32_t ino, size_t name_off);

static int walk_dir(struct walk *w, unsigned depth, const struct sv_inode *dir);

static int dir_entry(void *ctx, const struct sv_dirent *de)
{
	struct level *lv = ctx;
	struct walk *w = lv->w;
	/* "." and ".." are skipped; one that says it is not a directory is damage, and its file is
	 * kept under a safe name below */
	bool dots = (de->name_len == 1 && de->name[0] == '.') ||
		    (de->name_len == 2 && de->name[0] == '.' && de->name[1] == '.');
	if (dots && (de->file_type == EXT4_FT_DIR || de->file_type == EXT4_FT_UNKNOWN))
		return 0;
	w->len = lv->plen;
	int st = append(w, "/", 1);
	size_t name_off = w->len;
	if (st == SV_OK && bad_name(de->name, de->name_len)) {
		char repl[40];
		int n = snprintf(repl, sizeof repl, "__salvage_badname_%u", de->ino);
		st = append(w, repl, (size_t)n);
		set_report_path(w);
		sv_report(w->rep, SV_PB_DIR, de->ino, SV_NOBLOCK,
			  "directory inode %u has an entry for inode %u whose name (%u bytes) cannot be used as a "
			  "file name; it is written as \"%s\"", w->dirs[lv->depth], de->ino, de->name_len, repl);
	} else if (st == SV_OK) {
		st = append(w, de->name, de->name_len);
	}
	if (st == SV_OK)
		st = visit(w, lv->depth + 1, de->ino, name_off);
	w->len = lv->plen;
	if (w->path)
		w->path[w->len] = 0;
	set_report_path(w);
	if (st < 0) {
		if (!w->stop)
			w->stop = st;
		return st;
	}
	return 0;
}

static int walk_dir(struct walk *w, unsigned depth, const struct sv_inode *dir)
{
	if (dir->flags & EXT4_ENCRYPT_FL) {
		sv_report(w->rep, SV_PB_ENCRYPTED, dir->ino, SV_NOBLOCK,
			  "directory inode %u is encrypted and there is no key; its entries are not listed", dir->ino);
		return SV_OK;
	}
	struct level lv = { w, depth, w->len };
	int st = sv_dir_iterate(w->fs, dir, dir_entry, &lv);
	if (w->stop)
		return w->stop;
	if (st == SV_ERR_NOMEM)
		return st;
	/* Other failures (damage, read errors) were reported by the reader; the walk goes on. */
	return SV_OK;
}

static int visit(struct walk *w, unsigned depth, uint32_t ino, size_t name_off)
{
	int st = reserve_level(w, depth);
	if (st)
		return st;
	if (!w->in[depth] && !(w->in[depth] = malloc(sizeof(struct sv_inode))))
		return SV_ERR_NOMEM;
	struct sv_inode *in = w->in[depth];
	set_report_path(w);
	unsigned long before = w->rep->count;
	st = sv_inode_read(w->fs, ino, in);
	if (st != SV_OK && st != SV_ERR_CSUM) {
		if (depth == 0)
			return st;
		if (w->rep->count == before)
			sv_report(w->rep, SV_PB_INODE, ino, SV_NOBLOCK, "cannot read inode %u (%s); this entry is skipped",
				  ino, sv_strerror(st));
		return SV_OK;
	}
	if (in->mode == 0 || (in->links_count == 0 && in->dtime != 0)) {
		if (depth == 0)
			return SV_ERR_CORRUPT;
		sv_report(w->rep, SV_PB_DIR, ino, SV_NOBLOCK,
			  "the entry points to inode %u, which is not in use (deleted); it is skipped", ino);
		return SV_OK;
	}
	struct sv_walk_entry e;
	memset(&e, 0, sizeof e);
	e.path = depth ? w->path : w->root_path;
	e.rel = depth ? w->path + w->rel_off : "";
	e.rel_len = depth ? w->len - w->rel_off : 0;
	e.name = w->path + name_off;
	e.name_len = w->len - name_off;
	e.ino = ino;
	e.in = in;
	e.depth = depth;
	bool is_dir = (in->mode & SV_IFMT) == SV_IFDIR;
	if (is_dir) {
		for (unsigned i = 0; i < depth; i++) {
			if (w->dirs[i] == ino) {
				sv_report(w->rep, SV_PB_LOOP, ino, SV_NOBLOCK,
					  "directory inode %u is also one of its own parents (a directory cycle); this "
					  "entry is skipped", ino);
				return SV_OK;
			}
		}
		if (depth > w->max_depth) {
			sv_report(w->rep, SV_PB_LOOP, ino, SV_NOBLOCK,
				  "directory nested deeper than %u levels; it is skipped (a cycle through damaged "
				  "directories is likely)", w->max_depth);
			return SV_OK;
		}
		w->dirs[depth] = ino;
		int r = w->fn(w->ctx, SV_WALK_ENTER, &e);
		if (r < 0)
			return r;
		if (r == SV_WALK_SKIP)
			return SV_OK;
		if ((st = walk_dir(w, depth, in)) < 0)
			return st;
		/* the listing may have moved w->path (realloc): point the entry at it again */
		if (depth) {
			e.path = w->path;
			e.rel = w->path + w->rel_off;
		}
		e.name = w->path + name_off;
		set_report_path(w);
		r = w->fn(w->ctx, SV_WALK_LEAVE, &e);
		return r < 0 ? r : SV_OK;
	}
	struct link_rec *lr = NULL;
	if (w->track_links && in->links_count > 1 && depth > 0) {
		lr = link_find(&w->links, ino);
		if (lr)
			e.link_rel = lr->rel;
	}
	int r = w->fn(w->ctx, SV_WALK_FILE, &e);
	if (r < 0)
		return r;
	if (lr) {
		if (--lr->left == 0)
			link_del(&w->links, lr);
	} else if (r == 0 && w->track_links && in->links_count > 1 && depth > 0) {
		if ((st = link_add(&w->links, ino, in->links_count - 1u, e.rel, e.rel_len)) < 0)
			return st;
	}
	return SV_OK;
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
	w.max_depth = o && o->max_depth ? o->max_depth : DEFAULT_MAX_DEPTH;
	w.track_links = !(o && o->no_links);
	w.root_path = path && *path ? path : "/";
	const char *saved_path = w.rep->path;

	/* The prefix is the root path without trailing slashes ("" for "/"); the root's name is its
	 * last component. */
	size_t plen = strlen(w.root_path);
	while (plen > 0 && w.root_path[plen - 1] == '/')
		plen--;
	size_t base = plen;
	while (base > 0 && w.root_path[base - 1] != '/')
		base--;
	int st = append(&w, w.root_path, plen);
	if (st == SV_OK) {
		w.rel_off = w.len + 1;
		/* visit() takes the name from path + name_off up to len */
		st = visit(&w, 0, ino, base);
	}
	w.rep->path = saved_path;
	links_free(&w.links);
	for (size_t i = 0; i < w.levels; i++)
		free(w.in[i]);
	free(w.in);
	free(w.dirs);
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
