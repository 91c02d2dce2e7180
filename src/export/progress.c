/* progress.c: a progress meter for long copies: bytes done of a total, rate and time left.
 * It only formats; the command line decides where (and whether) to show it. */
#include "export.h"
#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sv_progress_init(struct sv_progress *p, uint64_t total)
{
	p->total = total;
	p->done = 0;
	p->start = now();
	p->last = 0;
}

bool sv_progress_update(struct sv_progress *p, uint64_t done, bool final)
{
	p->done = done;
	double t = now();
	if (!final && t - p->last < 0.25)
		return false;
	p->last = t;
	return true;
}

const char *sv_progress_line(const struct sv_progress *p, char *buf, size_t cap)
{
	char d[32], tot[32], r[32], eta[32] = "";
	double el = now() - p->start;
	double rate = el > 0.05 ? (double)p->done / el : 0;
	sv_human_size(p->done, d, sizeof d);
	sv_human_size(p->total, tot, sizeof tot);
	sv_human_size((uint64_t)rate, r, sizeof r);
	if (rate > 0 && p->total > p->done) {
		double left = (double)(p->total - p->done) / rate;
		unsigned long s = left > 359999 ? 359999 : (unsigned long)left;
		if (s >= 3600)
			snprintf(eta, sizeof eta, ", %lu:%02lu:%02lu left", s / 3600, s / 60 % 60, s % 60);
		else
			snprintf(eta, sizeof eta, ", %lu:%02lu left", s / 60, s % 60);
	}
	unsigned pct = p->total ? (unsigned)(p->done >= p->total ? 100 : (double)p->done * 100 / (double)p->total) : 100;
	if (rate > 0)
		snprintf(buf, cap, "%s of %s (%u%%), %s/s%s", d, tot, pct, r, eta);
	else
		snprintf(buf, cap, "%s of %s (%u%%)", d, tot, pct);
	return buf;
}
