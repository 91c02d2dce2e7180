/* io.h: the source layer. A source is a stack of byte-addressed devices:
 * file or block device (platform.c) [-> fault injector (fault.c, tests)] -> rescue reader
 * (rescue.c: the one read path: retries failed ranges down to the sector, remembers bad sectors,
 * takes a ddrescue map) -> slice (partition/offset) -> overlay (journal replay) -> block cache.
 * Every layer above reads through a struct sv_dev; nothing here ever writes to the source. */
#ifndef SV_IO_H
#define SV_IO_H

#include "../base/base.h"

/* ---- byte ranges (ranges.c): a sorted set of disjoint, non-touching [off, off+len) ---- */
struct sv_range {
	uint64_t off, len;
};
struct sv_ranges {
	struct sv_range *v;
	size_t n, cap;
};
/* Add [off, off+len) (merged with what it overlaps or touches). SV_OK or SV_ERR_NOMEM. */
int sv_ranges_add(struct sv_ranges *r, uint64_t off, uint64_t len);
/* Remove [off, off+len). SV_OK or SV_ERR_NOMEM (a split needs one more entry). */
int sv_ranges_sub(struct sv_ranges *r, uint64_t off, uint64_t len);
/* Index of the first range that ends after off (r->n when none). */
size_t sv_ranges_find(const struct sv_ranges *r, uint64_t off);
/* True when some byte of [off, off+len) is in r. */
bool sv_ranges_any(const struct sv_ranges *r, uint64_t off, uint64_t len);
/* Bytes held. */
uint64_t sv_ranges_total(const struct sv_ranges *r);
void sv_ranges_free(struct sv_ranges *r);   /* and zeroes it */

/* Called once per unreadable part [off, off+len) of a range, in ascending order; nonzero stops. */
typedef int (*sv_bad_fn)(void *ctx, uint64_t off, uint64_t len);

struct sv_dev;
struct sv_dev_ops {
	/* Read len bytes at byte offset off (off + len <= size). Fills the WHOLE buffer: every byte
	 * that could not be read is zero, never stale. Returns SV_OK, or SV_ERR_IO when any byte
	 * could not be read (bad() then names exactly which). */
	int (*read)(struct sv_dev *d, uint64_t off, void *buf, size_t len);
	void (*close)(struct sv_dev *d);   /* frees d and its private state (not the lower device) */
	/* The bytes of [off, off+len) known to be unreadable, in this device's addresses: after a
	 * read returned SV_ERR_IO, exactly the bytes it zero-filled for that reason. Never reads the
	 * media. NULL: a layer that maps addresses 1:1 onto lower (asks lower), or has no lower. */
	int (*bad)(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx);
};

struct sv_dev {
	const struct sv_dev_ops *ops;
	uint64_t size;         /* bytes readable */
	uint32_t sector;       /* logical sector size (512 for image files) */
	char name[256];        /* for messages: path, "path partition 2", ... */
	struct sv_dev *lower;  /* the device this one reads through (NULL for the bottom) */
	bool owns_lower;       /* close lower on close */
};

/* Read exactly len bytes at off. Unreadable and past-the-end bytes read as zero and yield
 * SV_ERR_IO; the buffer never keeps old contents. */
int sv_dev_read(struct sv_dev *d, uint64_t off, void *buf, size_t len);
/* The unreadable parts of [off, off+len) as far as known (see sv_dev_ops.bad), past-the-end bytes
 * included; fn's return value, or 0. Cheap: no media access. */
int sv_dev_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx);
/* NULL-safe. Closes the lower device too when owns_lower is set. */
void sv_dev_close(struct sv_dev *d);

/* Open a file or block/character device read-only (O_RDONLY, never anything else).
 * On failure returns an error and, in err, a message naming the path and what to do. */
int sv_dev_open_path(const char *path, struct sv_dev **out, char *err, size_t errlen);

/* A window [off, off+len) of lower. owns_lower decides whether close closes lower. */
int sv_dev_slice(struct sv_dev *lower, uint64_t off, uint64_t len, bool owns_lower, struct sv_dev **out);

/* Where slice d starts in its lower device (0 when d is not a slice). */
uint64_t sv_dev_slice_offset(const struct sv_dev *d);

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

/* ---- the rescue reader (rescue.c): the one read path every read of a source goes through ----
 * Sits right above the file/device (or the fault injector). A read that fails is retried in
 * halves down to the sector size (lower->sector, 512 for images), so only the sectors that really
 * fail are lost; their bytes read as zeros. A failed sector is remembered and not read again
 * (beyond max_retries), so a bad area costs its failed reads once per run. Areas marked before
 * reading (a ddrescue map's unfinished areas) are never read and fail the same way. */
enum sv_bad_kind {
	SV_BAD_ERROR = 1,     /* the media returned an error for these sectors */
	SV_BAD_SKIPPED,       /* not read: skipped ahead in an error run (see skip_after) */
	SV_BAD_MAP,           /* not read: a ddrescue map does not mark them finished */
};
struct sv_rescue_opts {
	unsigned max_retries;   /* extra tries of a failing sector before it counts as bad (0: one try) */
	/* Skip-ahead (ddrescue's first pass): once this many reads have failed in a row within one
	 * request, the rest of the request is not tried and reads as SV_BAD_SKIPPED; 0: never skip.
	 * sv_rescue_retry comes back to skipped areas later. */
	unsigned skip_after;
};
struct sv_rescue_stats {
	uint64_t reads, failed_reads;     /* media reads issued, and how many failed */
	uint64_t bytes_read;              /* bytes delivered from the media */
	uint64_t bad_bytes, skipped_bytes, map_bytes;  /* now known unreadable, by kind */
};
int sv_dev_rescue(struct sv_dev *lower, const struct sv_rescue_opts *o, bool owns_lower, struct sv_dev **out);
/* Mark [off, off+len) unreadable without reading it (any kind; SV_BAD_SKIPPED: sv_rescue_retry
 * comes back to it). */
int sv_rescue_mark(struct sv_dev *rescue, uint64_t off, uint64_t len, int kind);
/* The areas known unreadable of one kind (sorted, disjoint; valid until the next read). */
const struct sv_ranges *sv_rescue_areas(struct sv_dev *rescue, int kind);
/* Come back to the skipped parts of [off, off+len): read them sector by sector (halving), so they
 * become either readable (and read normally from then on) or SV_BAD_ERROR. */
int sv_rescue_retry(struct sv_dev *rescue, uint64_t off, uint64_t len);
void sv_rescue_get_stats(struct sv_dev *rescue, struct sv_rescue_stats *st);
/* For `salvage image`: fn sees every piece the media delivered, as it is read (exact bytes, in
 * this device's addresses; never a failed or zero-filled piece); NULL removes it. */
typedef void (*sv_rescue_tap_fn)(void *ctx, uint64_t off, const void *buf, uint64_t len);
void sv_rescue_set_tap(struct sv_dev *rescue, sv_rescue_tap_fn fn, void *ctx);
/* Change the options from the next read on (skip-ahead only while copying, not while planning). */
void sv_rescue_set_opts(struct sv_dev *rescue, const struct sv_rescue_opts *o);
/* Forget that [off, off+len) is unreadable as kind (a retry pass marks it skipped and retries). */
int sv_rescue_unmark(struct sv_dev *rescue, uint64_t off, uint64_t len, int kind);
/* The rescue reader in d's stack (d itself or a device below it), or NULL. */
struct sv_dev *sv_dev_find_rescue(struct sv_dev *d);

/* ---- fault injector (fault.c): a failing drive for tests ----
 * Reads through lower, but a request that touches any byte of a bad range fails as a whole, as a
 * dying drive's does (the buffer is zeroed, SV_ERR_IO), after delay_ms. It does not say which
 * bytes are bad (bad() reports nothing): the rescue reader above finds them. */
int sv_dev_fault(struct sv_dev *lower, const struct sv_ranges *bad, uint32_t delay_ms, bool owns_lower,
		 struct sv_dev **out);
/* Parse "START+LEN[,START+LEN...]" (byte counts: decimal, 0x hex, or with K/M/G suffixes) into r.
 * Returns false on junk. */
bool sv_ranges_parse(const char *spec, struct sv_ranges *r);

/* ---- GNU ddrescue mapfiles (ddmap.c; format: the GNU ddrescue manual, "Mapfile structure") ----
 * Comment lines start with '#'; the first other line is the current position and status
 * ("0x00120000 ?  1" -- the pass number is optional); then lines "POS SIZE STATUS" with POS and
 * SIZE in bytes (0x hex or decimal) and STATUS one of '?' non-tried, '*' non-trimmed,
 * '/' non-scraped, '-' bad sector, '+' finished. */
struct sv_ddmap_ent {
	uint64_t pos, size;
	char status;
};
struct sv_ddmap {
	uint64_t current_pos;
	char current_status;    /* '?', '*', '/', '-', 'F', 'G', '+' (the operation in progress) */
	int current_pass;       /* 0 when absent */
	struct sv_ddmap_ent *v; /* sorted, contiguous from 0 when well-formed */
	size_t n, cap;
};
/* Parse text; on junk returns SV_ERR_CORRUPT with err naming the line. Entries must be sorted and
 * not overlap (gaps are allowed and count as non-tried). */
int sv_ddmap_parse(const char *text, size_t len, struct sv_ddmap *m, char *err, size_t errlen);
int sv_ddmap_load(const char *path, struct sv_ddmap *m, char *err, size_t errlen);
/* Set the status of [pos, pos+size), splitting and merging entries. */
int sv_ddmap_set(struct sv_ddmap *m, uint64_t pos, uint64_t size, char status);
/* Status of the byte at pos ('?' when the map does not cover it). */
char sv_ddmap_status(const struct sv_ddmap *m, uint64_t pos);
/* Write the map in ddrescue's format (a header comment naming salvage, the current-position line,
 * one line per entry) to path atomically (a temporary file renamed over it, fsync'd). */
int sv_ddmap_save(const struct sv_ddmap *m, const char *path, const char *cmdline, char *err, size_t errlen);
/* Every area not marked '+' within [0, size) as ranges (what the map says cannot be trusted). */
int sv_ddmap_unfinished(const struct sv_ddmap *m, uint64_t size, struct sv_ranges *out);
void sv_ddmap_free(struct sv_ddmap *m);

/* Block cache: a fixed number of blocks of one size, LRU. Reads copy into the caller's buffer,
 * so nothing borrowed can go stale. */
struct sv_cache;
int sv_cache_open(struct sv_dev *dev, uint32_t bsize, size_t nblocks, struct sv_cache **out);
void sv_cache_close(struct sv_cache *c);
/* Read block blk into buf (bsize bytes). A failed read gives what could be read, zeros for the
 * unreadable sectors, and SV_ERR_IO; it is not cached. */
int sv_cache_read(struct sv_cache *c, uint64_t blk, void *buf);
/* Read len bytes at offset off inside block blk (off + len <= bsize), through the cache. When the
 * block has bad sectors but none of them is in the part asked for (the rescue reader knows), the
 * part is whole and SV_OK is returned. */
int sv_cache_read_part(struct sv_cache *c, uint64_t blk, uint32_t off, void *buf, size_t len);
/* Forget everything cached (after the device below changed, e.g. an overlay was filled). */
void sv_cache_flush(struct sv_cache *c);

/* ---- platform (platform.c: the only file with OS-specific code) ---- */
/* Size in bytes and logical sector size of an open fd (file or device). */
int sv_platform_fd_size(int fd, uint64_t *size, uint32_t *sector);

#endif
