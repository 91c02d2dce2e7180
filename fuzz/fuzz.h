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

/* The input as a source the way salvage reads a disk: memory, a fault injector, the rescue reader.
 * Every fourth input (by a hash of its bytes) gets two failing 512-byte sectors at places picked
 * by the hash, so the error paths (zero-fill, sector splitting, partial blocks) are fuzzed too. */
static inline int fuzz_dev(const uint8_t *data, size_t size, struct sv_dev **out)
{
	struct sv_dev *mem, *top;
	if (sv_dev_mem(data, size, &mem) != SV_OK)
		return SV_ERR_NOMEM;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < size; i += 61)
		h = (h ^ data[i]) * 1099511628211ull;
	top = mem;
	if ((h & 3) == 0 && size >= 4096) {
		struct sv_ranges bad = { 0 };
		sv_ranges_add(&bad, (h >> 8) % size / 512 * 512, 512);
		sv_ranges_add(&bad, (h >> 32) % size / 512 * 512, 512);
		struct sv_dev *f;
		int st = sv_dev_fault(mem, &bad, 0, true, &f);
		sv_ranges_free(&bad);
		if (st != SV_OK) {
			sv_dev_close(mem);
			return st;
		}
		top = f;
	}
	struct sv_rescue_opts o = { 0, 0 };
	if (sv_dev_rescue(top, &o, true, out) != SV_OK) {
		sv_dev_close(top);
		return SV_ERR_NOMEM;
	}
	return SV_OK;
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
