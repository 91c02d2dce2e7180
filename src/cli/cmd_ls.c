/* cmd_ls.c: `salvage ls`, `salvage stat`, `salvage cat`: looking at files without copying them. */
#include "cli.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ent {
	uint32_t ino;
	uint8_t type;
	char *name;
	uint16_t len;
};

struct entlist {
	struct ent *v;
	size_t n, cap;
	bool nomem;
};

static int collect(void *ctx, const struct sv_dirent *de)
{
	struct entlist *l = ctx;
	if ((de->name_len == 1 && de->name[0] == '.') || (de->name_len == 2 && !memcmp(de->name, "..", 2)))
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct ent *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) {
			l->nomem = true;
			return 1;
		}
		l->v = nv;
		l->cap = nc;
	}
	char *nm = malloc(de->name_len + 1u);
	if (!nm) {
		l->nomem = true;
		return 1;
	}
	memcpy(nm, de->name, de->name_len + 1u);
	l->v[l->n++] = (struct ent){ de->ino, de->file_type, nm, de->name_len };
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static void entlist_free(struct entlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

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

/* List directory dir_ino (path shown as dir); recurse with -R. depth bounds recursion; the inode
 * numbers on the current path are kept to refuse cycles. */
static void list_dir(struct cli_src *s, struct ls_opts *lo, const char *dir, uint32_t dir_ino,
		     const struct sv_inode *din, uint32_t *stack, int depth)
{
	struct entlist l = { 0 };
	s->report.path = dir;
	sv_dir_iterate(s->fs, din, collect, &l);
	s->report.path = NULL;
	if (l.nomem)
		fprintf(stderr, "salvage: out of memory listing %s\n", dir);
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, ent_cmp);
	if (lo->rec && !lo->json)
		printf("%s:\n", dir);
	if ((din->flags & EXT4_ENCRYPT_FL) && !lo->json)
		printf("(encrypted directory: names below are stored ciphertext, shown escaped)\n");
	for (size_t i = 0; i < l.n; i++) {
		struct sv_inode in;
		int st = sv_inode_read(s->fs, l.v[i].ino, &in);
		print_entry(s, lo, dir, l.v[i].name, l.v[i].len, l.v[i].ino, &in, st == SV_OK || st == SV_ERR_CSUM);
	}
	if (lo->rec) {
		stack[depth] = dir_ino;
		for (size_t i = 0; i < l.n; i++) {
			struct sv_inode in;
			int st = sv_inode_read(s->fs, l.v[i].ino, &in);
			if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFDIR)
				continue;
			bool loop = false;
			for (int k = 0; k <= depth; k++)
				loop |= stack[k] == l.v[i].ino;
			size_t dl = strlen(dir);
			char *sub = malloc(dl + l.v[i].len + 2);
			if (!sub)
				continue;
			sprintf(sub, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", l.v[i].name);
			if (loop || depth + 1 >= 4096) {
				s->report.path = sub;
				sv_report(&s->report, SV_PB_LOOP, l.v[i].ino, SV_NOBLOCK,
					  "directory inode %u is its own ancestor (a directory cycle); not descending", l.v[i].ino);
				s->report.path = NULL;
			} else {
				if (!lo->json)
					printf("\n");
				list_dir(s, lo, sub, l.v[i].ino, &in, stack, depth + 1);
			}
			free(sub);
		}
	}
	entlist_free(&l);
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
			uint32_t *stack = malloc(4096 * sizeof *stack);
			if (stack)
				list_dir(&s, &lo, s.path, ino, &in, stack, 0);
			free(stack);
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
			for (uint64_t off = 0; buf && off < in.size; off += chunk) {
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
