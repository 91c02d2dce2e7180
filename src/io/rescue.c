/* rescue.c: the rescue reader, the one read path of a source. It sits right above the file or
 * device and below everything that interprets bytes. A request that fails is not given up as a
 * whole: it is split in halves at sector boundaries and each half read again, down to single
 * sectors, so that only the sectors that really fail are lost (ddrescue calls the sector-level
 * part "scraping"). What failed is remembered in sorted range sets, by kind, so that
 *   - the same sector is never read twice in one run (a dying drive may take seconds per failed
 *     read, and every extra read may be its last): later requests get zeros for it at once;
 *   - sv_dev_bad() can tell any layer above exactly which bytes of a read were lost;
 *   - areas a ddrescue map does not mark finished are never read and count as lost.
 * Skip-ahead (opts.skip_after): after that many failed reads in a row within one request, the
 * rest of the request is left unread and marked skipped; sv_rescue_retry() comes back to it. */
#include "io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKINDS 4   /* index by enum sv_bad_kind (1..3) */

struct rescue_dev {
	struct sv_dev d;
	struct sv_rescue_opts o;
	struct sv_ranges area[NKINDS];
	struct sv_rescue_stats st;
	sv_rescue_tap_fn tap;  /* sees every piece the media delivered (salvage image) */
	void *tap_ctx;
	/* per request */
	unsigned fails_in_row;
	bool skipping, no_skip;
	int err;              /* SV_ERR_NOMEM while recording: the read still zero-fills */
};

static const struct sv_dev_ops rescue_ops;

static struct rescue_dev *as_rescue(struct sv_dev *d)
{
	return d && d->ops == &rescue_ops ? (struct rescue_dev *)d : NULL;
}

static void mark(struct rescue_dev *r, int kind, uint64_t off, uint64_t len)
{
	if (sv_ranges_add(&r->area[kind], off, len) != SV_OK)
		r->err = SV_ERR_NOMEM;
}

static bool known_bad(const struct rescue_dev *r, uint64_t off, uint64_t len)
{
	for (int k = 1; k < NKINDS; k++)
		if (sv_ranges_any(&r->area[k], off, len))
			return true;
	return false;
}

/* One media read; counts it. */
static int media(struct rescue_dev *r, uint64_t off, uint8_t *buf, uint64_t len)
{
	r->st.reads++;
	int st = sv_dev_read(r->d.lower, off, buf, (size_t)len);
	if (st == SV_OK) {
		r->st.bytes_read += len;
		r->fails_in_row = 0;
		if (r->tap)
			r->tap(r->tap_ctx, off, buf, len);
		return SV_OK;
	}
	r->st.failed_reads++;
	r->fails_in_row++;
	memset(buf, 0, (size_t)len);
	return SV_ERR_IO;
}

/* Read [off, off+len), none of it known bad. On failure split at a sector boundary near the
 * middle and read each half; a failing piece within one sector marks that whole sector. */
static int fresh(struct rescue_dev *r, uint64_t off, uint8_t *buf, uint64_t len)
{
	uint64_t ss = r->d.sector;
	if (r->skipping) {
		mark(r, SV_BAD_SKIPPED, off, len);
		memset(buf, 0, (size_t)len);
		return SV_ERR_IO;
	}
	if (media(r, off, buf, len) == SV_OK)
		return SV_OK;
	uint64_t first = off - off % ss, last = (off + len - 1) - (off + len - 1) % ss;
	if (first == last) {
		/* one sector: the retries, then it is bad (all of it: a sector fails as a unit) */
		for (unsigned t = 0; t < r->o.max_retries; t++)
			if (media(r, off, buf, len) == SV_OK)
				return SV_OK;
		uint64_t end = first + ss < r->d.size ? first + ss : r->d.size;
		mark(r, SV_BAD_ERROR, first, end - first);
		if (r->o.skip_after && !r->no_skip && r->fails_in_row >= r->o.skip_after)
			r->skipping = true;
		return SV_ERR_IO;
	}
	if (r->o.skip_after && !r->no_skip && r->fails_in_row >= r->o.skip_after) {
		r->skipping = true;
		mark(r, SV_BAD_SKIPPED, off, len);
		return SV_ERR_IO;
	}
	uint64_t mid = off + len / 2;
	mid -= mid % ss;
	if (mid <= off)
		mid = first + ss;
	int a = fresh(r, off, buf, mid - off);
	int b = fresh(r, mid, buf + (mid - off), off + len - mid);
	return a == SV_OK && b == SV_OK ? SV_OK : SV_ERR_IO;
}

/* The first known-bad byte at or after off (of any kind), and the end of the bad run there. */
static uint64_t next_bad(const struct rescue_dev *r, uint64_t off, uint64_t *run_end)
{
	uint64_t best = UINT64_MAX, bend = 0;
	for (int k = 1; k < NKINDS; k++) {
		const struct sv_ranges *a = &r->area[k];
		size_t i = sv_ranges_find(a, off);
		if (i == a->n)
			continue;
		uint64_t s = a->v[i].off > off ? a->v[i].off : off;
		if (s < best) {
			best = s;
			bend = a->v[i].off + a->v[i].len;
		}
	}
	*run_end = bend;
	return best;
}

static int rescue_read(struct sv_dev *d, uint64_t off, void *buf, size_t len)
{
	struct rescue_dev *r = (struct rescue_dev *)d;
	uint8_t *out = buf;
	uint64_t end = off + len;
	int st = SV_OK;
	r->fails_in_row = 0;
	r->skipping = false;
	/* Known-bad bytes read as zeros at once; the pieces between them are read fresh. */
	while (off < end) {
		uint64_t bend, b = next_bad(r, off, &bend);
		if (b > off) {
			uint64_t n = (b < end ? b : end) - off;
			if (fresh(r, off, out, n) != SV_OK)
				st = SV_ERR_IO;
			out += n;
			off += n;
			continue;
		}
		uint64_t n = (bend < end ? bend : end) - off;
		memset(out, 0, (size_t)n);
		st = SV_ERR_IO;
		out += n;
		off += n;
	}
	return st;
}

/* Report the known-bad parts of [off, off+len), merged across kinds, in ascending order. */
static int rescue_bad(struct sv_dev *d, uint64_t off, uint64_t len, sv_bad_fn fn, void *ctx)
{
	struct rescue_dev *r = (struct rescue_dev *)d;
	uint64_t end = off + len;
	while (off < end) {
		uint64_t bend, b = next_bad(r, off, &bend);
		if (b >= end)
			break;
		/* extend over touching runs of other kinds */
		for (;;) {
			uint64_t e2, b2 = next_bad(r, bend, &e2);
			if (b2 != bend || e2 <= bend)
				break;
			bend = e2;
		}
		if (bend > end)
			bend = end;
		int rc = fn(ctx, b, bend - b);
		if (rc)
			return rc;
		off = bend;
	}
	return 0;
}

static void rescue_close(struct sv_dev *d)
{
	struct rescue_dev *r = (struct rescue_dev *)d;
	for (int k = 0; k < NKINDS; k++)
		sv_ranges_free(&r->area[k]);
	free(r);
}

static const struct sv_dev_ops rescue_ops = { rescue_read, rescue_close, rescue_bad };

int sv_dev_rescue(struct sv_dev *lower, const struct sv_rescue_opts *o, bool owns_lower, struct sv_dev **out)
{
	struct rescue_dev *r = calloc(1, sizeof *r);
	if (!r)
		return SV_ERR_NOMEM;
	if (o)
		r->o = *o;
	r->d.ops = &rescue_ops;
	r->d.size = lower->size;
	r->d.sector = lower->sector >= 512 && !(lower->sector & (lower->sector - 1)) ? lower->sector : 512;
	r->d.lower = lower;
	r->d.owns_lower = owns_lower;
	snprintf(r->d.name, sizeof r->d.name, "%s", lower->name);
	*out = &r->d;
	return SV_OK;
}

int sv_rescue_mark(struct sv_dev *d, uint64_t off, uint64_t len, int kind)
{
	struct rescue_dev *r = as_rescue(d);
	if (!r || kind < 1 || kind >= NKINDS)
		return SV_ERR_INVAL;
	if (off >= d->size)
		return SV_OK;
	if (len > d->size - off)
		len = d->size - off;
	return sv_ranges_add(&r->area[kind], off, len);
}

const struct sv_ranges *sv_rescue_areas(struct sv_dev *d, int kind)
{
	struct rescue_dev *r = as_rescue(d);
	return r && kind >= 1 && kind < NKINDS ? &r->area[kind] : NULL;
}

int sv_rescue_retry(struct sv_dev *d, uint64_t off, uint64_t len)
{
	struct rescue_dev *r = as_rescue(d);
	if (!r)
		return SV_ERR_INVAL;
	struct sv_ranges *sk = &r->area[SV_BAD_SKIPPED];
	enum { CHUNK = 1 << 20 };
	uint8_t *tmp = NULL;
	int st = SV_OK;
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;
	for (;;) {
		size_t i = sv_ranges_find(sk, off);
		if (i == sk->n || sk->v[i].off >= end)
			break;
		uint64_t a = sk->v[i].off > off ? sk->v[i].off : off;
		uint64_t b = sk->v[i].off + sk->v[i].len < end ? sk->v[i].off + sk->v[i].len : end;
		if (sv_ranges_sub(sk, a, b - a) != SV_OK)
			return SV_ERR_NOMEM;
		if (!tmp && !(tmp = malloc(CHUNK)))
			return SV_ERR_NOMEM;
		r->no_skip = true;
		for (uint64_t p = a; p < b; p += CHUNK) {
			uint64_t n = b - p < CHUNK ? b - p : CHUNK;
			r->fails_in_row = 0;
			r->skipping = false;
			if (!known_bad(r, p, n) ? fresh(r, p, tmp, n) != SV_OK : rescue_read(d, p, tmp, (size_t)n) != SV_OK)
				st = SV_ERR_IO;
		}
		r->no_skip = false;
		off = b;
	}
	free(tmp);
	return r->err ? r->err : st;
}

void sv_rescue_get_stats(struct sv_dev *d, struct sv_rescue_stats *st)
{
	struct rescue_dev *r = as_rescue(d);
	memset(st, 0, sizeof *st);
	if (!r)
		return;
	*st = r->st;
	st->bad_bytes = sv_ranges_total(&r->area[SV_BAD_ERROR]);
	st->skipped_bytes = sv_ranges_total(&r->area[SV_BAD_SKIPPED]);
	st->map_bytes = sv_ranges_total(&r->area[SV_BAD_MAP]);
}

struct sv_dev *sv_dev_find_rescue(struct sv_dev *d)
{
	for (; d; d = d->lower)
		if (as_rescue(d))
			return d;
	return NULL;
}

void sv_rescue_set_tap(struct sv_dev *d, sv_rescue_tap_fn fn, void *ctx)
{
	struct rescue_dev *r = as_rescue(d);
	if (r) {
		r->tap = fn;
		r->tap_ctx = ctx;
	}
}

void sv_rescue_set_opts(struct sv_dev *d, const struct sv_rescue_opts *o)
{
	struct rescue_dev *r = as_rescue(d);
	if (r && o)
		r->o = *o;
}

int sv_rescue_unmark(struct sv_dev *d, uint64_t off, uint64_t len, int kind)
{
	struct rescue_dev *r = as_rescue(d);
	if (!r || kind < 1 || kind >= NKINDS)
		return SV_ERR_INVAL;
	return sv_ranges_sub(&r->area[kind], off, len);
}
