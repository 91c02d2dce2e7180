/* runset.c: a set of disjoint runs of physical blocks, each remembering the logical block that
 * first used it. It backs the "each block once per file" rule of the map walkers (file.c) and
 * their sets of visited tree blocks. Runs are kept sorted in fixed-size leaves under a sorted
 * directory (a two-level B-tree): memory grows with the number of runs, not with the block
 * numbers, so a healthy file of a few extents costs a few dozen bytes, and any lookup or insert
 * costs a binary search plus a move inside one leaf. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define RS_LEAF 128   /* runs per leaf */

struct sv_rs_leaf {
	size_t n;
	struct sv_run v[RS_LEAF];
};

static uint64_t run_end(const struct sv_run *r) { return r->p + r->n; }

void sv_runset_init(struct sv_runset *s)
{
	memset(s, 0, sizeof *s);
}

void sv_runset_free(struct sv_runset *s)
{
	for (size_t i = 0; i < s->nleaf; i++)
		free(s->leaf[i]);
	free(s->leaf);
	sv_runset_init(s);
}

/* Index of the first leaf whose last run ends past p (nleaf if none). */
static size_t leaf_for(const struct sv_runset *s, uint64_t p)
{
	size_t lo = 0, hi = s->nleaf;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sv_rs_leaf *f = s->leaf[mid];
		if (run_end(&f->v[f->n - 1]) > p)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Index of the first run of leaf f that ends past p (f->n if none). */
static size_t pos_in(const struct sv_rs_leaf *f, uint64_t p)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (run_end(&f->v[mid]) > p)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

const struct sv_run *sv_runset_find(const struct sv_runset *s, uint64_t p)
{
	size_t i = leaf_for(s, p);
	if (i == s->nleaf)
		return NULL;
	return &s->leaf[i]->v[pos_in(s->leaf[i], p)];
}

/* Make room for one more leaf pointer at index i; the new slot is set to f. */
static int insert_leaf(struct sv_runset *s, size_t i, struct sv_rs_leaf *f)
{
	if (s->nleaf == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		struct sv_rs_leaf **nl = realloc(s->leaf, nc * sizeof *nl);
		if (!nl)
			return SV_ERR_NOMEM;
		s->leaf = nl;
		s->cap = nc;
	}
	memmove(s->leaf + i + 1, s->leaf + i, (s->nleaf - i) * sizeof *s->leaf);
	s->leaf[i] = f;
	s->nleaf++;
	return SV_OK;
}

int sv_runset_add(struct sv_runset *s, uint64_t p, uint64_t l, uint64_t n)
{
	struct sv_run r = { p, l, n };
	size_t i = leaf_for(s, p), j = i < s->nleaf ? pos_in(s->leaf[i], p) : 0;
	/* Extend the run before or after when the new one continues it on disk and in the file. */
	struct sv_run *pred = NULL, *succ = i < s->nleaf ? &s->leaf[i]->v[j] : NULL;
	if (i < s->nleaf && j > 0)
		pred = &s->leaf[i]->v[j - 1];
	else if (i > 0)
		pred = &s->leaf[i - 1]->v[s->leaf[i - 1]->n - 1];
	if (pred && run_end(pred) == p && pred->l + pred->n == l) {
		pred->n += n;
		return SV_OK;
	}
	if (succ && p + n == succ->p && l + n == succ->l) {
		succ->p = p;
		succ->l = l;
		succ->n += n;
		return SV_OK;
	}
	if (i == s->nleaf) {          /* after every run: append to the last leaf */
		if (i > 0 && s->leaf[i - 1]->n < RS_LEAF) {
			i--;
			j = s->leaf[i]->n;
		} else {
			struct sv_rs_leaf *f = malloc(sizeof *f);
			if (!f || insert_leaf(s, i, f) != SV_OK) {
				free(f);
				return SV_ERR_NOMEM;
			}
			f->n = 0;
			j = 0;
		}
	}
	struct sv_rs_leaf *f = s->leaf[i];
	if (f->n == RS_LEAF) {        /* full: move its upper half to a new leaf */
		struct sv_rs_leaf *g = malloc(sizeof *g);
		if (!g || insert_leaf(s, i + 1, g) != SV_OK) {
			free(g);
			return SV_ERR_NOMEM;
		}
		g->n = RS_LEAF / 2;
		memcpy(g->v, f->v + RS_LEAF / 2, sizeof g->v[0] * (RS_LEAF / 2));
		f->n = RS_LEAF / 2;
		if (j > RS_LEAF / 2) {
			f = g;
			j -= RS_LEAF / 2;
		}
	}
	memmove(f->v + j + 1, f->v + j, (f->n - j) * sizeof f->v[0]);
	f->v[j] = r;
	f->n++;
	s->count++;
	return SV_OK;
}

int sv_runset_visit(struct sv_runset *s, uint64_t blk)
{
	const struct sv_run *r = sv_runset_find(s, blk);
	if (r && r->p <= blk)
		return 1;
	return sv_runset_add(s, blk, blk, 1);
}

int sv_runset_merge(struct sv_runset *dst, struct sv_runset *src)
{
	int st = SV_OK;
	for (size_t i = 0; i < src->nleaf && st == SV_OK; i++)
		for (size_t k = 0; k < src->leaf[i]->n && st == SV_OK; k++) {
			const struct sv_run *r = &src->leaf[i]->v[k];
			st = sv_runset_add(dst, r->p, r->p, r->n);
		}
	sv_runset_free(src);
	return st;
}
