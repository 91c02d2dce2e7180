/* table.c: the check's memory that follows what the filesystem really holds: sparse tables
 * (per-inode records, cluster bitmaps) whose chunks exist only once written, and the small
 * block sets walks use to visit each tree node once. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define MID_N (1u << TBL_MID_SHIFT)

int ck_table_init(struct ck_table *t, uint64_t n, uint32_t esize, unsigned shift)
{
	memset(t, 0, sizeof *t);
	t->n = n;
	t->esize = esize;
	t->shift = shift;
	uint64_t nchunks = (n >> shift) + 1;
	t->nroot = (nchunks >> TBL_MID_SHIFT) + 1;
	if (t->nroot > SIZE_MAX / sizeof *t->root)
		return SV_ERR_NOMEM;
	t->root = calloc((size_t)t->nroot, sizeof *t->root);
	return t->root ? SV_OK : SV_ERR_NOMEM;
}

void ck_table_free(struct ck_table *t)
{
	if (!t->root)
		return;
	for (uint64_t r = 0; r < t->nroot; r++) {
		if (!t->root[r])
			continue;
		for (unsigned m = 0; m < MID_N; m++)
			free(t->root[r][m]);
		free(t->root[r]);
	}
	free(t->root);
	t->root = NULL;
}

void *ck_table_get_slow(struct ck_table *t, uint64_t i)
{
	if (i >= t->n || !t->root)
		return NULL;
	uint64_t ci = i >> t->shift;
	uint8_t ***mid = &t->root[ci >> TBL_MID_SHIFT];
	if (!*mid && !(*mid = calloc(MID_N, sizeof **mid))) {
		t->oom = true;
		return NULL;
	}
	uint8_t **ch = &(*mid)[ci & (MID_N - 1)];
	if (!*ch && !(*ch = calloc((size_t)1 << t->shift, t->esize))) {
		t->oom = true;
		return NULL;
	}
	return *ch + (i & ((1ull << t->shift) - 1)) * t->esize;
}

uint64_t ck_table_next(const struct ck_table *t, uint64_t i)
{
	while (i < t->n && t->root) {
		uint64_t ci = i >> t->shift;
		uint8_t **mid = t->root[ci >> TBL_MID_SHIFT];
		if (!mid) {
			i = ((ci >> TBL_MID_SHIFT) + 1) << TBL_MID_SHIFT << t->shift;
			continue;
		}
		if (mid[ci & (MID_N - 1)])
			return i;
		i = (ci + 1) << t->shift;
	}
	return UINT64_MAX;
}

/* ---- block sets ---- */
static size_t slot(const struct blkset *s, uint64_t blk)
{
	size_t h = (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 17) & (s->cap - 1);
	while (s->v[h] && s->v[h] != blk)
		h = (h + 1) & (s->cap - 1);
	return h;
}

bool blkset_add(struct blkset *s, uint64_t blk)
{
	blk++;    /* 0 marks an empty slot */
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		uint64_t *nv = calloc(nc, sizeof *nv);
		if (!nv)
			return false;
		uint64_t *ov = s->v;
		size_t oc = s->cap;
		s->v = nv;
		s->cap = nc;
		for (size_t i = 0; i < oc; i++)
			if (ov[i])
				s->v[slot(s, ov[i])] = ov[i];
		free(ov);
	}
	size_t h = slot(s, blk);
	if (s->v[h])
		return false;
	s->v[h] = blk;
	s->n++;
	return true;
}

/* Empty the set; a large one is freed rather than cleared, so many small walks after one big
 * one do not each pay for clearing it. */
void blkset_reset(struct blkset *s)
{
	if (s->cap > 1024) {
		blkset_free(s);
		return;
	}
	if (s->n)
		memset(s->v, 0, s->cap * sizeof *s->v);
	s->n = 0;
}

void blkset_free(struct blkset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}
