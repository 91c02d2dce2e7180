/* cmd_tar.c: `salvage tar SOURCE[:PATH]`: a POSIX pax archive of a file or a tree on stdout. */
#include "cli.h"
#include "../export/export.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: salvage tar [options] SOURCE[:PATH] > archive.tar\n"
		"Write a POSIX pax archive of a file or a tree to stdout, readable by GNU tar and bsdtar: long and\n"
		"non-UTF-8 names, files over 8 GiB, nanosecond times, numeric owners, symlinks, hard links, device\n"
		"nodes, fifos, holes (GNU sparse format 1.0) and extended attributes (SCHILY.xattr.*).\n"
		"Members are named ./etc/... for the root, d/... for a directory /d, and by its name for a file.\n"
		"To extract everything as root: tar -xpf archive.tar --xattrs --xattrs-include='*' --numeric-owner\n"
		"\n"
		"  --exclude GLOB     leave out entries whose path below the archive root, or whose name, matches\n"
		"                     GLOB (repeatable)\n"
		"  --max-size SIZE    leave out regular files larger than SIZE (4096, 100M, 1.5G)\n"
		"  --no-sparse        store holes as zeros (for readers without GNU sparse support)\n"
		"  --no-xattrs        leave extended attributes out\n"
		"  --report FILE      write the whole damage report to FILE: every damaged file under every name,\n"
		"                     with the byte ranges stored as zeros, the metadata damage and the bad areas\n"
		"                     (text; JSON with --json). Without it stderr lists the first 50 damaged names\n"
		"  --json             the --report as JSON\n"
		"  --manifest FILE    one line per regular file archived: SHA-256 of its data as stored, size,\n"
		"                     intact or damaged:OFFSET+LENGTH,..., path (hard links under every name)\n"
		"  -q, --quiet        do not list what was left out on request\n"
		"  -p N, --partition N, --offset BYTES, --superblock N --block-size B, --journal FILE, --no-replay\n"
		"                     pick the filesystem (see `salvage --help`)\n"
		"\n"
		"Exit status: 0 done (entries left out on request do not count), 1 something was damaged or the\n"
		"archive could not be written completely, 2 usage, 3 source unreadable.\n");
}

int cmd_tar(int argc, char **argv)
{
	struct cli_src_opts so;
	cli_src_opts_init(&so);
	struct sv_tar_opts to;
	memset(&to, 0, sizeof to);
	to.sel.max_size = UINT64_MAX;
	to.fd = 1;
	struct cli_truth truth;
	memset(&truth, 0, sizeof truth);
	truth.cmd = "tar";
	const char **excl = calloc((size_t)argc + 1, sizeof *excl);
	const char *src = NULL;
	if (!excl) {
		fprintf(stderr, "salvage tar: out of memory\n");
		return EXIT_UNREADABLE;
	}
	int status = EXIT_USAGE;
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-') {
			if (src) {
				fprintf(stderr, "salvage tar: one source only ('%s'); the archive goes to stdout\n", a);
				goto out;
			}
			src = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			status = EXIT_DONE;
			goto out;
		} else if (!strcmp(a, "--no-sparse")) {
			to.no_sparse = true;
		} else if (!strcmp(a, "--no-xattrs")) {
			to.no_xattrs = true;
		} else if (!strcmp(a, "--exclude") || !strncmp(a, "--exclude=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				fprintf(stderr, "salvage tar: --exclude needs a pattern\n");
				goto out;
			}
			excl[to.sel.nexclude++] = v;
		} else if (!strcmp(a, "--max-size") || !strncmp(a, "--max-size=", 11)) {
			const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !cli_parse_size(v, &to.sel.max_size)) {
				fprintf(stderr, "salvage tar: --max-size needs a size such as 4096, 100M or 1.5G\n");
				goto out;
			}
		} else {
			int r = cli_truth_flag(&truth, argc, argv, &i);
			if (r < 0)
				goto out;
			if (r > 0)
				continue;
			r = cli_parse_src_opt(argc, argv, &i, &so);
			if (r < 0)
				goto out;
			if (r == 0) {
				fprintf(stderr, "salvage tar: unknown option '%s' (see `salvage tar --help`)\n", a);
				goto out;
			}
		}
	}
	if (!src) {
		fprintf(stderr, "salvage tar: needs a source: salvage tar SOURCE[:PATH] > archive.tar "
			"(see `salvage tar --help`)\n");
		goto out;
	}
	if (isatty(1)) {
		fprintf(stderr, "salvage tar: stdout is a terminal; send the archive to a file or a pipe: "
			"salvage tar %s > archive.tar\n", src);
		goto out;
	}
	if (so.json && !truth.report) {
		fprintf(stderr, "salvage tar: --json needs --report FILE (stdout holds the archive)\n");
		goto out;
	}
	to.sel.exclude = excl;

	struct cli_src s;
	status = cli_open(src, &so, &s);
	if (status != EXIT_DONE) {
		cli_close(&s);
		goto out;
	}
	uint32_t ino;
	struct sv_inode in;
	status = cli_resolve(&s, &ino, &in);
	if (status != EXIT_DONE) {
		cli_close(&s);
		goto out;
	}
	status = cli_truth_open(&truth, &s, so.journal);
	if (status != EXIT_DONE) {
		cli_close(&s);
		goto out;
	}
	to.damage = truth.dmg;
	if (truth.manifest) {
		to.file_done = cli_truth_file_done;
		to.file_done_ctx = &truth;
	}
	struct cli_notes notes;
	memset(&notes, 0, sizeof notes);
	notes.quiet = so.quiet;
	to.note = cli_note_print;
	to.note_ctx = &notes;
	struct sv_export_stats st;
	char err[512] = "";
	int ts = sv_tar(s.fs, ino, s.path, &to, &st, err, sizeof err);
	status = cli_truth_finish(&truth, &s, so.json, false, status);
	if (ts != SV_OK) {
		fprintf(stderr, "salvage tar: %s\n", err);
		status = EXIT_DAMAGED;
	}
	if (st.failed)
		status = EXIT_DAMAGED;
	unsigned long req = notes.count[SV_NOTE_EXCLUDED] + notes.count[SV_NOTE_TOO_BIG] + notes.count[SV_NOTE_SOCKET];
	if (req && !so.quiet)
		fprintf(stderr, "salvage tar: left out on request: %lu excluded, %lu over --max-size, %lu sockets\n",
			notes.count[SV_NOTE_EXCLUDED], notes.count[SV_NOTE_TOO_BIG], notes.count[SV_NOTE_SOCKET]);
	if (s.report.errors)
		fprintf(stderr, "salvage tar: %lu problems found in the source; what could be read was archived\n",
			s.report.errors);
	status = cli_exit_status(&s, status);
	cli_close(&s);
out:
	cli_truth_free(&truth);
	free(excl);
	return status;
}
