/* fuzz.h: what the libFuzzer harnesses share: the entry point's prototype, a problem sink that
 * discards reports (after touching every field, so a bad message or path pointer is caught by
 * ASan), and opening a filesystem on a memory image through the memory block source.
 * Each harness is one fuzz_<name>.c; fuzz/replay_main.c drives the same entry point without
 * libFuzzer (make check replays fuzz/regress/ through it). */
#ifndef SV_FUZZ_H
#define SV_FUZZ_H

#include "base/base.h"
#include "io/io.h"
#include "ext/ext.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small block cache keeps each run cheap; the library must be bounded with any cache size. */
#define FUZZ_CACHE_BYTES (256u << 10)

static volatile size_t fuzz_sink_bytes;

static inline void fuzz_problem_sink(void *ctx, const struct sv_problem *pb)
{
	(void)ctx;
	size_t n = strlen(pb->msg);
	if (pb->path)
		n += strlen(pb->path);
	fuzz_sink_bytes += n + (size_t)pb->code;
}

static inline struct sv_report fuzz_report(void)
{
	struct sv_report r;
	memset(&r, 0, sizeof r);
	r.fn = fuzz_problem_sink;
	return r;
}

/* Open the filesystem held by dev (primary superblock, then backups), or NULL. */
static inline struct sv_fs *fuzz_fs_open(struct sv_dev *dev, struct sv_report *rep)
{
	struct sv_fs_opts fo = { rep, -1, 0, FUZZ_CACHE_BYTES };
	struct sv_fs *fs = NULL;
	char err[512];
	if (sv_fs_open(dev, &fo, &fs, err, sizeof err) != SV_OK)
		return NULL;
	return fs;
}

#endif
