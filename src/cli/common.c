/* common.c: what every command shares: SOURCE:PATH parsing, common options, opening the source
 * stack (device -> partition/offset -> journal overlay -> filesystem), problem printing, formats. */
#include "cli.h"
#include "../export/export.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cli_src_opts_init(struct cli_src_opts *o)
{
	memset(o, 0, sizeof *o);
	o->offset = -1;
	o->sb_block = -1;
}

void cli_split_source(const char *arg, char **source, char **path)
{
	struct stat st;
	const char *colon = NULL;
	if (stat(arg, &st) != 0) {
		for (const char *p = arg; *p; p++)
			if (p[0] == ':' && p[1] == '/') {
				colon = p;
				break;
			}
	}
	size_t al = strlen(arg);
	if (colon) {
		*source = strndup(arg, (size_t)(colon - arg));
		*path = strdup(colon + 1);
	} else if (al > 1 && arg[al - 1] == ':' && stat(arg, &st) != 0) {
		*source = strndup(arg, al - 1);   /* "IMG:" means the root of IMG */
		*path = strdup("/");
	} else {
		*source = strdup(arg);
		*path = strdup("/");
	}
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

/* "--name=VALUE": the value, or NULL when a is not name followed by '='. */
static const char *eq_value(const char *a, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(a, name, n) && a[n] == '=' ? a + n + 1 : NULL;
}

int cli_parse_src_opt(int argc, char **argv, int *i, struct cli_src_opts *o)
{
	const char *a = argv[*i];
	const char *val = NULL;
	int64_t n;
	/* the options that take a value, as "--opt VALUE" or (long ones) "--opt=VALUE"; anything
	 * else that merely starts like one ("--partitionx") is not one of them */
	bool needs = !strcmp(a, "-p") || !strcmp(a, "--partition") || !strcmp(a, "--offset") ||
		     !strcmp(a, "--journal") || !strcmp(a, "--superblock") || !strcmp(a, "--block-size") ||
		     !strcmp(a, "--map") || !strcmp(a, "--max-retries") || !strcmp(a, "--inject-faults");
	static const char *const long_vals[] = { "--partition", "--offset", "--journal", "--map", "--max-retries",
						 "--inject-faults" };
	const char *name = a;
	if (needs) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "salvage: %s needs a value\n", a);
			return -1;
		}
		val = argv[++*i];
	} else {
		for (size_t k = 0; k < sizeof long_vals / sizeof *long_vals && !val; k++)
			if ((val = eq_value(a, long_vals[k])) != NULL)
				name = long_vals[k];
	}
	if (val && !strcmp(name, "--map")) {
		o->map = val;
		return 1;
	}
	if (val && !strcmp(name, "--max-retries")) {
		if (!parse_i64(val, &n) || n > 1000) {
			fprintf(stderr, "salvage: --max-retries '%s' is not a number from 0 to 1000\n", val);
			return -1;
		}
		o->max_retries = (unsigned)n;
		return 1;
	}
	if (val && !strcmp(name, "--inject-faults")) {
		o->inject = val;
		return 1;
	}
	if (val && (!strcmp(a, "-p") || !strcmp(a, "--partition") || eq_value(a, "--partition"))) {
		if (!parse_i64(val, &n) || n < 1 || n > 100000) {
			fprintf(stderr, "salvage: partition number '%s' is not a positive number (see `salvage probe`)\n", val);
			return -1;
		}
		o->partition = (int)n;
		return 1;
	}
	if (val && (!strcmp(a, "--offset") || eq_value(a, "--offset"))) {
		uint64_t u;
		if (!cli_parse_size(val, &u)) {
			fprintf(stderr, "salvage: offset '%s' is not a byte count\n", val);
			return -1;
		}
		o->offset = (int64_t)u;
		return 1;
	}
	if (val && (!strcmp(a, "--journal") || eq_value(a, "--journal"))) {
		o->journal = val;
		return 1;
	}
	if (!strcmp(a, "--superblock")) {
		if (!parse_i64(val, &n)) {
			fprintf(stderr, "salvage: superblock '%s' is not a block number\n", val);
			return -1;
		}
		o->sb_block = n;
		return 1;
	}
	if (!strcmp(a, "--block-size")) {
		if (!parse_i64(val, &n) || n < 1024 || n > 65536 || (n & (n - 1))) {
			fprintf(stderr, "salvage: block size '%s' is not a power of two from 1024 to 65536\n", val);
			return -1;
		}
		o->sb_bsize = (uint32_t)n;
		return 1;
	}
	if (!strcmp(a, "--no-replay")) {
		o->no_replay = true;
		return 1;
	}
	if (!strcmp(a, "--json")) {
		o->json = true;
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		o->quiet = true;
		return 1;
	}
	return 0;
}

int cli_parse_args(int argc, char **argv, struct cli_src_opts *o, void (*help)(void), cli_flag_fn flag, void *ctx,
		   const char **arg)
{
	*arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			return -1;
		}
		int r = cli_parse_src_opt(argc, argv, &i, o);
		if (r == 0 && flag)
			r = flag(ctx, argc, argv, &i);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "salvage %s: unknown option %s (see --help)\n", argv[0], argv[i]);
			return EXIT_USAGE;
		}
		if (*arg) {
			fprintf(stderr, "salvage %s: one SOURCE at a time ('%s' and '%s'; see --help)\n", argv[0], *arg, argv[i]);
			return EXIT_USAGE;
		}
		*arg = argv[i];
	}
	if (!*arg) {
		help();
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

void cli_note_print(void *ctx, int kind, const char *path, const char *msg)
{
	struct cli_notes *n = ctx;
	if (kind < 0 || kind >= 16)
		kind = 0;
	n->count[kind]++;
	bool request = kind == SV_NOTE_EXCLUDED || kind == SV_NOTE_TOO_BIG || kind == SV_NOTE_SOCKET ||
		       kind == SV_NOTE_DEVICE || kind == SV_NOTE_OWNER;
	if (n->quiet && request)
		return;
	if (n->progress_shown) {
		fputs("\r\033[K", stderr);
		n->progress_shown = false;
	}
	if (++n->shown[kind] > 50) {
		if (n->shown[kind] == 51)
			fprintf(stderr, "salvage: (more of these are not shown; the total is given at the end)\n");
		return;
	}
	fprintf(stderr, "salvage: ");
	if (path) {
		cli_print_name(stderr, path, strlen(path));
		fprintf(stderr, ": ");
	}
	fprintf(stderr, "%s\n", msg);
}

static unsigned long printed_problems;

void cli_problem_print(void *ctx, const struct sv_problem *pb)
{
	(void)ctx;
	if (pb->severity < SV_SEV_WARN)
		return;
	if (++printed_problems > 200) {
		if (printed_problems == 201)
			fprintf(stderr, "salvage: more problems follow and are not printed one by one: cp and tar list "
				"every damaged file at the end and `--report FILE` writes the complete damage report; "
				"`salvage check SOURCE` lists every problem\n");
		return;
	}
	fprintf(stderr, "salvage: ");
	if (pb->path) {
		cli_print_name(stderr, pb->path, strlen(pb->path));
		fprintf(stderr, ": ");
	}
	fprintf(stderr, "%s\n", pb->msg);
}

/* Over an opened file or device (*d): the fault injector when asked, then the rescue reader with
 * the map's unfinished areas marked. On success *d is the top (owning everything below). */
static int stack_rescue(const char *path, const struct cli_src_opts *o, struct sv_dev **d)
{
	struct sv_dev *top = *d, *nd;
	if (o->inject) {
		struct sv_ranges bad = { 0 };
		char spec[1024];
		snprintf(spec, sizeof spec, "%s", o->inject);
		char *slash = strchr(spec, '/');
		int64_t delay = 0;
		if (slash)
			*slash++ = 0;
		if (!sv_ranges_parse(spec, &bad) || (slash && (!parse_i64(slash, &delay) || delay > 60000))) {
			fprintf(stderr, "salvage: --inject-faults '%s' is not START+LEN[,START+LEN...][/DELAY_MS]\n",
				o->inject);
			sv_ranges_free(&bad);
			sv_dev_close(top);
			*d = NULL;
			return EXIT_USAGE;
		}
		int st = sv_dev_fault(top, &bad, (uint32_t)delay, true, &nd);
		sv_ranges_free(&bad);
		if (st != SV_OK) {
			sv_dev_close(top);
			*d = NULL;
			return EXIT_UNREADABLE;
		}
		top = nd;
	}
	struct sv_rescue_opts ro = { o->max_retries, o->skip_after };
	if (sv_dev_rescue(top, &ro, true, &nd) != SV_OK) {
		sv_dev_close(top);
		*d = NULL;
		return EXIT_UNREADABLE;
	}
	top = nd;
	*d = top;
	if (!o->map)
		return EXIT_DONE;
	struct sv_ddmap m;
	char err[512];
	if (sv_ddmap_load(o->map, &m, err, sizeof err) != SV_OK) {
		fprintf(stderr, "salvage: --map: %s\n", err);
		return EXIT_USAGE;
	}
	struct sv_ranges un = { 0 };
	int st = sv_ddmap_unfinished(&m, top->size, &un);
	for (size_t i = 0; i < un.n && st == SV_OK; i++)
		st = sv_rescue_mark(top, un.v[i].off, un.v[i].len, SV_BAD_MAP);
	if (st == SV_OK && un.n && !o->quiet) {
		char sz[32];
		fprintf(stderr, "salvage: %s: the mapfile %s marks %zu areas (%s) of %s as not rescued; they read as "
			"unreadable\n", path, o->map, un.n, sv_human_size(sv_ranges_total(&un), sz, sizeof sz), path);
	}
	sv_ranges_free(&un);
	sv_ddmap_free(&m);
	return st == SV_OK ? EXIT_DONE : EXIT_UNREADABLE;
}

int cli_open_dev(const char *path, const char *what, const struct cli_src_opts *o, struct sv_dev **out)
{
	char err[512];
	int st = sv_dev_open_path(path, out, err, sizeof err);
	if (st != SV_OK) {
		fprintf(stderr, "salvage: %s%s%s\n", what ? what : "", what ? ": " : "", err);
		return EXIT_UNREADABLE;
	}
	return stack_rescue(path, o, out);
}

void cli_read_summary(const struct cli_src *s)
{
	struct sv_rescue_stats st;
	sv_rescue_get_stats(s->rescue, &st);
	if (!st.bad_bytes && !st.skipped_bytes)
		return;
	char a[32], b[32];
	const struct sv_ranges *bad = sv_rescue_areas(s->rescue, SV_BAD_ERROR);
	fprintf(stderr, "salvage: %s: %s in %zu areas could not be read (%llu failed reads)", s->source,
		sv_human_size(st.bad_bytes, a, sizeof a), bad ? bad->n : 0, (unsigned long long)st.failed_reads);
	if (st.skipped_bytes)
		fprintf(stderr, "; %s more were skipped", sv_human_size(st.skipped_bytes, b, sizeof b));
	fprintf(stderr, "; they read as zeros. To keep what can be read, image the drive once: "
		"salvage image %s OUT.img --map OUT.map\n", s->source);
}

static bool has_ext_magic(struct sv_dev *d, uint64_t off)
{
	uint8_t m[2];
	return sv_dev_read(d, off + 1024 + 0x38, m, 2) == SV_OK && sv_le16(m) == 0xEF53;
}

/* Pick the device the filesystem is on: --offset, -p N, the whole device, or the one partition
 * holding an ext filesystem. */
static int pick_volume(struct cli_src *s, const struct cli_src_opts *o)
{
	char sz[32];
	if (o->offset >= 0) {
		if ((uint64_t)o->offset >= s->base->size) {
			fprintf(stderr, "salvage: offset %lld is past the end of %s (%llu bytes)\n", (long long)o->offset,
				s->source, (unsigned long long)s->base->size);
			return EXIT_USAGE;
		}
		if (sv_dev_slice(s->base, (uint64_t)o->offset, s->base->size - (uint64_t)o->offset, false, &s->dev))
			return EXIT_UNREADABLE;
		return EXIT_DONE;
	}
	struct sv_part_table t;
	memset(&t, 0, sizeof t);
	struct sv_report quiet = { 0 };
	sv_part_read(s->base, o->partition ? &s->report : &quiet, &t);
	if (o->partition) {
		for (int i = 0; i < t.count; i++) {
			if (t.parts[i].index != o->partition)
				continue;
			int st = sv_dev_slice(s->base, t.parts[i].start, t.parts[i].size, false, &s->dev);
			s->part_index = o->partition;
			if (st == SV_OK)
				snprintf(s->dev->name, sizeof s->dev->name, "%s partition %d", s->source, o->partition);
			sv_part_table_free(&t);
			return st == SV_OK ? EXIT_DONE : EXIT_UNREADABLE;
		}
		fprintf(stderr, "salvage: %s has no partition %d (%s table with %d entries); `salvage probe %s` lists them\n",
			s->source, o->partition, sv_part_scheme_name(t.scheme), t.count, s->source);
		sv_part_table_free(&t);
		return EXIT_USAGE;
	}
	if (has_ext_magic(s->base, 0) || t.count == 0) {
		sv_part_table_free(&t);
		return sv_dev_slice(s->base, 0, s->base->size, false, &s->dev) == SV_OK ? EXIT_DONE : EXIT_UNREADABLE;
	}
	int found = 0, which = -1;
	for (int i = 0; i < t.count; i++)
		if (!t.parts[i].is_extended && has_ext_magic(s->base, t.parts[i].start)) {
			found++;
			which = i;
		}
	if (found == 1) {
		s->part_index = t.parts[which].index;
		int st = sv_dev_slice(s->base, t.parts[which].start, t.parts[which].size, false, &s->dev);
		if (st == SV_OK)
			snprintf(s->dev->name, sizeof s->dev->name, "%s partition %d", s->source, s->part_index);
		sv_part_table_free(&t);
		return st == SV_OK ? EXIT_DONE : EXIT_UNREADABLE;
	}
	if (found == 0) {
		fprintf(stderr, "salvage: %s has a %s partition table but no partition holds an ext2/3/4 filesystem "
			"signature; try `salvage probe %s`, or -p N / --superblock N to force one\n",
			s->source, sv_part_scheme_name(t.scheme), s->source);
	} else {
		fprintf(stderr, "salvage: %s holds %d ext filesystems; pick one with -p N:\n", s->source, found);
		for (int i = 0; i < t.count; i++)
			if (!t.parts[i].is_extended && has_ext_magic(s->base, t.parts[i].start))
				fprintf(stderr, "  -p %d  start %llu, %s, %s\n", t.parts[i].index,
					(unsigned long long)t.parts[i].start, sv_human_size(t.parts[i].size, sz, sizeof sz),
					t.parts[i].type_name);
	}
	sv_part_table_free(&t);
	return found == 0 ? EXIT_UNREADABLE : EXIT_USAGE;
}

int cli_open(const char *arg, const struct cli_src_opts *o, struct cli_src *s)
{
	memset(s, 0, sizeof *s);
	s->report.fn = o->no_problem_print ? NULL : cli_problem_print;
	cli_split_source(arg, &s->source, &s->path);
	char err[512];
	int st = sv_dev_open_path(s->source, &s->base, err, sizeof err);
	if (st != SV_OK) {
		fprintf(stderr, "salvage: %s\n", err);
		return st == SV_ERR_NOTFOUND && strchr(arg, ':') && !strstr(arg, ":/")
			       ? (fprintf(stderr, "salvage: (a path inside the source is written SOURCE:/PATH)\n"), EXIT_USAGE)
			       : EXIT_UNREADABLE;
	}
	int r0 = stack_rescue(s->source, o, &s->base);
	if (r0 != EXIT_DONE)
		return r0;
	s->rescue = s->base;
	int r = pick_volume(s, o);
	if (r != EXIT_DONE)
		return r;
	struct sv_fs_opts fo = { &s->report, o->sb_block, o->sb_bsize, o->cache_bytes };
	s->vol_off = s->dev->lower == s->base ? sv_dev_slice_offset(s->dev) : 0;
	st = sv_fs_open(s->dev, &fo, &s->fs, err, sizeof err);
	if (st != SV_OK) {
		fprintf(stderr, "salvage: %s: %s\n", s->dev->name, err);
		if (st == SV_ERR_CORRUPT)
			fprintf(stderr, "salvage: if this is a partitioned disk, `salvage probe %s` shows its partitions; "
				"--superblock N --block-size B picks a backup superblock by hand\n", s->source);
		return st == SV_ERR_NOMEM ? EXIT_UNREADABLE : EXIT_UNREADABLE;
	}
	return cli_replay(s, o);
}

void cli_close(struct cli_src *s)
{
	sv_fs_close(s->fs);
	sv_dev_close(s->dev);
	if (s->dev != s->base)
		sv_dev_close(s->base);
	free(s->source);
	free(s->path);
	memset(s, 0, sizeof *s);
}

int cli_resolve(struct cli_src *s, uint32_t *ino, struct sv_inode *in)
{
	int st = sv_path_resolve(s->fs, s->path, ino);
	if (st != SV_OK) {
		fprintf(stderr, "salvage: %s: ", s->source);
		cli_print_name(stderr, s->path, strlen(s->path));
		if (st == SV_ERR_NOTFOUND)
			fprintf(stderr, ": no such file or directory in the filesystem (`salvage ls %s:/` lists the root)\n",
				s->source);
		else if (st == SV_ERR_NOTDIR)
			fprintf(stderr, ": a component of the path is not a directory\n");
		else
			fprintf(stderr, ": cannot be reached: %s\n", sv_strerror(st));
		return st == SV_ERR_NOTFOUND || st == SV_ERR_NOTDIR ? EXIT_USAGE : EXIT_DAMAGED;
	}
	st = sv_inode_read(s->fs, *ino, in);
	if (st != SV_OK && st != SV_ERR_CSUM) {
		fprintf(stderr, "salvage: %s: inode %u of ", s->source, *ino);
		cli_print_name(stderr, s->path, strlen(s->path));
		fprintf(stderr, " cannot be read: %s\n", sv_strerror(st));
		return EXIT_DAMAGED;
	}
	return EXIT_DONE;
}

int cli_exit_status(const struct cli_src *s, int status)
{
	cli_read_summary(s);
	if (status != EXIT_DONE)
		return status;
	struct sv_rescue_stats st;
	sv_rescue_get_stats(s->rescue, &st);
	return s->report.errors || st.bad_bytes || st.skipped_bytes ? EXIT_DAMAGED : EXIT_DONE;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	double mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
	case 0: break;
	default: return false;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return false;
	v *= mul;
	if (v > 1.8e19)
		return false;
	*out = (uint64_t)v;
	return true;
}

void cli_json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else {
			/* Pass valid UTF-8 sequences; other bytes become \u00XX of the byte value. */
			int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
			bool ok = n > 0;
			for (int k = 1; ok && k <= n; k++)
				ok = i + (size_t)k < len && ((unsigned char)s[i + (size_t)k] & 0xC0) == 0x80;
			if (ok) {
				fwrite(s + i, 1, (size_t)n + 1, f);
				i += (size_t)n;
			} else {
				fprintf(f, "\\u%04x", c);
			}
		}
	}
	fputc('"', f);
}

void cli_print_name(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

const char *cli_fmt_time(int64_t sec, uint32_t nsec, char *buf, size_t cap)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, cap, "%lld", (long long)sec);
		return buf;
	}
	char d[64];
	strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%09u +0000", d, nsec);
	return buf;
}

const char *cli_mode_string(uint16_t mode, char *b)
{
	static const char types[] = "?pc?d?b?-?l?s???";
	b[0] = types[(mode >> 12) & 15];
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		b[1 + i] = (mode & (1 << (8 - i))) ? rwx[i] : '-';
	if (mode & 04000)
		b[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		b[6] = (mode & 010) ? 's' : 'S';
	if (mode & 01000)
		b[9] = (mode & 01) ? 't' : 'T';
	b[10] = 0;
	return b;
}
