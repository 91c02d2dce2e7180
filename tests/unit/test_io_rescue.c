/* test_io_rescue.c: the failing-drive read path: range sets against a byte model, the rescue reader
 * over the fault injector (only really failing sectors lost, zeros never stale, sv_dev_bad exact
 * through slices and overlays, a bad sector read once, retries, skip-ahead and coming back), and
 * ddrescue mapfiles (parse, set, unfinished areas, save and load). */
#include "io/io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); failed++; } } while (0)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define SP 5000
static void test_ranges(void)
{
	static unsigned char model[SP];
	struct sv_ranges r = { 0 };
	bool ok = true;
	for (int it = 0; it < 4000 && ok; it++) {
		uint64_t off = next_rand() % SP, len = 1 + next_rand() % 60;
		if (off + len > SP)
			len = SP - off;
		bool add = next_rand() % 3 != 0;
		ok = (add ? sv_ranges_add(&r, off, len) : sv_ranges_sub(&r, off, len)) == SV_OK;
		memset(model + off, add, (size_t)len);
		/* compare: sorted, disjoint, not touching, same bytes */
		unsigned char got[SP] = { 0 };
		for (size_t i = 0; i < r.n && ok; i++) {
			ok = r.v[i].len > 0 && r.v[i].off + r.v[i].len <= SP &&
			     (i == 0 || r.v[i - 1].off + r.v[i - 1].len < r.v[i].off);
			if (ok)
				memset(got + r.v[i].off, 1, (size_t)r.v[i].len);
		}
		ok = ok && !memcmp(got, model, SP);
		uint64_t q = next_rand() % SP, ql = 1 + next_rand() % 30;
		bool any = false;
		for (uint64_t k = q; k < q + ql && k < SP; k++)
			any |= model[k];
		ok = ok && sv_ranges_any(&r, q, ql) == any;
	}
	CHECK("ranges-model", ok);
	sv_ranges_free(&r);
	struct sv_ranges p = { 0 };
	CHECK("ranges-parse", sv_ranges_parse("4096+512,0x10000+1K,1M+2", &p) && p.n == 3 && p.v[1].off == 0x10000 &&
				      p.v[1].len == 1024 && p.v[2].off == 1 << 20);
	sv_ranges_free(&p);
	CHECK("ranges-parse-junk", !sv_ranges_parse("12", &p) && !sv_ranges_parse("1+0", &p) &&
					   !sv_ranges_parse("1+2,", &p) && !sv_ranges_parse("-1+2", &p));
	sv_ranges_free(&p);
}

struct collect {
	struct sv_ranges r;
};
static int collect_cb(void *ctx, uint64_t off, uint64_t len)
{
	struct collect *c = ctx;
	sv_ranges_add(&c->r, off, len);
	return 0;
}

static bool same_ranges(const struct sv_ranges *a, const struct sv_ranges *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].off != b->v[i].off || a->v[i].len != b->v[i].len)
			return false;
	return true;
}

#define IMG (4u << 20)
static void test_rescue(void)
{
	uint8_t *img = malloc(IMG), *buf = malloc(IMG);
	for (size_t i = 0; i < IMG; i++)
		img[i] = (uint8_t)(next_rand() | 1);   /* never zero: a zero byte in the output means lost */
	struct sv_dev *mem, *fault, *res;
	struct sv_ranges bad = { 0 };
	sv_ranges_add(&bad, (1u << 20) + 3 * 512 + 100, 10);     /* inside one sector */
	sv_ranges_add(&bad, (2u << 20) + 8192, 8 * 512);          /* 8 sectors */
	sv_ranges_add(&bad, (3u << 20) - 1, 2);                   /* across a sector boundary */
	sv_dev_mem(img, IMG, &mem);
	sv_dev_fault(mem, &bad, 0, true, &fault);
	sv_dev_rescue(fault, NULL, true, &res);
	/* the sectors that must be lost: the bad bytes widened to whole sectors */
	struct sv_ranges want = { 0 };
	for (size_t i = 0; i < bad.n; i++) {
		uint64_t a = bad.v[i].off / 512 * 512, b = (bad.v[i].off + bad.v[i].len + 511) / 512 * 512;
		sv_ranges_add(&want, a, b - a);
	}
	memset(buf, 0xAA, IMG);
	int st = SV_OK;
	for (uint64_t off = 0; off < IMG; off += 1 << 20)
		if (sv_dev_read(res, off, buf + off, 1 << 20) != SV_OK)
			st = SV_ERR_IO;
	CHECK("rescue-read-fails", st == SV_ERR_IO);
	bool ok = true;
	for (size_t i = 0; i < IMG && ok; i++)
		ok = sv_ranges_any(&want, i, 1) ? buf[i] == 0 : buf[i] == img[i];
	CHECK("rescue-only-bad-sectors-lost", ok);
	struct collect c = { { 0 } };
	sv_dev_bad(res, 0, IMG, collect_cb, &c);
	CHECK("rescue-bad-exact", same_ranges(&c.r, &want));
	sv_ranges_free(&c.r);
	struct sv_rescue_stats s1, s2;
	sv_rescue_get_stats(res, &s1);
	CHECK("rescue-stats-bad-bytes", s1.bad_bytes == sv_ranges_total(&want) && s1.failed_reads > 0);
	memset(buf, 0xAA, IMG);
	sv_dev_read(res, 0, buf, IMG);
	sv_rescue_get_stats(res, &s2);
	CHECK("rescue-bad-read-once", s2.failed_reads == s1.failed_reads);
	ok = true;
	for (size_t i = 0; i < IMG && ok; i++)
		ok = sv_ranges_any(&want, i, 1) ? buf[i] == 0 : buf[i] == img[i];
	CHECK("rescue-reread-zeros", ok);
	/* a slice: addresses shifted */
	struct sv_dev *sl;
	sv_dev_slice(res, 1u << 20, 2u << 20, false, &sl);
	struct collect c2 = { { 0 } };
	sv_dev_bad(sl, 0, 2u << 20, collect_cb, &c2);
	CHECK("rescue-bad-through-slice", c2.r.n == 3 && c2.r.v[0].off == 3 * 512 && c2.r.v[0].len == 512 &&
						  c2.r.v[1].off == (1u << 20) + 8192 && c2.r.v[1].len == 4096 &&
						  c2.r.v[2].off == (2u << 20) - 512 && c2.r.v[2].len == 512);
	sv_ranges_free(&c2.r);
	/* an overlay redirecting block 0 (4 KiB) of the slice to the bad sectors at 2 MiB + 8 KiB */
	struct sv_dev *ov;
	unsigned idx;
	sv_dev_overlay(sl, 4096, false, &ov);
	sv_overlay_source(ov, res, &idx);
	sv_overlay_redirect(ov, 0, idx, (2u << 20) + 8192, NULL);
	struct collect c3 = { { 0 } };
	sv_dev_bad(ov, 0, 8192, collect_cb, &c3);
	CHECK("rescue-bad-through-overlay", c3.r.n == 1 && c3.r.v[0].off == 0 && c3.r.v[0].len == 4096);
	sv_ranges_free(&c3.r);
	struct collect c4 = { { 0 } };
	sv_dev_bad(ov, (2u << 20) - 600, 800, collect_cb, &c4);   /* the slice's last sector is bad too */
	CHECK("rescue-bad-past-end", c4.r.n == 1 && c4.r.v[0].off == (2u << 20) - 512 && c4.r.v[0].len == 712);
	sv_ranges_free(&c4.r);
	sv_dev_close(ov);
	sv_dev_close(sl);
	sv_dev_close(res);

	/* retries: a failing sector is tried 1 + max_retries times */
	struct sv_rescue_opts ro = { .max_retries = 3 };
	sv_dev_mem(img, IMG, &mem);
	sv_dev_fault(mem, &bad, 0, true, &fault);
	sv_dev_rescue(fault, &ro, true, &res);
	sv_dev_read(res, (1u << 20) + 3 * 512, buf, 512);
	sv_rescue_get_stats(res, &s1);
	CHECK("rescue-retries", s1.failed_reads == 4 && s1.bad_bytes == 512);
	sv_dev_close(res);

	/* skip-ahead: a big bad area is not scraped sector by sector at once; retry comes back */
	struct sv_ranges big = { 0 };
	sv_ranges_add(&big, 1u << 20, 256 * 1024);
	sv_ranges_add(&big, (1u << 20) + 300 * 1024, 512);
	struct sv_rescue_opts so = { .skip_after = 4 };
	sv_dev_mem(img, IMG, &mem);
	sv_dev_fault(mem, &big, 0, true, &fault);
	sv_dev_rescue(fault, &so, true, &res);
	memset(buf, 0xAA, 1 << 20);
	sv_dev_read(res, 1u << 20, buf, 1 << 20);
	sv_rescue_get_stats(res, &s1);
	CHECK("rescue-skip-ahead", s1.skipped_bytes > 0 && s1.failed_reads < 64);
	ok = true;
	for (size_t i = 0; i < (1u << 20) && ok; i++)
		ok = buf[i] == 0 || buf[i] == img[(1u << 20) + i];
	CHECK("rescue-skip-zeros", ok);
	sv_rescue_retry(res, 0, IMG);
	sv_rescue_get_stats(res, &s2);
	CHECK("rescue-retry-skipped", s2.skipped_bytes == 0 && s2.bad_bytes == 256 * 1024 + 512);
	memset(buf, 0xAA, 1 << 20);
	sv_dev_read(res, 1u << 20, buf, 1 << 20);
	ok = true;
	for (size_t i = 0; i < (1u << 20) && ok; i++)
		ok = sv_ranges_any(&big, (1u << 20) + i, 1) ? buf[i] == 0 : buf[i] == img[(1u << 20) + i];
	CHECK("rescue-after-retry-exact", ok);
	sv_dev_close(res);
	sv_ranges_free(&big);

	/* marked areas (a ddrescue map) are never read */
	sv_dev_mem(img, IMG, &mem);
	sv_dev_rescue(mem, NULL, true, &res);
	sv_rescue_mark(res, 4096, 1000, SV_BAD_MAP);
	memset(buf, 0xAA, 16384);
	st = sv_dev_read(res, 0, buf, 16384);
	sv_rescue_get_stats(res, &s1);
	ok = st == SV_ERR_IO && s1.failed_reads == 0 && s1.map_bytes == 1000;
	for (size_t i = 0; i < 16384 && ok; i++)
		ok = (i >= 4096 && i < 5096) ? buf[i] == 0 : buf[i] == img[i];
	CHECK("rescue-map-marked", ok);
	sv_dev_close(res);
	sv_ranges_free(&want);
	sv_ranges_free(&bad);
	free(img);
	free(buf);
}

static void test_ddmap(void)
{
	const char *txt = "# Mapfile. Created by GNU ddrescue version 1.27\n"
			  "# current_pos  current_status  current_pass\n"
			  "0x00120000     +               1\n"
			  "#      pos        size  status\n"
			  "0x00000000  0x00100000  +\n"
			  "0x00100000  0x00000200  -\n"
			  "0x00100200  0x0000FE00  /\n"
			  "0x00110000  0x00010000  *\n"
			  "0x00120000  0x000E0000  +\n";
	struct sv_ddmap m;
	char err[200];
	int st = sv_ddmap_parse(txt, strlen(txt), &m, err, sizeof err);
	CHECK("ddmap-parse", st == SV_OK && m.n == 5 && m.current_pos == 0x120000 && m.current_status == '+' &&
				     m.current_pass == 1 && m.v[1].status == '-' && m.v[1].size == 512);
	CHECK("ddmap-status", sv_ddmap_status(&m, 0x100100) == '-' && sv_ddmap_status(&m, 0x10FFFF) == '/' &&
				      sv_ddmap_status(&m, 0x200000) == '?');
	struct sv_ranges u = { 0 };
	sv_ddmap_unfinished(&m, 0x300000, &u);
	CHECK("ddmap-unfinished", u.n == 2 && u.v[0].off == 0x100000 && u.v[0].len == 0x20000 &&
					  u.v[1].off == 0x200000 && u.v[1].len == 0x100000);
	sv_ranges_free(&u);
	/* set: split, replace, merge */
	sv_ddmap_set(&m, 0x100000, 0x20000, '+');
	CHECK("ddmap-set-merge", m.n == 1 && m.v[0].pos == 0 && m.v[0].size == 0x200000 && m.v[0].status == '+');
	sv_ddmap_set(&m, 0x1000, 0x200, '-');
	sv_ddmap_set(&m, 0x300000, 0x1000, '*');   /* after a gap */
	CHECK("ddmap-set-split", m.n == 4 && m.v[1].pos == 0x1000 && m.v[1].status == '-' && m.v[2].pos == 0x1200 &&
					 m.v[2].size == 0x200000 - 0x1200 && m.v[3].pos == 0x300000);
	char path[] = "/tmp/sv_ddmap_testXXXXXX";
	int fd = mkstemp(path);
	close(fd);
	struct sv_ddmap m2;
	st = sv_ddmap_save(&m, path, "test", err, sizeof err);
	st = st == SV_OK ? sv_ddmap_load(path, &m2, err, sizeof err) : st;
	bool ok = st == SV_OK && m2.n == m.n;
	for (size_t i = 0; ok && i < m.n; i++)
		ok = m2.v[i].pos == m.v[i].pos && m2.v[i].size == m.v[i].size && m2.v[i].status == m.v[i].status;
	CHECK("ddmap-save-load", ok);
	unlink(path);
	sv_ddmap_free(&m2);
	sv_ddmap_free(&m);
	const char *junk[] = { "0x0 + 1\n0x0 0x10 X\n", "0x0 + \n0x100 0x10 +\n0x0 0x10 +\n", "hello\n", "",
			       "0x0 +\n0x0 0xFFFFFFFFFFFFFFFF +\n0x10 0x10 +\n", "0x0 +\n0x0 0x10 + junk\n" };
	ok = true;
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
		ok = ok && sv_ddmap_parse(junk[i], strlen(junk[i]), &m, err, sizeof err) == SV_ERR_CORRUPT;
	}
	CHECK("ddmap-junk-refused", ok);
}

int main(void)
{
	test_ranges();
	test_rescue();
	test_ddmap();
	return failed ? 1 : 0;
}
