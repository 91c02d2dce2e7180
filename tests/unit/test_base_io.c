/* test_base_io.c: unit tests for the base layer (decoding, cursor, CRCs) and the io layer
 * (memory devices, slices, overlays, the block cache), with embedded good and damaged bytes. */
#include "base/base.h"
#include "io/io.h"
#include "ext/ext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); failed++; } } while (0)

static void test_decode(void)
{
	const uint8_t b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88 };
	CHECK("le16", sv_le16(b) == 0x0201);
	CHECK("le32", sv_le32(b) == 0x04030201u);
	CHECK("le64", sv_le64(b) == 0x8807060504030201ull);
	CHECK("be32", sv_be32(b) == 0x01020304u);
	struct sv_cur c = sv_cur_make(b, sizeof b);
	uint32_t x = sv_cur_le32(&c);
	uint16_t y = sv_cur_le16(&c);
	uint32_t z = sv_cur_le32(&c);   /* only 2 bytes left: latches bad, returns 0 */
	CHECK("cursor reads", x == 0x04030201u && y == 0x0605);
	CHECK("cursor latches past end", c.bad && z == 0 && sv_cur_u8(&c) == 0);
	uint64_t r;
	CHECK("mul overflow detected", !sv_mul64(1ull << 40, 1ull << 30, &r));
	CHECK("add ok", sv_add64(5, 7, &r) && r == 12);
}

static void test_crc(void)
{
	const char *s = "123456789";
	CHECK("crc32c check value", (~sv_crc32c(~0u, s, 9)) == 0xE3069283u);
	CHECK("crc32 check value", sv_crc32(0, s, 9) == 0xCBF43926u);
	CHECK("crc16 (ARC) check value", sv_crc16(0, s, 9) == 0xBB3D);
	/* crc32c split across calls equals one call (slicing-by-8 and the byte tail agree) */
	uint8_t buf[1000];
	for (int i = 0; i < 1000; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	CHECK("crc32c incremental", sv_crc32c(sv_crc32c(~0u, buf, 333), buf + 333, 667) == sv_crc32c(~0u, buf, 1000));
	CHECK("crc32-be check value", (~sv_be_crc32(~0u, s, 9)) == 0xFC891918u);
}

static int count_cb(void *ctx, uint64_t blk)
{
	uint64_t *sum = ctx;
	*sum = *sum * 31 + blk;
	return 0;
}

static void test_io(void)
{
	uint8_t img[8192];
	for (int i = 0; i < 8192; i++)
		img[i] = (uint8_t)i;
	struct sv_dev *m = NULL, *sl = NULL, *ov = NULL;
	CHECK("mem dev", sv_dev_mem(img, sizeof img, &m) == SV_OK && m->size == 8192);
	uint8_t out[1024];
	memset(out, 0xAA, sizeof out);
	int st = sv_dev_read(m, 8000, out, 300);  /* 192 bytes exist, the rest reads as zeros */
	CHECK("read past end zero-fills and fails", st == SV_ERR_IO && out[0] == (uint8_t)8000 && out[191] == (uint8_t)8191 &&
	      out[192] == 0 && out[299] == 0);
	CHECK("slice", sv_dev_slice(m, 4096, 100000, false, &sl) == SV_OK && sl->size == 4096);
	sv_dev_read(sl, 10, out, 4);
	CHECK("slice reads at its offset", out[0] == (uint8_t)(4106) && out[3] == (uint8_t)(4109));
	CHECK("overlay", sv_dev_overlay(m, 1024, false, &ov) == SV_OK);
	uint8_t blk[1024];
	memset(blk, 0x5A, sizeof blk);
	sv_overlay_put(ov, 3, blk);
	sv_overlay_put(ov, 5, blk);
	memset(blk, 0x11, sizeof blk);
	sv_overlay_put(ov, 3, blk);   /* replaces the earlier copy */
	uint8_t big[4096];
	sv_dev_read(ov, 2048, big, 4096);  /* blocks 2,3,4,5 */
	CHECK("overlay mixes lower and replaced blocks", big[0] == (uint8_t)2048 && big[1024] == 0x11 && big[2047] == 0x11 &&
	      big[2048] == (uint8_t)(4096) && big[3072] == 0x5A);
	uint64_t sum = 0;
	sv_overlay_each(ov, count_cb, &sum);
	CHECK("overlay count and order", sv_overlay_count(ov) == 2 && sum == 3 * 31 + 5);
	uint8_t *zero = calloc(1, 2200 * 1024);
	struct sv_dev *zm = NULL, *zov = NULL;
	if (zero && sv_dev_mem(zero, 2200 * 1024, &zm) == SV_OK && sv_dev_overlay(zm, 1024, true, &zov) == SV_OK) {
		for (int i = 0; i < 2000; i++) {  /* growth keeps every block */
			memset(blk, i & 0xff, sizeof blk);
			sv_overlay_put(zov, 100 + (uint64_t)i, blk);
		}
		sv_dev_read(zov, (100 + 1234) * 1024ull + 7, out, 2);
		CHECK("overlay survives growth", sv_overlay_count(zov) == 2000 && out[0] == (1234 & 0xff) && out[1] == out[0]);
		sv_dev_read(zov, 50 * 1024, out, 1);
		CHECK("overlay passes other blocks through", out[0] == 0);
	}
	sv_dev_close(zov);
	free(zero);
	/* redirects: block 1 reads block 6 of the lower device with its head patched; block 2 reads
	 * from a second source; block 3 points past the end: zeros, an error and a report */
	struct sv_dev *rov = NULL, *m2 = NULL;
	static uint8_t img2[2048];
	memset(img2, 0x77, sizeof img2);
	struct sv_report rrep = { NULL, NULL, 0, 0, NULL };
	unsigned s2 = 0;
	static const uint8_t head[4] = { 0xC0, 0x3B, 0x39, 0x98 };
	CHECK("redirect overlay", sv_dev_mem(img2, sizeof img2, &m2) == SV_OK && sv_dev_overlay(m, 1024, false, &rov) == SV_OK &&
	      sv_overlay_source(rov, m2, &s2) == SV_OK && s2 == 1 && sv_overlay_adopt(rov, m2) == SV_OK);
	sv_overlay_set_report(rov, &rrep);
	CHECK("overlay reserve", sv_overlay_reserve(rov, 1000) == SV_OK && sv_overlay_reserve(rov, UINT64_MAX) == SV_ERR_INVAL);
	CHECK("redirect entries", sv_overlay_redirect(rov, 1, 0, 6 * 1024, head) == SV_OK &&
	      sv_overlay_redirect(rov, 2, s2, 1024, NULL) == SV_OK && sv_overlay_redirect(rov, 3, 0, 7 * 1024 + 512, NULL) == SV_OK &&
	      sv_overlay_redirect(rov, 9, 5, 0, NULL) == SV_ERR_INVAL && sv_overlay_count(rov) == 3);
	memset(big, 0xEE, sizeof big);
	st = sv_dev_read(rov, 1024 + 2, big, 3 * 1024 - 2);   /* from byte 2 of block 1 to the end of block 3 */
	CHECK("redirect reads on demand, head patched", big[0] == 0x39 && big[1] == 0x98 && big[2] == (uint8_t)(6 * 1024 + 4) &&
	      big[1021] == (uint8_t)(7 * 1024 - 1) && big[1022] == 0x77 && big[2045] == 0x77);
	CHECK("unreadable redirect reads as zeros and reports", st == SV_ERR_IO && big[2046] == 0 && big[3069] == 0 &&
	      rrep.count == 1);
	sv_overlay_redirect(rov, 1, 0, 0, NULL);               /* a later entry replaces the earlier */
	sv_dev_read(rov, 1024, out, 4);
	CHECK("redirect replaced", sv_overlay_count(rov) == 3 && out[0] == 0 && out[3] == 3);
	sv_dev_close(rov);                                     /* closes m2 (adopted), not m */
	struct sv_cache *c = NULL;
	CHECK("cache open", sv_cache_open(m, 1024, 3, &c) == SV_OK);
	uint8_t cb[1024];
	int ok = 1;
	for (int round = 0; round < 3; round++)
		for (uint64_t b = 0; b < 8; b++) {
			sv_cache_read(c, b, cb);
			ok &= cb[0] == (uint8_t)(b * 1024) && cb[1023] == (uint8_t)(b * 1024 + 1023);
		}
	CHECK("cache returns the right blocks", ok);
	CHECK("cache read past end fails", sv_cache_read(c, 9, cb) != SV_OK && cb[0] == 0);
	sv_cache_close(c);
	sv_dev_close(ov);
	sv_dev_close(sl);
	sv_dev_close(m);
}

static void put16(uint8_t *p, uint16_t v) { sv_put_le16(p, v); }

static void test_super(void)
{
	uint8_t sb[1024];
	memset(sb, 0, sizeof sb);
	sv_put_le32(sb + 0x0, 2048);      /* inodes */
	sv_put_le32(sb + 0x4, 8192);      /* blocks */
	sv_put_le32(sb + 0x14, 1);        /* first data block */
	sv_put_le32(sb + 0x18, 0);        /* 1 KiB */
	sv_put_le32(sb + 0x20, 8192);
	sv_put_le32(sb + 0x24, 8192);
	sv_put_le32(sb + 0x28, 2048);
	put16(sb + 0x38, 0xEF53);
	put16(sb + 0x3A, 1);
	sv_put_le32(sb + 0x4C, 1);        /* dynamic rev */
	sv_put_le32(sb + 0x54, 11);
	put16(sb + 0x58, 256);
	memcpy(sb + 0x78, "0123456789abcdefXYZ", 16);  /* label fills all 16 bytes: no NUL on disk */
	sb[0x274] = 1;                    /* s_wtime_hi */
	sv_put_le32(sb + 0x30, 5);
	struct sv_super s;
	char why[200];
	CHECK("superblock decodes", sv_super_decode(sb, sizeof sb, &s, why, sizeof why) == SV_OK);
	CHECK("superblock fields", s.s_blocks_count == 8192 && s.s_inodes_per_group == 2048 && s.s_inode_size == 256);
	CHECK("label bounded", strlen(s.s_volume_name) == 16 && !memcmp(s.s_volume_name, "0123456789abcdef", 16));
	CHECK("time high bits", s.s_wtime == (1ll << 32) + 5);
	uint8_t bad[1024];
	memcpy(bad, sb, sizeof bad);
	sv_put_le32(bad + 0x18, 40);      /* block size 2^50 */
	CHECK("huge log_block_size rejected", sv_super_decode(bad, sizeof bad, &s, why, sizeof why) == SV_ERR_CORRUPT);
	memcpy(bad, sb, sizeof bad);
	sv_put_le32(bad + 0x28, 0);
	CHECK("zero inodes per group rejected", sv_super_decode(bad, sizeof bad, &s, why, sizeof why) == SV_ERR_CORRUPT);
	memcpy(bad, sb, sizeof bad);
	put16(bad + 0x58, 200);
	CHECK("odd inode size rejected", sv_super_decode(bad, sizeof bad, &s, why, sizeof why) == SV_ERR_CORRUPT);
	memcpy(bad, sb, sizeof bad);
	sv_put_le32(bad + 0x0, 999999);
	CHECK("inode count beyond groups rejected", sv_super_decode(bad, sizeof bad, &s, why, sizeof why) == SV_ERR_CORRUPT);
	memcpy(bad, sb, sizeof bad);
	put16(bad + 0x38, 0x1234);
	CHECK("bad magic rejected", sv_super_decode(bad, sizeof bad, &s, why, sizeof why) == SV_ERR_CORRUPT);
	CHECK("short buffer rejected", sv_super_decode(sb, 512, &s, why, sizeof why) == SV_ERR_CORRUPT);
	/* A filesystem on a memory device whose group descriptors are garbage must not crash. */
	uint8_t *img = calloc(1, 8192 * 1024);
	if (img) {
		memcpy(img + 1024, sb, 1024);
		for (int i = 0; i < 1024; i++)
			img[2048 + i] = (uint8_t)(i * 37 + 11);
		struct sv_dev *d;
		sv_dev_mem(img, 8192 * 1024, &d);
		struct sv_report rep = { 0 };
		struct sv_fs_opts o = { &rep, -1, 0, 0 };
		struct sv_fs *fs = NULL;
		char err[300];
		int st = sv_fs_open(d, &o, &fs, err, sizeof err);
		struct sv_inode in;
		if (st == SV_OK) {
			uint32_t ino;
			sv_path_resolve(fs, "/a/b", &ino);
			sv_inode_read(fs, 2, &in);
		}
		CHECK("garbage descriptors: no crash, damage reported", st != SV_OK || rep.count > 0);
		sv_fs_close(fs);
		sv_dev_close(d);
		free(img);
	}
}

int main(void)
{
	test_decode();
	test_crc();
	test_io();
	test_super();
	return failed ? 1 : 0;
}
