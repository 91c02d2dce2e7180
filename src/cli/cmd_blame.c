/* cmd_blame.c: `salvage blame SOURCE --map FILE | --sectors LIST | --bytes LIST`: which files,
 * directories, inodes and filesystem structures a set of bad areas hits, and the bytes lost. */
#include "cli.h"
#include "../export/export.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: salvage blame [options] SOURCE --map FILE | --sectors LIST | --bytes LIST\n"
		"Say what a set of bad areas of SOURCE hits: every file and directory (under all its names) with\n"
		"the byte ranges of it that are lost, inodes, extent and indirect blocks, xattr blocks, superblock\n"
		"copies, group descriptors, bitmaps, inode tables, the journal, and what lies in free space.\n"
		"The filesystem's structures are read from SOURCE itself (an image, or the drive).\n"
		"\n"
		"  --map FILE         a GNU ddrescue mapfile: the areas not marked finished ('+') are the bad ones\n"
		"  --sectors LIST     512-byte sector numbers of SOURCE, as in kernel logs: N or N-M, comma-separated\n"
		"  --bytes LIST       byte ranges of SOURCE: START+LEN[,START+LEN...] (K, M, G suffixes, 0x hex)\n"
		"                     (the three can be combined; at least one is needed)\n"
		"  --json             the answer as JSON: bad_areas, files, metadata, free, outside\n"
		"  -p N, --partition N, --offset BYTES, --superblock N --block-size B, --journal FILE, --no-replay\n"
		"                     pick the filesystem (see `salvage --help`); offsets and sectors are always\n"
		"                     those of SOURCE\n"
		"\n"
		"Exit status: 0 nothing in use is hit (free space only), 1 something in use is hit (or metadata\n"
		"could not be read), 2 usage, 3 source unreadable.\n");
}

static void help(void) { usage(stdout); }

struct bargs {
	struct sv_ranges given;     /* --sectors and --bytes, SOURCE bytes */
	bool have_given;
};

/* "N" or "N-M" (decimal sector numbers), comma-separated, into byte ranges. */
static bool parse_sectors(const char *s, struct sv_ranges *r)
{
	if (!*s)
		return false;
	for (;;) {
		char *end;
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		unsigned long long a = strtoull(s, &end, 10), b = a;
		if (errno)
			return false;
		s = end;
		if (*s == '-') {
			s++;
			if (*s < '0' || *s > '9')
				return false;
			b = strtoull(s, &end, 10);
			if (errno || b < a)
				return false;
			s = end;
		}
		if (b >= UINT64_MAX / 512 || sv_ranges_add(r, a * 512, (b - a + 1) * 512) != SV_OK)
			return false;
		if (!*s)
			return true;
		if (*s++ != ',')
			return false;
	}
}

static int flag(void *ctx, int argc, char **argv, int *i)
{
	struct bargs *a = ctx;
	const char *o = argv[*i];
	bool sec = !strcmp(o, "--sectors") || !strncmp(o, "--sectors=", 10);
	bool byt = !strcmp(o, "--bytes") || !strncmp(o, "--bytes=", 8);
	if (!sec && !byt)
		return 0;
	const char *eq = strchr(o, '=');
	const char *v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
	if (!v) {
		fprintf(stderr, "salvage blame: %s needs a value (see --help)\n", o);
		return -1;
	}
	if (sec ? !parse_sectors(v, &a->given) : !sv_ranges_parse(v, &a->given)) {
		fprintf(stderr, sec ? "salvage blame: --sectors '%s' is not a list of sector numbers N or N-M, "
				      "comma-separated (512-byte sectors of SOURCE)\n"
				    : "salvage blame: --bytes '%s' is not START+LEN[,START+LEN...] (bytes of SOURCE)\n", v);
		return -1;
	}
	a->have_given = true;
	return 1;
}

static const char *type_name(uint16_t mode)
{
	switch (mode & SV_IFMT) {
	case SV_IFREG: return "file";
	case SV_IFDIR: return "dir";
	case SV_IFLNK: return "symlink";
	case SV_IFCHR: return "chardev";
	case SV_IFBLK: return "blockdev";
	case SV_IFIFO: return "fifo";
	case SV_IFSOCK: return "socket";
	}
	return "unknown";
}

static const char *what_name(int kind)
{
	switch (kind) {
	case SV_BLAME_DIR: return "directory block";
	case SV_BLAME_JOURNAL: return "journal";
	case SV_BLAME_RESERVED: return "reserved inode";
	}
	return sv_meta_kind_name(kind);
}

static const char *reserved_name(uint32_t ino, const struct sv_super *sb)
{
	if (ino == 3 || ino == sb->s_usr_quota_inum)
		return "user quota";
	if (ino == 4 || ino == sb->s_grp_quota_inum)
		return "group quota";
	if (ino == sb->s_prj_quota_inum)
		return "project quota";
	if (ino == sb->s_orphan_file_inum)
		return "orphan file";
	if (ino == 5)
		return "boot loader";
	if (ino == 7)
		return "resize inode";
	return "reserved";
}

struct out {
	struct cli_src *s;
	struct sv_blame *b;
	struct sv_ranges given, map;   /* SOURCE bytes */
	const char *mapfile;
};

/* ---- text ---- */
static void print_ranges_incl(const struct sv_ranges *r, uint64_t base)
{
	for (size_t i = 0; i < r->n; i++)
		printf("%s%llu-%llu", i ? ", " : "", (unsigned long long)(base + r->v[i].off),
		       (unsigned long long)(base + r->v[i].off + r->v[i].len - 1));
}

static void print_file_line(const struct out *o, const struct sv_blame_file *f, const char *path)
{
	printf("damaged: ");
	if (path)
		cli_print_name(stdout, path, strlen(path));
	else
		printf("inode %u (no name found: deleted while open, an xattr value, or its directory is lost)", f->ino);
	const char *t = type_name(f->mode);
	if (!strcmp(t, "file"))
		printf(" (inode %u, %llu bytes): ", f->ino, (unsigned long long)f->size);
	else
		printf(" (%s, inode %u, %llu bytes): ", !strcmp(t, "dir") ? "directory" : t, f->ino,
		       (unsigned long long)f->size);
	const char *sep = "";
	if (f->hit & SV_BLAME_INODE) {
		printf("its inode is in a bad area: all of it is lost");
		sep = "; ";
	} else if (f->lost.n) {
		printf("lost bytes ");
		print_ranges_incl(&f->lost, 0);
		if ((f->mode & SV_IFMT) == SV_IFDIR)
			printf(" (the names in them are lost)");
		sep = "; ";
	}
	if (f->hit & SV_BLAME_MAP) {
		printf("%san extent or indirect block of its map is in a bad area: the data under it cannot be "
		       "found", sep);
		sep = "; ";
	}
	if (f->hit & SV_BLAME_XATTR)
		printf("%sits extended attribute block is in a bad area", sep);
	printf("\n");
}

static const char *first_path(const struct out *o, uint32_t ino)
{
	const struct sv_blame_file *f = sv_blame_find(o->b, ino);
	return f && f->npaths ? f->paths[0] : NULL;
}

static void print_meta_line(const struct out *o, const struct sv_blame_meta *m)
{
	const struct sv_super *sb = sv_fs_super(o->s->fs);
	unsigned long long a = m->blk, e = m->blk + m->count - 1;
	printf("metadata: ");
	switch (m->kind) {
	case SV_META_SUPER:
		if (m->group == 0)
			printf("the primary superblock (block %llu)", a);
		else
			printf("the backup superblock of group %u (block %llu)", m->group, a);
		break;
	case SV_META_INODE_TABLE:
		printf("inode table of group %u, block%s %llu", m->group, a == e ? "" : "s", a);
		if (a != e)
			printf("-%llu", e);
		printf(": inodes %u-%u", m->ino_first, m->ino_last);
		break;
	case SV_META_GDT: case SV_META_RESERVED_GDT: case SV_META_BLOCK_BITMAP: case SV_META_INODE_BITMAP:
		printf("%s of group %u, block%s %llu", sv_meta_kind_name(m->kind), m->group, a == e ? "" : "s", a);
		if (a != e)
			printf("-%llu", e);
		break;
	default: {
		const char *p = first_path(o, m->ino);
		if (m->kind == SV_BLAME_JOURNAL)
			printf("the journal (inode %u)", m->ino);
		else if (m->kind == SV_BLAME_RESERVED)
			printf("reserved inode %u (%s)", m->ino, reserved_name(m->ino, sb));
		else if (m->kind == SV_BLAME_DIR)
			printf("directory block of ");
		else
			printf("%s of ", what_name(m->kind));
		if (m->kind == SV_BLAME_DIR || (m->kind != SV_BLAME_JOURNAL && m->kind != SV_BLAME_RESERVED)) {
			if (p)
				cli_print_name(stdout, p, strlen(p));
			else
				printf("inode %u", m->ino);
			if (p)
				printf(" (inode %u)", m->ino);
		}
		printf(", block%s %llu", a == e ? "" : "s", a);
		if (a != e)
			printf("-%llu", e);
	}
	}
	printf("\n");
}

static uint64_t lost_bytes(const struct sv_blame *b, size_t *nfiles, size_t *ndirs)
{
	uint64_t t = 0;
	*nfiles = *ndirs = 0;
	for (size_t i = 0; i < b->nfiles; i++) {
		t += sv_ranges_total(&b->files[i].lost);
		if ((b->files[i].mode & SV_IFMT) == SV_IFDIR)
			++*ndirs;
		else
			++*nfiles;
	}
	return t;
}

static void print_text(const struct out *o)
{
	const struct sv_blame *b = o->b;
	const char *src = o->s->source;
	for (int k = 0; k < 2; k++) {
		const struct sv_ranges *r = k ? &o->map : &o->given;
		for (size_t i = 0; i < r->n; i++) {
			uint64_t a = r->v[i].off, e = a + r->v[i].len - 1;
			printf("bad area: bytes %llu-%llu of %s (sectors %llu-%llu)%s\n", (unsigned long long)a,
			       (unsigned long long)e, src, (unsigned long long)(a / 512), (unsigned long long)(e / 512),
			       k ? " (map)" : "");
		}
	}
	for (size_t i = 0; i < b->nfiles; i++) {
		const struct sv_blame_file *f = &b->files[i];
		if (!f->npaths)
			print_file_line(o, f, NULL);
		for (size_t k = 0; k < f->npaths; k++)
			print_file_line(o, f, f->paths[k]);
	}
	for (size_t i = 0; i < b->nmeta; i++)
		print_meta_line(o, &b->meta[i]);
	for (size_t i = 0; i < b->free.n; i++)
		printf("free space: bytes %llu-%llu of %s: nothing lost\n",
		       (unsigned long long)(o->s->vol_off + b->free.v[i].off),
		       (unsigned long long)(o->s->vol_off + b->free.v[i].off + b->free.v[i].len - 1), src);
	for (size_t i = 0; i < b->outside.n; i++)
		printf("outside the filesystem: bytes %llu-%llu of %s (not used by it)\n",
		       (unsigned long long)b->outside.v[i].off,
		       (unsigned long long)(b->outside.v[i].off + b->outside.v[i].len - 1), src);
	size_t nf, nd;
	uint64_t lost = lost_bytes(b, &nf, &nd);
	char s1[32], s2[32], s3[32];
	struct sv_ranges all = { 0 };
	for (size_t i = 0; i < o->given.n; i++)
		sv_ranges_add(&all, o->given.v[i].off, o->given.v[i].len);
	for (size_t i = 0; i < o->map.n; i++)
		sv_ranges_add(&all, o->map.v[i].off, o->map.v[i].len);
	printf("summary: %zu bad area%s (%s): %zu file%s and %zu director%s hit (%s lost), %zu metadata area%s, "
	       "%s in free space; %llu inodes in use looked at\n", all.n, all.n == 1 ? "" : "s",
	       sv_human_size(sv_ranges_total(&all), s1, sizeof s1), nf, nf == 1 ? "" : "s", nd, nd == 1 ? "y" : "ies",
	       sv_human_size(lost, s2, sizeof s2), b->nmeta, b->nmeta == 1 ? "" : "s",
	       sv_human_size(sv_ranges_total(&b->free), s3, sizeof s3), (unsigned long long)b->inodes_scanned);
	sv_ranges_free(&all);
}

/* ---- JSON ---- */
static void json_pairs(const struct sv_ranges *r, uint64_t base)
{
	putchar('[');
	for (size_t i = 0; i < r->n; i++)
		printf("%s[%llu,%llu]", i ? "," : "", (unsigned long long)(base + r->v[i].off),
		       (unsigned long long)r->v[i].len);
	putchar(']');
}

static void print_json(const struct out *o)
{
	const struct sv_blame *b = o->b;
	const struct sv_super *sb = sv_fs_super(o->s->fs);
	printf("{\"source\":");
	cli_json_str(stdout, o->s->source, strlen(o->s->source));
	printf(",\"fs_offset\":%llu,\"block_size\":%u,\"bad_areas\":[", (unsigned long long)o->s->vol_off,
	       sv_fs_block_size(o->s->fs));
	bool first = true;
	for (int k = 0; k < 2; k++) {
		const struct sv_ranges *r = k ? &o->map : &o->given;
		for (size_t i = 0; i < r->n; i++, first = false)
			printf("%s{\"offset\":%llu,\"length\":%llu,\"kind\":\"%s\"}", first ? "" : ",",
			       (unsigned long long)r->v[i].off, (unsigned long long)r->v[i].len, k ? "map" : "given");
	}
	printf("],\"files\":[");
	for (size_t i = 0; i < b->nfiles; i++) {
		const struct sv_blame_file *f = &b->files[i];
		printf("%s{\"paths\":[", i ? "," : "");
		for (size_t k = 0; k < f->npaths; k++) {
			if (k)
				putchar(',');
			cli_json_str(stdout, f->paths[k], strlen(f->paths[k]));
		}
		printf("],\"ino\":%u,\"type\":\"%s\",\"size\":%llu,\"lost\":", f->ino, type_name(f->mode),
		       (unsigned long long)f->size);
		json_pairs(&f->lost, 0);
		printf(",\"hit\":[");
		static const char *const hn[] = { "data", "inode", "map", "xattr" };
		bool fh = true;
		for (int h = 0; h < 4; h++)
			if (f->hit & (1u << h)) {
				printf("%s\"%s\"", fh ? "" : ",", hn[h]);
				fh = false;
			}
		printf("]}");
	}
	printf("],\"metadata\":[");
	for (size_t i = 0; i < b->nmeta; i++) {
		const struct sv_blame_meta *m = &b->meta[i];
		printf("%s{\"what\":\"%s\",", i ? "," : "", what_name(m->kind));
		if (m->kind < SV_META_EXTENT)
			printf("\"group\":%u,", m->group);
		printf("\"block\":%llu,\"count\":%llu", (unsigned long long)m->blk, (unsigned long long)m->count);
		if (m->kind == SV_META_INODE_TABLE)
			printf(",\"inodes\":[%u,%u]", m->ino_first, m->ino_last);
		if (m->ino) {
			printf(",\"ino\":%u", m->ino);
			const char *p = first_path(o, m->ino);
			if (p) {
				printf(",\"path\":");
				cli_json_str(stdout, p, strlen(p));
			}
			if (m->kind == SV_BLAME_RESERVED)
				printf(",\"role\":\"%s\"", reserved_name(m->ino, sb));
		}
		putchar('}');
	}
	printf("],\"free\":");
	json_pairs(&b->free, o->s->vol_off);
	printf(",\"outside\":");
	json_pairs(&b->outside, 0);
	size_t nf, nd;
	uint64_t lost = lost_bytes(b, &nf, &nd);
	printf(",\"files_hit\":%zu,\"dirs_hit\":%zu,\"bytes_lost\":%llu,\"metadata_hit\":%zu,\"inodes_scanned\":%llu}\n",
	       nf, nd, (unsigned long long)lost, b->nmeta, (unsigned long long)b->inodes_scanned);
}

/* SOURCE byte ranges -> the filesystem device's (fs), the rest -> outside (SOURCE bytes). */
static int to_fs(const struct cli_src *s, const struct sv_ranges *src, struct sv_ranges *fs, struct sv_ranges *outside)
{
	uint64_t lo = s->vol_off, hi = s->vol_off + s->dev->size;
	int st = SV_OK;
	for (size_t i = 0; i < src->n && st == SV_OK; i++) {
		uint64_t a = src->v[i].off, e = a + src->v[i].len;
		uint64_t ia = a > lo ? a : lo, ie = e < hi ? e : hi;
		if (ia < ie)
			st = sv_ranges_add(fs, ia - lo, ie - ia);
		if (a < lo && st == SV_OK)
			st = sv_ranges_add(outside, a, (e < lo ? e : lo) - a);
		if (e > hi && st == SV_OK)
			st = sv_ranges_add(outside, a > hi ? a : hi, e - (a > hi ? a : hi));
	}
	return st;
}

int cmd_blame(int argc, char **argv)
{
	struct cli_src_opts so;
	cli_src_opts_init(&so);
	struct bargs ba = { { 0 }, false };
	const char *arg;
	struct out o = { 0 };
	int r = cli_parse_args(argc, argv, &so, help, flag, &ba, &arg);
	if (r != EXIT_DONE) {
		sv_ranges_free(&ba.given);
		return r < 0 ? EXIT_DONE : r;
	}
	if (!ba.have_given && !so.map) {
		fprintf(stderr, "salvage blame: which areas are bad? give --map FILE, --sectors LIST or --bytes LIST "
			"(see --help)\n");
		sv_ranges_free(&ba.given);
		return EXIT_USAGE;
	}
	/* The map is read here, not handed to the reader: blame reads the structures from SOURCE
	 * wherever the source can be read, and the map only says which areas to blame. */
	struct sv_ddmap m;
	bool have_map = false;
	if (so.map) {
		char err[512];
		if (sv_ddmap_load(so.map, &m, err, sizeof err) != SV_OK) {
			fprintf(stderr, "salvage blame: --map: %s\n", err);
			sv_ranges_free(&ba.given);
			return EXIT_USAGE;
		}
		have_map = true;
		o.mapfile = so.map;
		so.map = NULL;
	}
	struct cli_src s;
	r = cli_open(arg, &so, &s);
	struct sv_blame b = { 0 };
	struct sv_ranges fsbad = { 0 }, outside = { 0 };
	if (r != EXIT_DONE)
		goto out;
	o.s = &s;
	o.b = &b;
	uint64_t size = s.base->size;
	if (sv_ranges_total(&ba.given) && ba.given.v[0].off >= size && !have_map) {
		fprintf(stderr, "salvage blame: every area given lies past the end of %s (%llu bytes, %llu sectors); "
			"sectors and bytes are those of SOURCE\n", s.source, (unsigned long long)size,
			(unsigned long long)(size / 512));
		r = EXIT_USAGE;
		goto out;
	}
	o.given = ba.given;
	ba.given = (struct sv_ranges){ 0 };
	if (have_map && sv_ddmap_unfinished(&m, size, &o.map) != SV_OK)
		r = EXIT_UNREADABLE;
	struct sv_ranges all = { 0 };
	for (size_t i = 0; i < o.given.n && r == EXIT_DONE; i++)
		if (sv_ranges_add(&all, o.given.v[i].off, o.given.v[i].len) != SV_OK)
			r = EXIT_UNREADABLE;
	for (size_t i = 0; i < o.map.n && r == EXIT_DONE; i++)
		if (sv_ranges_add(&all, o.map.v[i].off, o.map.v[i].len) != SV_OK)
			r = EXIT_UNREADABLE;
	if (r == EXIT_DONE && to_fs(&s, &all, &fsbad, &outside) != SV_OK)
		r = EXIT_UNREADABLE;
	sv_ranges_free(&all);
	if (r == EXIT_DONE && sv_blame(s.fs, &fsbad, &b) != SV_OK) {
		fprintf(stderr, "salvage blame: out of memory\n");
		r = EXIT_UNREADABLE;
	}
	if (r == EXIT_DONE) {
		/* outside parts in SOURCE bytes: before or past the volume, and its boot sector */
		for (size_t i = 0; i < b.outside.n; i++)
			sv_ranges_add(&outside, s.vol_off + b.outside.v[i].off, b.outside.v[i].len);
		sv_ranges_free(&b.outside);
		b.outside = outside;
		outside = (struct sv_ranges){ 0 };
		if (so.json)
			print_json(&o);
		else
			print_text(&o);
		struct sv_rescue_stats rs;
		sv_rescue_get_stats(s.rescue, &rs);
		if (rs.bad_bytes || rs.skipped_bytes)
			fprintf(stderr, "salvage blame: some of the filesystem's structures could not be read; what "
				"they hold is not in this answer\n");
		cli_read_summary(&s);
		r = sv_blame_any(&b) || rs.bad_bytes || rs.skipped_bytes ? EXIT_DAMAGED : EXIT_DONE;
	}
out:
	sv_blame_free(&b);
	sv_ranges_free(&fsbad);
	sv_ranges_free(&outside);
	sv_ranges_free(&o.given);
	sv_ranges_free(&o.map);
	sv_ranges_free(&ba.given);
	if (have_map)
		sv_ddmap_free(&m);
	cli_close(&s);     /* cli_open zeroes s first: safe after a failed open too */
	return r;
}
