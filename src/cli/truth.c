/* truth.c: what cp and tar say about damage at the end: every damaged file under every name with
 * the byte ranges written as zeros (the first 50 names on stderr, all of them in --report FILE,
 * as text or JSON), and the --manifest FILE of every regular file written. */
#include "cli.h"
#include "../export/export.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SHOWN_LINES 50       /* damaged names listed on stderr */
#define SHOWN_RANGES 8       /* ranges per name on stderr (the report has all) */

int cli_truth_flag(struct cli_truth *t, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char **dst = NULL;
	const char *v = NULL;
	if (!strcmp(a, "--report") || !strncmp(a, "--report=", 9)) {
		dst = &t->report;
		v = a[8] == '=' ? a + 9 : NULL;
	} else if (!strcmp(a, "--manifest") || !strncmp(a, "--manifest=", 11)) {
		dst = &t->manifest;
		v = a[10] == '=' ? a + 11 : NULL;
	} else {
		return 0;
	}
	if (!v && *i + 1 < argc)
		v = argv[++*i];
	if (!v || !*v) {
		fprintf(stderr, "salvage %s: %s needs a file name\n", t->cmd, a);
		return -1;
	}
	*dst = v;
	return 1;
}

/* True when path is the same file as other (which exists). */
static bool same_file(const char *path, const char *other)
{
	struct stat a, b;
	return other && stat(path, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static FILE *open_out(struct cli_truth *t, const char *opt, const char *path, const struct cli_src *s,
		      const char *journal)
{
	if (same_file(path, s->source) || same_file(path, journal)) {
		fprintf(stderr, "salvage %s: %s %s is the source itself; it is never written. Name another file\n",
			t->cmd, opt, path);
		return NULL;
	}
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "salvage %s: cannot create %s %s: %s\n", t->cmd, opt, path, strerror(errno));
	return f;
}

int cli_truth_open(struct cli_truth *t, const struct cli_src *s, const char *journal)
{
	if (sv_damage_new(&t->dmg) != SV_OK) {
		fprintf(stderr, "salvage %s: out of memory\n", t->cmd);
		return EXIT_UNREADABLE;
	}
	if (t->report && !(t->rf = open_out(t, "--report", t->report, s, journal)))
		return EXIT_USAGE;
	if (t->manifest) {
		if (t->report && same_file(t->manifest, t->report)) {
			fprintf(stderr, "salvage %s: --manifest and --report name the same file\n", t->cmd);
			return EXIT_USAGE;
		}
		if (!(t->mf = open_out(t, "--manifest", t->manifest, s, journal)))
			return EXIT_USAGE;
		if (sv_manifest_header(t->mf) != 0)
			t->mf_failed = true;
	}
	return EXIT_DONE;
}

void cli_truth_file_done(void *ctx, const struct sv_file_done *f)
{
	struct cli_truth *t = ctx;
	if (t->mf && !t->mf_failed && sv_manifest_line(t->mf, f) != 0)
		t->mf_failed = true;
}

static bool close_out(struct cli_truth *t, FILE **f, const char *opt, const char *path)
{
	if (!*f)
		return true;
	bool ok = !ferror(*f);
	if (fclose(*f) != 0)
		ok = false;
	*f = NULL;
	if (!ok)
		fprintf(stderr, "salvage %s: writing %s %s failed (%s); it is incomplete\n", t->cmd, opt, path,
			strerror(errno));
	return ok;
}

int cli_truth_finish(struct cli_truth *t, const struct cli_src *s, bool json, bool json_stdout, int status)
{
	size_t files = sv_damage_count(t->dmg);
	if (files) {
		char sz[32];
		fprintf(stderr, "salvage %s: %zu file%s damaged (%s lost: zeros in their place); every name, with "
			"the byte ranges lost:\n", t->cmd, files, files == 1 ? "" : "s",
			sv_human_size(sv_damage_bytes(t->dmg), sz, sizeof sz));
		char prefix[32];
		snprintf(prefix, sizeof prefix, "salvage %s: ", t->cmd);
		size_t more = sv_damage_write_lines(t->dmg, stderr, prefix, SHOWN_LINES, SHOWN_RANGES);
		if (more)
			fprintf(stderr, "salvage %s: ... and %zu more damaged names not shown here; %s%s\n", t->cmd, more,
				t->report ? "all of them are in " : "`--report FILE` writes all of them",
				t->report ? t->report : "");
	}
	bool ok = true;
	if (t->rf) {
		int w = json ? sv_damage_write_json(t->dmg, s->rescue, t->rf)
			     : sv_damage_write_text(t->dmg, s->rescue, s->source, t->rf);
		ok &= w == 0;
		ok &= close_out(t, &t->rf, "--report", t->report);
	} else if (json && json_stdout) {
		ok &= sv_damage_write_json(t->dmg, s->rescue, stdout) == 0;
	}
	if (t->mf) {
		bool m = !t->mf_failed;
		m &= close_out(t, &t->mf, "--manifest", t->manifest);
		if (!m && t->mf_failed)
			fprintf(stderr, "salvage %s: writing --manifest %s failed; it is incomplete\n", t->cmd, t->manifest);
		ok &= m;
	}
	if (!ok && status == EXIT_DONE)
		status = EXIT_DAMAGED;
	return status;
}

void cli_truth_free(struct cli_truth *t)
{
	if (t->rf)
		fclose(t->rf);
	if (t->mf)
		fclose(t->mf);
	sv_damage_free(t->dmg);
	t->rf = t->mf = NULL;
	t->dmg = NULL;
}
