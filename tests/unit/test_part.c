/* test_part.c: partition tables built in memory (MBR, extended chains, GPT with backup, 4096-byte
 * sectors, damaged variants) decoded by src/part; "--dump IMAGE" lists a real image's table. */
#include "part/part.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/* ---- problem collector ---- */
struct col {
	int n;
	char last[320];
};
static void col_fn(void *ctx, const struct sv_problem *pb)
{
	struct col *c = ctx;
	c->n++;
	snprintf(c->last, sizeof c->last, "%s", pb->msg);
}

#define CHECK(cond, ...) do { if (!(cond)) { fail_(name, __VA_ARGS__); return; } } while (0)
static void fail_(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}
static void pass(const char *name) { printf("PASS %s\n", name); }

/* Read a table from a memory image; rep counts problems into col. */
static int read_mem(const uint8_t *img, size_t len, uint32_t sector, struct col *c, struct sv_part_table *t)
{
	struct sv_dev *d;
	int st = sv_dev_mem(img, len, &d);
	if (st != SV_OK)
		return st;
	if (sector)
		d->sector = sector;
	struct sv_report rep = { col_fn, c, 0, 0, NULL };
	memset(c, 0, sizeof *c);
	st = sv_part_read(d, &rep, t);
	sv_dev_close(d);
	return st;
}

/* ---- MBR builders ---- */
static void mbr_sig(uint8_t *sec) { sec[510] = 0x55; sec[511] = 0xaa; }
static void mbr_slot(uint8_t *sec, int slot, uint8_t type, uint32_t start, uint32_t n)
{
	uint8_t *p = sec + 446 + 16 * slot;
	memset(p, 0, 16);
	p[4] = type;
	sv_put_le32(p + 8, start);
	sv_put_le32(p + 12, n);
}

struct want { int index; uint64_t start, size; };

/* Compare parts with expectations in units of sector bytes. */
static int match(const char *name, const struct sv_part_table *t, const struct want *w, int n, uint32_t sector)
{
	if (t->count != n) {
		fail_(name, "count %d, want %d", t->count, n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const struct sv_part *p = &t->parts[i];
		if (p->index != w[i].index || p->start != w[i].start * sector || p->size != w[i].size * sector) {
			fail_(name, "part %d: index %d start %llu size %llu, want %d %llu %llu", i, p->index,
			      (unsigned long long)p->start, (unsigned long long)p->size, w[i].index,
			      (unsigned long long)(w[i].start * sector), (unsigned long long)(w[i].size * sector));
			return 0;
		}
	}
	return 1;
}

static void t_none(void)
{
	const char *name = "mbr_none";
	static uint8_t img[1 << 20];
	struct col c;
	struct sv_part_table t;
	int st = read_mem(img, sizeof img, 0, &c, &t);
	CHECK(st == SV_OK, "status %d", st);
	CHECK(t.scheme == SV_PART_NONE && t.count == 0 && c.n == 0, "scheme %d count %d problems %d", t.scheme,
	      t.count, c.n);
	sv_part_table_free(&t);
	/* 0x55AA with a boot flag that is neither 0 nor 0x80: a boot sector, not a table. */
	img[446] = 0x12;
	mbr_slot(img, 1, 0x83, 2048, 100);
	mbr_sig(img);
	st = read_mem(img, sizeof img, 0, &c, &t);
	CHECK(st == SV_OK && t.scheme == SV_PART_NONE, "boot flag 0x12: status %d scheme %d", st, t.scheme);
	sv_part_table_free(&t);
	/* Smaller than a sector. */
	st = read_mem(img, 100, 0, &c, &t);
	CHECK(st == SV_OK && t.scheme == SV_PART_NONE, "tiny device: status %d scheme %d", st, t.scheme);
	sv_part_table_free(&t);
	pass(name);
}

static void t_primaries(void)
{
	const char *name = "mbr_primaries";
	static uint8_t img[8 << 20];
	struct col c;
	struct sv_part_table t;
	mbr_slot(img, 0, 0x83, 2048, 4096);
	mbr_slot(img, 2, 0x82, 8192, 2048);
	mbr_slot(img, 3, 0x07, 10240, 0); /* zero size: ignored as Linux does */
	img[446] = 0x80;
	mbr_sig(img);
	int st = read_mem(img, sizeof img, 0, &c, &t);
	CHECK(st == SV_OK && t.scheme == SV_PART_MBR, "status %d scheme %d", st, t.scheme);
	struct want w[] = { { 1, 2048, 4096 }, { 3, 8192, 2048 } };
	if (!match(name, &t, w, 2, 512))
		return;
	CHECK(c.n == 0, "%d problems: %s", c.n, c.last);
	CHECK(t.parts[0].mbr_type == 0x83 && strcmp(t.parts[0].type_name, "Linux") == 0, "type %02x %s",
	      t.parts[0].mbr_type, t.parts[0].type_name);
	CHECK(strcmp(t.parts[1].type_name, "Linux swap") == 0 && !t.parts[1].is_extended, "type %s",
	      t.parts[1].type_name);
	CHECK(t.sector == 512 && !t.used_backup, "sector %u", t.sector);
	sv_part_table_free(&t);
	pass(name);
}

/* Extended partition at 4096 (8192 sectors) holding three logicals. Data starts are relative to
 * each EBR, links relative to the extended start: a decoder mixing them up lands elsewhere. */
static void build_ext(uint8_t *img, uint8_t ext_type)
{
	mbr_slot(img, 0, 0x83, 2048, 2048);
	mbr_slot(img, 1, ext_type, 4096, 8192);
	mbr_sig(img);
	uint8_t *e1 = img + 4096 * 512, *e2 = img + 6144 * 512, *e3 = img + 8192 * 512;
	mbr_slot(e1, 0, 0x83, 63, 1000);        /* 4159 */
	mbr_slot(e1, 1, 0x05, 2048, 2048);      /* next EBR at 4096 + 2048 */
	mbr_sig(e1);
	mbr_slot(e2, 0, 0x82, 100, 500);        /* 6244 */
	mbr_slot(e2, 1, 0x05, 4096, 4096);      /* next EBR at 8192 */
	mbr_sig(e2);
	mbr_slot(e3, 0, 0x8e, 2048, 2048);      /* 10240 */
	mbr_sig(e3);
}

static void t_extended(void)
{
	static const uint8_t types[] = { 0x05, 0x0f, 0x85 };
	for (int k = 0; k < 3; k++) {
		char name[32];
		snprintf(name, sizeof name, "mbr_extended_%02x", types[k]);
		uint8_t *img = calloc(1, 8 << 20);
		struct col c;
		struct sv_part_table t;
		build_ext(img, types[k]);
		int st = read_mem(img, 8 << 20, 0, &c, &t);
		free(img);
		if (st != SV_OK || t.scheme != SV_PART_MBR) {
			fail_(name, "status %d scheme %d", st, t.scheme);
			continue;
		}
		struct want w[] = { { 1, 2048, 2048 }, { 2, 4096, 8192 }, { 5, 4159, 1000 }, { 6, 6244, 500 },
				    { 7, 10240, 2048 } };
		if (match(name, &t, w, 5, 512)) {
			if (!t.parts[1].is_extended || t.parts[2].is_extended || t.parts[4].mbr_type != 0x8e)
				fail_(name, "extended flags/types wrong");
			else if (c.n != 0)
				fail_(name, "%d problems: %s", c.n, c.last);
			else
				pass(name);
		}
		sv_part_table_free(&t);
	}
}

static void t_loop(void)
{
	const char *name = "mbr_loop";
	uint8_t *img = calloc(1, 8 << 20);
	struct col c;
	struct sv_part_table t;
	build_ext(img, 0x05);
	/* EBR 3 links back to EBR 1 (relative 0 = the extended start). */
	mbr_slot(img + 8192 * 512, 1, 0x05, 0, 100);
	int st = read_mem(img, 8 << 20, 0, &c, &t);
	CHECK(st == SV_OK, "status %d", st);
	struct want w[] = { { 1, 2048, 2048 }, { 2, 4096, 8192 }, { 5, 4159, 1000 }, { 6, 6244, 500 },
			    { 7, 10240, 2048 } };
	if (match(name, &t, w, 5, 512)) {
		if (c.n != 1 || !strstr(c.last, "loops"))
			fail_(name, "%d problems, last: %s", c.n, c.last);
		else
			pass(name);
	}
	sv_part_table_free(&t);
	/* An EBR linking to itself. */
	memset(img, 0, 8 << 20);
	build_ext(img, 0x05);
	mbr_slot(img + 4096 * 512, 1, 0x05, 0, 100);
	st = read_mem(img, 8 << 20, 0, &c, &t);
	struct want w2[] = { { 1, 2048, 2048 }, { 2, 4096, 8192 }, { 5, 4159, 1000 } };
	if (st == SV_OK && match("mbr_self_loop", &t, w2, 3, 512)) {
		if (c.n != 1)
			fail_("mbr_self_loop", "%d problems", c.n);
		else
			pass("mbr_self_loop");
	}
	sv_part_table_free(&t);
	free(img);
}

/* 200 EBRs each holding a logical: only 128 logicals are kept. */
static void t_long_chain(void)
{
	const char *name = "mbr_long_chain";
	uint8_t *img = calloc(1, 4 << 20);
	struct col c;
	struct sv_part_table t;
	mbr_slot(img, 0, 0x05, 2048, 4096);
	mbr_sig(img);
	for (int k = 0; k < 200; k++) {
		uint8_t *e = img + (2048 + 2 * k) * 512;
		mbr_slot(e, 0, 0x83, 1, 1);
		if (k < 199)
			mbr_slot(e, 1, 0x05, 2 * (k + 1), 2);
		mbr_sig(e);
	}
	int st = read_mem(img, 4 << 20, 0, &c, &t);
	free(img);
	CHECK(st == SV_OK && t.count == 1 + 128, "status %d count %d", st, t.count);
	CHECK(t.parts[128].index == 132 && t.parts[128].start == (2048 + 2 * 127 + 1) * 512ull,
	      "last index %d start %llu", t.parts[128].index, (unsigned long long)t.parts[128].start);
	CHECK(c.n == 1, "%d problems", c.n);
	sv_part_table_free(&t);
	pass(name);
}

static void t_past_end(void)
{
	const char *name = "mbr_past_end";
	static uint8_t img[8 << 20]; /* 16384 sectors */
	struct col c;
	struct sv_part_table t;
	mbr_slot(img, 0, 0x83, 2048, 100000);   /* runs past the end: clipped */
	mbr_slot(img, 1, 0x83, 20000, 100);     /* starts past the end: skipped */
	mbr_slot(img, 2, 0x83, 0xffffffffu, 0xffffffffu);
	mbr_sig(img);
	int st = read_mem(img, sizeof img, 0, &c, &t);
	CHECK(st == SV_OK, "status %d", st);
	struct want w[] = { { 1, 2048, 16384 - 2048 } };
	if (!match(name, &t, w, 1, 512))
		return;
	CHECK(c.n == 3, "%d problems: %s", c.n, c.last);
	sv_part_table_free(&t);
	/* A broken EBR signature ends the chain with one report. */
	memset(img, 0, sizeof img);
	build_ext(img, 0x05);
	img[6144 * 512 + 510] = 0;
	st = read_mem(img, sizeof img, 0, &c, &t);
	struct want w2[] = { { 1, 2048, 2048 }, { 2, 4096, 8192 }, { 5, 4159, 1000 } };
	if (!match(name, &t, w2, 3, 512))
		return;
	CHECK(c.n == 1 && strstr(c.last, "signature"), "%d problems: %s", c.n, c.last);
	sv_part_table_free(&t);
	pass(name);
}

/* ---- GPT builder ---- */
static void guid_parse(const char *s, uint8_t g[16])
{
	unsigned v[16];
	sscanf(s, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &v[3], &v[2], &v[1], &v[0], &v[5], &v[4],
	       &v[7], &v[6], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]);
	for (int i = 0; i < 16; i++)
		g[i] = (uint8_t)v[i];
}

struct gent {
	int slot;               /* 0-based entry index */
	const char *type;
	uint64_t first, last;
	const uint16_t *name;   /* NUL-terminated UTF-16 */
};

#define LINUX_FS "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define EFI_SYS "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define SWAP "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"

static void gpt_header(uint8_t *img, uint32_t S, uint64_t my, uint64_t alt, uint64_t first, uint64_t last,
		       uint64_t array_lba, uint32_t count, uint32_t esize, uint32_t array_crc)
{
	uint8_t *h = img + my * S;
	memset(h, 0, S);
	memcpy(h, "EFI PART", 8);
	sv_put_le32(h + 8, 0x00010000);
	sv_put_le32(h + 12, 92);
	sv_put_le32(h + 24, (uint32_t)my);
	sv_put_le32(h + 32, (uint32_t)alt);
	sv_put_le32(h + 40, (uint32_t)first);
	sv_put_le32(h + 48, (uint32_t)last);
	memset(h + 56, 0x5a, 16);
	sv_put_le32(h + 72, (uint32_t)array_lba);
	sv_put_le32(h + 80, count);
	sv_put_le32(h + 84, esize);
	sv_put_le32(h + 88, array_crc);
	sv_put_le32(h + 16, sv_crc32(0, h, 92));
}

/* A full GPT disk: protective MBR, primary header + 128-entry array, backup array + header. */
static void build_gpt(uint8_t *img, size_t len, uint32_t S, const struct gent *e, int n, uint32_t esize)
{
	uint32_t count = 128;
	uint64_t nlba = len / S, array_sects = (count * esize + S - 1) / S;
	uint64_t last = nlba - 1, first_usable = 2 + array_sects, last_usable = last - 1 - array_sects;
	uint8_t *arr = calloc(count, esize);
	for (int i = 0; i < n; i++) {
		uint8_t *p = arr + (size_t)e[i].slot * esize;
		guid_parse(e[i].type, p);
		for (int k = 0; k < 16; k++)
			p[16 + k] = (uint8_t)(0x10 * i + k);
		sv_put_le32(p + 32, (uint32_t)e[i].first);
		sv_put_le32(p + 40, (uint32_t)e[i].last);
		for (int k = 0; e[i].name && e[i].name[k] && k < 36; k++)
			sv_put_le16(p + 56 + 2 * k, e[i].name[k]);
	}
	uint32_t acrc = sv_crc32(0, arr, (size_t)count * esize);
	memset(img, 0, 512);
	mbr_slot(img, 0, 0xee, 1, nlba - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(nlba - 1));
	mbr_sig(img);
	memcpy(img + 2 * S, arr, (size_t)count * esize);
	memcpy(img + (last - array_sects) * S, arr, (size_t)count * esize);
	gpt_header(img, S, 1, last, first_usable, last_usable, 2, count, esize, acrc);
	gpt_header(img, S, last, 1, first_usable, last_usable, last - array_sects, count, esize, acrc);
	free(arr);
}

static const uint16_t name_root[] = { 'r', 'o', 'o', 't', 0 };
/* "é😀x": a BMP character, a surrogate pair, ASCII. */
static const uint16_t name_utf[] = { 0x00e9, 0xd83d, 0xde00, 'x', 0 };
static const struct gent std_entries[] = {
	{ 0, EFI_SYS, 2048, 4095, NULL },
	{ 1, LINUX_FS, 4096, 10239, name_root },
	{ 3, SWAP, 10240, 12287, name_utf },
};

/* Check the three standard entries at sector size S. */
static int check_std(const char *name, const struct sv_part_table *t, uint32_t S)
{
	struct want w[] = { { 1, 2048, 2048 }, { 2, 4096, 6144 }, { 4, 10240, 2048 } };
	if (t->scheme != SV_PART_GPT) {
		fail_(name, "scheme %d", t->scheme);
		return 0;
	}
	if (t->sector != S) {
		fail_(name, "sector %u, want %u", t->sector, S);
		return 0;
	}
	if (!match(name, t, w, 3, S))
		return 0;
	char g[37];
	sv_guid_format(t->parts[1].gpt_type, g);
	if (strcmp(g, LINUX_FS) != 0 || strcmp(t->parts[1].type_name, "Linux filesystem") != 0 ||
	    strcmp(t->parts[0].type_name, "EFI System") != 0 || strcmp(t->parts[2].type_name, "Linux swap") != 0) {
		fail_(name, "types %s / %s / %s / %s", g, t->parts[0].type_name, t->parts[1].type_name,
		      t->parts[2].type_name);
		return 0;
	}
	if (strcmp(t->parts[1].name, "root") != 0 || strcmp(t->parts[2].name, "\xc3\xa9\xf0\x9f\x98\x80x") != 0 ||
	    t->parts[0].name[0] != 0) {
		fail_(name, "names '%s' '%s' '%s'", t->parts[0].name, t->parts[1].name, t->parts[2].name);
		return 0;
	}
	if (t->parts[2].gpt_guid[0] != 0x20 || t->parts[2].gpt_guid[15] != 0x2f || t->parts[0].mbr_type != 0) {
		fail_(name, "unique GUID or mbr_type wrong");
		return 0;
	}
	return 1;
}

#define GPT_LEN (8u << 20)
/* The same number of sectors whatever their size. */
static size_t gpt_len(uint32_t S) { return (size_t)GPT_LEN / 512 * S; }

static void t_gpt(uint32_t S, uint32_t dev_sector, const char *name)
{
	uint8_t *img = calloc(1, gpt_len(S));
	struct col c;
	struct sv_part_table t;
	build_gpt(img, gpt_len(S), S, std_entries, 3, 128);
	int st = read_mem(img, gpt_len(S), dev_sector, &c, &t);
	if (st != SV_OK)
		fail_(name, "status %d", st);
	else if (check_std(name, &t, S)) {
		if (t.used_backup || c.n != 0)
			fail_(name, "used_backup %d, %d problems: %s", t.used_backup, c.n, c.last);
		else
			pass(name);
	}
	sv_part_table_free(&t);
	free(img);
}

/* Damage something, expect the backup to be used (or, with want_backup false, the primary). */
static void t_gpt_damaged(uint32_t S, const char *name, size_t off, bool want_backup, int want_problems)
{
	uint8_t *img = calloc(1, gpt_len(S));
	struct col c;
	struct sv_part_table t;
	build_gpt(img, gpt_len(S), S, std_entries, 3, 128);
	img[off] ^= 0x40;
	int st = read_mem(img, gpt_len(S), 0, &c, &t);
	if (st != SV_OK)
		fail_(name, "status %d", st);
	else if (check_std(name, &t, S)) {
		if (t.used_backup != want_backup || c.n != want_problems)
			fail_(name, "used_backup %d, %d problems: %s", t.used_backup, c.n, c.last);
		else
			pass(name);
	}
	sv_part_table_free(&t);
	free(img);
}

static void t_gpt_more(void)
{
	struct col c;
	struct sv_part_table t;
	uint8_t *img = calloc(1, GPT_LEN);
	const char *name;
	int st;
	uint32_t last = GPT_LEN / 512 - 1;

	/* Both entry arrays damaged: the primary's entries are listed, with a report. */
	name = "gpt_both_arrays_bad";
	build_gpt(img, GPT_LEN, 512, std_entries, 3, 128);
	img[2 * 512 + 3 * 128 + 100] ^= 1;            /* inside an unused entry's padding of primary */
	img[(last - 32) * 512 + 3 * 128 + 100] ^= 1;  /* same in the backup */
	st = read_mem(img, GPT_LEN, 0, &c, &t);
	if (st == SV_OK && check_std(name, &t, 512)) {
		if (t.used_backup || c.n != 1)
			fail_(name, "used_backup %d, %d problems: %s", t.used_backup, c.n, c.last);
		else
			pass(name);
	} else if (st != SV_OK)
		fail_(name, "status %d", st);
	sv_part_table_free(&t);

	/* Sector 0 wiped: the GPT is still found, and that is reported. */
	name = "gpt_no_pmbr";
	build_gpt(img, GPT_LEN, 512, std_entries, 3, 128);
	memset(img, 0, 512);
	st = read_mem(img, GPT_LEN, 0, &c, &t);
	if (st == SV_OK && check_std(name, &t, 512)) {
		if (c.n != 1)
			fail_(name, "%d problems", c.n);
		else
			pass(name);
	} else if (st != SV_OK)
		fail_(name, "status %d", st);
	sv_part_table_free(&t);

	/* Truncated image: the backup is gone, the primary is used and the loss reported. Partition 4
	 * (10240-12287) now runs past the end (8192 sectors): clipped. */
	name = "gpt_truncated";
	build_gpt(img, GPT_LEN, 512, std_entries, 3, 128);
	st = read_mem(img, 4u << 20, 0, &c, &t);
	{
		struct want w[] = { { 1, 2048, 2048 }, { 2, 4096, 4096 } };
		if (st != SV_OK)
			fail_(name, "status %d", st);
		else if (match(name, &t, w, 2, 512)) {
			/* backup missing + partition 2 clipped + partition 4 skipped */
			if (c.n != 3 || t.used_backup)
				fail_(name, "%d problems, last: %s", c.n, c.last);
			else
				pass(name);
		}
	}
	sv_part_table_free(&t);

	/* Entry size 100 (CRC valid): rejected; the protective MBR entry is listed with a report. */
	name = "gpt_bad_entry_size";
	build_gpt(img, GPT_LEN, 512, std_entries, 3, 128);
	for (int k = 0; k < 2; k++) {
		uint8_t *h = img + (k ? last : 1) * 512;
		sv_put_le32(h + 84, 100);
		sv_put_le32(h + 16, 0);
		sv_put_le32(h + 16, sv_crc32(0, h, 92));
	}
	st = read_mem(img, GPT_LEN, 0, &c, &t);
	if (st != SV_OK || t.scheme != SV_PART_MBR || t.count != 1 || t.parts[0].mbr_type != 0xee || c.n != 1)
		fail_(name, "status %d scheme %d count %d problems %d", st, t.scheme, t.count, c.n);
	else
		pass(name);
	sv_part_table_free(&t);

	/* Header size 91 and header size larger than the sector are rejected too. */
	name = "gpt_bad_header_size";
	{
		int ok = 1;
		static const uint32_t bad[] = { 91, 513, 0xffffffffu };
		for (int b = 0; b < 3; b++) {
			build_gpt(img, GPT_LEN, 512, std_entries, 3, 128);
			for (int k = 0; k < 2; k++) {
				uint8_t *h = img + (k ? last : 1) * 512;
				sv_put_le32(h + 12, bad[b]);
				sv_put_le32(h + 16, 0);
				sv_put_le32(h + 16, sv_crc32(0, h, 92));
			}
			st = read_mem(img, GPT_LEN, 0, &c, &t);
			if (st != SV_OK || t.scheme != SV_PART_MBR)
				ok = 0;
			sv_part_table_free(&t);
		}
		if (ok)
			pass(name);
		else
			fail_(name, "a bad header size was accepted");
	}

	/* 256-byte entries are allowed (size a multiple of 8, at least 128). */
	name = "gpt_entry_size_256";
	memset(img, 0, GPT_LEN);
	build_gpt(img, GPT_LEN, 512, std_entries, 3, 256);
	st = read_mem(img, GPT_LEN, 0, &c, &t);
	if (st == SV_OK && check_std(name, &t, 512)) {
		if (c.n != 0)
			fail_(name, "%d problems: %s", c.n, c.last);
		else
			pass(name);
	} else if (st != SV_OK)
		fail_(name, "status %d", st);
	sv_part_table_free(&t);

	/* An entry with last < first is skipped; one outside the usable area is kept and reported. */
	name = "gpt_bad_entries";
	{
		struct gent e[] = { { 0, LINUX_FS, 5000, 4000, NULL }, { 1, LINUX_FS, 1, 100, NULL },
				    { 2, LINUX_FS, 4096, 8191, NULL } };
		memset(img, 0, GPT_LEN);
		build_gpt(img, GPT_LEN, 512, e, 3, 128);
		st = read_mem(img, GPT_LEN, 0, &c, &t);
		struct want w[] = { { 2, 1, 100 }, { 3, 4096, 4096 } };
		if (st == SV_OK && match(name, &t, w, 2, 512)) {
			if (c.n != 2)
				fail_(name, "%d problems: %s", c.n, c.last);
			else
				pass(name);
		} else if (st != SV_OK)
			fail_(name, "status %d", st);
		sv_part_table_free(&t);
	}
	free(img);
}

static void t_guid_names(void)
{
	const char *name = "guid_format";
	uint8_t g[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
	char s[37];
	sv_guid_format(g, s);
	CHECK(strcmp(s, LINUX_FS) == 0, "got %s", s);
	CHECK(strcmp(sv_part_scheme_name(SV_PART_MBR), "MBR") == 0 && strcmp(sv_part_scheme_name(SV_PART_GPT), "GPT") == 0 &&
	      strcmp(sv_part_scheme_name(SV_PART_NONE), "none") == 0 && strcmp(sv_part_scheme_name(42), "none") == 0,
	      "scheme names");
	pass(name);

	/* Lone surrogates and a name filling all 36 units. */
	name = "gpt_name_utf16";
	static const uint16_t bad[] = { 'a', 0xdc00, 'b', 0xd800, 'c', 0xd800, 0 };
	struct gent e[] = { { 0, LINUX_FS, 2048, 4095, bad }, { 1, LINUX_FS, 4096, 4096, NULL } };
	uint16_t full[37];
	for (int k = 0; k < 36; k++)
		full[k] = 0x4e2d; /* a 3-byte character: 108 bytes do not fit in 72 */
	full[36] = 0;
	e[1].name = full;
	uint8_t *img = calloc(1, GPT_LEN);
	build_gpt(img, GPT_LEN, 512, e, 2, 128);
	struct col c;
	struct sv_part_table t;
	int st = read_mem(img, GPT_LEN, 0, &c, &t);
	free(img);
	CHECK(st == SV_OK && t.count == 2, "status %d count %d", st, t.count);
	CHECK(strcmp(t.parts[0].name, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd") == 0, "got '%s'", t.parts[0].name);
	CHECK(strlen(t.parts[1].name) == 72 && (unsigned char)t.parts[1].name[69] == 0xe4, "len %zu",
	      strlen(t.parts[1].name));
	CHECK(t.parts[1].size == 512, "one-sector partition size %llu", (unsigned long long)t.parts[1].size);
	sv_part_table_free(&t);
	pass(name);
}

/* Random damage to valid tables must never crash or return parts outside the device. */
static void t_fuzz(void)
{
	const char *name = "fuzz_damage";
	size_t len = 1u << 20;
	uint8_t *base = calloc(1, len), *img = malloc(len);
	uint32_t seed = 12345;
	int bad = 0;
	struct gent e[] = { { 0, LINUX_FS, 40, 99, name_root }, { 5, SWAP, 100, 1000, name_utf } };
	for (int round = 0; round < 3000 && !bad; round++) {
		int kind = round % 3;
		memset(base, 0, len);
		if (kind == 0) {
			build_gpt(base, len, 512, e, 2, 128);
		} else if (kind == 1) {
			build_gpt(base, len, 4096, e, 2, 128);
		} else {
			mbr_slot(base, 0, 0x83, 63, 100);
			mbr_slot(base, 1, 0x05, 200, 1000);
			mbr_sig(base);
			for (int k = 0; k < 5; k++) {
				mbr_slot(base + (200 + 10 * k) * 512, 0, 0x83, 1, 5);
				mbr_slot(base + (200 + 10 * k) * 512, 1, 0x05, 10 * (k + 1), 10);
				mbr_sig(base + (200 + 10 * k) * 512);
			}
		}
		memcpy(img, base, len);
		int flips = 1 + round % 8;
		for (int f = 0; f < flips; f++) {
			seed = seed * 1103515245u + 12345u;
			size_t span = kind == 1 ? 3 * 4096 : (kind == 0 ? 3 * 512 : 260 * 512);
			size_t off = (seed >> 8) % span;
			if (round & 1)
				off = len - 1 - off; /* hit the backup */
			seed = seed * 1103515245u + 12345u;
			img[off] = (uint8_t)(seed >> 16);
		}
		struct col c;
		struct sv_part_table t;
		int st = read_mem(img, len, 0, &c, &t);
		if (st != SV_OK)
			continue;
		for (int i = 0; i < t.count; i++)
			if (t.parts[i].start >= len || t.parts[i].size > len - t.parts[i].start)
				bad = 1;
		sv_part_table_free(&t);
	}
	free(base);
	free(img);
	CHECK(!bad, "a partition outside the device was returned");
	pass(name);
}

/* --dump IMAGE: "scheme NAME SECTOR BACKUP", then "part INDEX START SIZE TYPE" (bytes; TYPE is the
 * MBR byte in hex or the GPT type GUID) and "name INDEX NAME" for GPT entries with names. */
static int dump(const char *path)
{
	struct sv_dev *d;
	char err[512];
	if (sv_dev_open_path(path, &d, err, sizeof err) != SV_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	struct sv_part_table t;
	struct col c;
	memset(&c, 0, sizeof c);
	struct sv_report rep = { col_fn, &c, 0, 0, NULL };
	int st = sv_part_read(d, &rep, &t);
	sv_dev_close(d);
	if (st != SV_OK) {
		fprintf(stderr, "%s: %s\n", path, sv_strerror(st));
		return 2;
	}
	printf("scheme %s %u %d\n", sv_part_scheme_name(t.scheme), t.sector, t.used_backup);
	for (int i = 0; i < t.count; i++) {
		const struct sv_part *p = &t.parts[i];
		char g[37];
		if (t.scheme == SV_PART_GPT)
			sv_guid_format(p->gpt_type, g);
		else
			snprintf(g, sizeof g, "%x", p->mbr_type);
		printf("part %d %llu %llu %s\n", p->index, (unsigned long long)p->start, (unsigned long long)p->size, g);
		if (p->name[0])
			printf("name %d %s\n", p->index, p->name);
	}
	printf("problems %d\n", c.n);
	sv_part_table_free(&t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
	t_guid_names();
	t_none();
	t_primaries();
	t_extended();
	t_loop();
	t_long_chain();
	t_past_end();
	t_gpt(512, 0, "gpt_512");
	t_gpt(4096, 0, "gpt_4096_on_512_dev");
	t_gpt(4096, 4096, "gpt_4096_dev_sector");
	t_gpt(512, 4096, "gpt_512_on_4096_dev");
	t_gpt_damaged(512, "gpt_primary_header_crc", 512 + 40, true, 1);
	t_gpt_damaged(512, "gpt_primary_signature", 512 + 0, true, 1);
	t_gpt_damaged(512, "gpt_primary_array_crc", 2 * 512 + 128 + 50, true, 1);
	t_gpt_damaged(4096, "gpt_4096_primary_damaged", 4096 + 40, true, 1);
	t_gpt_damaged(512, "gpt_backup_damaged", GPT_LEN - 512 + 40, false, 1);
	t_gpt_more();
	t_fuzz();
	return failures ? 1 : 0;
}
