/* platform.c: the only OS-specific code: opening a file or device read-only, and asking a device
 * for its size and logical sector size (Linux BLKGETSIZE64/BLKSSZGET, macOS DKIOCGETBLOCKCOUNT,
 * FreeBSD DIOCGMEDIASIZE/DIOCGSECTORSIZE). */
#include "io.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/fs.h>
#include <sys/ioctl.h>
#elif defined(__APPLE__)
#include <sys/disk.h>
#include <sys/ioctl.h>
#elif defined(__FreeBSD__) || defined(__DragonFly__)
#include <sys/disk.h>
#include <sys/ioctl.h>
#endif

int sv_platform_fd_size(int fd, uint64_t *size, uint32_t *sector)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return SV_ERR_IO;
	*sector = 512;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return SV_OK;
	}
#if defined(__linux__)
	uint64_t b = 0;
	int ss = 0;
	if (ioctl(fd, BLKGETSIZE64, &b) == 0) {
		*size = b;
		if (ioctl(fd, BLKSSZGET, &ss) == 0 && ss >= 512 && ss <= 65536)
			*sector = (uint32_t)ss;
		return SV_OK;
	}
#elif defined(__APPLE__)
	uint64_t n = 0;
	uint32_t bs = 0;
	if (ioctl(fd, DKIOCGETBLOCKCOUNT, &n) == 0 && ioctl(fd, DKIOCGETBLOCKSIZE, &bs) == 0) {
		*size = n * bs;
		if (bs >= 512 && bs <= 65536)
			*sector = bs;
		return SV_OK;
	}
#elif defined(__FreeBSD__) || defined(__DragonFly__)
	off_t m = 0;
	u_int ss = 0;
	if (ioctl(fd, DIOCGMEDIASIZE, &m) == 0) {
		*size = (uint64_t)m;
		if (ioctl(fd, DIOCGSECTORSIZE, &ss) == 0 && ss >= 512 && ss <= 65536)
			*sector = ss;
		return SV_OK;
	}
#endif
	/* Unknown kind: try seeking to the end. */
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return SV_ERR_IO;
	*size = (uint64_t)end;
	return SV_OK;
}

struct fd_dev {
	struct sv_dev d;
	int fd;
	uint8_t *bounce;   /* for unaligned reads from devices that need sector alignment */
	bool aligned;      /* device: reads must be sector-aligned */
};

static int fd_pread_all(int fd, uint64_t off, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SV_ERR_IO;
		}
		if (n == 0)
			return SV_ERR_IO;
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return SV_OK;
}

static int fd_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct fd_dev *f = (struct fd_dev *)d;
	uint8_t *out = buf;
	if (!f->aligned) {
		if (fd_pread_all(f->fd, off, out, len) == SV_OK)
			return SV_OK;
		memset(out, 0, len);   /* a short or failed read: nothing of it is trusted */
		return SV_ERR_IO;
	}
	/* Device: go through an aligned bounce buffer, one chunk at a time. */
	uint32_t ss = d->sector;
	size_t chunk = 1u << 20;
	int st = SV_OK;
	while (len > 0) {
		uint64_t aoff = off - off % ss;
		size_t lead = (size_t)(off - aoff);
		size_t want = len < chunk - lead ? len : chunk - lead;
		size_t alen = (lead + want + ss - 1) / ss * ss;
		if (aoff + alen > d->size)
			alen = (size_t)(d->size - aoff);
		if (fd_pread_all(f->fd, aoff, f->bounce, alen) != SV_OK) {
			memset(out, 0, want);
			st = SV_ERR_IO;
		} else {
			memcpy(out, f->bounce + lead, want);
		}
		out += want;
		off += want;
		len -= want;
	}
	return st;
}

static void fd_close(struct sv_dev *d)
{
	struct fd_dev *f = (struct fd_dev *)d;
	close(f->fd);
	free(f->bounce);
	free(f);
}

static const struct sv_dev_ops fd_ops = { fd_read, fd_close, NULL };

/* What a file that is not an image or a disk is, for the message refusing it. */
static const char *kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
#ifdef S_ISSOCK
	if (S_ISSOCK(m))
		return "a socket";
#endif
	return "not a regular file or a device";
}

int sv_dev_open_path(const char *path, struct sv_dev **out, char *err, size_t errlen)
{
	/* O_RDONLY only: the source is never written. O_NONBLOCK so that a FIFO (or a device that
	 * waits for a carrier) cannot block the open; it is refused or cleared right after. */
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s%s", path, strerror(e),
			 e == EACCES ? " (a device may need root or membership of the disk group)" :
			 e == ENXIO ? " (a socket or a device that is not there; salvage reads image files and disks)" :
			 "");
		return e == ENOENT ? SV_ERR_NOTFOUND : SV_ERR_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
		return SV_ERR_IO;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s is %s; salvage reads image files and disks", path, kind_name(st.st_mode));
		close(fd);
		return SV_ERR_INVAL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
		return SV_ERR_IO;
	}
	struct fd_dev *f = calloc(1, sizeof *f);
	if (!f) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return SV_ERR_NOMEM;
	}
	f->fd = fd;
	f->d.ops = &fd_ops;
	if (sv_platform_fd_size(fd, &f->d.size, &f->d.sector) != SV_OK) {
		snprintf(err, errlen, "cannot tell the size of %s: %s", path, strerror(errno));
		close(fd);
		free(f);
		return SV_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		f->aligned = true;
		f->bounce = malloc((1u << 20) + 65536);
		if (!f->bounce) {
			close(fd);
			free(f);
			return SV_ERR_NOMEM;
		}
	}
	snprintf(f->d.name, sizeof f->d.name, "%s", path);
	*out = &f->d;
	return SV_OK;
}
