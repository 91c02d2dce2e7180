/* fuzz_check.c: libFuzzer harness for the consistency check: the input is an ext2/3/4 image; it is
 * opened and sv_check_run checks all of it; the result is discarded. */
#include "fuzz.h"
#include "check/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_dev *dev;
	if (fuzz_dev(data, size, &dev) != SV_OK)
		return 0;
	struct sv_report rep = fuzz_report();
	struct sv_fs *fs = fuzz_fs_open(dev, &rep);
	if (fs) {
		struct sv_check_opts o = { 0 };
		struct sv_check_result *r = NULL;
		if (sv_check_run(fs, &o, &r) == SV_OK) {
			/* touch every stored problem, as a reporter would */
			for (size_t i = 0; i < r->nproblems; i++)
				fuzz_sink_bytes += strlen(r->problems[i].msg) +
						   (r->problems[i].path ? strlen(r->problems[i].path) : 0);
			sv_check_result_free(r);
		}
		sv_fs_close(fs);
	}
	sv_dev_close(dev);
	return 0;
}
