/* test_ext_runset.c: the run set behind the ext map walkers' "each block once per file" rule,
 * checked against a plain array model with seeded random inserts (in order, reversed and
 * scattered, enough to split leaves many times), and the visited-set use. */
#include "ext/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); failed++; } } while (0)

#define SPACE 20000

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Model: first[p] = logical block that first used physical p, or -1. */
static int64_t first[SPACE];

/* Add [p, p+n) at logical l wherever the set has no user yet, as file.c does. */
static bool add_where_free(struct sv_runset *s, uint64_t p, uint64_t l, uint64_t n)
{
	while (n) {
		const struct sv_run *r = sv_runset_find(s, p);
		uint64_t k;
		if (r && r->p <= p) {
			k = r->p + r->n - p < n ? r->p + r->n - p : n;
		} else {
			k = r && r->p - p < n ? r->p - p : n;
			if (sv_runset_add(s, p, l, k) != SV_OK)
				return false;
			for (uint64_t i = 0; i < k; i++)
				first[p + i] = (int64_t)(l + i);
		}
		p += k;
		l += k;
		n -= k;
	}
	return true;
}

static bool agrees(const struct sv_runset *s)
{
	for (uint64_t p = 0; p < SPACE; p++) {
		const struct sv_run *r = sv_runset_find(s, p);
		bool in = r && r->p <= p;
		if (in != (first[p] >= 0))
			return false;
		if (in && (int64_t)(r->l + (p - r->p)) != first[p])
			return false;
	}
	return true;
}

static void run(const char *name, int order)
{
	struct sv_runset s;
	sv_runset_init(&s);
	memset(first, 0xff, sizeof first);
	bool ok = true;
	for (int i = 0; i < 3000 && ok; i++) {
		uint64_t p, n = 1 + next_rand() % 5, l = next_rand() % 100000;
		if (order == 0)
			p = (uint64_t)i * 6;                    /* increasing, with gaps */
		else if (order == 1)
			p = SPACE - 8 - (uint64_t)i * 6;        /* decreasing */
		else
			p = next_rand() % (SPACE - 8);          /* scattered, overlapping */
		ok = add_where_free(&s, p, l, n);
	}
	CHECK(name, ok && agrees(&s) && s.nleaf > 1);
	sv_runset_free(&s);
}

static void test_merge(void)
{
	struct sv_runset s;
	sv_runset_init(&s);
	for (uint64_t i = 0; i < 100000; i++)
		sv_runset_add(&s, 1000 + i, 50 + i, 1);
	CHECK("contiguous runs merge into one", s.count == 1 && s.nleaf == 1);
	sv_runset_add(&s, 500, 0, 10);
	sv_runset_add(&s, 510, 10, 490);     /* continues the run before it on disk and in the file */
	CHECK("a run continuing the one before merges", s.count == 2);
	const struct sv_run *r = sv_runset_find(&s, 999);
	CHECK("find inside a run", r && r->p == 500 && r->n == 500);
	r = sv_runset_find(&s, 200000);
	CHECK("find past the end", r == NULL);
	sv_runset_free(&s);
}

static void test_visit(void)
{
	struct sv_runset s;
	sv_runset_init(&s);
	CHECK("first visit", sv_runset_visit(&s, 42) == SV_OK);
	CHECK("second visit is seen", sv_runset_visit(&s, 42) == 1);
	CHECK("neighbour not seen", sv_runset_visit(&s, 43) == SV_OK && sv_runset_visit(&s, 41) == SV_OK);
	CHECK("neighbours merged", s.count == 1);
	sv_runset_free(&s);
}

int main(void)
{
	run("runset: increasing inserts match the model", 0);
	run("runset: decreasing inserts match the model", 1);
	run("runset: scattered overlapping inserts match the model", 2);
	test_merge();
	test_visit();
	return failed ? 1 : 0;
}
