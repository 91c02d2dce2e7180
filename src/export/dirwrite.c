/* dirwrite.c: `cp`: writes a tree out like `cp -a`: sparse regular files (only mapped data is
 * written), symlinks never followed, hard links as hard links, owner, mode, times to the
 * nanosecond and extended attributes; directories get their metadata after their content.
 * Every file is created with O_EXCL (after unlinking the old one under --force), so nothing
 * outside the destination is ever written through a symlink that was already there, and every
 * entry is reached from its parent directory's fd by one name (openat with O_NOFOLLOW), so paths
 * never grow past PATH_MAX and no symlink is followed on the way. Nothing that is the source
 * itself (sv_cp_opts.protect) is ever unlinked. */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

#define CHUNK (1u << 20)    /* bytes read from the source at once */
#define FD_LEVELS 64        /* open directory fds: the last this many levels of the current path */
#define LINK_FAST 2048      /* hard link targets shorter than this are linked by their rel path */

/* One directory level of the current path. Its fd is open while it is within FD_LEVELS of the
 * deepest level; a closed one is reopened through ".." of its child on the way back up, and
 * (dev, ino) proves the reopened directory is the one created. */
struct level {
	int fd;                 /* open directory, or -1 */
	size_t rel_len;         /* length of the directory's rel path */
	dev_t dev;
	ino_t ino;
};

struct cp {
	struct sv_fs *fs;
	struct sv_report *rep;
	const struct sv_cp_opts *o;
	struct sv_export_stats *st;
	uint32_t bsize;
	uint8_t *buf;
	size_t bufcap;
	bool root;              /* running as root: owners, devices and all xattr namespaces */
	bool xattr_ns_noted;
	char *target;           /* the path the walk root is written at */
	struct level *lv;
	size_t nlv;
	char *full;             /* scratch: target + "/" + rel */
	size_t fullcap;
	uint64_t done;          /* bytes written, for progress */
	/* per-file state for the map callback */
	int fd;
	const struct sv_walk_entry *e;
	int werr;               /* errno of a failed write, 0 when none */
	uint64_t wend;          /* end of the last write: no ftruncate needed when it is i_size */
	uint64_t pos;           /* file bytes up to here were given by the map (a damaged map's
	                         * overlapping runs are written once) */
	struct sv_truth tr;     /* lost ranges, damage registry, hashes */
};

static void note(struct cp *c, int kind, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(struct cp *c, int kind, const char *path, const char *fmt, ...)
{
	if (!c->o->note)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->o->note(c->o->note_ctx, kind, path, msg);
}

/* A destination write failed: the entry is incomplete or missing. */
static void write_failed(struct cp *c, const struct sv_walk_entry *e, const char *what, int err)
{
	c->st->failed++;
	note(c, SV_NOTE_WRITE, e->path, "%s %s%s%s: %s; check the destination (space, permissions) and copy again",
	     what, c->target, e->rel_len ? "/" : "", e->rel, strerror(err));
}

/* Directory fd and name to reach entry e with the *at() calls: its parent's fd (always open: see
 * struct level) and its own name. The root entry is reached from the working directory. */
static int at_of(struct cp *c, const struct sv_walk_entry *e, const char **name)
{
	if (e->depth == 0 || e->depth > c->nlv || c->lv[e->depth - 1].fd < 0) {
		*name = c->target;
		return e->depth == 0 ? AT_FDCWD : -1;
	}
	*name = e->name;
	return c->lv[e->depth - 1].fd;
}

/* True (and noted) when dirfd/name is one of the files cp must never replace: the source. */
static bool is_protected(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	struct stat sb;
	if (!c->o->nprotect || fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	for (size_t i = 0; i < c->o->nprotect; i++) {
		if (c->o->protect[i].dev == (uint64_t)sb.st_dev && c->o->protect[i].ino == (uint64_t)sb.st_ino) {
			note(c, SV_NOTE_SOURCE, e->path, "not copied: %s%s%s is the source being read; it is never "
			     "replaced (copy to another place)", c->target, e->rel_len ? "/" : "", e->rel);
			return true;
		}
	}
	return false;
}

/* Remove an old entry before replacing it under --force; never the source. -1 with errno (EPERM
 * for the source, after its note). */
static int remove_old(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	if (is_protected(c, e, dirfd, name)) {
		errno = EPERM;
		return -1;
	}
	return unlinkat(dirfd, name, 0);
}

/* target + "/" + rel, for the calls that take only a path (lsetxattr). NULL when too long. */
static const char *full_path(struct cp *c, const struct sv_walk_entry *e)
{
	size_t tl = strlen(c->target), need = tl + 1 + e->rel_len + 1;
	if (need > c->fullcap) {
		char *p = realloc(c->full, need);
		if (!p)
			return NULL;
		c->full = p;
		c->fullcap = need;
	}
	memcpy(c->full, c->target, tl);
	if (e->rel_len) {
		c->full[tl] = '/';
		memcpy(c->full + tl + 1, e->rel, e->rel_len + 1);
	} else {
		c->full[tl] = 0;
	}
	return c->full;
}

/* ---- metadata ---- */
struct xctx {
	struct cp *c;
	const struct sv_walk_entry *e;
	int fd;                 /* >= 0: set on the fd; else by path */
	const char *path;
};

static bool xattr_allowed(struct cp *c, const char *name)
{
	if (c->root)
		return true;
	/* trusted.* and security.* need privileges; ACLs would be refused for files we do not own. */
	return strncmp(name, "user.", 5) == 0;
}

static int set_one_xattr(void *ctx, const struct sv_xattr *x)
{
	struct xctx *xc = ctx;
	struct cp *c = xc->c;
	if (!xattr_allowed(c, x->name)) {
		if (!c->xattr_ns_noted) {
			c->xattr_ns_noted = true;
			note(c, SV_NOTE_XATTR, xc->e->path,
			     "extended attribute %s (and other non-user.* attributes) not kept: that needs root", x->name);
		}
		return 0;
	}
	int r = xc->fd >= 0 ? sv_os_fsetxattr(xc->fd, x->name, x->value, x->value_len)
			    : sv_os_lsetxattr(xc->path, x->name, x->value, x->value_len);
	/* The destination refused a value the source holds: data was lost, so it counts as a failed write
	 * (exit 1), unlike the platform or privilege limits noted once above. */
	if (r != 0)
		note(c, SV_NOTE_WRITE, xc->e->path, "extended attribute %s (%zu bytes) not kept: %s", x->name,
		     x->value_len, strerror(errno));
	return 0;
}

static void copy_xattrs(struct cp *c, const struct sv_walk_entry *e, int fd, int dirfd, const char *name)
{
	if (!(sv_fs_super(c->fs)->s_feature_compat & EXT4_FEATURE_COMPAT_EXT_ATTR) && e->in->file_acl == 0 &&
	    e->in->extra_isize == 0)
		return;
	struct xctx xc = { c, e, fd, NULL };
	char viafd[64 + NAME_MAX];
	if (fd < 0) {
		if (!(xc.path = full_path(c, e)))
			return;
		/* Past PATH_MAX only a short path through the parent's fd reaches it (Linux: /proc). */
		if (strlen(xc.path) >= PATH_MAX && dirfd >= 0 &&
		    (size_t)snprintf(viafd, sizeof viafd, "/proc/self/fd/%d/%s", dirfd, name) < sizeof viafd)
			xc.path = viafd;
	}
	sv_xattr_iterate(c->fs, e->in, set_one_xattr, &xc);
}

static void times_of(const struct sv_inode *in, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)in->atime;
	ts[0].tv_nsec = in->atime_ns < 1000000000u ? (long)in->atime_ns : 0;
	ts[1].tv_sec = (time_t)in->mtime;
	ts[1].tv_nsec = in->mtime_ns < 1000000000u ? (long)in->mtime_ns : 0;
}

/* Owner, xattrs, mode, times, in that order: chown clears set-id bits and file capabilities, so
 * xattrs and the mode come after it; times come last because setting xattrs changes ctime only. */
static void apply_meta_fd(struct cp *c, const struct sv_walk_entry *e, int fd)
{
	const struct sv_inode *in = e->in;
	if (c->root && fchown(fd, (uid_t)in->uid, (gid_t)in->gid) != 0)
		note(c, SV_NOTE_WRITE, e->path, "owner %u:%u not kept: %s", in->uid, in->gid, strerror(errno));
	copy_xattrs(c, e, fd, -1, NULL);
	if (fchmod(fd, (mode_t)(in->mode & 07777)) != 0)
		note(c, SV_NOTE_WRITE, e->path, "mode %04o not kept: %s", in->mode & 07777, strerror(errno));
	struct timespec ts[2];
	times_of(in, ts);
	if (futimens(fd, ts) != 0)
		note(c, SV_NOTE_WRITE, e->path, "times not kept: %s", strerror(errno));
}

/* The same for things that cannot be opened (symlinks, fifos, device nodes). */
static void apply_meta_at(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name, bool is_link)
{
	const struct sv_inode *in = e->in;
	if (c->root && fchownat(dirfd, name, (uid_t)in->uid, (gid_t)in->gid, AT_SYMLINK_NOFOLLOW) != 0)
		note(c, SV_NOTE_WRITE, e->path, "owner %u:%u not kept: %s", in->uid, in->gid, strerror(errno));
	copy_xattrs(c, e, -1, dirfd, name);
	/* Linux cannot change a symlink's mode; everything else was just created by us, not a symlink. */
	if (!is_link && fchmodat(dirfd, name, (mode_t)(in->mode & 07777), 0) != 0)
		note(c, SV_NOTE_WRITE, e->path, "mode %04o not kept: %s", in->mode & 07777, strerror(errno));
	struct timespec ts[2];
	times_of(in, ts);
	if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		note(c, SV_NOTE_WRITE, e->path, "times not kept: %s", strerror(errno));
}

/* ---- regular files ---- */
static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (w == 0)
			return EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static void progress(struct cp *c, uint64_t n)
{
	c->done += n;
	c->st->bytes += n;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, c->done);
}

static int write_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct cp *c = ctx;
	const struct sv_inode *in = c->e->in;
	uint64_t bs = c->bsize, start, end;
	if (!sv_mul64(lblk, bs, &start) || start >= in->size)
		return 0;
	if (!sv_add64(lblk, len, &end) || !sv_mul64(end, bs, &end) || end > in->size)
		end = in->size;
	uint64_t s = start < c->pos ? c->pos : start;
	if (s >= end)
		return 0;
	sv_truth_run(&c->tr, s, end);
	c->pos = end;
	if (flags & SV_MAP_UNWRITTEN)
		return 0;   /* preallocated: reads as zeros, stays a hole */
	uint64_t per = c->bufcap / bs;
	uint64_t first = (s - start) / bs, nblk = (end - start + bs - 1) / bs;
	for (uint64_t i = first; i < nblk; i += per) {
		uint64_t n = nblk - i < per ? nblk - i : per;
		uint64_t off = start + i * bs;
		size_t bytes = (size_t)(end - off < n * bs ? end - off : n * bs);
		/* on failure the lost bytes are zero in buf and reported in file bytes */
		if (sv_truth_read(&c->tr, pblk + i, n, off, bytes, c->buf) == SV_ERR_CORRUPT)
			continue;   /* outside the filesystem: nothing read, the hole reads as zeros */
		int err = pwrite_all(c->fd, c->buf, bytes, off);
		if (err) {
			c->werr = err;
			return 1;
		}
		sv_truth_data(&c->tr, off, c->buf, bytes);
		progress(c, bytes);
		c->wend = off + bytes;
	}
	return 0;
}

/* Inline data: read once (damage reported once); a size past the inline bytes stays a hole. */
static void write_inline(struct cp *c)
{
	const struct sv_inode *in = c->e->in;
	size_t n = 0;
	int st = sv_inline_read(c->fs, in, c->buf, c->bufcap, &n);
	if (n > in->size)
		n = (size_t)in->size;
	if (st != SV_OK && st != SV_ERR_CSUM)
		sv_truth_inline_bad(&c->tr, n);
	int err = pwrite_all(c->fd, c->buf, n, 0);
	if (err) {
		c->werr = err;
		return;
	}
	sv_truth_data(&c->tr, 0, c->buf, n);
	progress(c, n);
	c->wend = n;
}

/* Open name for writing, new. EEXIST under --force: the old entry is removed first. */
static int create_file(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST || tries)
			break;
		if (!c->o->force) {
			errno = EEXIST;
			return -1;
		}
		if (remove_old(c, e, dirfd, name) != 0)
			return -1;
	}
	return -1;
}

static void exists_note(struct cp *c, const struct sv_walk_entry *e)
{
	c->st->skipped++;
	note(c, SV_NOTE_EXISTS, e->path, "not copied: %s%s%s already exists (use --force to replace it)", c->target,
	     e->rel_len ? "/" : "", e->rel);
}

static int copy_reg(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	const struct sv_inode *in = e->in;
	if (in->flags & EXT4_ENCRYPT_FL) {
		sv_report(c->rep, SV_PB_ENCRYPTED, in->ino, SV_NOBLOCK,
			  "file inode %u is encrypted and there is no key; it is not copied", in->ino);
		c->st->failed++;
		return SV_WALK_SKIP;
	}
	int fd = create_file(c, e, dirfd, name);
	if (fd < 0) {
		if (errno == EEXIST)
			exists_note(c, e);
		else if (errno != EPERM || !c->o->force)
			write_failed(c, e, "cannot create", errno);
		return SV_WALK_SKIP;
	}
	c->fd = fd;
	c->e = e;
	c->werr = 0;
	c->wend = 0;
	c->pos = 0;
	sv_truth_file_begin(&c->tr, e);
	int ms = SV_OK;
	if (in->flags & EXT4_INLINE_DATA_FL) {
		write_inline(c);
	} else {
		/* map damage is reported (and marks the file); what could be mapped is written */
		sv_truth_mapping(&c->tr, true);
		ms = sv_file_map(c->fs, in, write_run, c);
		sv_truth_mapping(&c->tr, false);
	}
	if (!c->werr && c->wend != in->size && ftruncate(fd, (off_t)in->size) != 0)
		c->werr = errno;
	if (!c->werr)
		sv_truth_file_end(&c->tr, ms);
	int r = c->werr;
	if (r)
		write_failed(c, e, "incomplete copy of", r);
	apply_meta_fd(c, e, fd);
	if (close(fd) != 0 && r == 0)
		write_failed(c, e, "cannot finish writing", errno);
	c->st->files++;
	return 0;
}

/* ---- other file types ---- */
static int copy_symlink(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	const struct sv_inode *in = e->in;
	if (in->flags & EXT4_ENCRYPT_FL) {
		sv_report(c->rep, SV_PB_ENCRYPTED, in->ino, SV_NOBLOCK,
			  "symlink inode %u is encrypted and there is no key; it is not copied", in->ino);
		c->st->failed++;
		return SV_WALK_SKIP;
	}
	size_t len = 0;
	int st = sv_symlink_read(c->fs, in, (char *)c->buf, c->bufcap, &len);
	if (st != SV_OK && st != SV_ERR_CSUM) {
		if (!len) {
			sv_report(c->rep, SV_PB_SYMLINK, in->ino, SV_NOBLOCK,
				  "symlink inode %u: target cannot be read (%s); not copied", in->ino, sv_strerror(st));
			c->st->failed++;
			return SV_WALK_SKIP;
		}
	}
	const char *target = (const char *)c->buf;
	if (strlen(target) != len)
		sv_report(c->rep, SV_PB_SYMLINK, in->ino, SV_NOBLOCK,
			  "symlink inode %u: target contains a NUL byte; it is cut there", in->ino);
	for (int tries = 0;; tries++) {
		if (symlinkat(target, dirfd, name) == 0)
			break;
		if (errno == EEXIST && !c->o->force) {
			exists_note(c, e);
			return SV_WALK_SKIP;
		}
		if (errno != EEXIST || tries || remove_old(c, e, dirfd, name) != 0) {
			if (errno != EPERM)
				write_failed(c, e, "cannot create symlink", errno);
			return SV_WALK_SKIP;
		}
	}
	apply_meta_at(c, e, dirfd, name, true);
	c->st->symlinks++;
	return 0;
}

static int copy_special(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	const struct sv_inode *in = e->in;
	unsigned type = in->mode & SV_IFMT;
	mode_t m;
	dev_t dev = 0;
	if (type == SV_IFSOCK) {
		c->st->skipped++;
		note(c, SV_NOTE_SOCKET, e->path, "socket not copied (a socket only means something to a running "
		     "program)");
		return SV_WALK_SKIP;
	}
	if (type == SV_IFIFO) {
		m = S_IFIFO;
	} else {
		if (!c->o->devices || !c->root) {
			c->st->skipped++;
			note(c, SV_NOTE_DEVICE, e->path, "device node not copied (%s)",
			     c->o->devices ? "creating device nodes needs root" : "use --devices, as root, to copy them");
			return SV_WALK_SKIP;
		}
		uint32_t ma, mi;
		sv_inode_devnum(in, &ma, &mi);
		dev = sv_os_makedev(ma, mi);
		m = type == SV_IFCHR ? S_IFCHR : S_IFBLK;
	}
	for (int tries = 0;; tries++) {
		int r = type == SV_IFIFO ? mkfifoat(dirfd, name, 0600) : mknodat(dirfd, name, m | 0600, dev);
		if (r == 0)
			break;
		if (errno == EEXIST && !c->o->force) {
			exists_note(c, e);
			return SV_WALK_SKIP;
		}
		if (errno != EEXIST || tries || remove_old(c, e, dirfd, name) != 0) {
			if (errno != EPERM)
				write_failed(c, e, "cannot create", errno);
			return SV_WALK_SKIP;
		}
	}
	apply_meta_at(c, e, dirfd, name, false);
	c->st->specials++;
	return 0;
}

/* The directory holding the first copy of a hard-linked file, opened one component at a time
 * from the copy's root (no symlink followed, no path longer than a name); -1 with errno. */
static int open_link_dir(struct cp *c, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	*base = slash ? slash + 1 : rel;
	int fd = dup(c->lv[0].fd);
	for (const char *p = rel; fd >= 0 && slash && p < slash;) {
		const char *q = memchr(p, '/', (size_t)(slash - p) + 1);
		size_t n = (size_t)(q - p);
		char comp[NAME_MAX + 64];
		if (n >= sizeof comp) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		errno = err;
		fd = next;
		p = q + 1;
	}
	return fd;
}

static int link_at(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	if (strlen(e->link_rel) < LINK_FAST)
		return linkat(c->lv[0].fd, e->link_rel, dirfd, name, 0);
	const char *base;
	int ldir = open_link_dir(c, e->link_rel, &base);
	if (ldir < 0)
		return -1;
	int r = linkat(ldir, base, dirfd, name, 0);
	int err = errno;
	close(ldir);
	errno = err;
	return r;
}

static int copy_link(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	if (!c->nlv || c->lv[0].fd < 0)
		return -1;
	for (int tries = 0;; tries++) {
		if (link_at(c, e, dirfd, name) == 0)
			break;
		if (errno == EEXIST && !c->o->force) {
			exists_note(c, e);
			return 1;
		}
		if (errno == EEXIST && !tries && is_protected(c, e, dirfd, name))
			return 1;
		if (errno != EEXIST || tries || unlinkat(dirfd, name, 0) != 0) {
			note(c, SV_NOTE_WRITE, e->path, "cannot hard-link %s/%s to %s/%s (%s); copying it separately",
			     c->target, e->rel, c->target, e->link_rel, strerror(errno));
			return -1;
		}
	}
	c->st->hardlinks++;
	return 0;
}

/* ---- directories ---- */
static int set_level(struct cp *c, unsigned depth, int fd, size_t rel_len, const struct stat *sb)
{
	if (depth >= c->nlv) {
		size_t n = c->nlv ? c->nlv * 2 : 16;
		while (n <= depth)
			n *= 2;
		struct level *l = realloc(c->lv, n * sizeof *l);
		if (!l)
			return SV_ERR_NOMEM;
		for (size_t i = c->nlv; i < n; i++)
			l[i].fd = -1;
		c->lv = l;
		c->nlv = n;
	}
	c->lv[depth].fd = fd;
	c->lv[depth].rel_len = rel_len;
	c->lv[depth].dev = sb->st_dev;
	c->lv[depth].ino = sb->st_ino;
	/* keep the window: the deepest FD_LEVELS levels, and the copy's root for hard links */
	if (depth >= FD_LEVELS && depth - FD_LEVELS > 0 && c->lv[depth - FD_LEVELS].fd >= 0) {
		close(c->lv[depth - FD_LEVELS].fd);
		c->lv[depth - FD_LEVELS].fd = -1;
	}
	return SV_OK;
}

static int enter_dir(struct cp *c, const struct sv_walk_entry *e, int dirfd, const char *name)
{
	for (int tries = 0;; tries++) {
		if (mkdirat(dirfd, name, 0700) == 0)
			break;
		int err = errno;
		struct stat sb;
		if (err == EEXIST && fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode))
			break;  /* merge into an existing directory, like cp -a */
		if (err == EEXIST && !c->o->force) {
			c->st->skipped++;
			note(c, SV_NOTE_EXISTS, e->path, "not copied: %s%s%s exists and is not a directory (use --force to "
			     "replace it)", c->target, e->rel_len ? "/" : "", e->rel);
			return SV_WALK_SKIP;
		}
		if (err != EEXIST || tries || remove_old(c, e, dirfd, name) != 0) {
			if (err != EEXIST || errno != EPERM)
				write_failed(c, e, "cannot create directory", err == EEXIST ? errno : err);
			return SV_WALK_SKIP;
		}
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		write_failed(c, e, "cannot open the new directory", errno);
		if (fd >= 0)
			close(fd);
		return SV_WALK_SKIP;
	}
	if (set_level(c, e->depth, fd, e->rel_len, &sb) != SV_OK) {
		close(fd);
		return SV_ERR_NOMEM;
	}
	c->st->dirs++;
	return 0;
}

/* Reopen level k (closed when the walk went FD_LEVELS deeper) from level k+1's fd through "..",
 * checking it is the directory created there; else from the nearest open level above, one name
 * at a time. */
static void reopen_level(struct cp *c, unsigned k, int child_fd, const struct sv_walk_entry *child)
{
	struct level *l = &c->lv[k];
	int fd = child_fd >= 0 ? openat(child_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	struct stat sb;
	if (fd >= 0 && (fstat(fd, &sb) != 0 || sb.st_dev != l->dev || sb.st_ino != l->ino)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* the rel path of level k is the first l->rel_len bytes of the child's rel path */
		char *rel = strndup(child->rel, l->rel_len);
		const char *base;
		int dfd = rel ? open_link_dir(c, rel, &base) : -1;
		if (dfd >= 0) {
			fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dfd);
		}
		free(rel);
		if (fd >= 0 && (fstat(fd, &sb) != 0 || sb.st_dev != l->dev || sb.st_ino != l->ino)) {
			close(fd);
			fd = -1;
		}
	}
	l->fd = fd;
}

static int leave_dir(struct cp *c, const struct sv_walk_entry *e)
{
	int fd = c->lv[e->depth].fd;
	c->lv[e->depth].fd = -1;
	if (fd < 0)
		write_failed(c, e, "cannot set owner, mode and times of", EBADF);
	else
		apply_meta_fd(c, e, fd);
	if (e->depth > 0 && c->lv[e->depth - 1].fd < 0)
		reopen_level(c, e->depth - 1, fd, e);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int cp_entry(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct cp *c = ctx;
	if (ev == SV_WALK_LEAVE) {
		sv_truth_idle(&c->tr);
		return leave_dir(c, e);
	}
	int kind;
	if (sv_select_skip(&c->o->sel, e, &kind)) {
		c->st->skipped++;
		note(c, kind, e->path, kind == SV_NOTE_EXCLUDED ? "excluded" : "skipped: larger than --max-size");
		return SV_WALK_SKIP;
	}
	const char *name;
	int dirfd = at_of(c, e, &name);
	if (dirfd == -1) {
		write_failed(c, e, "cannot reach the directory of", EBADF);
		return SV_WALK_SKIP;
	}
	if (ev == SV_WALK_ENTER) {
		int r = enter_dir(c, e, dirfd, name);
		if (r == 0)
			sv_truth_dir(&c->tr, e);   /* the walk reads its entries next */
		return r;
	}
	if (e->link_rel) {
		int r = copy_link(c, e, dirfd, name);
		if (r == 0)
			sv_truth_link(&c->tr, e);
		if (r >= 0)
			return r ? SV_WALK_SKIP : 0;
	}
	switch (e->in->mode & SV_IFMT) {
	case SV_IFREG:
		return copy_reg(c, e, dirfd, name);
	case SV_IFLNK:
		return copy_symlink(c, e, dirfd, name);
	case SV_IFIFO: case SV_IFCHR: case SV_IFBLK: case SV_IFSOCK:
		return copy_special(c, e, dirfd, name);
	default:
		sv_report(c->rep, SV_PB_INODE, e->ino, SV_NOBLOCK, "inode %u has an unknown file type (mode %06o); "
			  "not copied", e->ino, e->in->mode);
		c->st->failed++;
		return SV_WALK_SKIP;
	}
}

int sv_cp(struct sv_fs *fs, uint32_t ino, const char *path, const char *dest, const struct sv_cp_opts *o,
	  struct sv_export_stats *st, char *err, size_t errlen)
{
	struct sv_report dummy;
	memset(&dummy, 0, sizeof dummy);
	memset(st, 0, sizeof *st);
	struct cp c;
	memset(&c, 0, sizeof c);
	c.fs = fs;
	c.rep = sv_fs_report(fs) ? sv_fs_report(fs) : &dummy;
	c.o = o;
	c.st = st;
	c.bsize = sv_fs_block_size(fs);
	c.bufcap = CHUNK < c.bsize ? c.bsize : CHUNK;
	c.root = geteuid() == 0;
	c.fd = -1;

	/* The root's last component names the copy inside an existing directory. */
	const char *p = path && *path ? path : "/";
	size_t plen = strlen(p);
	while (plen > 0 && p[plen - 1] == '/')
		plen--;
	size_t base = plen;
	while (base > 0 && p[base - 1] != '/')
		base--;
	size_t blen = plen - base;
	bool no_base = blen == 0 || (blen == 1 && p[base] == '.') || (blen == 2 && p[base] == '.' && p[base + 1] == '.');
	struct stat sb;
	size_t dl = strlen(dest);
	if (stat(dest, &sb) == 0 && S_ISDIR(sb.st_mode) && !no_base) {
		c.target = malloc(dl + 1 + blen + 1);
		if (c.target)
			snprintf(c.target, dl + 1 + blen + 1, "%s%s%.*s", dest, dl && dest[dl - 1] == '/' ? "" : "/",
				 (int)blen, p + base);
	} else {
		c.target = strdup(dest);
	}
	/* page-aligned: the kernel copies into an aligned buffer several times faster */
	if (!c.target || posix_memalign((void **)&c.buf, 4096, c.bufcap) != 0) {
		free(c.target);
		snprintf(err, errlen, "out of memory");
		return SV_ERR_NOMEM;
	}
	if (!c.root)
		note(&c, SV_NOTE_OWNER, NULL, "ownership not kept (not running as root)");
	if (!sv_os_has_xattrs())
		note(&c, SV_NOTE_XATTR, NULL, "extended attributes are not kept: this platform has no support for them");

	if (sv_truth_begin(&c.tr, fs, c.rep, o->damage, o->file_done, o->file_done_ctx) != SV_OK) {
		free(c.target);
		free(c.buf);
		snprintf(err, errlen, "out of memory");
		return SV_ERR_NOMEM;
	}
	int r = sv_walk(fs, ino, p, NULL, cp_entry, &c);
	sv_truth_end(&c.tr);
	for (size_t i = 0; i < c.nlv; i++)
		if (c.lv[i].fd >= 0)
			close(c.lv[i].fd);
	free(c.lv);
	free(c.full);
	free(c.buf);
	if (r != SV_OK)
		snprintf(err, errlen, "copy to %s stopped: %s", c.target, sv_strerror(r));
	free(c.target);
	return r;
}
