/* ranges.c: sets of byte ranges, kept sorted, disjoint and merged (bad areas, skipped areas, a
 * ddrescue map's unfinished areas). Lookups are binary searches; adds and removes move the tail. */
#include "io.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t r_end(const struct sv_range *x)
{
	return x->off + x->len;
}

size_t sv_ranges_find(const struct sv_ranges *r, uint64_t off)
{
	size_t a = 0, b = r->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (r_end(&r->v[m]) > off)
			b = m;
		else
			a = m + 1;
	}
	return a;
}

bool sv_ranges_any(const struct sv_ranges *r, uint64_t off, uint64_t len)
{
	if (!len)
		return false;
	size_t i = sv_ranges_find(r, off);
	return i < r->n && r->v[i].off < off + len;
}

static int grow(struct sv_ranges *r, size_t need)
{
	if (need <= r->cap)
		return SV_OK;
	size_t nc = r->cap ? r->cap : 8;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / sizeof *r->v)
			return SV_ERR_NOMEM;
		nc *= 2;
	}
	struct sv_range *nv = realloc(r->v, nc * sizeof *nv);
	if (!nv)
		return SV_ERR_NOMEM;
	r->v = nv;
	r->cap = nc;
	return SV_OK;
}

int sv_ranges_add(struct sv_ranges *r, uint64_t off, uint64_t len)
{
	if (!len)
		return SV_OK;
	if (len > UINT64_MAX - off)
		len = UINT64_MAX - off;
	uint64_t end = off + len;
	/* the first range that ends at or after off (touching counts: it merges) */
	size_t i = sv_ranges_find(r, off ? off - 1 : 0);
	if (i < r->n && r_end(&r->v[i]) < off)
		i++;
	size_t j = i;   /* ranges i..j-1 overlap or touch [off, end) */
	while (j < r->n && r->v[j].off <= end)
		j++;
	if (i < j) {
		uint64_t lo = r->v[i].off < off ? r->v[i].off : off;
		uint64_t hi = r_end(&r->v[j - 1]) > end ? r_end(&r->v[j - 1]) : end;
		r->v[i] = (struct sv_range){ lo, hi - lo };
		memmove(&r->v[i + 1], &r->v[j], (r->n - j) * sizeof *r->v);
		r->n -= j - i - 1;
		return SV_OK;
	}
	if (grow(r, r->n + 1) != SV_OK)
		return SV_ERR_NOMEM;
	memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
	r->v[i] = (struct sv_range){ off, len };
	r->n++;
	return SV_OK;
}

int sv_ranges_sub(struct sv_ranges *r, uint64_t off, uint64_t len)
{
	if (!len)
		return SV_OK;
	if (len > UINT64_MAX - off)
		len = UINT64_MAX - off;
	uint64_t end = off + len;
	size_t i = sv_ranges_find(r, off);
	if (i == r->n || r->v[i].off >= end)
		return SV_OK;
	/* one range strictly containing [off, end): split it */
	if (r->v[i].off < off && r_end(&r->v[i]) > end) {
		if (grow(r, r->n + 1) != SV_OK)
			return SV_ERR_NOMEM;
		memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
		r->n++;
		r->v[i].len = off - r->v[i].off;
		uint64_t e = r_end(&r->v[i + 1]);
		r->v[i + 1] = (struct sv_range){ end, e - end };
		return SV_OK;
	}
	if (r->v[i].off < off) {          /* keep the head of the first */
		r->v[i].len = off - r->v[i].off;
		i++;
	}
	size_t j = i;
	while (j < r->n && r_end(&r->v[j]) <= end)
		j++;                       /* wholly inside: dropped */
	if (j < r->n && r->v[j].off < end) {   /* keep the tail of the last */
		uint64_t e = r_end(&r->v[j]);
		r->v[j] = (struct sv_range){ end, e - end };
	}
	memmove(&r->v[i], &r->v[j], (r->n - j) * sizeof *r->v);
	r->n -= j - i;
	return SV_OK;
}

uint64_t sv_ranges_total(const struct sv_ranges *r)
{
	uint64_t t = 0;
	for (size_t i = 0; i < r->n; i++)
		t += r->v[i].len;
	return t;
}

void sv_ranges_free(struct sv_ranges *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* A byte count: decimal or 0x hex, with an optional K, M, G or T suffix (powers of 1024). */
static bool parse_count(const char *s, const char **end, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 0);
	if (errno || e == s)
		return false;
	unsigned shift = 0;
	switch (*e) {
	case 'K': case 'k': shift = 10; e++; break;
	case 'M': case 'm': shift = 20; e++; break;
	case 'G': case 'g': shift = 30; e++; break;
	case 'T': case 't': shift = 40; e++; break;
	}
	if (shift && v > UINT64_MAX >> shift)
		return false;
	*out = (uint64_t)v << shift;
	*end = e;
	return true;
}

bool sv_ranges_parse(const char *spec, struct sv_ranges *r)
{
	const char *p = spec;
	if (!*p)
		return false;
	for (;;) {
		uint64_t off, len;
		if (!parse_count(p, &p, &off) || *p++ != '+' || !parse_count(p, &p, &len) || len == 0)
			return false;
		if (sv_ranges_add(r, off, len) != SV_OK)
			return false;
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}
