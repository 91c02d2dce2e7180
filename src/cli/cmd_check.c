/* cmd_check.c: `salvage check`: a read-only consistency check like `e2fsck -fn` that names the
 * damaged files. Prints the problems grouped by file, a summary, and a verdict (or --json).
 * Exit status: 0 clean, 1 problems found, 2 usage, 3 unreadable. */
#include "cli.h"
#include "../check/check.h"
#include <stdlib.h>
#include <string.h>

static void help(void)
{
	printf("usage: salvage check [--json] [--max N] [-p N] [--offset B] [--no-replay] [--journal FILE] SOURCE\n\n"
	       "Checks the whole filesystem without writing anything, like `e2fsck -fn`: superblock and backups,\n"
	       "group descriptors, inodes, extent trees and block maps, blocks claimed twice, directories,\n"
	       "link counts, unreachable inodes, bitmaps and free counts, the orphan list and the journal.\n"
	       "Problems are listed by file path. --max N keeps at most N problems (default 10000).\n"
	       "Exit status: 0 clean, 1 problems found, 3 unreadable.\n");
}

static const struct sv_check_result *sort_res;

static int cmp_pb(const void *a, const void *b)
{
	const struct sv_check_problem *x = &sort_res->problems[*(const size_t *)a];
	const struct sv_check_problem *y = &sort_res->problems[*(const size_t *)b];
	if ((x->ino == 0) != (y->ino == 0))
		return x->ino == 0 ? -1 : 1;
	if (x->ino != y->ino) {
		int c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
		if (c)
			return c;
		return x->ino < y->ino ? -1 : 1;
	}
	/* keep the order found within one file */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void verdict(FILE *f, const struct sv_check_result *r)
{
	if (!r->errors) {
		fprintf(f, "clean");
		return;
	}
	fprintf(f, "%lu problem%s in %lu file%s", r->errors, r->errors == 1 ? "" : "s", r->files_affected,
		r->files_affected == 1 ? "" : "s");
	if (r->fs_errors)
		fprintf(f, " and the filesystem's own metadata");
}

static void print_text(const char *src, const struct sv_check_result *r, const size_t *idx)
{
	uint32_t cur = UINT32_MAX;
	for (size_t k = 0; k < r->nproblems; k++) {
		const struct sv_check_problem *p = &r->problems[idx[k]];
		if (p->ino != cur) {
			cur = p->ino;
			if (p->ino == 0)
				printf("filesystem:\n");
			else {
				const char *path = p->path ? p->path : "?";
				cli_print_name(stdout, path, strlen(path));
				printf(" (inode %u):\n", p->ino);
			}
		}
		printf("  %s %s: %s", p->severity == SV_CHECK_ERROR ? "error" : "note ", sv_check_kind_id(p->kind),
		       p->msg);
		if (p->block != SV_NOBLOCK && !strstr(p->msg, "block"))
			printf(" (block %llu)", (unsigned long long)p->block);
		printf("\n");
	}
	if (r->dropped)
		printf("(%lu more problems not listed: --max raises the limit)\n", r->dropped);
	printf("\nsummary for %s: %u of %u inodes in use (%u directories), %llu of %llu blocks in use\n", src,
	       r->inodes_used, r->inodes_count, r->dirs, (unsigned long long)r->blocks_used,
	       (unsigned long long)r->blocks_count);
	for (int k = 0; k < SV_CK__COUNT; k++)
		if (r->by_kind[k] || r->notes_by_kind[k]) {
			printf("  %-18s %6lu error%s", sv_check_kind_id(k), r->by_kind[k], r->by_kind[k] == 1 ? " " : "s");
			if (r->notes_by_kind[k])
				printf(", %lu note%s", r->notes_by_kind[k], r->notes_by_kind[k] == 1 ? "" : "s");
			printf("  (%s)\n", sv_check_kind_desc(k));
		}
	printf("  files affected: %lu\n", r->files_affected);
	printf("verdict: ");
	verdict(stdout, r);
	if (r->notes)
		printf(" (%lu note%s)", r->notes, r->notes == 1 ? "" : "s");
	printf("\n");
}

static void print_json(const char *src, const struct sv_check_result *r, const size_t *idx)
{
	printf("{\"source\":");
	cli_json_str(stdout, src, strlen(src));
	printf(",\"clean\":%s,\"verdict\":\"", r->errors ? "false" : "true");
	verdict(stdout, r);
	printf("\",\"errors\":%lu,\"notes\":%lu,\"files_affected\":%lu,\"fs_errors\":%lu,\"dropped\":%lu,", r->errors,
	       r->notes, r->files_affected, r->fs_errors, r->dropped);
	printf("\"inodes_count\":%u,\"inodes_used\":%u,\"dirs\":%u,\"blocks_count\":%llu,\"blocks_used\":%llu,"
	       "\"block_size\":%u,", r->inodes_count, r->inodes_used, r->dirs, (unsigned long long)r->blocks_count,
	       (unsigned long long)r->blocks_used, r->block_size);
	printf("\"errors_by_kind\":{");
	bool first = true;
	for (int k = 0; k < SV_CK__COUNT; k++)
		if (r->by_kind[k]) {
			printf("%s\"%s\":%lu", first ? "" : ",", sv_check_kind_id(k), r->by_kind[k]);
			first = false;
		}
	printf("},\"notes_by_kind\":{");
	first = true;
	for (int k = 0; k < SV_CK__COUNT; k++)
		if (r->notes_by_kind[k]) {
			printf("%s\"%s\":%lu", first ? "" : ",", sv_check_kind_id(k), r->notes_by_kind[k]);
			first = false;
		}
	printf("},\"problems\":[");
	for (size_t k = 0; k < r->nproblems; k++) {
		const struct sv_check_problem *p = &r->problems[idx[k]];
		printf("%s\n{\"kind\":\"%s\",\"severity\":\"%s\",\"ino\":%u,", k ? "," : "", sv_check_kind_id(p->kind),
		       p->severity == SV_CHECK_ERROR ? "error" : "note", p->ino);
		if (p->block != SV_NOBLOCK)
			printf("\"block\":%llu,", (unsigned long long)p->block);
		else
			printf("\"block\":null,");
		if (p->group != UINT32_MAX)
			printf("\"group\":%u,", p->group);
		printf("\"path\":");
		if (p->path)
			cli_json_str(stdout, p->path, strlen(p->path));
		else
			printf("null");
		printf(",\"message\":");
		cli_json_str(stdout, p->msg, strlen(p->msg));
		printf("}");
	}
	printf("]}\n");
}

/* --max N / -n N: how many problems to keep */
static int max_flag(void *ctx, int argc, char **argv, int *i)
{
	struct sv_check_opts *co = ctx;
	if (strcmp(argv[*i], "--max") && strcmp(argv[*i], "-n"))
		return 0;
	char *end;
	if (*i + 1 >= argc || (co->max_problems = strtoul(argv[*i + 1], &end, 10)) == 0 || *end) {
		fprintf(stderr, "salvage check: --max needs a positive number\n");
		return -1;
	}
	++*i;
	return 1;
}

int cmd_check(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	struct sv_check_opts co = { 0 };
	int pa = cli_parse_args(argc, argv, &o, help, max_flag, &co, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	/* check reports every problem itself, grouped by file; a small cache keeps its memory near e2fsck's */
	o.no_problem_print = true;
	o.cache_bytes = 256u << 10;
	struct cli_src s;
	int st = cli_open(arg, &o, &s);
	if (st != EXIT_DONE) {
		cli_close(&s);
		return st;
	}
	struct sv_check_result *r = NULL;
	int cs = sv_check_run(s.fs, &co, &r);
	if (cs != SV_OK) {
		fprintf(stderr, "salvage check: %s: cannot check this filesystem: %s\n", s.source, sv_strerror(cs));
		cli_close(&s);
		return EXIT_UNREADABLE;
	}
	r->journal_replayed = s.replayed;
	size_t *idx = malloc((r->nproblems + 1) * sizeof *idx);
	if (!idx) {
		sv_check_result_free(r);
		cli_close(&s);
		return EXIT_UNREADABLE;
	}
	for (size_t k = 0; k < r->nproblems; k++)
		idx[k] = k;
	sort_res = r;
	qsort(idx, r->nproblems, sizeof *idx, cmp_pb);
	if (o.json)
		print_json(s.source, r, idx);
	else
		print_text(s.source, r, idx);
	int rc = r->errors ? EXIT_DAMAGED : EXIT_DONE;
	free(idx);
	sv_check_result_free(r);
	cli_close(&s);
	return rc;
}
