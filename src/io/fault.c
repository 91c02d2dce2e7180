/* fault.c: a failing drive for tests. Reads go through to the device below, except that a request
 * touching any byte of a bad range fails as a whole after an optional delay, the way a dying
 * drive answers: the caller learns that the request failed, not which sectors. Finding those is
 * the rescue reader's job (rescue.c). */
#include "io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fault_dev {
	struct sv_dev d;
	struct sv_ranges bad;
	uint32_t delay_ms;
};

static int fault_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct fault_dev *f = (struct fault_dev *)d;
	if (sv_ranges_any(&f->bad, off, len)) {
		if (f->delay_ms) {
			struct timespec ts = { f->delay_ms / 1000, (long)(f->delay_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		memset(buf, 0, len);
		return SV_ERR_IO;
	}
	return sv_dev_read(d->lower, off, buf, len);
}

/* Which bytes fail is not told: a drive does not say either. */
static int fault_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx)
{
	(void)d, (void)off, (void)len, (void)fn, (void)ctx;
	return 0;
}

static void fault_close(struct sv_dev *d)
{
	struct fault_dev *f = (struct fault_dev *)d;
	sv_ranges_free(&f->bad);
	free(f);
}

static const struct sv_dev_ops fault_ops = { fault_read, fault_close, fault_bad };

int sv_dev_fault(struct sv_dev *lower, const struct sv_ranges *bad, uint32_t delay_ms, bool owns_lower,
		 struct sv_dev **out)
{
	struct fault_dev *f = calloc(1, sizeof *f);
	if (!f)
		return SV_ERR_NOMEM;
	for (size_t i = 0; i < bad->n; i++)
		if (sv_ranges_add(&f->bad, bad->v[i].off, bad->v[i].len) != SV_OK) {
			fault_close(&f->d);
			return SV_ERR_NOMEM;
		}
	f->d.ops = &fault_ops;
	f->d.size = lower->size;
	f->d.sector = lower->sector;
	f->d.lower = lower;
	f->d.owns_lower = owns_lower;
	f->delay_ms = delay_ms;
	snprintf(f->d.name, sizeof f->d.name, "%s", lower->name);
	*out = &f->d;
	return SV_OK;
}
