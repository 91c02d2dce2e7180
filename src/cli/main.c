/* main.c: salvage's entry point: a table of commands, each in its own cmd_*.c. */
#include "cli.h"
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "probe", cmd_probe, "list partitions and filesystems, and what each looks like" },
	{ "info", cmd_info, "the superblock and group summary in plain words" },
	{ "ls", cmd_ls, "list a directory (-l long, -R recursive)" },
	{ "stat", cmd_stat, "everything about one file" },
	{ "cat", cmd_cat, "write a file's content to stdout" },
	{ "du", cmd_du, "sizes of each subtree, before copying" },
	{ "cp", cmd_cp, "copy a file or a tree out, like cp -a" },
	{ "tar", cmd_tar, "write a pax archive of a file or a tree to stdout" },
	{ "journal", cmd_journal, "the journal's state: pending transactions, what a replay changes" },
	{ "image", cmd_image, "image a failing drive: what the filesystem needs first, free space never read" },
	{ "check", cmd_check, "a read-only consistency check that names the damaged files" },
	{ "blame", cmd_blame, "which files and structures bad sectors hit (--map, --sectors, --bytes)" },
};

static void usage(FILE *f)
{
	fprintf(f, "salvage: get data off a broken ext2/ext3/ext4 disk without mounting it.\n"
		   "The source (an image file, a disk or a partition) is only ever read.\n\n"
		   "usage: salvage COMMAND [OPTIONS] SOURCE[:PATH] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSOURCE is an image file or a device; SOURCE:PATH names a path inside its filesystem.\n"
		   "Common options: -p N (partition), --offset BYTES, --no-replay, --journal FILE, --json, -q.\n"
		   "`salvage COMMAND --help` tells more. Exit status: 0 done, 1 done but something was damaged\n"
		   "or skipped, 2 usage error, 3 source unreadable.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_DONE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("salvage 0.1\n");
		return EXIT_DONE;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "salvage: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
