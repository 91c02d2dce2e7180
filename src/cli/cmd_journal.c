/* cmd_journal.c: `salvage journal` (the journal's state in plain words: pending transactions, which
 * blocks a replay changes and whose they are, orphans) and cli_replay, the hook cli_open calls to
 * show a crashed filesystem as the kernel would after recovery, replayed in memory only. */
#include "cli.h"
#include "../journal/journal.h"
#include <stdlib.h>
#include <string.h>

static int open_ext_journal(const struct cli_src_opts *o, struct sv_dev **ext)
{
	*ext = NULL;
	if (!o->journal)
		return EXIT_DONE;
	/* the journal device gets the rescue reader too, but not the source's map or injected faults */
	struct cli_src_opts jo = *o;
	jo.map = NULL;
	jo.inject = NULL;
	return cli_open_dev(o->journal, "--journal", &jo, ext);
}

int cli_replay(struct cli_src *s, const struct cli_src_opts *o)
{
	const struct sv_super *sb = sv_fs_super(s->fs);
	if (o->no_replay || !(sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) ||
	    !(sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER))
		return EXIT_DONE;
	struct sv_dev *ext;
	int r = open_ext_journal(o, &ext);
	if (r != EXIT_DONE)
		return r;
	struct sv_journal_info info;
	struct sv_dev *ov = NULL;
	int st = sv_journal_replay(s->fs, ext, &s->report, &ov, &info);
	/* the overlay reads replayed blocks from the journal device on demand: it keeps it open */
	if (st == SV_OK && ext && sv_overlay_adopt(ov, ext) != SV_OK) {
		sv_dev_close(ov);
		st = SV_ERR_NOMEM;
	}
	if (st != SV_OK) {
		if (!o->quiet)
			fprintf(stderr, "salvage: journal needs recovery but cannot be replayed: %s; showing the raw "
				"on-disk state (`salvage journal %s` tells more)\n", info.stop_msg, s->source);
		if (info.external && !ext)
			sv_report(&s->report, SV_PB_JOURNAL, 0, SV_NOBLOCK,
				  "journal not replayed: it is on another device; give it with --journal FILE");
		sv_dev_close(ext);
		return EXIT_DONE;
	}
	if (info.stop == SV_JSTOP_FATAL || sv_overlay_count(ov) == 0) {
		if (!o->quiet && info.stop == SV_JSTOP_FATAL)
			fprintf(stderr, "salvage: journal needs recovery but its log is damaged (%s); nothing replayed, "
				"showing the raw on-disk state\n", info.stop_msg);
		sv_dev_close(ov);
		return EXIT_DONE;
	}
	struct sv_fs *nfs = NULL;
	struct sv_fs_opts fo = { &s->report, o->sb_block, o->sb_bsize, o->cache_bytes };
	char err[512];
	st = sv_fs_open(ov, &fo, &nfs, err, sizeof err);
	if (st != SV_OK) {
		fprintf(stderr, "salvage: the filesystem does not open after replaying its journal (%s); showing the raw "
			"on-disk state (--no-replay does so without trying)\n", err);
		sv_report(&s->report, SV_PB_JOURNAL, 0, SV_NOBLOCK, "replayed filesystem unreadable: %s", err);
		sv_dev_close(ov);
		return EXIT_DONE;
	}
	sv_fs_close(s->fs);
	ov->owns_lower = true;             /* closing s->dev now closes the volume below the overlay too */
	s->dev = ov;
	s->fs = nfs;
	s->replayed = true;
	s->replay_tx = info.tx_count;
	s->replay_blocks = info.replayed;
	if (!o->quiet)
		fprintf(stderr, "salvage: journal needs recovery: replayed %u transaction%s (%llu block%s) in memory; "
			"the source was not written (use --no-replay for the raw state)\n", info.tx_count,
			info.tx_count == 1 ? "" : "s", (unsigned long long)info.replayed, info.replayed == 1 ? "" : "s");
	return EXIT_DONE;
}

/* ---- what a replayed block is ---- */
enum {
	K_UNKNOWN, K_SUPER, K_BACKUP_SUPER, K_GDT, K_RESERVED_GDT, K_BBITMAP, K_IBITMAP, K_ITABLE, K_DATA, K_DIR,
	K_XATTR, K_EXTENT, K_XATTR_GUESS,
};
struct blk_what {
	uint64_t blk;
	int kind;
	uint32_t group;
	uint32_t ino;                      /* owner (K_DATA, K_DIR, K_XATTR) */
	uint32_t ino_lo, ino_hi;           /* K_ITABLE: inodes in this block */
};
struct target {
	uint32_t ino;
	char *path;
};
struct jctx {
	struct sv_fs *fs;                  /* the replayed view (or raw when nothing replays) */
	struct blk_what *b;
	size_t n, cap, unknown;
	struct target *t;                  /* owner inodes, sorted */
	size_t nt, capt, paths_left;
	uint64_t inodes_scanned, dirs_walked;
	bool inode_scan_capped;
};

static int collect_blk(void *ctx, uint64_t blk)
{
	struct jctx *c = ctx;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct blk_what *nb = realloc(c->b, nc * sizeof *nb);
		if (!nb)
			return SV_ERR_NOMEM;
		c->b = nb;
		c->cap = nc;
	}
	memset(&c->b[c->n], 0, sizeof c->b[c->n]);
	c->b[c->n++].blk = blk;
	return 0;
}

/* first index with b[i].blk >= blk */
static size_t lower(const struct jctx *c, uint64_t blk)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (c->b[m].blk < blk)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

static void mark_range(struct jctx *c, uint64_t start, uint64_t len, int kind, uint32_t g, uint32_t ino)
{
	for (size_t i = lower(c, start); i < c->n && c->b[i].blk - start < len; i++) {
		if (c->b[i].kind != K_UNKNOWN)
			continue;
		c->b[i].kind = kind;
		c->b[i].group = g;
		c->b[i].ino = ino;
		c->unknown--;
	}
}

static void classify_geometry(struct jctx *c)
{
	struct sv_fs *fs = c->fs;
	const struct sv_super *sb = sv_fs_super(fs);
	uint32_t bs = sv_fs_block_size(fs), ng = sv_fs_group_count(fs);
	uint32_t dsz = (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) && sb->s_desc_size >= 32 ? sb->s_desc_size
												       : 32;
	uint64_t gdt_blocks = ((uint64_t)ng * dsz + bs - 1) / bs;
	uint32_t dpb = bs / dsz;
	bool meta = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_META_BG;
	uint64_t itb = ((uint64_t)sb->s_inodes_per_group * sb->s_inode_size + bs - 1) / bs;
	uint32_t ipb = sb->s_inode_size ? bs / sb->s_inode_size : 1;
	mark_range(c, 1024 / bs, 1, K_SUPER, 0, 0);
	for (uint32_t g = 0; g < ng && c->unknown; g++) {
		uint64_t gs = (uint64_t)sb->s_first_data_block + (uint64_t)g * sb->s_blocks_per_group;
		bool hs = sv_fs_group_has_super(fs, g);
		if (hs && g)
			mark_range(c, gs, 1, K_BACKUP_SUPER, g, 0);
		uint64_t classic = meta ? sb->s_first_meta_bg : gdt_blocks;
		if (hs) {
			mark_range(c, gs + 1, classic, K_GDT, g, 0);
			mark_range(c, gs + 1 + classic, sb->s_reserved_gdt_blocks, K_RESERVED_GDT, g, 0);
		}
		if (meta && dpb) {
			uint32_t mg = g / dpb, in = g % dpb;
			if (mg >= sb->s_first_meta_bg && (in == 0 || in == 1 || in == dpb - 1))
				mark_range(c, gs + (hs ? 1 : 0), 1, K_GDT, g, 0);
		}
		const struct sv_group *gd = sv_fs_group(fs, g);
		if (!gd)
			continue;
		mark_range(c, gd->bg_block_bitmap, 1, K_BBITMAP, g, 0);
		mark_range(c, gd->bg_inode_bitmap, 1, K_IBITMAP, g, 0);
		size_t i0 = lower(c, gd->bg_inode_table);
		for (size_t i = i0; i < c->n && c->b[i].blk - gd->bg_inode_table < itb; i++) {
			if (c->b[i].kind != K_UNKNOWN)
				continue;
			uint64_t k = c->b[i].blk - gd->bg_inode_table;
			uint64_t first = (uint64_t)g * sb->s_inodes_per_group + k * ipb + 1;
			c->b[i].kind = K_ITABLE;
			c->b[i].group = g;
			c->b[i].ino_lo = (uint32_t)first;
			c->b[i].ino_hi = (uint32_t)(first + ipb - 1);
			c->unknown--;
		}
	}
}

struct ownctx {
	struct jctx *c;
	uint32_t ino;
	int kind;
	bool hit;
};

static int own_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct ownctx *o = ctx;
	(void)lblk; (void)flags;
	size_t before = o->c->unknown;
	mark_range(o->c, pblk, len, o->kind, 0, o->ino);
	if (o->c->unknown != before)
		o->hit = true;
	return o->c->unknown ? 0 : 1;
}

static void add_target(struct jctx *c, uint32_t ino)
{
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].ino == ino)
			return;
	if (c->nt == c->capt) {
		size_t nc = c->capt ? c->capt * 2 : 16;
		struct target *nt = realloc(c->t, nc * sizeof *nt);
		if (!nt)
			return;
		c->t = nt;
		c->capt = nc;
	}
	c->t[c->nt].ino = ino;
	c->t[c->nt++].path = NULL;
}

#define INODE_SCAN_CAP 4000000

/* Walk the inodes in use and attribute the remaining blocks to files (only the replay set is
 * looked up; the walk stops as soon as every block is attributed). */
static void classify_owners(struct jctx *c)
{
	struct sv_fs *fs = c->fs;
	const struct sv_super *sb = sv_fs_super(fs);
	uint32_t ng = sv_fs_group_count(fs);
	bool csum = sv_fs_has_csum(fs) || (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_GDT_CSUM);
	struct sv_inode *in = malloc(sizeof *in);
	if (!in)
		return;
	for (uint32_t g = 0; g < ng && c->unknown; g++) {
		const struct sv_group *gd = sv_fs_group(fs, g);
		if (!gd || (csum && (gd->bg_flags & EXT4_BG_INODE_UNINIT)))
			continue;
		uint32_t n = sb->s_inodes_per_group;
		if (csum && gd->bg_itable_unused < n)
			n -= gd->bg_itable_unused;
		for (uint32_t k = 0; k < n && c->unknown; k++) {
			if (++c->inodes_scanned > INODE_SCAN_CAP) {
				c->inode_scan_capped = true;
				free(in);
				return;
			}
			uint32_t ino = g * sb->s_inodes_per_group + k + 1;
			int st = sv_inode_read(fs, ino, in);
			if ((st != SV_OK && st != SV_ERR_CSUM) || in->mode == 0 || (in->links_count == 0 && in->dtime))
				continue;
			if (ino == sb->s_journal_inum)
				continue;
			size_t before = c->unknown;
			if (in->file_acl)
				mark_range(c, in->file_acl, 1, K_XATTR, 0, ino);
			if (!(in->flags & EXT4_INLINE_DATA_FL) && (in->mode & SV_IFMT) != SV_IFCHR &&
			    (in->mode & SV_IFMT) != SV_IFBLK && !((in->mode & SV_IFMT) == SV_IFLNK && in->blocks == 0)) {
				struct ownctx o = { c, ino, (in->mode & SV_IFMT) == SV_IFDIR ? K_DIR : K_DATA, false };
				sv_file_map(fs, in, own_run, &o);
			}
			if (c->unknown != before)
				add_target(c, ino);
		}
	}
	free(in);
}

/* ---- paths of the owner inodes: one bounded walk of the directory tree ---- */
#define DIR_WALK_CAP 200000
#define PATH_CAP 4096

struct sub {
	uint32_t ino;
	char *name;
};
struct walkctx {
	struct jctx *c;
	struct sub *subs;
	size_t n, cap;
	const char *prefix;
};

static struct target *find_target(struct jctx *c, uint32_t ino)
{
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].ino == ino)
			return &c->t[i];
	return NULL;
}

static int walk_entry(void *ctx, const struct sv_dirent *de)
{
	struct walkctx *w = ctx;
	if ((de->name_len == 1 && de->name[0] == '.') || (de->name_len == 2 && !memcmp(de->name, "..", 2)))
		return 0;
	struct target *t = find_target(w->c, de->ino);
	size_t pl = strlen(w->prefix);
	if (t && !t->path && w->c->paths_left) {
		t->path = malloc(pl + de->name_len + 2);
		if (t->path) {
			memcpy(t->path, w->prefix, pl);
			t->path[pl] = '/';
			memcpy(t->path + pl + 1, de->name, de->name_len);
			t->path[pl + 1 + de->name_len] = 0;
			w->c->paths_left--;
		}
	}
	if (de->file_type == EXT4_FT_DIR || de->file_type == EXT4_FT_UNKNOWN) {
		if (w->n == w->cap) {
			size_t nc = w->cap ? w->cap * 2 : 16;
			struct sub *ns = realloc(w->subs, nc * sizeof *ns);
			if (!ns)
				return 1;
			w->subs = ns;
			w->cap = nc;
		}
		w->subs[w->n].ino = de->ino;
		w->subs[w->n].name = strndup(de->name, de->name_len);
		if (w->subs[w->n].name)
			w->n++;
	}
	return 0;
}

static void walk_dir(struct jctx *c, uint32_t ino, const char *prefix, int depth)
{
	if (!c->paths_left || depth > 64 || ++c->dirs_walked > DIR_WALK_CAP)
		return;
	struct sv_inode in;
	int st = sv_inode_read(c->fs, ino, &in);
	if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFDIR)
		return;
	struct walkctx w = { c, NULL, 0, 0, prefix };
	sv_dir_iterate(c->fs, &in, walk_entry, &w);
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < w.n; i++) {
		size_t nl = strlen(w.subs[i].name);
		if (pl + nl + 2 <= PATH_CAP && w.subs[i].ino != ino) {
			char *np = malloc(pl + nl + 2);
			if (np) {
				memcpy(np, prefix, pl);
				np[pl] = '/';
				memcpy(np + pl + 1, w.subs[i].name, nl + 1);
				walk_dir(c, w.subs[i].ino, np, depth + 1);
				free(np);
			}
		}
		free(w.subs[i].name);
	}
	free(w.subs);
}

static const char *target_path(struct jctx *c, uint32_t ino)
{
	if (ino == EXT4_ROOT_INO)
		return "/";
	struct target *t = find_target(c, ino);
	return t && t->path ? t->path : NULL;
}

static void describe(struct jctx *c, const struct blk_what *b, char *buf, size_t cap)
{
	const char *p;
	switch (b->kind) {
	case K_SUPER: snprintf(buf, cap, "superblock"); break;
	case K_BACKUP_SUPER: snprintf(buf, cap, "backup superblock (group %u)", b->group); break;
	case K_GDT: snprintf(buf, cap, "group descriptors%s", b->group ? " (backup)" : ""); break;
	case K_RESERVED_GDT: snprintf(buf, cap, "reserved group descriptor blocks (group %u)", b->group); break;
	case K_BBITMAP: snprintf(buf, cap, "block bitmap of group %u", b->group); break;
	case K_IBITMAP: snprintf(buf, cap, "inode bitmap of group %u", b->group); break;
	case K_ITABLE:
		snprintf(buf, cap, "inode table of group %u (inodes %u-%u)", b->group, b->ino_lo, b->ino_hi);
		break;
	case K_DATA:
	case K_DIR:
	case K_XATTR:
		p = target_path(c, b->ino);
		snprintf(buf, cap, "%s of inode %u%s%.3000s%s",
			 b->kind == K_DIR ? "directory block" : b->kind == K_DATA ? "file data" : "extended attribute block",
			 b->ino, p ? " (" : "", p ? p : "", p ? ")" : "");
		break;
	case K_EXTENT: snprintf(buf, cap, "extent tree block"); break;
	case K_XATTR_GUESS: snprintf(buf, cap, "extended attribute block (owner not found)"); break;
	default: snprintf(buf, cap, "not attributed (an indirect or extent index block, or a block no inode uses now)");
	}
}

static void guess_contents(struct jctx *c)
{
	uint32_t bs = sv_fs_block_size(c->fs);
	uint8_t *buf = malloc(bs);
	if (!buf)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->b[i].kind != K_UNKNOWN)
			continue;
		if (sv_fs_read_block(c->fs, c->b[i].blk, buf) != SV_OK)
			continue;
		if (sv_le16(buf) == 0xF30A)
			c->b[i].kind = K_EXTENT;
		else if (sv_le32(buf) == 0xEA020000)
			c->b[i].kind = K_XATTR_GUESS;
	}
	free(buf);
}

/* ---- output ---- */
static void feature_list(const struct sv_journal_info *in, char *buf, size_t cap)
{
	static const struct { uint32_t bit; bool incompat; const char *name; } f[] = {
		{ JBD2_FEATURE_COMPAT_CHECKSUM, false, "checksum" },
		{ JBD2_FEATURE_INCOMPAT_REVOKE, true, "revoke" },
		{ JBD2_FEATURE_INCOMPAT_64BIT, true, "64bit" },
		{ JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT, true, "async_commit" },
		{ JBD2_FEATURE_INCOMPAT_CSUM_V2, true, "checksum_v2" },
		{ JBD2_FEATURE_INCOMPAT_CSUM_V3, true, "checksum_v3" },
		{ JBD2_FEATURE_INCOMPAT_FAST_COMMIT, true, "fast_commit" },
	};
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		uint32_t v = f[i].incompat ? in->sb.s_feature_incompat : in->sb.s_feature_compat;
		if (in->version == 2 && (v & f[i].bit) && len + strlen(f[i].name) + 2 < cap)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? " " : "", f[i].name);
	}
}

static const char *csum_name(int v)
{
	switch (v) {
	case 1: return "v1 (crc32 over each transaction, in its commit block)";
	case 2: return "v2 (crc32c, 16 bits per block tag)";
	case 3: return "v3 (crc32c, 32 bits per block tag)";
	default: return "none";
	}
}

static const char *stop_id(int s)
{
	static const char *ids[] = { "none", "clean", "end", "bad_type", "commit_checksum", "stale", "too_long",
				     "io", "refused" };
	return s >= 0 && s <= SV_JSTOP_FATAL ? ids[s] : "none";
}

struct orph {
	struct sv_orphan *v;
	size_t n, cap;
	unsigned long total;
};
static int orph_add(void *ctx, const struct sv_orphan *o)
{
	struct orph *l = ctx;
	l->total++;
	if (l->n >= 1000)
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		struct sv_orphan *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv)
			return 0;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *o;
	return 0;
}

static void help(void)
{
	printf("usage: salvage journal [--json] [--journal FILE] [-p N] [--offset B] SOURCE\n\n"
	       "The journal's state in plain words: where it is, its format and checksums, whether the filesystem\n"
	       "needs recovery, the transactions pending (sequence numbers, blocks each), which filesystem blocks\n"
	       "a replay changes and what they are (superblock, group descriptors, bitmaps, inode tables, file and\n"
	       "directory blocks with their paths), and the orphan inodes the kernel deletes or truncates at mount.\n"
	       "Other commands replay the journal in memory before reading; nothing is ever written to SOURCE.\n\n"
	       "  --journal FILE   the external journal device, for a filesystem whose journal is elsewhere\n"
	       "  --json           the same as one JSON object\n");
}

static void print_json_str(const char *s) { cli_json_str(stdout, s, strlen(s)); }

int cmd_journal(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	int pa = cli_parse_args(argc, argv, &o, help, NULL, NULL, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	struct cli_src_opts ro = o;
	ro.no_replay = true;              /* inspect the raw journal */
	struct cli_src s;
	int r = cli_open(arg, &ro, &s);
	if (r != EXIT_DONE) {
		cli_close(&s);
		return r;
	}
	struct sv_dev *ext = NULL;
	r = open_ext_journal(&o, &ext);
	if (r != EXIT_DONE) {
		cli_close(&s);
		return r;
	}
	struct sv_journal_info *info = calloc(1, sizeof *info);
	struct jctx c;
	memset(&c, 0, sizeof c);
	struct orph orphans = { NULL, 0, 0, 0 };
	if (!info) {
		cli_close(&s);
		sv_dev_close(ext);
		return EXIT_UNREADABLE;
	}
	struct sv_dev *ov = NULL;
	struct sv_fs *rfs = NULL;
	int st = sv_journal_replay(s.fs, ext, &s.report, &ov, info);
	if (st == SV_OK && sv_overlay_count(ov) > 0) {
		struct sv_fs_opts fo = { &s.report, o.sb_block, o.sb_bsize, 0 };
		char err[512];
		if (sv_fs_open(ov, &fo, &rfs, err, sizeof err) != SV_OK) {
			sv_report(&s.report, SV_PB_JOURNAL, 0, SV_NOBLOCK, "the replayed filesystem does not open: %s", err);
			rfs = NULL;
		}
	}
	c.fs = rfs ? rfs : s.fs;
	if (ov && sv_overlay_count(ov) > 0) {
		sv_overlay_each(ov, collect_blk, &c);
		c.unknown = c.n;
		classify_geometry(&c);
		if (c.unknown)
			classify_owners(&c);
		c.paths_left = c.nt;
		if (c.nt)
			walk_dir(&c, EXT4_ROOT_INO, "", 0);
		if (c.unknown)
			guess_contents(&c);
	}
	sv_orphan_each(c.fs, &s.report, orph_add, &orphans);

	char feat[160];
	feature_list(info, feat, sizeof feat);
	uint32_t last_tid = info->end_tid - 1;
	if (o.json) {
		printf("{\"source\":");
		print_json_str(s.source);
		printf(",\"journal\":{\"present\":%s,\"external\":%s,\"usable\":%s,\"location\":",
		       info->present ? "true" : "false", info->external ? "true" : "false", info->usable ? "true" : "false");
		print_json_str(info->location);
		printf(",\"from_backup\":%s,\"version\":%d,\"block_size\":%u,\"blocks\":%u,\"first\":%u,\"start\":%u,"
		       "\"sequence\":%u,\"errno\":%d,\"features\":\"%s\",\"checksum\":%d,\"superblock_checksum_ok\":%s,"
		       "\"fast_commit\":%s,\"fast_commit_blocks\":%u,\"fast_commit_pending\":%s",
		       info->from_backup ? "true" : "false", info->version, info->sb.s_blocksize, info->sb.s_maxlen,
		       info->sb.s_first, info->sb.s_start, info->sb.s_sequence, (int)info->sb.s_errno, feat,
		       info->csum_version, info->sb_csum_ok ? "true" : "false", info->fast_commit ? "true" : "false",
		       info->fc_blocks, info->fc_pending ? "true" : "false");
		printf(",\"needs_recovery\":%s,\"log_pending\":%s,\"transactions\":%u,\"first_tid\":%u,\"last_tid\":%u,"
		       "\"torn_tail\":%s,\"stop\":\"%s\",\"stop_block\":%u,\"stop_message\":",
		       info->fs_needs_recovery ? "true" : "false", info->log_pending ? "true" : "false", info->tx_count,
		       info->first_tid, last_tid, info->torn_tail ? "true" : "false", stop_id(info->stop),
		       info->stop_block);
		print_json_str(info->stop_msg);
		printf(",\"tx\":[");
		for (uint32_t i = 0; i < info->tx_listed; i++)
			printf("%s{\"tid\":%u,\"start\":%u,\"blocks\":%u,\"revokes\":%u,\"committed\":%s}", i ? "," : "",
			       info->tx[i].tid, info->tx[i].start, info->tx[i].blocks, info->tx[i].revokes,
			       info->tx[i].committed ? "true" : "false");
		printf("],\"blocks_logged\":%llu,\"revoke_records\":%llu,\"replayed_writes\":%llu,\"revoke_hits\":%llu,"
		       "\"bad_checksum\":%llu,\"out_of_range\":%llu,\"changed_blocks\":[",
		       (unsigned long long)info->log_blocks, (unsigned long long)info->revoke_records,
		       (unsigned long long)info->replayed, (unsigned long long)info->revoke_hits,
		       (unsigned long long)info->bad_csum, (unsigned long long)info->out_of_range);
		char d[4200];
		for (size_t i = 0; i < c.n; i++) {
			describe(&c, &c.b[i], d, sizeof d);
			printf("%s{\"block\":%llu,\"what\":", i ? "," : "", (unsigned long long)c.b[i].blk);
			print_json_str(d);
			if (c.b[i].ino)
				printf(",\"ino\":%u", c.b[i].ino);
			printf("}");
		}
		printf("],\"orphans\":[");
		for (size_t i = 0; i < orphans.n; i++) {
			const struct sv_orphan *or = &orphans.v[i];
			printf("%s{\"ino\":%u,\"list\":\"%s\",\"readable\":%s,\"links\":%u,\"size\":%llu,\"action\":\"%s\"}",
			       i ? "," : "", or->ino, or->source == SV_ORPHAN_FILE ? "orphan_file" : "chain",
			       or->readable ? "true" : "false", or->readable ? or->in.links_count : 0,
			       (unsigned long long)(or->readable ? or->in.size : 0), or->will_delete ? "delete" : "truncate");
		}
		printf("],\"orphans_total\":%lu}}\n", orphans.total);
	} else {
		printf("%s\n", s.source);
		if (!info->present) {
			printf("  no journal: this is an ext2 filesystem (no has_journal feature)\n");
		} else {
			printf("  location:    %s", info->location);
			if (info->usable)
				printf(", %u blocks of %u bytes (log area %u-%u)", info->sb.s_maxlen, info->sb.s_blocksize,
				       info->sb.s_first, info->last - 1);
			printf("\n");
			if (info->usable || info->sb.h_blocktype) {
				printf("  format:      %s superblock v%d; features: %s\n",
				       info->version == 2 ? "JBD2" : "JBD (ext3)", info->version, feat[0] ? feat : "none");
				printf("  checksums:   %s%s\n", csum_name(info->csum_version),
				       info->csum_version >= 2 ? (info->sb_csum_ok ? "; superblock checksum ok"
										: "; superblock checksum WRONG")
							       : "");
				if (info->sb.s_errno)
					printf("  error:       the journal recorded error %d (aborted)\n", (int)info->sb.s_errno);
			}
			printf("  filesystem:  %s\n", info->fs_needs_recovery
							 ? "needs recovery (INCOMPAT_RECOVER set: not unmounted cleanly)"
							 : "does not need recovery (unmounted cleanly)");
			if (!info->usable) {
				printf("  journal:     unusable: %s\n", info->stop_msg);
			} else if (!info->log_pending) {
				printf("  log:         empty (s_start 0, next sequence %u): nothing to replay\n", info->sb.s_sequence);
			} else {
				printf("  log:         starts at journal block %u, sequence %u\n", info->sb.s_start,
				       info->sb.s_sequence);
				if (info->stop == SV_JSTOP_FATAL)
					printf("  pending:     none replayable: %s\n", info->stop_msg);
				else if (info->tx_count == 1)
					printf("  pending:     1 complete transaction (sequence %u): %llu logged blocks, %llu revoke "
					       "records\n", info->first_tid, (unsigned long long)info->log_blocks,
					       (unsigned long long)info->revoke_records);
				else if (info->tx_count)
					printf("  pending:     %u complete transactions (sequence %u-%u): %llu logged blocks, "
					       "%llu revoke records\n", info->tx_count, info->first_tid, last_tid,
					       (unsigned long long)info->log_blocks, (unsigned long long)info->revoke_records);
				else
					printf("  pending:     no complete transaction\n");
				printf("  log end:     %s\n", info->stop_msg);
				if (info->torn_tail)
					printf("  torn tail:   transaction %u has no valid commit block; it is ignored, as the "
					       "kernel does\n", info->end_tid);
				if (info->fast_commit)
					printf("  fast commit: %u blocks%s\n", info->fc_blocks,
					       info->fc_pending ? "; holds records that salvage does NOT replay" : "; nothing pending");
				if (info->tx_listed) {
					printf("  transactions:\n");
					for (uint32_t i = 0; i < info->tx_listed; i++)
						printf("    %-10u at journal block %-8u %u block%s, %u revoke%s%s\n", info->tx[i].tid,
						       info->tx[i].start, info->tx[i].blocks, info->tx[i].blocks == 1 ? "" : "s",
						       info->tx[i].revokes, info->tx[i].revokes == 1 ? "" : "s",
						       info->tx[i].committed ? "" : " (not committed: ignored)");
					if (info->tx_listed == SV_JOURNAL_TX_LIST)
						printf("    (only the first %u are listed)\n", info->tx_listed);
				}
				if (st == SV_OK && info->tx_count && info->stop != SV_JSTOP_FATAL) {
					printf("  replay:      %llu block writes, %llu distinct blocks; %llu skipped as revoked",
					       (unsigned long long)info->replayed, (unsigned long long)info->distinct_blocks,
					       (unsigned long long)info->revoke_hits);
					if (info->bad_csum)
						printf(", %llu with a bad checksum", (unsigned long long)info->bad_csum);
					if (info->out_of_range)
						printf(", %llu beyond the filesystem", (unsigned long long)info->out_of_range);
					printf("\n");
				}
			}
			if (c.n) {
				printf("  blocks a replay changes:\n");
				char d[4200], d2[4200];
				size_t shown = 0;
				for (size_t i = 0; i < c.n;) {
					describe(&c, &c.b[i], d, sizeof d);
					size_t k = i + 1;
					while (k < c.n && c.b[k].blk == c.b[k - 1].blk + 1) {
						describe(&c, &c.b[k], d2, sizeof d2);
						if (strcmp(d, d2) != 0 || c.b[k].kind == K_ITABLE)
							break;
						k++;
					}
					if (shown++ < 500) {
						if (k - i > 1)
							printf("    %llu-%llu: %s\n", (unsigned long long)c.b[i].blk,
							       (unsigned long long)c.b[k - 1].blk, d);
						else
							printf("    %llu: %s\n", (unsigned long long)c.b[i].blk, d);
					}
					i = k;
				}
				if (shown > 500)
					printf("    (%zu more lines not shown; --json lists every block)\n", shown - 500);
				if (c.inode_scan_capped)
					printf("    (owners searched in the first %d inodes only)\n", INODE_SCAN_CAP);
			}
		}
		if (orphans.total) {
			printf("  orphans (%s; the kernel finishes them at mount):\n",
			       rfs ? "in the replayed state" : "on disk");
			for (size_t i = 0; i < orphans.n; i++) {
				const struct sv_orphan *or = &orphans.v[i];
				if (!or->readable)
					printf("    inode %u: unreadable\n", or->ino);
				else
					printf("    inode %u (%s, %u link%s, %llu bytes): %s\n", or->ino,
					       or->source == SV_ORPHAN_FILE ? "orphan file" : "orphan chain", or->in.links_count,
					       or->in.links_count == 1 ? "" : "s", (unsigned long long)or->in.size,
					       or->will_delete ? "deleted while open; the kernel frees it, no path reaches it"
							       : "truncated to its size by the kernel");
			}
			if (orphans.total > orphans.n)
				printf("    (%lu more)\n", orphans.total - orphans.n);
		} else {
			printf("  orphans:     none\n");
		}
		printf("  (read only: nothing was written to %s)\n", s.source);
	}
	int rc = (st != SV_OK && st != SV_ERR_NOTFOUND) ? EXIT_DAMAGED : EXIT_DONE;
	if (st == SV_ERR_NOTFOUND && info->external && !ext)
		rc = EXIT_DAMAGED;
	for (size_t i = 0; i < c.nt; i++)
		free(c.t[i].path);
	free(c.t);
	free(c.b);
	free(orphans.v);
	free(info);
	sv_fs_close(rfs);
	sv_dev_close(ov);
	sv_dev_close(ext);
	rc = cli_exit_status(&s, rc);
	cli_close(&s);
	return rc;
}
