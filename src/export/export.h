/* export.h: getting files out of a filesystem: a depth-first tree walker with cycle and
 * hard-link tracking, a directory writer (`cp`), a POSIX pax writer (`tar`) and a progress
 * meter. Damage found in the source goes to the filesystem's sv_report; things the person
 * should know that are not damage (an excluded file, ownership not kept) go to a note
 * callback. Nothing here prints or exits. */
#ifndef SV_EXPORT_H
#define SV_EXPORT_H

#include "../base/base.h"
#include "../io/io.h"
#include "../ext/ext.h"
#include <stdio.h>
#include <signal.h>

/* ---- pieces every tree walker shares (names.c) ---- */
/* One directory's entries, read whole and in disk order, with names safe to write:
 * "." and ".." that are directories are left out; a name that could escape a destination ("",
 * ".", "..", or holding '/' or NUL) becomes "__salvage_badname_<ino>"; a name the directory
 * already used (a crafted directory can hold two) becomes "__salvage_dupname_<ino>" for the
 * later entry. When a replacement is itself taken, "_2", "_3", ... is added. Every
 * replacement is reported. Memory: the entries and their names, a few bytes more than the
 * directory's real size. */
enum { SV_NAME_BAD = 1, SV_NAME_DUP = 2 };
struct sv_dirlist_ent {
	uint32_t ino;
	uint8_t file_type;      /* EXT4_FT_*, as stored (not trusted) */
	uint8_t renamed;        /* 0, SV_NAME_BAD or SV_NAME_DUP */
	uint16_t name_len;      /* of the name as used */
	uint16_t raw_len;       /* SV_NAME_BAD: the length of the name on disk */
	size_t name_off;        /* the name as used: names + name_off, NUL-terminated */
};
struct sv_dirlist {
	struct sv_dirlist_ent *v;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};
/* Read directory dir (path: its path, for reports) into l, reusing l's memory. *budget: bytes of
 * entries the caller still allows (an entry costs 8 + its name length, its smallest size on
 * disk); it is decreased, and reading stops early with SV_ERR_STOP when it runs out. Returns
 * SV_OK, SV_ERR_STOP, SV_ERR_NOMEM, or the reader's error status (damage was reported; the
 * entries that could be read are in l). */
int sv_dirlist_read(struct sv_fs *fs, const struct sv_inode *dir, const char *path, uint64_t *budget,
		    struct sv_dirlist *l);
static inline const char *sv_dirlist_name(const struct sv_dirlist *l, size_t i)
{
	return l->names + l->v[i].name_off;
}
void sv_dirlist_free(struct sv_dirlist *l);   /* and zeroes it */

/* A map from inode number (nonzero) to a 32-bit value; zero-initialise to start. */
struct sv_inomap {
	uint32_t *key, *val;
	size_t cap, n;
};
uint32_t *sv_inomap_get(struct sv_inomap *m, uint32_t ino);   /* NULL when absent */
int sv_inomap_put(struct sv_inomap *m, uint32_t ino, uint32_t val);  /* SV_OK or SV_ERR_NOMEM */
void sv_inomap_free(struct sv_inomap *m);

/* The directories a walk entered, kept as (parent, name) nodes so that a path costs its last
 * component only; the whole path is rebuilt on demand. Node 0 is the walk root (rel path "").
 * Zero-initialise, then add the root first (sv_pathtree_add(t, 0, "", 0)). */
#define SV_PATHTREE_NONE UINT32_MAX
struct sv_pathtree {
	struct sv_pathnode {
		uint32_t parent;
		uint16_t len;
		size_t off;
	} *node;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};
/* Returns the new node's id, or SV_PATHTREE_NONE when out of memory (or parent is unknown). */
uint32_t sv_pathtree_add(struct sv_pathtree *t, uint32_t parent, const char *name, size_t len);
/* The path of node id relative to the root ("a/b"; "" for the root) into *buf (grown as needed,
 * the caller frees it), NUL-terminated, its length in *len. */
int sv_pathtree_rel(const struct sv_pathtree *t, uint32_t id, char **buf, size_t *cap, size_t *len);
void sv_pathtree_free(struct sv_pathtree *t);

/* ---- tree walker ---- */
enum sv_walk_event {
	SV_WALK_ENTER = 1,  /* a directory, before its entries */
	SV_WALK_LEAVE = 2,  /* the same directory, after its entries (not sent when ENTER skipped it) */
	SV_WALK_FILE = 3,   /* anything that is not a directory */
};
/* Callback return values: 0 go on; SV_WALK_SKIP after ENTER: do not descend (and no LEAVE),
 * after FILE: the entry was not produced (a later hard link to the same inode is then sent as
 * a first copy); a negative SV_ERR_* stops the walk, and sv_walk returns it. */
#define SV_WALK_SKIP 1

struct sv_walk_entry {
	const char *path;       /* the path in the filesystem ("/etc/passwd"), for messages */
	const char *rel;        /* path relative to the walk root ("" for the root, "etc/passwd") */
	size_t rel_len;
	const char *name;       /* last component as used (bad names already replaced), NUL-terminated */
	size_t name_len;
	uint32_t ino;
	const struct sv_inode *in;
	unsigned depth;         /* 0 for the walk root */
	const char *link_rel;   /* non-directory seen before under this walk: the rel path it was
	                         * first produced at; NULL otherwise */
	bool repeat;            /* a directory this walk already entered under another name: sent as
	                         * ENTER then LEAVE with no entries in between (an empty directory) */
};
/* All strings in an entry are valid during the callback only. */
typedef int (*sv_walk_fn)(void *ctx, int event, const struct sv_walk_entry *e);

struct sv_walk_opts {
	unsigned max_depth;     /* 0: no limit. Deeper directories are reported and not entered. */
	bool no_links;          /* do not track hard links (link_rel always NULL) */
};
/* Walk the tree at inode ino whose path in the filesystem is path ("/" for the root), depth
 * first, each directory's entries in disk order (read with sv_dirlist_read: names made safe and
 * unique). Entries that point at a directory on the current path are reported (SV_PB_LOOP) and
 * skipped. Each directory inode is entered once: a second name for one already entered is
 * reported (both paths) and sent as an empty directory (repeat set). Any other inode is produced
 * once per name its link count allows: a name beyond that count is reported and skipped (so no
 * content is written twice without a hard link). Inodes that cannot be read are reported and
 * skipped. Encrypted directories are sent (ENTER/LEAVE) but their entries are
 * not listed (SV_PB_ENCRYPTED). The walk is iterative: memory is the listings of the directories
 * on the current path, one small record per directory entered and per multiply-linked inode
 * whose links were not all seen (the name of one link, never a whole path), a bit per inode
 * produced; the entries read in all are bounded by the device's size. Returns SV_OK, a negative status from the callback,
 * SV_ERR_NOMEM, or the root's read error. */
int sv_walk(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_walk_opts *o, sv_walk_fn fn,
	    void *ctx);

/* ---- what both writers share ---- */
/* A note: something the person should know that is not damage in the source. kind says what. */
enum sv_note_kind {
	SV_NOTE_EXCLUDED = 1,   /* matched --exclude */
	SV_NOTE_TOO_BIG,        /* over --max-size */
	SV_NOTE_SOCKET,         /* sockets cannot be copied or archived */
	SV_NOTE_DEVICE,         /* device node left out (no --devices, or not root) */
	SV_NOTE_OWNER,          /* ownership not kept (once) */
	SV_NOTE_XATTR,          /* an extended attribute could not be kept */
	SV_NOTE_EXISTS,         /* destination exists and --force was not given */
	SV_NOTE_WRITE,          /* a write to the destination failed */
	SV_NOTE_SOURCE,         /* the destination entry is the source itself: never replaced */
};
typedef void (*sv_note_fn)(void *ctx, int kind, const char *path, const char *msg);

/* Selection shared by cp and tar. Patterns are fnmatch(3) globs matched against the path
 * relative to the copy root and against the last component. */
struct sv_select {
	const char *const *exclude;
	size_t nexclude;
	uint64_t max_size;      /* regular files larger than this are skipped; UINT64_MAX: no limit */
};
/* True when e should be left out; *kind is set to the note kind. */
bool sv_select_skip(const struct sv_select *s, const struct sv_walk_entry *e, int *kind);

/* Sum of the sizes of the regular files under ino (for a progress total). Quiet: reports
 * nothing, follows the same rules as sv_walk and the selection. */
int sv_tree_bytes(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_select *sel, uint64_t *bytes);

/* Counts filled by cp and tar. */
struct sv_export_stats {
	uint64_t files, dirs, symlinks, hardlinks, specials;
	uint64_t bytes;          /* file content bytes produced (holes not counted) */
	uint64_t skipped;        /* left out on request (exclude, max-size, devices, sockets) */
	uint64_t failed;         /* left out or incomplete because of damage or a write error */
};

/* ---- per-file truth: the damage registry (damage.c) ----
 * What a copy lost, per damaged inode: the file byte ranges written as zeros because they could not
 * be read (sorted, merged), why, the file's size, and every name it has in the copied tree (the
 * first is where its data was read); plus the metadata damage met on the way. cp and tar fill it
 * (sv_cp_opts.damage, sv_tar_opts.damage); others may. Memory: proportional to the damage, nothing
 * is kept for an intact file. */
enum sv_lost_why {        /* bits */
	SV_LOST_READ = 1,       /* the drive returned a read error */
	SV_LOST_SKIPPED = 2,    /* not read: skipped ahead in a run of errors */
	SV_LOST_DDMAP = 4,      /* not read: the ddrescue map does not mark it rescued */
	SV_LOST_MAP = 8,        /* where the data lies is unknown: an extent or indirect block is
	                         * unreadable or damaged (the range is every byte the map did not give) */
	SV_LOST_INLINE = 16,    /* inline data damaged */
	SV_LOST_OUTSIDE = 32,   /* the map points outside the filesystem */
};
struct sv_damage;
int sv_damage_new(struct sv_damage **out);
void sv_damage_free(struct sv_damage *d);   /* NULL-safe */
/* File bytes [off, off+len) of inode in, named path (its first name, when new), are zeros in the
 * output. src_off: where they lie in the SOURCE (UINT64_MAX: not known), kept for coming back to
 * them. SV_OK or SV_ERR_NOMEM. */
int sv_damage_add(struct sv_damage *d, const struct sv_inode *in, const char *path, uint64_t off, uint64_t len,
		  uint64_t src_off, unsigned why);
/* Another name of inode ino; kept only when ino is damaged (a name given twice is kept once). */
int sv_damage_add_name(struct sv_damage *d, uint32_t ino, const char *path);
/* The lost ranges of ino, or NULL when it is not damaged. Valid until the next add. */
const struct sv_ranges *sv_damage_lost(const struct sv_damage *d, uint32_t ino);
/* Metadata damage: what ("inode table", "directory", "extent block", ...; a static string), the
 * block (SV_NOBLOCK: none), the inode (0: none) and path (NULL: none) it concerns. A repeat of the
 * entry before is dropped. */
int sv_damage_meta(struct sv_damage *d, const char *what, uint64_t block, uint32_t ino, const char *path);

struct sv_damage_file {
	uint32_t ino;
	uint64_t size;
	unsigned why;                   /* SV_LOST_* bits */
	const struct sv_ranges *lost;   /* file byte ranges */
	const char *const *names;       /* every name, first one first */
	size_t nnames;
};
size_t sv_damage_count(const struct sv_damage *d);          /* damaged inodes */
void sv_damage_get(const struct sv_damage *d, size_t i, struct sv_damage_file *out);
uint64_t sv_damage_bytes(const struct sv_damage *d);       /* file bytes lost, all inodes */
size_t sv_damage_lines(const struct sv_damage *d);         /* damaged names (one text line each) */
size_t sv_damage_meta_count(const struct sv_damage *d);
/* The SOURCE byte ranges inode i's lost bytes lie in, as recorded (for coming back to them):
 * calls fn(ctx, file_off, src_off, len) for each; nonzero stops. */
int sv_damage_each_source(const struct sv_damage *d, size_t i,
			  int (*fn)(void *ctx, uint64_t file_off, uint64_t src_off, uint64_t len), void *ctx);
/* "read error", "skipped", "ddrescue map", "map damaged", ... joined with ", ". */
const char *sv_damage_why(unsigned why, char *buf, size_t cap);

/* Reports. Text (one line per damaged name:
 *   damaged: /a/b (inode 12, 12345 bytes): lost bytes 4096-8191, 20480-20991
 * with inclusive ranges; then "metadata: ..." lines; then "bad area: bytes A-B of SOURCE (kind)"
 * lines from the rescue reader) or JSON ({"damaged":[...],"bad_areas":[...],"metadata":[...],
 * "files_damaged":N,"bytes_lost":N}). rescue may be NULL (no bad areas). Returns 0, or -1 when
 * writing failed (errno set). */
int sv_damage_write_text(const struct sv_damage *d, struct sv_dev *rescue, const char *source, FILE *f);
int sv_damage_write_json(const struct sv_damage *d, struct sv_dev *rescue, FILE *f);
/* The first max_lines "damaged:" lines, each after prefix, at most max_ranges ranges a line (0:
 * all); returns how many lines were left out. */
size_t sv_damage_write_lines(const struct sv_damage *d, FILE *f, const char *prefix, size_t max_lines,
			     size_t max_ranges);

/* ---- manifests: one line per regular file name written ----
 * "# salvage manifest 1: sha256 size status path", then per name
 * "<sha256 hex>\t<size>\t<intact|damaged:OFF+LEN,...>\t<path>", the path with \t \n \\ and other
 * control bytes escaped (\t \n \\ \xHH). The hash is of the bytes written: zeros where the
 * source could not be read, holes as zeros. */
struct sv_file_done {
	const char *path;               /* the name in the filesystem ("/a/b") */
	uint32_t ino;
	uint64_t size;
	uint8_t sha256[32];
	const struct sv_ranges *lost;   /* NULL: intact */
};
typedef void (*sv_file_done_fn)(void *ctx, const struct sv_file_done *f);
int sv_manifest_header(FILE *f);
int sv_manifest_line(FILE *f, const struct sv_file_done *fd);
/* A path as the manifest and the text report write it. */
void sv_write_escaped(FILE *f, const char *s, size_t len);

/* ---- directory writer (cp -a) ---- */
/* A file on the host, as stat(2) names it. */
struct sv_file_id {
	uint64_t dev, ino;
};
struct sv_cp_opts {
	struct sv_select sel;
	bool force;             /* replace existing non-directories */
	bool devices;           /* create device nodes (needs root) */
	sv_note_fn note;
	void *note_ctx;
	/* Called after each chunk of file data written, with the bytes written so far. */
	void (*progress)(void *ctx, uint64_t done);
	void *progress_ctx;
	/* Files cp must never replace, unlink or open for writing, even under --force: the source
	 * image or device, an external journal. An entry of the destination that is one of them is
	 * left alone and noted (SV_NOTE_SOURCE). */
	const struct sv_file_id *protect;
	size_t nprotect;
	/* Per-file truth: the damage met goes here (NULL: not kept); file_done, when set, is called
	 * for every regular file name written, with the SHA-256 of what was written. */
	struct sv_damage *damage;
	sv_file_done_fn file_done;
	void *file_done_ctx;
};
/* Copy the tree at inode ino (path in the filesystem: path) to dest. When dest does not exist it
 * becomes the copy; when it is an existing directory the copy goes inside it under the source's
 * last component (for the root, the root's entries go straight into dest). Regular files are
 * written sparse (only mapped data), metadata applied like `cp -a`; directories get their
 * metadata after their content. Every entry is created relative to its parent directory's fd
 * (at most about 64 are open), so any depth the filesystem holds is reproduced; a directory the
 * walk sends as a repeat (a second name) is created empty. Damage is reported to the fs report; destination problems and
 * things left out on request go to o->note. Returns SV_OK when the walk ran to the end (check
 * st->failed and the report), or an error when nothing could be started (err says why). */
int sv_cp(struct sv_fs *fs, uint32_t ino, const char *path, const char *dest, const struct sv_cp_opts *o,
	  struct sv_export_stats *st, char *err, size_t errlen);

/* ---- pax writer (tar) ---- */
struct sv_tar_opts {
	struct sv_select sel;
	int fd;                 /* where the archive goes */
	bool no_sparse;         /* write holes as zeros instead of GNU pax sparse 1.0 */
	bool no_xattrs;
	sv_note_fn note;
	void *note_ctx;
	struct sv_damage *damage;       /* as in sv_cp_opts (the hash is of the member's file data) */
	sv_file_done_fn file_done;
	void *file_done_ctx;
};
/* Write a pax archive of the tree at inode ino (path in the filesystem: path) to o->fd.
 * Member names: the root "/" gives "./", "./etc", ...; a directory /d gives "d/", "d/x"; a file
 * gives its basename. Returns SV_OK, or SV_ERR_IO when writing the archive failed (err says why:
 * the archive is then incomplete). */
int sv_tar(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_tar_opts *o,
	   struct sv_export_stats *st, char *err, size_t errlen);

/* ---- blame: what a set of bad areas hits (blame.c) ----
 * Given bad byte ranges of the filesystem's device, finds what they hit: the filesystem's own
 * structures (sv_fs_layout), every inode in use (scanned in the inode tables): its data (as file
 * byte ranges lost), its inode, its extent/indirect blocks and xattr block (sv_file_meta), the
 * journal and the other reserved inodes, and the bad parts that lie in blocks nothing uses. Names
 * come from one tree walk (sv_walk), every name of every inode hit. Every map is taken as it is
 * (sv_fs_share_blocks(fs, true)). Work: one pass over the inodes in use and their maps (run by
 * run, never block by block), one tree walk when something was hit; memory: the bad set and the
 * hits. A journal replay's redirected blocks are seen at their filesystem block numbers. */
enum sv_blame_what {            /* metadata kinds beyond enum sv_meta_kind */
	SV_BLAME_DIR = 32,          /* a directory's block (ino) */
	SV_BLAME_JOURNAL,           /* a block of the journal inode */
	SV_BLAME_RESERVED,          /* a block of another reserved inode (quota, orphan file, ...) */
};
/* what hit a file (sv_blame_file.hit) */
#define SV_BLAME_DATA 1         /* some of its data blocks: lost gives the byte ranges */
#define SV_BLAME_INODE 2        /* its inode: the whole file is lost */
#define SV_BLAME_MAP 4          /* an extent or indirect block: the data under it cannot be found */
#define SV_BLAME_XATTR 8        /* its extended attribute block */
struct sv_blame_file {
	uint32_t ino;
	uint16_t mode;              /* i_mode (SV_IF* type bits) */
	uint64_t size;
	unsigned hit;               /* SV_BLAME_* bits */
	struct sv_ranges lost;      /* file byte ranges lost (data in bad areas; all of it when the inode is) */
	char **paths;               /* every name found, "/a/b" (owned); none for an orphan or ea_inode */
	size_t npaths;
};
struct sv_blame_meta {
	int kind;                   /* enum sv_meta_kind or enum sv_blame_what */
	uint32_t group;             /* layout kinds: the group */
	uint64_t blk, count;        /* the blocks hit */
	uint32_t ino;               /* per-inode kinds: the inode (its names: the file entry of ino) */
	uint32_t ino_first, ino_last;  /* SV_META_INODE_TABLE: the inodes held by the blocks hit */
};
struct sv_blame {
	struct sv_blame_file *files;   /* in inode order */
	size_t nfiles, capf;
	struct sv_blame_meta *meta;
	size_t nmeta, capm;
	struct sv_ranges free;      /* bad bytes in blocks nothing uses (device byte offsets) */
	struct sv_ranges outside;   /* bad bytes outside the filesystem's blocks, or its boot sector */
	uint64_t inodes_scanned;    /* inodes in use looked at */
};
/* bad: byte ranges of sv_fs_dev(fs). Fills *b (zero it first; free with sv_blame_free even on
 * error). Returns SV_OK or SV_ERR_NOMEM; damage met on the way is reported to the fs report. */
int sv_blame(struct sv_fs *fs, const struct sv_ranges *bad, struct sv_blame *b);
/* The file entry of ino, or NULL. */
const struct sv_blame_file *sv_blame_find(const struct sv_blame *b, uint32_t ino);
/* Whether anything in use was hit (free space and outside parts do not count). */
bool sv_blame_any(const struct sv_blame *b);
void sv_blame_free(struct sv_blame *b);   /* and zeroes it */
/* ---- filesystem-aware imaging (image.c): `salvage image` ----
 * A plan lists what to read from SOURCE, stage by stage so that what matters comes first, in
 * SOURCE byte addresses (fs-device byte X is SOURCE byte vol_off + X). The copy engine reads it
 * through the rescue reader in big sequential chunks; every piece the media delivers (the rescue
 * reader's tap) is written at the same offset of the image, so the image holds exactly the bytes
 * read: free space and unreadable sectors stay holes, never zeros passed off as data. What is
 * known is kept as a GNU ddrescue mapfile ('+' read, '-' bad sector, '*' skipped, '?' not tried). */
enum sv_image_stage {
	SV_IMG_PARTS,       /* the partition table area: the first MiB and the last (GPT backup) */
	SV_IMG_FSMETA,      /* superblocks, group descriptors, bitmaps, inode tables (sv_fs_layout) */
	SV_IMG_DIRS,        /* directories: their blocks and their extent/indirect blocks */
	SV_IMG_FILEMETA,    /* extent, indirect and xattr blocks of every inode in use; ea_inode values,
	                     * quota files and the other reserved inodes' blocks */
	SV_IMG_JOURNAL,     /* the journal inode's blocks */
	SV_IMG_DATA,        /* file data: of the wanted paths, or of every file in use */
	SV_IMG_NSTAGES
};
const char *sv_image_stage_name(int stage);   /* "inode tables and bitmaps", "file data", ... */

struct sv_image_plan;
int sv_image_plan_new(struct sv_image_plan **out);
void sv_image_plan_free(struct sv_image_plan *p);   /* NULL-safe */
/* Add [off, off+len) of SOURCE to a stage (any order; memory stays at about one entry per
 * distinct run). SV_OK or SV_ERR_NOMEM. */
int sv_image_plan_add(struct sv_image_plan *p, int stage, uint64_t off, uint64_t len);
struct sv_image_plan_opts {
	uint64_t vol_off;                 /* where the filesystem starts in SOURCE */
	const char *const *paths;         /* data of these trees only ("/home/ann"); NULL: of every file */
	size_t npaths;
	volatile sig_atomic_t *stop;      /* polled: when set, planning stops with SV_ERR_STOP */
	/* Called now and then with the inodes looked at and the inodes to look at. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};
/* Add what fs needs: its layout (sv_fs_layout), then every inode in use found in the inode tables
 * (as `check` counts them: linked, reserved, or an orphan; uninitialised table parts skipped):
 * directories' blocks, every inode's metadata blocks (sv_file_meta), the journal's blocks, and
 * the data of every regular file and symlink (or only those under o->paths, found with sv_walk).
 * Unwritten extents are left out (they read as zeros). Reads metadata through fs; damage goes
 * to its report, a path that does not resolve too (SV_PB_SKIPPED). Returns SV_OK, SV_ERR_STOP,
 * SV_ERR_NOMEM. */
int sv_image_plan_fs(struct sv_image_plan *p, struct sv_fs *fs, const struct sv_image_plan_opts *o);
/* Sort and merge every stage, cut to [0, size), and keep each byte in its first stage only. */
int sv_image_plan_finish(struct sv_image_plan *p, uint64_t size);
/* A stage's ranges (after sv_image_plan_finish), and the bytes of all stages. */
const struct sv_ranges *sv_image_plan_stage(const struct sv_image_plan *p, int stage);
uint64_t sv_image_plan_total(const struct sv_image_plan *p);

/* The copy engine. */
struct sv_image;
/* Image the source below rescue (a rescue reader: SOURCE addresses) into fd, open for writing.
 * From now on every piece rescue delivers, whoever reads it (planning included), is written to fd
 * at its offset and counted as read. SV_OK, SV_ERR_INVAL (not a rescue reader) or SV_ERR_NOMEM. */
int sv_image_open(struct sv_dev *rescue, int fd, struct sv_image **out);
void sv_image_close(struct sv_image *im);   /* removes the tap; does not close fd; NULL-safe */
/* A device over rescue (same addresses) that reads the bytes the image holds from fd (which must
 * then be open for reading too) and the rest from rescue: planning a resumed run does not read the
 * source again for metadata an earlier run saved. Close it (sv_dev_close) before im. */
int sv_image_view(struct sv_image *im, struct sv_dev **out);
/* Take over an earlier run's mapfile: '+' areas are in the image already and are not read again;
 * '-' areas are bad sectors (marked so: never read again except by retry passes); '*' and '/'
 * areas were skipped (the second pass comes back to them). */
int sv_image_resume(struct sv_image *im, const struct sv_ddmap *m);
struct sv_image_progress {
	unsigned pass;              /* 1 copying, 2 coming back to skipped areas, 3... retrying bad sectors */
	int stage;                  /* enum sv_image_stage being read */
	uint64_t pass_total;        /* bytes this pass has to go through */
	uint64_t pass_done;         /* of those, gone through */
	uint64_t failed_reads;      /* media reads that failed, this run */
	uint64_t bad_bytes;         /* bytes of the source known unreadable now */
};
struct sv_image_copy_opts {
	size_t chunk;               /* bytes per read in pass 1 (0: 1 MiB) */
	unsigned skip_after;        /* pass 1 skip-ahead: failed reads in a row in one chunk (0: 2) */
	unsigned retry_passes;      /* passes over the bad sectors after pass 2 (--max-retries) */
	uint64_t stop_after;        /* testing: stop as if interrupted once this run wrote this many bytes */
	volatile sig_atomic_t *stop;/* polled before each read: when set, stop with SV_ERR_STOP */
	void (*progress)(void *ctx, const struct sv_image_progress *pr);   /* after each read */
	void *progress_ctx;
};
/* Read what plan holds and the image does not: pass 1 stage by stage in chunks with skip-ahead,
 * pass 2 the skipped parts sector by sector, then retry_passes passes over the bad sectors.
 * Returns SV_OK when every pass ran (bad sectors may remain), SV_ERR_STOP when stopped,
 * SV_ERR_IO when the image could not be written (sv_image_error says why), SV_ERR_NOMEM. */
int sv_image_copy(struct sv_image *im, const struct sv_image_plan *p, const struct sv_image_copy_opts *o);
/* SV_OK, or the first failure to write the image (err: what, where). */
int sv_image_error(const struct sv_image *im, char *err, size_t errlen);
/* What is known now over [0, size) as a ddrescue map (replaces *m): '+' in the image, '-' bad
 * sectors, '*' skipped, '?' never read (free space, areas not planned). */
int sv_image_map(struct sv_image *im, uint64_t size, struct sv_ddmap *m);
struct sv_image_stats {
	uint64_t written;           /* bytes written to the image this run */
	uint64_t plan_have;         /* bytes of the plan in the image (this run or earlier) */
	uint64_t plan_bad;          /* bytes of the plan known unreadable (bad sectors) */
	uint64_t plan_skipped;      /* bytes of the plan skipped and not yet come back to */
	uint64_t have;              /* bytes in the image in all */
};
void sv_image_get_stats(struct sv_image *im, const struct sv_image_plan *p, struct sv_image_stats *st);
/* Bytes of r (sorted, disjoint) the image holds now. */
uint64_t sv_image_have_in(struct sv_image *im, const struct sv_ranges *r);

/* ---- progress meter (no printing: it formats a line for the caller) ---- */
struct sv_progress {
	uint64_t total, done;
	double start, last;     /* seconds, monotonic */
};
void sv_progress_init(struct sv_progress *p, uint64_t total);
/* Records done; returns true when a new line is due (at most 4 times a second) or when final. */
bool sv_progress_update(struct sv_progress *p, uint64_t done, bool final);
/* "1.2 GiB of 3.4 GiB (35%), 120.5 MiB/s, 0:19 left" into buf. */
const char *sv_progress_line(const struct sv_progress *p, char *buf, size_t cap);

#endif
