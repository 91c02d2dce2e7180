/* cmd_ls.c: `salvage ls`, `salvage stat`, `salvage cat`: looking at files without copying them. */
#include "cli.h"
#include "../export/export.h"
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct ls_opts {
	bool lng, rec, json, all_inodes;
	int first_json;
};

static void print_entry(struct cli_src *s, struct ls_opts *lo, const char *dir, const char *name, size_t nlen,
			uint32_t ino, const struct sv_inode *in, bool have)
{
	char m[11], t[64], target[4097];
	size_t tl = 0;
	bool islnk = have && (in->mode & SV_IFMT) == SV_IFLNK;
	if (islnk && sv_symlink_read(s->fs, in, target, sizeof target, &tl) != SV_OK)
		tl = 0;
	if (lo->json) {
		printf("%s{\"path\":", lo->first_json ? "" : ",\n");
		lo->first_json = 0;
		size_t dl = strlen(dir);
		char *full = malloc(dl + nlen + 2);
		if (full) {
			memcpy(full, dir, dl);
			size_t k = dl;
			if (!dl || full[dl - 1] != '/')
				full[k++] = '/';
			memcpy(full + k, name, nlen);
			cli_json_str(stdout, full, k + nlen);
			free(full);
		}
		printf(",\"name\":");
		cli_json_str(stdout, name, nlen);
		printf(",\"inode\":%u", ino);
		if (have) {
			printf(",\"mode\":%u,\"type\":\"%c\",\"links\":%u,\"uid\":%u,\"gid\":%u,\"size\":%llu,"
			       "\"mtime\":%lld,\"mtime_ns\":%u", in->mode, cli_mode_string(in->mode, m)[0], in->links_count,
			       in->uid, in->gid, (unsigned long long)in->size, (long long)in->mtime, in->mtime_ns);
			if (islnk) {
				printf(",\"target\":");
				cli_json_str(stdout, target, tl);
			}
			if (in->flags & EXT4_ENCRYPT_FL)
				printf(",\"encrypted\":true");
		} else {
			printf(",\"error\":\"inode unreadable\"");
		}
		printf("}");
		return;
	}
	if (lo->lng) {
		if (have) {
			printf("%s %3u %6u %6u %12llu %.19s ", cli_mode_string(in->mode, m), in->links_count, in->uid, in->gid,
			       (unsigned long long)in->size, cli_fmt_time(in->mtime, in->mtime_ns, t, sizeof t));
		} else {
			printf("?????????? %3s %6s %6s %12s %19s ", "?", "?", "?", "?", "(inode unreadable)");
		}
	}
	cli_print_name(stdout, name, nlen);
	if (lo->lng && islnk) {
		printf(" -> ");
		cli_print_name(stdout, target, tl);
	}
	if (have && (in->flags & EXT4_ENCRYPT_FL))
		printf("  [encrypted]");
	printf("\n");
}

/* ls -R walks iteratively: one frame per directory on the current path, holding its entries
 * (names made safe and unique by sv_dirlist_read) in name order. Each directory inode is listed
 * once: a second name for it is reported with the first, never listed again. */
struct lsframe {
	struct sv_dirlist l;
	size_t *order;           /* entry indices sorted by name */
	size_t next;             /* the next entry (in order) to consider for descent */
	size_t plen;             /* length of this directory's path in lw.path */
	uint32_t node;           /* its path tree node */
	uint32_t ino;
};

struct lswalk {
	struct cli_src *s;
	struct ls_opts *lo;
	char *path;              /* the current directory's path */
	size_t len, cap;
	struct lsframe *fr;
	size_t n, frcap;
	struct sv_inomap dirs;   /* directory inode -> path tree node | LS_ON_PATH */
	struct sv_pathtree tree;
	char *tmp;
	size_t tmpcap;
	uint64_t budget;         /* directory entry bytes still allowed (the device's size) */
	bool budget_noted;
};
#define LS_ON_PATH 0x80000000u

static const struct sv_dirlist *sort_list;
static int order_cmp(const void *a, const void *b)
{
	return strcmp(sv_dirlist_name(sort_list, *(const size_t *)a), sv_dirlist_name(sort_list, *(const size_t *)b));
}

static bool path_set(struct lswalk *w, size_t len, const char *name, size_t nlen)
{
	bool slash = len && w->path[len - 1] != '/';
	size_t need = len + slash + nlen + 1;
	if (need > w->cap) {
		size_t nc = w->cap ? w->cap : 256;
		while (nc < need)
			nc *= 2;
		char *p = realloc(w->path, nc);
		if (!p)
			return false;
		w->path = p;
		w->cap = nc;
	}
	w->len = len;
	if (slash)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, nlen);
	w->len += nlen;
	w->path[w->len] = 0;
	return true;
}

/* Read and print the directory din (path in w->path) into a new frame. */
static bool list_push(struct lswalk *w, const struct sv_inode *din, uint32_t node)
{
	struct cli_src *s = w->s;
	struct ls_opts *lo = w->lo;
	if (w->n == w->frcap) {
		size_t nc = w->frcap ? w->frcap * 2 : 16;
		struct lsframe *f = realloc(w->fr, nc * sizeof *f);
		if (!f)
			return false;
		w->fr = f;
		w->frcap = nc;
	}
	struct lsframe *f = &w->fr[w->n];
	memset(f, 0, sizeof *f);
	f->plen = w->len;
	f->node = node;
	f->ino = din->ino;
	s->report.path = w->path;
	int st = sv_dirlist_read(s->fs, din, w->path, &w->budget, &f->l);
	if (st == SV_ERR_STOP && !w->budget_noted) {
		w->budget_noted = true;
		sv_report(&s->report, SV_PB_LOOP, din->ino, SV_NOBLOCK,
			  "the directories list more entries than the device has room for (directory blocks used "
			  "over and over); no more entries are read from here on");
	}
	s->report.path = NULL;
	if (st == SV_ERR_NOMEM || (f->l.n && !(f->order = malloc(f->l.n * sizeof *f->order)))) {
		fprintf(stderr, "salvage: out of memory listing %s\n", w->path);
		sv_dirlist_free(&f->l);
		free(f->order);
		return false;
	}
	for (size_t i = 0; i < f->l.n; i++)
		f->order[i] = i;
	sort_list = &f->l;
	if (f->l.n)
		qsort(f->order, f->l.n, sizeof *f->order, order_cmp);
	w->n++;
	if (lo->rec && !lo->json)
		printf("%s:\n", w->path);
	if ((din->flags & EXT4_ENCRYPT_FL) && !lo->json)
		printf("(encrypted directory: names below are stored ciphertext, shown escaped)\n");
	for (size_t k = 0; k < f->l.n; k++) {
		size_t i = f->order[k];
		struct sv_inode in;
		int rs = sv_inode_read(s->fs, f->l.v[i].ino, &in);
		print_entry(s, lo, w->path, sv_dirlist_name(&f->l, i), f->l.v[i].name_len, f->l.v[i].ino, &in,
			    rs == SV_OK || rs == SV_ERR_CSUM);
	}
	return true;
}

static void list_pop(struct lswalk *w)
{
	struct lsframe *f = &w->fr[--w->n];
	uint32_t *v = sv_inomap_get(&w->dirs, f->ino);
	if (v)
		*v &= ~LS_ON_PATH;
	sv_dirlist_free(&f->l);
	free(f->order);
}

/* The next subdirectory of the top frame: listed and pushed, or reported when it was already
 * listed (or is an ancestor). False when the top frame has none left. */
static bool descend(struct lswalk *w)
{
	struct cli_src *s = w->s;
	struct lsframe *f = &w->fr[w->n - 1];
	while (f->next < f->l.n) {
		size_t i = f->order[f->next++];
		uint32_t ino = f->l.v[i].ino;
		struct sv_inode in;
		int st = sv_inode_read(s->fs, ino, &in);
		if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFDIR)
			continue;
		if (!path_set(w, f->plen, sv_dirlist_name(&f->l, i), f->l.v[i].name_len))
			continue;
		uint32_t *seen = sv_inomap_get(&w->dirs, ino);
		s->report.path = w->path;
		if (seen && (*seen & LS_ON_PATH)) {
			sv_report(&s->report, SV_PB_LOOP, ino, SV_NOBLOCK,
				  "directory inode %u is its own ancestor (a directory cycle); not descending", ino);
		} else if (seen) {
			size_t rl = 0;
			bool ok = sv_pathtree_rel(&w->tree, *seen, &w->tmp, &w->tmpcap, &rl) == SV_OK;
			sv_report(&s->report, SV_PB_LOOP, ino, SV_NOBLOCK,
				  "directory inode %u has a second name here; it is listed under its first name, "
				  "%s%s%.150s, and not again", ino, w->s->path,
				  ok && rl && w->s->path[strlen(w->s->path) - 1] != '/' ? "/" : "", ok ? w->tmp : "?");
		}
		s->report.path = NULL;
		if (seen)
			continue;
		uint32_t node = sv_pathtree_add(&w->tree, f->node, sv_dirlist_name(&f->l, i), f->l.v[i].name_len);
		if (node >= LS_ON_PATH || sv_inomap_put(&w->dirs, ino, node | LS_ON_PATH) != SV_OK) {
			fprintf(stderr, "salvage: out of memory listing %s\n", w->path);
			return false;
		}
		if (!w->lo->json)
			printf("\n");
		return list_push(w, &in, node);
	}
	return false;
}

/* List directory din at path dir; with -R, everything below it too. */
static void list_tree(struct cli_src *s, struct ls_opts *lo, const char *dir, const struct sv_inode *din)
{
	struct lswalk w;
	memset(&w, 0, sizeof w);
	w.s = s;
	w.lo = lo;
	w.budget = sv_fs_dev(s->fs)->size + 65536;
	uint32_t root = sv_pathtree_add(&w.tree, 0, "", 0);
	if (root != SV_PATHTREE_NONE && path_set(&w, 0, dir, strlen(dir)) &&
	    sv_inomap_put(&w.dirs, din->ino, root | LS_ON_PATH) == SV_OK && list_push(&w, din, root)) {
		while (lo->rec && w.n) {
			if (!descend(&w))
				list_pop(&w);
		}
	}
	while (w.n)
		list_pop(&w);
	free(w.fr);
	free(w.path);
	free(w.tmp);
	sv_inomap_free(&w.dirs);
	sv_pathtree_free(&w.tree);
}

static void ls_help(void)
{
	printf("usage: salvage ls [-l] [-R] [--json] SOURCE[:PATH]\n\n"
	       "Lists a directory of the filesystem (sorted by name); -l long format with mode, links,\n"
	       "owner, group, size, modification time and symlink targets; -R recursive.\n");
}

/* -l, -R and their bundles (-lR) */
static int ls_flag(void *ctx, int argc, char **argv, int *i)
{
	(void)argc;
	struct ls_opts *lo = ctx;
	const char *a = argv[*i];
	if (a[0] != '-' || !a[1] || a[1] == '-')
		return 0;
	for (const char *f = a + 1; *f; f++) {
		if (*f == 'l')
			lo->lng = true;
		else if (*f == 'R')
			lo->rec = true;
		else {
			fprintf(stderr, "salvage ls: unknown option -%c (see --help)\n", *f);
			return -1;
		}
	}
	return 1;
}

int cmd_ls(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	struct ls_opts lo = { 0 };
	const char *arg;
	int pa = cli_parse_args(argc, argv, &o, ls_help, ls_flag, &lo, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	lo.json = o.json;
	lo.first_json = 1;
	struct cli_src s;
	int st = cli_open(arg, &o, &s);
	if (st != EXIT_DONE) {
		cli_close(&s);
		return st;
	}
	uint32_t ino;
	struct sv_inode in;
	st = cli_resolve(&s, &ino, &in);
	if (st == EXIT_DONE) {
		if (lo.json)
			printf("[");
		if ((in.mode & SV_IFMT) == SV_IFDIR) {
			list_tree(&s, &lo, s.path, &in);
		} else {
			const char *base = strrchr(s.path, '/');
			base = base ? base + 1 : s.path;
			print_entry(&s, &lo, s.path, base, strlen(base), ino, &in, true);
		}
		if (lo.json)
			printf("]\n");
	}
	int ex = cli_exit_status(&s, st);
	cli_close(&s);
	return ex;
}

static const char *type_word(uint16_t mode)
{
	switch (mode & SV_IFMT) {
	case SV_IFREG: return "regular file";
	case SV_IFDIR: return "directory";
	case SV_IFLNK: return "symbolic link";
	case SV_IFCHR: return "character device";
	case SV_IFBLK: return "block device";
	case SV_IFIFO: return "fifo";
	case SV_IFSOCK: return "socket";
	}
	return "unknown type";
}

struct xa_print {
	bool json;
	int n;
};

static int print_xattr(void *ctx, const struct sv_xattr *x)
{
	struct xa_print *p = ctx;
	if (p->json) {
		printf("%s", p->n++ ? "," : "");
		cli_json_str(stdout, x->name, strlen(x->name));
		printf(":");
		cli_json_str(stdout, (const char *)x->value, x->value_len);
	} else {
		printf("  %s = ", x->name);
		bool text = true;
		for (size_t i = 0; i < x->value_len; i++)
			if ((x->value[i] < 0x20 && !(i + 1 == x->value_len && x->value[i] == 0)) || x->value[i] >= 0x7f)
				text = false;
		if (text) {
			printf("\"%.*s\"", (int)(x->value_len && !x->value[x->value_len - 1] ? x->value_len - 1 : x->value_len),
			       (const char *)x->value);
		} else {
			printf("0x");
			for (size_t i = 0; i < x->value_len && i < 64; i++)
				printf("%02x", x->value[i]);
			if (x->value_len > 64)
				printf("... (%zu bytes)", x->value_len);
		}
		printf("\n");
	}
	return 0;
}

struct map_print {
	int n;
	bool json;
};

static int print_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct map_print *m = ctx;
	if (m->n++ >= 64)
		return m->json ? 1 : (printf("  ... (more extents)\n"), 1);
	if (m->json)
		printf("%s[%llu,%llu,%llu,%s]", m->n > 1 ? "," : "", (unsigned long long)lblk, (unsigned long long)pblk,
		       (unsigned long long)len, flags & SV_MAP_UNWRITTEN ? "true" : "false");
	else
		printf("  logical %llu-%llu -> blocks %llu-%llu%s\n", (unsigned long long)lblk,
		       (unsigned long long)(lblk + len - 1), (unsigned long long)pblk, (unsigned long long)(pblk + len - 1),
		       flags & SV_MAP_UNWRITTEN ? " (unwritten)" : "");
	return 0;
}

static void stat_help(void)
{
	printf("usage: salvage stat [--json] SOURCE:PATH\n\nEverything about one file: inode, type, mode, "
	       "owner, size, times to the nanosecond, flags, blocks, extended attributes.\n");
}

int cmd_stat(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	int pa = cli_parse_args(argc, argv, &o, stat_help, NULL, NULL, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	struct cli_src s;
	int st = cli_open(arg, &o, &s);
	if (st != EXIT_DONE) {
		cli_close(&s);
		return st;
	}
	uint32_t ino;
	struct sv_inode in;
	st = cli_resolve(&s, &ino, &in);
	if (st == EXIT_DONE) {
		char m[11], t[64], target[4097];
		size_t tl = 0;
		bool lnk = (in.mode & SV_IFMT) == SV_IFLNK;
		if (lnk)
			sv_symlink_read(s.fs, &in, target, sizeof target, &tl);
		uint32_t maj = 0, min = 0;
		sv_inode_devnum(&in, &maj, &min);
		bool dev = (in.mode & SV_IFMT) == SV_IFCHR || (in.mode & SV_IFMT) == SV_IFBLK;
		bool mapped = !lnk || tl >= 60 || in.blocks;
		mapped = mapped && !dev && !(in.flags & EXT4_INLINE_DATA_FL) &&
			 ((in.mode & SV_IFMT) == SV_IFREG || (in.mode & SV_IFMT) == SV_IFDIR || lnk);
		if (lnk && !(in.flags & EXT4_EXTENTS_FL) && tl < 60)
			mapped = false;
		if (o.json) {
			printf("{\"path\":");
			cli_json_str(stdout, s.path, strlen(s.path));
			printf(",\"inode\":%u,\"type\":\"%s\",\"mode\":%u,\"links\":%u,\"uid\":%u,\"gid\":%u,\"size\":%llu,"
			       "\"blocks_512\":%llu,\"flags\":%u,\"generation\":%u,\"atime\":%lld,\"atime_ns\":%u,"
			       "\"mtime\":%lld,\"mtime_ns\":%u,\"ctime\":%lld,\"ctime_ns\":%u",
			       ino, type_word(in.mode), in.mode & 07777, in.links_count, in.uid, in.gid,
			       (unsigned long long)in.size, (unsigned long long)in.blocks, in.flags, in.generation,
			       (long long)in.atime, in.atime_ns, (long long)in.mtime, in.mtime_ns, (long long)in.ctime,
			       in.ctime_ns);
			if (in.has_crtime)
				printf(",\"crtime\":%lld,\"crtime_ns\":%u", (long long)in.crtime, in.crtime_ns);
			if (lnk) {
				printf(",\"target\":");
				cli_json_str(stdout, target, tl);
			}
			if (dev)
				printf(",\"rdev_major\":%u,\"rdev_minor\":%u", maj, min);
			printf(",\"checksum_ok\":%s,\"encrypted\":%s,\"xattrs\":{", in.csum_ok ? "true" : "false",
			       in.flags & EXT4_ENCRYPT_FL ? "true" : "false");
			struct xa_print xp = { true, 0 };
			sv_xattr_iterate(s.fs, &in, print_xattr, &xp);
			printf("},\"extents\":[");
			struct map_print mp = { 0, true };
			if (mapped)
				sv_file_map(s.fs, &in, print_run, &mp);
			printf("]}\n");
		} else {
			printf("  Path: ");
			cli_print_name(stdout, s.path, strlen(s.path));
			if (lnk) {
				printf(" -> ");
				cli_print_name(stdout, target, tl);
			}
			printf("\n  Inode: %u   Type: %s   Mode: %04o (%s)   Links: %u\n", ino, type_word(in.mode),
			       in.mode & 07777, cli_mode_string(in.mode, m), in.links_count);
			printf("  Owner: uid %u, gid %u   Size: %llu   Blocks (512 B): %llu\n", in.uid, in.gid,
			       (unsigned long long)in.size, (unsigned long long)in.blocks);
			if (dev)
				printf("  Device: %u,%u\n", maj, min);
			printf("  Access: %s\n", cli_fmt_time(in.atime, in.atime_ns, t, sizeof t));
			printf("  Modify: %s\n", cli_fmt_time(in.mtime, in.mtime_ns, t, sizeof t));
			printf("  Change: %s\n", cli_fmt_time(in.ctime, in.ctime_ns, t, sizeof t));
			if (in.has_crtime)
				printf("  Birth:  %s\n", cli_fmt_time(in.crtime, in.crtime_ns, t, sizeof t));
			printf("  Flags: 0x%x%s%s%s%s%s   Generation: %u%s\n", in.flags,
			       in.flags & EXT4_EXTENTS_FL ? " extents" : "", in.flags & EXT4_INLINE_DATA_FL ? " inline" : "",
			       in.flags & EXT4_INDEX_FL ? " htree" : "", in.flags & EXT4_ENCRYPT_FL ? " encrypted" : "",
			       in.flags & EXT4_CASEFOLD_FL ? " casefold" : "", in.generation,
			       in.csum_ok ? "" : "   (inode checksum mismatch)");
			printf("  Extended attributes:\n");
			struct xa_print xp = { false, 0 };
			sv_xattr_iterate(s.fs, &in, print_xattr, &xp);
			if (mapped) {
				printf("  Blocks:\n");
				struct map_print mp = { 0, false };
				sv_file_map(s.fs, &in, print_run, &mp);
			}
		}
	}
	int ex = cli_exit_status(&s, st);
	cli_close(&s);
	return ex;
}

/* cat into a regular file: only the mapped runs are written (at their offsets from where stdout
 * stands), holes are left as holes and the size set at the end, so a huge sparse file costs what its
 * data costs. Reads still go through sv_file_read, which applies the reader's once-per-file rules. */
struct cat_out {
	struct sv_fs *fs;
	const struct sv_inode *in;
	int fd;
	off_t base;
	uint8_t *buf;
	size_t chunk;
	int st;
};

static int cat_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t n, unsigned flags)
{
	struct cat_out *c = ctx;
	uint64_t bs = sv_fs_block_size(c->fs);
	uint64_t off = lblk * bs, end = (lblk + n) * bs;
	(void)pblk;
	if (flags & SV_MAP_UNWRITTEN)
		return 0;
	if (end > c->in->size)
		end = c->in->size;
	for (; off < end; off += c->chunk) {
		size_t len = end - off < c->chunk ? (size_t)(end - off) : c->chunk;
		sv_file_read(c->fs, c->in, off, c->buf, len);
		if (pwrite(c->fd, c->buf, len, c->base + (off_t)off) != (ssize_t)len) {
			c->st = -1;
			return 1;
		}
	}
	return 0;
}

/* 1 when the whole file went out sparse, 0 when stdout is not a plain seekable file (the caller
 * writes every byte), -1 on a write error. */
static int cat_sparse(struct sv_fs *fs, const struct sv_inode *in, uint8_t *buf, size_t chunk)
{
	struct stat sb;
	int fl = fcntl(1, F_GETFL);
	if ((in->flags & EXT4_INLINE_DATA_FL) || fstat(1, &sb) != 0 || !S_ISREG(sb.st_mode) || fl < 0 ||
	    (fl & O_APPEND))
		return 0;
	off_t base = lseek(1, 0, SEEK_CUR);
	if (base < 0 || (uint64_t)base + in->size > (uint64_t)INT64_MAX)
		return 0;
	struct cat_out c = { fs, in, 1, base, buf, chunk, 0 };
	sv_file_map(fs, in, cat_run, &c);   /* damage is reported by the reader */
	if (c.st)
		return -1;
	off_t end = base + (off_t)in->size;
	if (fstat(1, &sb) != 0 || (sb.st_size < end && ftruncate(1, end) != 0) || lseek(1, end, SEEK_SET) < 0)
		return -1;
	return 1;
}

static void cat_help(void)
{
	printf("usage: salvage cat SOURCE:PATH\n\nWrites the file's content to stdout (holes as zeros).\n");
}

int cmd_cat(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	int pa = cli_parse_args(argc, argv, &o, cat_help, NULL, NULL, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	struct cli_src s;
	int st = cli_open(arg, &o, &s);
	if (st != EXIT_DONE) {
		cli_close(&s);
		return st;
	}
	uint32_t ino;
	struct sv_inode in;
	st = cli_resolve(&s, &ino, &in);
	if (st == EXIT_DONE) {
		uint16_t t = in.mode & SV_IFMT;
		if (t == SV_IFLNK) {
			char target[4097];
			size_t tl = 0;
			if (sv_symlink_read(s.fs, &in, target, sizeof target, &tl) == SV_OK)
				fwrite(target, 1, tl, stdout);
		} else if (t != SV_IFREG) {
			fprintf(stderr, "salvage cat: %s is a %s, not a regular file\n", s.path, type_word(in.mode));
			st = EXIT_USAGE;
		} else if (in.flags & EXT4_ENCRYPT_FL) {
			fprintf(stderr, "salvage cat: %s is encrypted and salvage has no key; its content cannot be shown\n",
				s.path);
			st = EXIT_DAMAGED;
		} else {
			size_t chunk = 1u << 20;
			uint8_t *buf = malloc(chunk);
			s.report.path = s.path;
			fflush(stdout);
			int sp = buf ? cat_sparse(s.fs, &in, buf, chunk) : 0;
			if (sp < 0) {
				fprintf(stderr, "salvage cat: write error on stdout\n");
				st = EXIT_DAMAGED;
			}
			for (uint64_t off = 0; buf && sp == 0 && off < in.size; off += chunk) {
				size_t n = in.size - off < chunk ? (size_t)(in.size - off) : chunk;
				sv_file_read(s.fs, &in, off, buf, n);
				if (fwrite(buf, 1, n, stdout) != n) {
					fprintf(stderr, "salvage cat: write error on stdout\n");
					st = EXIT_DAMAGED;
					break;
				}
			}
			s.report.path = NULL;
			free(buf);
		}
	}
	fflush(stdout);
	int ex = cli_exit_status(&s, st);
	cli_close(&s);
	return ex;
}
