/* fuzz_ddmap.c: libFuzzer harness for what salvage takes from a rescue's side files: the input is a
 * GNU ddrescue mapfile (parsed; its areas re-set, merged and turned into unfinished ranges; those
 * marked in a rescue reader over a small memory device that is then read and asked for its bad
 * parts), and the same bytes as an --inject-faults range list. */
#include "fuzz.h"
#include <stdlib.h>

#define DEV_SIZE (64u << 10)

static int count_bad(void *ctx, uint64_t off, uint64_t len)
{
	(void)ctx;
	fuzz_sink_bytes += (size_t)(off ^ len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_ddmap m;
	char err[200];
	if (sv_ddmap_parse((const char *)data, size, &m, err, sizeof err) == SV_OK) {
		fuzz_sink_bytes += m.n + (size_t)m.current_status;
		/* re-set some areas (splits and merges change m.n as it goes) */
		for (size_t i = 0; i < 64 && m.n; i++) {
			size_t k = (i * 7) % m.n;
			sv_ddmap_set(&m, m.v[k].pos / 2, m.v[k].size / 2 + 1, "?*/-+"[i % 5]);
		}
		fuzz_sink_bytes += (size_t)sv_ddmap_status(&m, DEV_SIZE / 2);
		struct sv_ranges un = { 0 };
		if (sv_ddmap_unfinished(&m, DEV_SIZE, &un) == SV_OK) {
			static uint8_t img[DEV_SIZE];
			struct sv_dev *mem, *res;
			if (sv_dev_mem(img, sizeof img, &mem) == SV_OK) {
				struct sv_rescue_opts o = { 1, 2 };
				if (sv_dev_rescue(mem, &o, true, &res) == SV_OK) {
					for (size_t i = 0; i < un.n; i++)
						sv_rescue_mark(res, un.v[i].off, un.v[i].len, SV_BAD_MAP);
					uint8_t *buf = malloc(DEV_SIZE);
					if (buf) {
						sv_dev_read(res, 100, buf, DEV_SIZE - 200);
						free(buf);
					}
					sv_dev_bad(res, 0, DEV_SIZE + 512, count_bad, NULL);
					sv_rescue_retry(res, 0, DEV_SIZE);
					sv_dev_close(res);
				} else {
					sv_dev_close(mem);
				}
			}
		}
		sv_ranges_free(&un);
		sv_ddmap_free(&m);
	}
	/* the bytes as an --inject-faults list */
	char *spec = malloc(size + 1);
	if (spec) {
		memcpy(spec, data, size);
		spec[size] = 0;
		struct sv_ranges r = { 0 };
		if (sv_ranges_parse(spec, &r)) {
			for (size_t i = 0; i < r.n; i++)
				sv_ranges_sub(&r, r.v[i].off + r.v[i].len / 3, r.v[i].len / 3);
			fuzz_sink_bytes += (size_t)sv_ranges_total(&r);
		}
		sv_ranges_free(&r);
		free(spec);
	}
	return 0;
}
