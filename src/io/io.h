/* io.h: the source layer. A source is a stack of byte-addressed devices:
 * file or block device (platform.c) -> slice (partition/offset) -> overlay (journal replay)
 * -> block cache. Every layer above reads through a struct sv_dev; nothing here ever writes
 * to the source. */
#ifndef SV_IO_H
#define SV_IO_H

#include "../base/base.h"

struct sv_dev;
struct sv_dev_ops {
	/* Read len bytes at byte offset off. Must fill the whole buffer or return an error;
	 * bytes past the end of the device read as zeros and return SV_ERR_IO. */
	int (*read)(struct sv_dev *d, uint64_t off, void *buf, size_t len);
	void (*close)(struct sv_dev *d);   /* frees d and its private state (not the lower device) */
};

struct sv_dev {
	const struct sv_dev_ops *ops;
	uint64_t size;         /* bytes readable */
	uint32_t sector;       /* logical sector size (512 for image files) */
	char name[256];        /* for messages: path, "path partition 2", ... */
	struct sv_dev *lower;  /* the device this one reads through (NULL for the bottom) */
	bool owns_lower;       /* close lower on close */
};

/* Read exactly len bytes at off. Past-the-end bytes read as zero and yield SV_ERR_IO. */
int sv_dev_read(struct sv_dev *d, uint64_t off, void *buf, size_t len);
/* NULL-safe. Closes the lower device too when owns_lower is set. */
void sv_dev_close(struct sv_dev *d);

/* Open a file or block/character device read-only (O_RDONLY, never anything else).
 * On failure returns an error and, in err, a message naming the path and what to do. */
int sv_dev_open_path(const char *path, struct sv_dev **out, char *err, size_t errlen);

/* A window [off, off+len) of lower. owns_lower decides whether close closes lower. */
int sv_dev_slice(struct sv_dev *lower, uint64_t off, uint64_t len, bool owns_lower, struct sv_dev **out);

/* A read-only view of a memory buffer (tests, fuzzers). The buffer must outlive the device. */
int sv_dev_mem(const void *buf, size_t len, struct sv_dev **out);

/* Overlay: a device over lower in which some blocks (size bsize) are replaced (journal replay).
 * A replaced block is a redirect -- read on demand from a byte offset of a source device, with an
 * optional patch of its first 4 bytes -- or an in-memory copy. Everything else reads from lower.
 * Memory: one 24-byte hash slot per replaced block at a load of 3/8 to 3/4 (32-64 bytes a block),
 * plus bsize for each copy. */
int sv_dev_overlay(struct sv_dev *lower, uint32_t bsize, bool owns_lower, struct sv_dev **out);
/* Make src a device redirects may read from; *idx is its index (lower is always index 0; up to 8
 * sources). The overlay does not close src (see sv_overlay_adopt): src must stay open as long as
 * the overlay is read. Registering a source twice gives the same index. */
int sv_overlay_source(struct sv_dev *overlay, struct sv_dev *src, unsigned *idx);
/* Hand src (registered or not) to the overlay: closing the overlay closes src. Not for lower. */
int sv_overlay_adopt(struct sv_dev *overlay, struct sv_dev *src);
/* Replace block blk by the bsize bytes at byte off of source src; head (4 bytes, copied) when not
 * NULL replaces the first 4 of them. Replaces any earlier entry for blk. Nothing is read now: a
 * read that fails later yields zeros, SV_ERR_IO and an SV_PB_IO report (see set_report). */
int sv_overlay_redirect(struct sv_dev *overlay, uint64_t blk, unsigned src, uint64_t off, const uint8_t *head);
/* Set (or replace) the content of block blk in an overlay device. Copies bsize bytes. */
int sv_overlay_put(struct sv_dev *overlay, uint64_t blk, const void *data);
/* Make room for n entries in all (a hint, so the table is not regrown while it fills). */
int sv_overlay_reserve(struct sv_dev *overlay, uint64_t n);
/* Where redirect read failures are reported (NULL: nowhere). rep must outlive the overlay. */
void sv_overlay_set_report(struct sv_dev *overlay, struct sv_report *rep);
/* Number of blocks held by an overlay, and iteration over them in ascending order. */
size_t sv_overlay_count(struct sv_dev *overlay);
int sv_overlay_each(struct sv_dev *overlay, int (*fn)(void *ctx, uint64_t blk), void *ctx);

/* Block cache: a fixed number of blocks of one size, LRU. Reads copy into the caller's buffer,
 * so nothing borrowed can go stale. */
struct sv_cache;
int sv_cache_open(struct sv_dev *dev, uint32_t bsize, size_t nblocks, struct sv_cache **out);
void sv_cache_close(struct sv_cache *c);
/* Read block blk into buf (bsize bytes). Errors zero-fill buf. */
int sv_cache_read(struct sv_cache *c, uint64_t blk, void *buf);
/* Read len bytes at offset off inside block blk (off + len <= bsize), through the cache. */
int sv_cache_read_part(struct sv_cache *c, uint64_t blk, uint32_t off, void *buf, size_t len);
/* Forget everything cached (after the device below changed, e.g. an overlay was filled). */
void sv_cache_flush(struct sv_cache *c);

/* ---- platform (platform.c: the only file with OS-specific code) ---- */
/* Size in bytes and logical sector size of an open fd (file or device). */
int sv_platform_fd_size(int fd, uint64_t *size, uint32_t *sector);

#endif
