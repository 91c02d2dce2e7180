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
};
/* All strings in an entry are valid during the callback only. */
typedef int (*sv_walk_fn)(void *ctx, int event, const struct sv_walk_entry *e);

struct sv_walk_opts {
	unsigned max_depth;     /* 0: 2048. Deeper directories are reported and not entered. */
	bool no_links;          /* do not track hard links (link_rel always NULL) */
};
/* Walk the tree at inode ino whose path in the filesystem is path ("/" for the root).
 * Entries "." and ".." are skipped; entries that point at a directory on the current path are
 * reported (SV_PB_LOOP) and skipped; names that could escape a destination ("", ".", "..", or
 * containing '/' or NUL) are reported and replaced by "__salvage_badname_<ino>". Inodes that
 * cannot be read are reported and skipped. Encrypted directories are sent (ENTER/LEAVE) but
 * their entries are not listed (SV_PB_ENCRYPTED). Memory: the current path, one small frame per
 * level, and one record per multiply-linked inode seen (dropped when all its links were seen).
 * Returns SV_OK, a negative status from the callback, SV_ERR_NOMEM, or the root's read error. */
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

/* ---- directory writer (cp -a) ---- */
struct sv_cp_opts {
	struct sv_select sel;
	bool force;             /* replace existing non-directories */
	bool devices;           /* create device nodes (needs root) */
	sv_note_fn note;
	void *note_ctx;
	/* Called after each chunk of file data written, with the bytes written so far. */
	void (*progress)(void *ctx, uint64_t done);
	void *progress_ctx;
};
/* Copy the tree at inode ino (path in the filesystem: path) to dest. When dest does not exist it
 * becomes the copy; when it is an existing directory the copy goes inside it under the source's
 * last component (for the root, the root's entries go straight into dest). Regular files are
 * written sparse (only mapped data), metadata applied like `cp -a`; directories get their
 * metadata after their content. Damage is reported to the fs report; destination problems and
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
};
/* Write a pax archive of the tree at inode ino (path in the filesystem: path) to o->fd.
 * Member names: the root "/" gives "./", "./etc", ...; a directory /d gives "d/", "d/x"; a file
 * gives its basename. Returns SV_OK, or SV_ERR_IO when writing the archive failed (err says why:
 * the archive is then incomplete). */
int sv_tar(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_tar_opts *o,
	   struct sv_export_stats *st, char *err, size_t errlen);

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
