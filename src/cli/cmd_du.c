/* cmd_du.c: `salvage du SOURCE[:PATH]`: how big each subtree is, before anyone copies it.
 * Sizes are summed on the way back up the walk, so memory is one counter per level; the walk
 * enters each directory once, so a directory with two names is counted once. */
#include "cli.h"
#include "../export/export.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: salvage du [options] SOURCE[:PATH]\n"
		"Show how much each subtree holds, like `du -h --max-depth=1`: the apparent size (the bytes a copy\n"
		"will contain) and the allocated size (what the files use on the source, i_blocks x 512).\n"
		"Hard-linked files are counted once. Output is children first, the total last.\n"
		"\n"
		"  -a, --all          list files too, not only directories\n"
		"  -d N, --max-depth N  list entries down to N levels below PATH (default 1; 0: the total only)\n"
		"  -b, --bytes        exact byte counts instead of KiB/MiB/GiB\n"
		"  --json             one JSON object: {\"entries\":[{\"path\",\"type\",\"apparent\",\"allocated\",\n"
		"                     \"files\",\"dirs\"}...]}\n"
		"  -p N, --partition N, --offset BYTES, --superblock N --block-size B, --journal FILE, --no-replay\n"
		"                     pick the filesystem (see `salvage --help`)\n"
		"\n"
		"Exit status: 0 done, 1 something was damaged (the sizes leave out what could not be read), 2 usage,\n"
		"3 source unreadable.\n");
}

struct acc {
	uint64_t apparent, allocated, files, dirs;
};

struct du {
	bool all, bytes, json, first;
	unsigned max_depth;
	struct acc *lv;          /* one accumulator per directory level on the current path */
	size_t nlv;
	bool nomem;
};

static void print_size(uint64_t v, bool bytes)
{
	char b[32];
	if (bytes)
		printf("%14llu", (unsigned long long)v);
	else
		printf("%10s", sv_human_size(v, b, sizeof b));
}

static void print_line(struct du *d, const struct sv_walk_entry *e, const struct acc *a, bool dir)
{
	if (d->json) {
		printf("%s\n{\"path\":", d->first ? "" : ",");
		d->first = false;
		cli_json_str(stdout, e->path, strlen(e->path));
		printf(",\"type\":\"%s\",\"apparent\":%llu,\"allocated\":%llu,\"files\":%llu,\"dirs\":%llu}",
		       dir ? "dir" : "file", (unsigned long long)a->apparent, (unsigned long long)a->allocated,
		       (unsigned long long)a->files, (unsigned long long)a->dirs);
		return;
	}
	print_size(a->apparent, d->bytes);
	printf("  ");
	print_size(a->allocated, d->bytes);
	printf("  ");
	cli_print_name(stdout, e->path, strlen(e->path));
	if (dir && strcmp(e->path, "/"))
		putchar('/');
	putchar('\n');
}

static int du_entry(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct du *d = ctx;
	const struct sv_inode *in = e->in;
	if (ev == SV_WALK_ENTER) {
		if (e->depth >= d->nlv) {
			size_t n = d->nlv ? d->nlv * 2 : 32;
			while (n <= e->depth)
				n *= 2;
			struct acc *l = realloc(d->lv, n * sizeof *l);
			if (!l) {
				d->nomem = true;
				return SV_ERR_NOMEM;
			}
			d->lv = l;
			d->nlv = n;
		}
		/* a second name of a directory counted elsewhere adds nothing (it is sent empty) */
		d->lv[e->depth] = e->repeat ? (struct acc){ 0, 0, 0, 0 } : (struct acc){ in->size, in->blocks * 512, 0, 1 };
		return 0;
	}
	if (ev == SV_WALK_LEAVE) {
		struct acc *a = &d->lv[e->depth];
		if (e->depth <= d->max_depth)
			print_line(d, e, a, true);
		if (e->depth > 0) {
			struct acc *p = &d->lv[e->depth - 1];
			p->apparent += a->apparent;
			p->allocated += a->allocated;
			p->files += a->files;
			p->dirs += a->dirs;
		}
		return 0;
	}
	if (e->link_rel)
		return 0;  /* the same inode was counted at its first name */
	struct acc a = { (in->mode & SV_IFMT) == SV_IFREG || (in->mode & SV_IFMT) == SV_IFLNK ? in->size : 0,
			 in->blocks * 512, 1, 0 };
	if (e->depth > 0) {
		struct acc *p = &d->lv[e->depth - 1];
		p->apparent += a.apparent;
		p->allocated += a.allocated;
		p->files++;
	}
	if (e->depth == 0 || (d->all && e->depth <= d->max_depth))
		print_line(d, e, &a, false);
	return 0;
}

int cmd_du(int argc, char **argv)
{
	struct cli_src_opts so;
	cli_src_opts_init(&so);
	struct du d;
	memset(&d, 0, sizeof d);
	d.max_depth = 1;
	d.first = true;
	const char *src = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			if (src) {
				fprintf(stderr, "salvage du: one source only ('%s'); usage: salvage du SOURCE[:PATH]\n", a);
				return EXIT_USAGE;
			}
			src = a;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_DONE;
		} else if (!strcmp(a, "-a") || !strcmp(a, "--all")) {
			d.all = true;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--bytes")) {
			d.bytes = true;
		} else if (!strcmp(a, "-d") || !strcmp(a, "--max-depth") || !strncmp(a, "--max-depth=", 12) ||
			   (!strncmp(a, "-d", 2) && a[2])) {
			const char *v = !strncmp(a, "--max-depth=", 12) ? a + 12
					: (a[1] == 'd' && a[2]) ? a + 2
					: (i + 1 < argc ? argv[++i] : NULL);
			char *end;
			errno = 0;
			long n = v ? strtol(v, &end, 10) : -1;
			if (!v || errno || *end || n < 0 || n > 100000) {
				fprintf(stderr, "salvage du: --max-depth needs a number of levels (0 for the total only)\n");
				return EXIT_USAGE;
			}
			d.max_depth = (unsigned)n;
		} else {
			int r = cli_parse_src_opt(argc, argv, &i, &so);
			if (r < 0)
				return EXIT_USAGE;
			if (r == 0) {
				fprintf(stderr, "salvage du: unknown option '%s' (see `salvage du --help`)\n", a);
				return EXIT_USAGE;
			}
		}
	}
	if (!src) {
		fprintf(stderr, "salvage du: needs a source: salvage du SOURCE[:PATH] (see `salvage du --help`)\n");
		return EXIT_USAGE;
	}
	d.json = so.json;
	struct cli_src s;
	int r = cli_open(src, &so, &s);
	if (r != EXIT_DONE) {
		cli_close(&s);
		return r;
	}
	uint32_t ino;
	struct sv_inode in;
	r = cli_resolve(&s, &ino, &in);
	if (r != EXIT_DONE) {
		cli_close(&s);
		return r;
	}
	if (d.json)
		printf("{\"entries\":[");
	else
		printf("%*s  %*s  %s\n", d.bytes ? 14 : 10, "SIZE", d.bytes ? 14 : 10, "ON DISK", "PATH");
	int ws = sv_walk(s.fs, ino, s.path, NULL, du_entry, &d);
	if (d.json)
		printf("\n],\"problems\":%lu}\n", s.report.errors);
	int status = EXIT_DONE;
	if (ws != SV_OK) {
		fprintf(stderr, "salvage du: the walk stopped: %s\n", sv_strerror(ws));
		status = ws == SV_ERR_NOMEM ? EXIT_UNREADABLE : EXIT_DAMAGED;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "salvage du: writing the output failed\n");
		status = EXIT_DAMAGED;
	}
	free(d.lv);
	status = cli_exit_status(&s, status);
	cli_close(&s);
	return status;
}
