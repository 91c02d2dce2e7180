/* base.h: the bottom layer: little-endian decoding, a bounded cursor, status codes,
 * checksums, and the problem channel every layer above reports damage through.
 * Nothing here prints or exits. */
#ifndef SV_BASE_H
#define SV_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- status codes: 0 is success, negatives are failures ---- */
enum {
	SV_OK = 0,
	SV_ERR_IO = -1,          /* the source could not be read */
	SV_ERR_CORRUPT = -2,     /* on-disk data is damaged */
	SV_ERR_NOMEM = -3,
	SV_ERR_NOTFOUND = -4,    /* no such path or object */
	SV_ERR_UNSUPPORTED = -5, /* a feature this build cannot read */
	SV_ERR_INVAL = -6,       /* a bad argument */
	SV_ERR_NOTDIR = -7,
	SV_ERR_ENCRYPTED = -8,   /* content is encrypted; no key */
	SV_ERR_STOP = -9,        /* an iterator callback asked to stop */
	SV_ERR_CSUM = -10,       /* soft: data read, but its checksum is wrong */
};
const char *sv_strerror(int status);

/* ---- little-endian / big-endian decoding from bytes (never struct casts) ---- */
static inline uint16_t sv_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t sv_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t sv_le64(const uint8_t *p) { return sv_le32(p) | ((uint64_t)sv_le32(p + 4) << 32); }
static inline uint16_t sv_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t sv_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t sv_be64(const uint8_t *p) { return ((uint64_t)sv_be32(p) << 32) | sv_be32(p + 4); }
static inline void sv_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void sv_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* ---- bounded cursor over a buffer: reads past the end return 0 and latch `bad` ---- */
struct sv_cur {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};
static inline struct sv_cur sv_cur_make(const void *p, size_t len)
{
	struct sv_cur c = { (const uint8_t *)p, len, 0, false };
	return c;
}
/* Returns a pointer to n bytes at the cursor and advances, or NULL (and latches bad). */
static inline const uint8_t *sv_cur_take(struct sv_cur *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) { c->bad = true; return NULL; }
	const uint8_t *r = c->p + c->pos;
	c->pos += n;
	return r;
}
static inline uint8_t sv_cur_u8(struct sv_cur *c) { const uint8_t *q = sv_cur_take(c, 1); return q ? q[0] : 0; }
static inline uint16_t sv_cur_le16(struct sv_cur *c) { const uint8_t *q = sv_cur_take(c, 2); return q ? sv_le16(q) : 0; }
static inline uint32_t sv_cur_le32(struct sv_cur *c) { const uint8_t *q = sv_cur_take(c, 4); return q ? sv_le32(q) : 0; }
static inline uint64_t sv_cur_le64(struct sv_cur *c) { const uint8_t *q = sv_cur_take(c, 8); return q ? sv_le64(q) : 0; }
static inline uint32_t sv_cur_be32(struct sv_cur *c) { const uint8_t *q = sv_cur_take(c, 4); return q ? sv_be32(q) : 0; }

/* Overflow-checked arithmetic on values that came from disk. Return false on overflow. */
static inline bool sv_mul64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool sv_add64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }

/* ---- checksums ---- */
uint32_t sv_crc32c(uint32_t crc, const void *buf, size_t len); /* Castagnoli, raw (no pre/post inversion) */
uint32_t sv_crc32(uint32_t crc, const void *buf, size_t len);  /* IEEE 802.3 as zlib: crc32(0,...) style */
uint16_t sv_crc16(uint16_t crc, const void *buf, size_t len);  /* CRC-16 (poly 0x8005 reflected), ext4 gdt_csum */
uint32_t sv_be_crc32(uint32_t crc, const void *buf, size_t len); /* big-endian CRC32 used by JBD2 checksum v1 */

/* SHA-256 (FIPS 180-4; sha256.c), for manifests: init, update any number of times, final. */
struct sv_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed */
	uint8_t buf[64];       /* a partial block */
	size_t n;
};
void sv_sha256_init(struct sv_sha256 *s);
void sv_sha256_update(struct sv_sha256 *s, const void *data, size_t len);
void sv_sha256_final(struct sv_sha256 *s, uint8_t out[32]);   /* s must be initialised again to reuse */
void sv_sha256_hex(const uint8_t sum[32], char out[65]);      /* lower-case hex, NUL-terminated */

/* ---- problems: damage found while reading, sent to a sink; never printed here ---- */
enum sv_severity { SV_SEV_INFO = 0, SV_SEV_WARN = 1, SV_SEV_ERROR = 2 };

struct sv_problem {
	int code;              /* one of SV_PB_* (below) */
	int severity;          /* enum sv_severity */
	uint64_t ino;          /* 0 when not about one inode */
	uint64_t block;        /* UINT64_MAX when not about one block */
	const char *path;      /* may be NULL; valid only during the callback */
	char msg[320];         /* what happened and, where useful, what to do next */
};
typedef void (*sv_problem_fn)(void *ctx, const struct sv_problem *pb);

struct sv_report {
	sv_problem_fn fn;      /* NULL: problems are only counted */
	void *ctx;
	unsigned long count;   /* problems reported (all severities) */
	unsigned long errors;  /* of which severity >= SV_SEV_WARN */
	const char *path;      /* current path context, set by walkers (may be NULL) */
};

#define SV_NOBLOCK UINT64_MAX

/* Problem codes. X(name, severity, short description) */
#define SV_PROBLEMS(X) \
	X(SV_PB_IO, SV_SEV_ERROR, "read error") \
	X(SV_PB_SUPER, SV_SEV_ERROR, "superblock damaged") \
	X(SV_PB_SUPER_BACKUP, SV_SEV_WARN, "using a backup superblock") \
	X(SV_PB_SUPER_CSUM, SV_SEV_WARN, "superblock checksum mismatch") \
	X(SV_PB_GROUP, SV_SEV_ERROR, "group descriptor damaged") \
	X(SV_PB_GROUP_CSUM, SV_SEV_WARN, "group descriptor checksum mismatch") \
	X(SV_PB_INODE, SV_SEV_ERROR, "inode damaged") \
	X(SV_PB_INODE_CSUM, SV_SEV_WARN, "inode checksum mismatch") \
	X(SV_PB_EXTENT, SV_SEV_ERROR, "extent tree damaged") \
	X(SV_PB_EXTENT_CSUM, SV_SEV_WARN, "extent block checksum mismatch") \
	X(SV_PB_BLOCKMAP, SV_SEV_ERROR, "block map damaged") \
	X(SV_PB_DIR, SV_SEV_ERROR, "directory damaged") \
	X(SV_PB_DIR_CSUM, SV_SEV_WARN, "directory block checksum mismatch") \
	X(SV_PB_XATTR, SV_SEV_ERROR, "extended attributes damaged") \
	X(SV_PB_XATTR_CSUM, SV_SEV_WARN, "extended attribute block checksum mismatch") \
	X(SV_PB_SYMLINK, SV_SEV_ERROR, "symlink damaged") \
	X(SV_PB_INLINE, SV_SEV_ERROR, "inline data damaged") \
	X(SV_PB_ENCRYPTED, SV_SEV_WARN, "encrypted content skipped") \
	X(SV_PB_LOOP, SV_SEV_ERROR, "directory cycle") \
	X(SV_PB_PART, SV_SEV_WARN, "partition table damaged") \
	X(SV_PB_JOURNAL, SV_SEV_WARN, "journal problem") \
	X(SV_PB_SKIPPED, SV_SEV_WARN, "skipped") \
	X(SV_PB_CHECK, SV_SEV_ERROR, "consistency problem")

#define SV_PB_ENUM_(name, sev, desc) name,
enum sv_problem_code { SV_PROBLEMS(SV_PB_ENUM_) SV_PB__COUNT };
#undef SV_PB_ENUM_
const char *sv_problem_name(int code);   /* "SV_PB_IO" -> "io" style short id */
int sv_problem_severity(int code);

/* Report a problem (printf-style message). Safe with r == NULL. */
void sv_report(struct sv_report *r, int code, uint64_t ino, uint64_t block, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- small helpers ---- */
/* Format a byte count as "1.5 GiB" into buf. */
const char *sv_human_size(uint64_t bytes, char *buf, size_t cap);

#endif
