/* internal.h: what the files of the export layer share: the few calls that differ between
 * operating systems (osdep.c) and small helpers. */
#ifndef SV_EXPORT_INTERNAL_H
#define SV_EXPORT_INTERNAL_H

#include "export.h"
#include <sys/types.h>

/* Extended attributes on the destination. Return 0 or -1 with errno (ENOTSUP where the platform
 * has none). The name is the Linux one ("user.foo"); platforms without namespaces map it. */
int sv_os_fsetxattr(int fd, const char *name, const void *value, size_t len);
int sv_os_lsetxattr(const char *path, const char *name, const void *value, size_t len);
/* True when this build can set extended attributes at all. */
bool sv_os_has_xattrs(void);
/* Enlarge the pipe behind fd where the platform allows (no effect otherwise). */
void sv_os_grow_pipe(int fd);
/* A dev_t from a Linux major/minor pair. */
dev_t sv_os_makedev(uint32_t major, uint32_t minor);

/* ---- per-file truth while cp or tar writes (truth.c) ----
 * Sits on the filesystem's report (a tap in front of its sink) for one export run: it turns a
 * failed data read into exact lost FILE byte ranges (from sv_dev_bad), zeroes them in the buffer
 * itself, reports them and records them in the damage registry; it marks a file whose map could
 * not be read completely; it files metadata damage (unreadable inode tables, directories, extent
 * blocks) in the registry; and it hashes what is written for manifests. */
struct sv_truth {
	struct sv_fs *fs;
	struct sv_report *rep;
	struct sv_damage *dmg;
	bool own_dmg;
	sv_problem_fn next_fn;         /* the report's sink before the tap */
	void *next_ctx;
	sv_file_done_fn done;
	void *done_ctx;
	struct sv_dev *rescue;
	/* where problems come from now */
	int where;
	uint32_t dir_ino;
	const struct sv_walk_entry *e; /* the file being written */
	bool map_bad;                  /* its map could not be read completely */
	uint64_t bad_from;             /* ... from about this file offset on */
	bool quiet;                    /* our own reports are being sent: not metadata */
	uint64_t pos;                  /* file bytes up to here were given by the map (or are gaps) */
	struct sv_ranges gaps;         /* file bytes no run of the map gave */
	struct sv_sha256 sha;
	uint64_t hpos;                 /* bytes hashed */
	struct sv_inomap sum_idx;      /* multiply-linked inode -> index + 1 into sums */
	uint8_t (*sums)[32];
	size_t nsums, sumcap;
	uint64_t *ovl;                 /* blocks a journal overlay replaces (sorted), for source offsets */
	size_t novl, ovlcap;
	struct sv_dev *ovl_dev;
	bool ovl_bad;                  /* that list could not be made: no source offsets then */
};
/* Start: the tap goes in front of rep's sink. dmg NULL: a registry of its own (freed at the end). */
int sv_truth_begin(struct sv_truth *t, struct sv_fs *fs, struct sv_report *rep, struct sv_damage *dmg,
		   sv_file_done_fn done, void *done_ctx);
void sv_truth_end(struct sv_truth *t);
/* Problems from now on concern directory e's listing (after ENTER) / nothing in particular. */
void sv_truth_dir(struct sv_truth *t, const struct sv_walk_entry *e);
void sv_truth_idle(struct sv_truth *t);
/* A regular file e is about to be written (its data from file offset 0 on). */
void sv_truth_file_begin(struct sv_truth *t, const struct sv_walk_entry *e);
/* While its map is walked, problems naming no other inode are map damage. */
void sv_truth_mapping(struct sv_truth *t, bool on);
/* A run of the map gives file bytes [from, to) (the caller skips what earlier runs gave). */
void sv_truth_run(struct sv_truth *t, uint64_t from, uint64_t to);
/* Read n blocks at pblk holding file bytes [foff, foff+bytes) into buf. On failure the lost bytes
 * are zero in buf (set here, not left to luck), reported in file bytes and recorded. Returns the
 * read's status (SV_ERR_CORRUPT: the run lies outside the filesystem; buf is all zeros). */
int sv_truth_read(struct sv_truth *t, uint64_t pblk, uint64_t n, uint64_t foff, size_t bytes, uint8_t *buf);
/* Bytes written at file offset foff (for the hash; skipped gaps count as zeros). */
void sv_truth_data(struct sv_truth *t, uint64_t foff, const void *p, size_t n);
/* Inline data that could not be read whole: n bytes were. */
void sv_truth_inline_bad(struct sv_truth *t, size_t n);
/* The file is written: map damage becomes lost ranges, the hash is finished, file_done is called. */
void sv_truth_file_end(struct sv_truth *t, int map_status);
/* A later name of a regular file (a hard link written as a link). */
void sv_truth_link(struct sv_truth *t, const struct sv_walk_entry *e);

#endif
