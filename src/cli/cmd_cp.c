/* cmd_cp.c: `salvage cp SOURCE[:PATH] DEST`: copy a file or a tree out, like `cp -a`. */
#include "cli.h"
#include "../export/export.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: salvage cp [options] SOURCE[:PATH] DEST\n"
		"Copy a file or a tree out of an ext2/3/4 filesystem, like `cp -a`: mode, owner (as root), times to\n"
		"the nanosecond, symlinks (never followed), hard links, holes, extended attributes and fifos are kept.\n"
		"When DEST does not exist it becomes the copy (`salvage cp disk.img:/ out` makes out a copy of the\n"
		"root); when DEST is a directory the copy goes inside it. Existing files are never replaced without\n"
		"--force. The source is only read.\n"
		"\n"
		"  --force            replace existing files in DEST\n"
		"  --devices          create device nodes too (needs root)\n"
		"  --exclude GLOB     leave out entries whose path below the copy, or whose name, matches GLOB\n"
		"                     (repeatable)\n"
		"  --max-size SIZE    leave out regular files larger than SIZE (4096, 100M, 1.5G)\n"
		"  --report FILE      write the whole damage report to FILE: every damaged file under every name,\n"
		"                     with the byte ranges written as zeros, the metadata damage and the bad areas\n"
		"                     (text; JSON with --json). Without it stderr lists the first 50 damaged names\n"
		"  --json             the damage report as JSON (to stdout without --report)\n"
		"  --manifest FILE    one line per regular file written: SHA-256 of the bytes written, size,\n"
		"                     intact or damaged:OFFSET+LENGTH,..., path (hard links under every name)\n"
		"  -q, --quiet        no progress and no list of what was left out on request\n"
		"  -p N, --partition N, --offset BYTES, --superblock N --block-size B, --journal FILE, --no-replay\n"
		"                     pick the filesystem (see `salvage --help`)\n"
		"\n"
		"Exit status: 0 copied (entries left out on request do not count), 1 something was damaged, could\n"
		"not be written or already existed, 2 usage, 3 source unreadable.\n");
}

struct meter {
	struct sv_progress p;
	struct cli_notes *notes;
};

static void show_progress(void *ctx, uint64_t done)
{
	struct meter *m = ctx;
	if (!sv_progress_update(&m->p, done, false))
		return;
	char line[160];
	fprintf(stderr, "\r%s\033[K", sv_progress_line(&m->p, line, sizeof line));
	m->notes->progress_shown = true;
}

int cmd_cp(int argc, char **argv)
{
	struct cli_src_opts so;
	cli_src_opts_init(&so);
	struct sv_cp_opts co;
	memset(&co, 0, sizeof co);
	co.sel.max_size = UINT64_MAX;
	struct cli_truth truth;
	memset(&truth, 0, sizeof truth);
	truth.cmd = "cp";
	const char **excl = calloc((size_t)argc + 1, sizeof *excl);
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	if (!excl) {
		fprintf(stderr, "salvage cp: out of memory\n");
		return EXIT_UNREADABLE;
	}
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
			if (npos == 2) {
				fprintf(stderr, "salvage cp: too many arguments ('%s'); usage: salvage cp SOURCE[:PATH] DEST\n", a);
				free(excl);
				return EXIT_USAGE;
			}
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(excl);
			return EXIT_DONE;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			co.force = true;
		} else if (!strcmp(a, "--devices")) {
			co.devices = true;
		} else if (!strcmp(a, "--exclude") || !strncmp(a, "--exclude=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				fprintf(stderr, "salvage cp: --exclude needs a pattern\n");
				free(excl);
				return EXIT_USAGE;
			}
			excl[co.sel.nexclude++] = v;
		} else if (!strcmp(a, "--max-size") || !strncmp(a, "--max-size=", 11)) {
			const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !cli_parse_size(v, &co.sel.max_size)) {
				fprintf(stderr, "salvage cp: --max-size needs a size such as 4096, 100M or 1.5G\n");
				free(excl);
				return EXIT_USAGE;
			}
		} else {
			int r = cli_truth_flag(&truth, argc, argv, &i);
			if (r < 0) {
				free(excl);
				return EXIT_USAGE;
			}
			if (r > 0)
				continue;
			r = cli_parse_src_opt(argc, argv, &i, &so);
			if (r < 0) {
				free(excl);
				return EXIT_USAGE;
			}
			if (r == 0) {
				fprintf(stderr, "salvage cp: unknown option '%s' (see `salvage cp --help`)\n", a);
				free(excl);
				return EXIT_USAGE;
			}
		}
	}
	if (npos != 2) {
		fprintf(stderr, "salvage cp: needs a source and a destination: salvage cp SOURCE[:PATH] DEST "
			"(see `salvage cp --help`)\n");
		free(excl);
		return EXIT_USAGE;
	}
	co.sel.exclude = excl;

	struct cli_src s;
	int r = cli_open(pos[0], &so, &s);
	if (r != EXIT_DONE) {
		cli_close(&s);
		free(excl);
		return r;
	}
	uint32_t ino;
	struct sv_inode in;
	r = cli_resolve(&s, &ino, &in);
	if (r != EXIT_DONE) {
		cli_close(&s);
		free(excl);
		return r;
	}
	r = cli_truth_open(&truth, &s, so.journal);
	if (r != EXIT_DONE) {
		cli_truth_free(&truth);
		cli_close(&s);
		free(excl);
		return r;
	}
	co.damage = truth.dmg;
	if (truth.manifest) {
		co.file_done = cli_truth_file_done;
		co.file_done_ctx = &truth;
	}
	struct cli_notes notes;
	memset(&notes, 0, sizeof notes);
	notes.quiet = so.quiet;
	co.note = cli_note_print;
	co.note_ctx = &notes;
	struct meter m;
	memset(&m, 0, sizeof m);
	m.notes = &notes;
	bool tty = !so.quiet && isatty(2);
	if (tty) {
		uint64_t total = 0;
		sv_tree_bytes(s.fs, ino, s.path, &co.sel, &total);
		sv_progress_init(&m.p, total);
		co.progress = show_progress;
		co.progress_ctx = &m;
	}
	/* The source image (or device) and an external journal are never replaced, even when DEST is
	 * one of them or holds one under a name the copy also has. */
	struct sv_file_id prot[2];
	struct stat sb;
	if (stat(s.source, &sb) == 0)
		prot[co.nprotect++] = (struct sv_file_id){ (uint64_t)sb.st_dev, (uint64_t)sb.st_ino };
	if (so.journal && stat(so.journal, &sb) == 0)
		prot[co.nprotect++] = (struct sv_file_id){ (uint64_t)sb.st_dev, (uint64_t)sb.st_ino };
	co.protect = prot;
	struct sv_export_stats st;
	char err[512] = "";
	int cs = sv_cp(s.fs, ino, s.path, pos[1], &co, &st, err, sizeof err);
	if (notes.progress_shown)
		fputs("\r\033[K", stderr);
	int status = cli_truth_finish(&truth, &s, so.json, true, EXIT_DONE);
	if (cs != SV_OK) {
		fprintf(stderr, "salvage cp: %s\n", err);
		status = cs == SV_ERR_NOMEM ? EXIT_UNREADABLE : EXIT_DAMAGED;
	}
	if (st.failed || notes.count[SV_NOTE_EXISTS] || notes.count[SV_NOTE_WRITE] || notes.count[SV_NOTE_SOURCE])
		status = status == EXIT_DONE ? EXIT_DAMAGED : status;
	char sz[32];
	if (tty)
		fprintf(stderr, "salvage cp: copied %llu files (%s), %llu directories, %llu symlinks, %llu hard links, "
			"%llu special files\n", (unsigned long long)st.files, sv_human_size(st.bytes, sz, sizeof sz),
			(unsigned long long)st.dirs, (unsigned long long)st.symlinks, (unsigned long long)st.hardlinks,
			(unsigned long long)st.specials);
	unsigned long req = notes.count[SV_NOTE_EXCLUDED] + notes.count[SV_NOTE_TOO_BIG] +
			    notes.count[SV_NOTE_SOCKET] + notes.count[SV_NOTE_DEVICE];
	if (req && !so.quiet)
		fprintf(stderr, "salvage cp: left out on request: %lu excluded, %lu over --max-size, %lu sockets, "
			"%lu device nodes\n", notes.count[SV_NOTE_EXCLUDED], notes.count[SV_NOTE_TOO_BIG],
			notes.count[SV_NOTE_SOCKET], notes.count[SV_NOTE_DEVICE]);
	if (notes.count[SV_NOTE_EXISTS])
		fprintf(stderr, "salvage cp: %lu entries not copied because they already exist in %s; --force "
			"replaces them\n", notes.count[SV_NOTE_EXISTS], pos[1]);
	if (notes.count[SV_NOTE_SOURCE])
		fprintf(stderr, "salvage cp: %lu entries not copied because they would replace the source itself\n",
			notes.count[SV_NOTE_SOURCE]);
	if (st.failed || notes.count[SV_NOTE_WRITE])
		fprintf(stderr, "salvage cp: %llu entries could not be copied completely (see the messages above)\n",
			(unsigned long long)(st.failed + notes.count[SV_NOTE_WRITE]));
	if (s.report.errors)
		fprintf(stderr, "salvage cp: %lu problems found in the source; what could be read was copied\n",
			s.report.errors);
	status = cli_exit_status(&s, status);
	cli_truth_free(&truth);
	cli_close(&s);
	free(excl);
	return status;
}
