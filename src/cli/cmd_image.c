/* cmd_image.c: `salvage image SOURCE OUT.img [--map OUT.map] [PATH...]`: image a failing drive
 * the filesystem-aware way: what matters first, free space never read, a GNU ddrescue mapfile
 * kept as it goes, resumable, and continued by ddrescue itself if wanted. */
#include "cli.h"
#include "../export/export.h"
#include "../journal/journal.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: salvage image [options] SOURCE OUT.img [PATH...]\n"
		"Image a failing disk, partition or image file the way its filesystem needs: first the superblocks,\n"
		"group descriptors, bitmaps and inode tables, then directories, extent/indirect/xattr blocks, the\n"
		"journal, and last the data of the files under each PATH (of every file when no PATH is given).\n"
		"Free blocks are never read. OUT.img gets the size of SOURCE (the whole disk when SOURCE is one)\n"
		"and holds what was read at the same offsets; everything else is a hole (sparse file).\n"
		"Reading is done in passes like GNU ddrescue: 1 MiB reads that skip ahead past a bad area, then\n"
		"the skipped areas sector by sector, then (--max-retries N) N passes over the bad sectors only.\n"
		"A GNU ddrescue mapfile records what was read ('+'), bad sectors ('-'), skipped areas ('*') and\n"
		"what was never tried ('?'); it is saved every 5 seconds, at the end and on Ctrl-C. Running the\n"
		"same command again continues where it stopped; `ddrescue SOURCE OUT.img OUT.map` can too.\n"
		"The source is only read, and is never written to, even when named as OUT.img.\n"
		"\n"
		"  --map FILE         the mapfile (default: OUT.img.map); it must exist to continue an image\n"
		"  --max-retries N    N more passes over the bad sectors (also those an earlier run left)\n"
		"  -q, --quiet        no progress and no summary\n"
		"  -p N, --partition N, --offset BYTES, --superblock N --block-size B, --journal FILE\n"
		"                     pick the filesystem (see `salvage --help`)\n"
		"  --stop-after BYTES testing: stop as if interrupted once BYTES were written\n"
		"\n"
		"Then: salvage cp OUT.img --map OUT.map DEST (every area not read counts as unreadable).\n"
		"Exit status: 0 everything planned was read, 1 some of it could not be read (or interrupted),\n"
		"2 usage, 3 source unreadable or OUT.img not writable.\n");
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;   /* SA_RESETHAND: a second Ctrl-C ends at once (the last saved map stays valid) */
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_RESETHAND;   /* a read interrupted by the signal is not a bad sector */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (a->st_dev == b->st_dev && a->st_ino == b->st_ino)
		return true;
	/* two device nodes for one device */
	return ((S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode)) || (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode))) &&
	       a->st_rdev == b->st_rdev;
}

struct image_cli {
	const char *source, *out, *map_path, *journal;
	char *cmdline;
	struct sv_image *im;
	int fd;
	uint64_t size;
	bool tty, quiet, shown;
	double last_save;
	struct sv_progress meter;
	unsigned meter_pass;
	int save_failed;
};

/* Write the mapfile: the image's data first (fdatasync), so the map never claims bytes that are
 * not on disk yet. Prints why on failure (once). */
static int save_map(struct image_cli *c)
{
	struct sv_ddmap m;
	memset(&m, 0, sizeof m);
	char err[600];
	int st = sv_image_map(c->im, c->size, &m);
	if (st == SV_OK && fdatasync(c->fd) != 0 && errno != EINVAL && errno != EROFS) {
		snprintf(err, sizeof err, "cannot flush %s: %s", c->out, strerror(errno));
		st = SV_ERR_IO;
	} else if (st == SV_OK) {
		st = sv_ddmap_save(&m, c->map_path, c->cmdline, err, sizeof err);
	} else {
		snprintf(err, sizeof err, "out of memory building the mapfile");
	}
	sv_ddmap_free(&m);
	c->last_save = now();
	if (st != SV_OK && !c->save_failed++) {
		if (c->shown)
			fputs("\r\033[K", stderr);
		c->shown = false;
		fprintf(stderr, "salvage image: %s\n", err);
	}
	return st;
}

static void plan_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct image_cli *c = ctx;
	if (!c->tty)
		return;
	fprintf(stderr, "\rsalvage image: planning: inode %llu of %llu\033[K", (unsigned long long)done,
		(unsigned long long)total);
	c->shown = true;
}

static void copy_progress(void *ctx, const struct sv_image_progress *pr)
{
	struct image_cli *c = ctx;
	if (now() - c->last_save >= 5)
		save_map(c);
	if (!c->tty)
		return;
	if (pr->pass != c->meter_pass) {
		sv_progress_init(&c->meter, pr->pass_total);
		c->meter_pass = pr->pass;
	}
	if (!sv_progress_update(&c->meter, pr->pass_done, pr->pass_done >= pr->pass_total))
		return;
	char line[160], bad[32];
	const char *what = pr->pass == 1 ? sv_image_stage_name(pr->stage) : pr->pass == 2 ? "skipped areas" : "bad sectors";
	fprintf(stderr, "\rsalvage image: pass %u (%s): %s; %llu read errors, %s unreadable\033[K", pr->pass, what,
		sv_progress_line(&c->meter, line, sizeof line), (unsigned long long)pr->failed_reads,
		sv_human_size(pr->bad_bytes, bad, sizeof bad));
	c->shown = true;
}

static char *join_args(int argc, char **argv)
{
	size_t n = 16;
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	strcpy(s, "salvage");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

/* Refuse an output that is the source or the external journal. */
static bool is_protected(const char *what, const char *path, const struct stat *st, const struct stat *src,
			 const struct stat *jnl)
{
	if (same_file(st, src) || (jnl && same_file(st, jnl))) {
		fprintf(stderr, "salvage image: %s %s is the %s itself; salvage never writes to it. Name another file.\n",
			what, path, same_file(st, src) ? "source" : "--journal file");
		return true;
	}
	return false;
}

/* Open OUT.img for writing, the size of the source (sparse). Prints why not. */
static int open_out(struct image_cli *c, bool resume, const struct stat *src, const struct stat *jnl)
{
	struct stat st;
	bool exists = stat(c->out, &st) == 0;
	if (exists && is_protected("OUT.img", c->out, &st, src, jnl))
		return EXIT_USAGE;
	if (!resume && exists && S_ISREG(st.st_mode) && st.st_size > 0) {
		fprintf(stderr, "salvage image: %s already exists and there is no mapfile %s saying what it holds; remove "
			"it to start afresh, or give its mapfile with --map to continue it\n", c->out, c->map_path);
		return EXIT_USAGE;
	}
	if (resume && !exists) {
		fprintf(stderr, "salvage image: the mapfile %s exists but %s does not: the map would claim areas the image "
			"lacks; remove the mapfile to start afresh, or name the image it belongs to\n", c->map_path, c->out);
		return EXIT_USAGE;
	}
	c->fd = open(c->out, O_RDWR | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		fprintf(stderr, "salvage image: cannot open %s for writing: %s\n", c->out, strerror(errno));
		return EXIT_UNREADABLE;
	}
	if (fstat(c->fd, &st) != 0 || is_protected("OUT.img", c->out, &st, src, jnl))
		return EXIT_USAGE;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > c->size) {
			fprintf(stderr, "salvage image: %s is larger (%llu bytes) than the source (%llu bytes): not an image "
				"of it; name another file\n", c->out, (unsigned long long)st.st_size,
				(unsigned long long)c->size);
			return EXIT_USAGE;
		}
		if ((uint64_t)st.st_size < c->size && ftruncate(c->fd, (off_t)c->size) != 0) {
			fprintf(stderr, "salvage image: cannot make %s %llu bytes long: %s\n", c->out,
				(unsigned long long)c->size, strerror(errno));
			return EXIT_UNREADABLE;
		}
	} else if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
		fprintf(stderr, "salvage image: %s is neither a regular file nor a device\n", c->out);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

/* Load the mapfile when it exists (resume). *resume tells whether it did. */
static int load_map(struct image_cli *c, struct sv_ddmap *m, bool *resume, const struct stat *src,
		    const struct stat *jnl)
{
	struct stat st;
	*resume = false;
	memset(m, 0, sizeof *m);
	if (stat(c->map_path, &st) != 0)
		return EXIT_DONE;
	if (is_protected("the mapfile", c->map_path, &st, src, jnl))
		return EXIT_USAGE;
	char err[600];
	if (sv_ddmap_load(c->map_path, m, err, sizeof err) != SV_OK) {
		fprintf(stderr, "salvage image: %s; move it away to start afresh\n", err);
		return EXIT_USAGE;
	}
	if (m->n && m->v[m->n - 1].pos + m->v[m->n - 1].size > c->size) {
		fprintf(stderr, "salvage image: the mapfile %s covers %llu bytes but %s has %llu: it belongs to another "
			"source\n", c->map_path, (unsigned long long)(m->v[m->n - 1].pos + m->v[m->n - 1].size), c->source,
			(unsigned long long)c->size);
		sv_ddmap_free(m);
		return EXIT_USAGE;
	}
	*resume = true;
	return EXIT_DONE;
}

/* When the journal needs recovery, the files as the kernel would see them after replay may own
 * blocks the raw state does not: plan the replayed view too (its replayed blocks come from the
 * journal, imaged whole). Internal journals only; problems of this second look are not printed. */
static int plan_replayed(struct cli_src *s, struct sv_image_plan *p, const struct sv_image_plan_opts *po)
{
	const struct sv_super *sb = sv_fs_super(s->fs);
	if (!(sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) ||
	    !(sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) || !sb->s_journal_inum)
		return SV_OK;
	struct sv_report quiet = { 0 };
	struct sv_journal_info info;
	struct sv_dev *ov = NULL;
	if (sv_journal_replay(s->fs, NULL, &quiet, &ov, &info) != SV_OK)
		return SV_OK;
	int st = SV_OK;
	struct sv_fs *nfs = NULL;
	struct sv_fs_opts fo = { &quiet, -1, 0, 0 };
	char err[256];
	if (sv_overlay_count(ov) && sv_fs_open(ov, &fo, &nfs, err, sizeof err) == SV_OK) {
		st = sv_image_plan_fs(p, nfs, po);
		sv_fs_close(nfs);
	}
	sv_dev_close(ov);
	return st;
}

static void summary(struct image_cli *c, const struct cli_src *s, const struct cli_src_opts *so,
		    const struct sv_image_plan *p, double secs)
{
	struct sv_image_stats st;
	sv_image_get_stats(c->im, p, &st);
	struct sv_rescue_stats rs;
	sv_rescue_get_stats(s->rescue, &rs);
	char a[32], b[32], d[32], e[32], f[32];
	uint64_t meta = 0, total = sv_image_plan_total(p);
	for (int k = SV_IMG_PARTS; k < SV_IMG_DATA; k++)
		meta += sv_ranges_total(sv_image_plan_stage(p, k));
	fprintf(stderr, "salvage image: read %s from %s in %.1f s; the plan holds %s (%s of metadata and journal, %s "
		"of file data), %s of it now in %s\n", sv_human_size(rs.bytes_read, a, sizeof a), c->source, secs,
		sv_human_size(total, b, sizeof b), sv_human_size(meta, d, sizeof d),
		sv_human_size(total - meta, e, sizeof e), sv_human_size(st.plan_have, f, sizeof f), c->out);
	if (rs.failed_reads || st.plan_bad || st.plan_skipped)
		fprintf(stderr, "salvage image: %llu read errors; %s of the plan could not be read%s%s: they are holes in "
			"%s and '-' in the mapfile\n", (unsigned long long)rs.failed_reads,
			sv_human_size(st.plan_bad, a, sizeof a), st.plan_skipped ? ", " : "",
			st.plan_skipped ? sv_human_size(st.plan_skipped, b, sizeof b) : "", c->out);
	if (st.plan_skipped)
		fprintf(stderr, "salvage image: (the second figure was skipped and not come back to)\n");
	struct stat os;
	if (fstat(c->fd, &os) == 0 && S_ISREG(os.st_mode))
		fprintf(stderr, "salvage image: %s: %s, %s allocated; mapfile %s\n", c->out,
			sv_human_size(c->size, a, sizeof a), sv_human_size((uint64_t)os.st_blocks * 512, b, sizeof b),
			c->map_path);
	char pick[64] = "";
	if (so->partition)
		snprintf(pick, sizeof pick, " -p %d", so->partition);
	else if (so->offset >= 0)
		snprintf(pick, sizeof pick, " --offset %lld", (long long)so->offset);
	fprintf(stderr, "salvage image: copy the files out with: salvage cp%s %s --map %s DEST\n", pick, c->out,
		c->map_path);
	if (st.plan_bad && !so->max_retries)
		fprintf(stderr, "salvage image: to try the bad sectors again later: the same command with --max-retries 2\n");
}

struct args {
	const char *pos[2];
	const char **paths;
	size_t npaths;
	const char *map;
	uint64_t stop_after;
};

static int parse(int argc, char **argv, struct cli_src_opts *so, struct args *a)
{
	int npos = 0;
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *x = argv[i];
		if (opts_done || x[0] != '-' || !x[1]) {
			if (npos < 2) {
				a->pos[npos++] = x;
			} else if (x[0] == '/') {
				a->paths[a->npaths++] = x;
			} else {
				fprintf(stderr, "salvage image: '%s': a PATH inside the filesystem starts with / (see --help)\n", x);
				return EXIT_USAGE;
			}
			continue;
		}
		if (!strcmp(x, "--")) {
			opts_done = true;
		} else if (!strcmp(x, "-h") || !strcmp(x, "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(x, "--map") || !strncmp(x, "--map=", 6)) {
			/* here --map names the mapfile to write (not a map of SOURCE, as elsewhere) */
			a->map = x[5] == '=' ? x + 6 : i + 1 < argc ? argv[++i] : NULL;
			if (!a->map || !*a->map) {
				fprintf(stderr, "salvage image: --map needs a file name\n");
				return EXIT_USAGE;
			}
		} else if (!strcmp(x, "--stop-after") || !strncmp(x, "--stop-after=", 13)) {
			const char *v = x[12] == '=' ? x + 13 : i + 1 < argc ? argv[++i] : NULL;
			if (!v || !cli_parse_size(v, &a->stop_after) || !a->stop_after) {
				fprintf(stderr, "salvage image: --stop-after needs a byte count above 0\n");
				return EXIT_USAGE;
			}
		} else {
			int r = cli_parse_src_opt(argc, argv, &i, so);
			if (r < 0)
				return EXIT_USAGE;
			if (r == 0) {
				fprintf(stderr, "salvage image: unknown option '%s' (see `salvage image --help`)\n", x);
				return EXIT_USAGE;
			}
		}
	}
	if (npos < 2) {
		fprintf(stderr, "salvage image: needs a source and an image file: salvage image SOURCE OUT.img "
			"[--map OUT.map] [PATH...] (see --help)\n");
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

/* Plan through a view that takes what OUT.img holds from it (a resumed run reads only what it
 * lacks from the source); the partition table area of a partitioned disk first. */
static int plan(struct image_cli *c, struct cli_src *s, const struct args *a, struct sv_image_plan **out)
{
	struct sv_image_plan *p = NULL;
	int st = sv_image_plan_new(&p);
	if (st != SV_OK)
		return st;
	if (s->vol_off > 0) {   /* the first MiB and the last (GPT backup) */
		uint64_t mib = 1 << 20, n = c->size < mib ? c->size : mib;
		st = sv_image_plan_add(p, SV_IMG_PARTS, 0, n);
		if (st == SV_OK)
			st = sv_image_plan_add(p, SV_IMG_PARTS, c->size - n, n);
	}
	const char **paths = a->paths;
	size_t npaths = a->npaths;
	if (s->path && strcmp(s->path, "/"))
		paths[npaths++] = s->path;   /* SOURCE:/PATH counts as one more PATH */
	struct sv_image_plan_opts po = { s->vol_off, npaths ? paths : NULL, npaths, &stop_flag, plan_progress, c };
	struct sv_dev *view = NULL, *vslice = NULL;
	if (st == SV_OK)
		st = sv_image_view(c->im, &view);
	if (st == SV_OK)
		st = sv_dev_slice(view, s->vol_off, s->dev->size, false, &vslice);
	if (st == SV_OK) {
		sv_fs_set_dev(s->fs, vslice);
		st = sv_image_plan_fs(p, s->fs, &po);
		if (st == SV_OK)
			st = plan_replayed(s, p, &po);
		sv_fs_set_dev(s->fs, s->dev);
	}
	sv_dev_close(vslice);
	sv_dev_close(view);
	if (st == SV_OK)
		st = sv_image_plan_finish(p, c->size);
	if (c->shown)
		fputs("\r\033[K", stderr);
	c->shown = false;
	*out = p;
	return st;
}

/* Everything after the source is open and OUT.img too: plan, copy, save, tell. When sectors that
 * failed while planning (metadata) are read after all by a later pass, plan again with them:
 * the files they describe are then found too (at most twice more). */
static int run(struct image_cli *c, struct cli_src *s, const struct cli_src_opts *so, const struct args *a,
	       const struct sv_ddmap *old)
{
	double t0 = now();
	int status = EXIT_DONE, st = sv_image_open(s->rescue, c->fd, &c->im);
	if (st == SV_OK && old)
		st = sv_image_resume(c->im, old);
	struct sv_image_plan *p = NULL;
	for (int round = 0; st == SV_OK; round++) {
		sv_image_plan_free(p);
		p = NULL;
		st = plan(c, s, a, &p);
		if (st == SV_OK || st == SV_ERR_STOP)
			save_map(c);   /* planning read the metadata it needed: keep it */
		struct sv_ranges failed = { 0 };
		const struct sv_ranges *bad = sv_rescue_areas(s->rescue, SV_BAD_ERROR);
		for (size_t i = 0; st == SV_OK && bad && i < bad->n; i++)
			st = sv_ranges_add(&failed, bad->v[i].off, bad->v[i].len);
		if (st == SV_OK) {
			struct sv_image_copy_opts co;
			memset(&co, 0, sizeof co);
			co.retry_passes = so->max_retries;
			co.stop_after = a->stop_after;
			co.stop = &stop_flag;
			co.progress = copy_progress;
			co.progress_ctx = c;
			st = sv_image_copy(c->im, p, &co);
			if (c->shown)
				fputs("\r\033[K", stderr);
			c->shown = false;
		}
		bool again = st == SV_OK && round < 2 && sv_image_have_in(c->im, &failed) > 0;
		sv_ranges_free(&failed);
		if (!again)
			break;
		if (!c->quiet)
			fprintf(stderr, "salvage image: sectors that failed while planning were read after all; planning again "
				"with them\n");
		/* the problems of the first look were printed; count only the new look's */
		s->report.fn = NULL;
		s->report.count = s->report.errors = 0;
	}
	char err[600];
	if (c->im && sv_image_error(c->im, err, sizeof err) != SV_OK) {
		fprintf(stderr, "salvage image: %s; what was written before is kept in the mapfile\n", err);
		status = EXIT_UNREADABLE;
	} else if (st == SV_ERR_NOMEM) {
		fprintf(stderr, "salvage image: out of memory\n");
		status = EXIT_UNREADABLE;
	}
	if (c->im && save_map(c) != SV_OK)
		status = EXIT_UNREADABLE;
	if (st == SV_ERR_STOP && status == EXIT_DONE) {
		fprintf(stderr, "salvage image: stopped; %s holds what was read and %s says what. To continue, run the same "
			"command again: %s\n", c->out, c->map_path, c->cmdline);
		status = EXIT_DAMAGED;
	}
	if (!c->quiet && st == SV_OK && p)
		summary(c, s, so, p, now() - t0);
	if (status == EXIT_DONE && p) {
		struct sv_image_stats is;
		sv_image_get_stats(c->im, p, &is);
		if (is.plan_have < sv_image_plan_total(p) || s->report.errors)
			status = EXIT_DAMAGED;
	}
	sv_image_plan_free(p);
	sv_image_close(c->im);
	c->im = NULL;
	return status;
}

int cmd_image(int argc, char **argv)
{
	struct cli_src_opts so;
	cli_src_opts_init(&so);
	struct args a;
	memset(&a, 0, sizeof a);
	a.paths = calloc((size_t)argc + 2, sizeof *a.paths);
	if (!a.paths) {
		fprintf(stderr, "salvage image: out of memory\n");
		return EXIT_UNREADABLE;
	}
	int r = parse(argc, argv, &so, &a);
	if (r != EXIT_DONE) {
		free(a.paths);
		return r < 0 ? EXIT_DONE : r;
	}
	struct image_cli c;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.out = a.pos[1];
	c.journal = so.journal;
	c.quiet = so.quiet;
	c.tty = !so.quiet && isatty(2);
	size_t ol = strlen(c.out);
	char *defmap = malloc(ol + 5);
	c.cmdline = join_args(argc, argv);
	if (!defmap || !c.cmdline) {
		fprintf(stderr, "salvage image: out of memory\n");
		free(defmap);
		free(c.cmdline);
		free(a.paths);
		return EXIT_UNREADABLE;
	}
	snprintf(defmap, ol + 5, "%s.map", c.out);
	c.map_path = a.map ? a.map : defmap;

	/* the image holds the raw bytes of the source: plan the raw state, journal included; the
	 * retries are passes of their own (the rescue reader tries each sector once per pass) */
	so.no_replay = true;
	unsigned retries = so.max_retries;
	so.max_retries = 0;
	struct cli_src s;
	struct sv_ddmap old;
	memset(&old, 0, sizeof old);
	bool resume = false;
	int status = cli_open(a.pos[0], &so, &s);
	so.max_retries = retries;
	struct stat src_st, jnl_st;
	bool have_jnl = so.journal && stat(so.journal, &jnl_st) == 0;
	if (status == EXIT_DONE && stat(s.source, &src_st) != 0) {
		fprintf(stderr, "salvage image: %s: %s\n", s.source, strerror(errno));
		status = EXIT_UNREADABLE;
	}
	c.source = s.source;
	c.size = s.rescue ? s.rescue->size : 0;
	if (status == EXIT_DONE && !strcmp(c.map_path, c.out)) {
		fprintf(stderr, "salvage image: the mapfile and the image cannot be the same file (%s)\n", c.out);
		status = EXIT_USAGE;
	}
	if (status == EXIT_DONE)
		status = load_map(&c, &old, &resume, &src_st, have_jnl ? &jnl_st : NULL);
	if (status == EXIT_DONE)
		status = open_out(&c, resume, &src_st, have_jnl ? &jnl_st : NULL);
	if (status == EXIT_DONE) {
		if (!c.quiet && resume)
			fprintf(stderr, "salvage image: continuing %s from the mapfile %s\n", c.out, c.map_path);
		catch_signals();
		status = run(&c, &s, &so, &a, resume ? &old : NULL);
	}
	if (c.fd >= 0 && close(c.fd) != 0 && status == EXIT_DONE) {
		fprintf(stderr, "salvage image: writing %s failed: %s\n", c.out, strerror(errno));
		status = EXIT_UNREADABLE;
	}
	sv_ddmap_free(&old);
	cli_close(&s);
	free(defmap);
	free(c.cmdline);
	free(a.paths);
	return status;
}
