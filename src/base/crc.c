/* crc.c: CRC32C (ext4 metadata_csum, jbd2 v2/v3), CRC32 (GPT, zlib-style), CRC16 (ext4 gdt_csum),
 * big-endian CRC32 (jbd2 checksum v1). Table-driven, tables built on first use. */
#include "base.h"

static uint32_t t_crc32c[8][256], t_crc32[256], t_becrc32[256];
static uint16_t t_crc16[256];
static int tables_ready;

static void build_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i, d = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			d = (d & 1) ? (d >> 1) ^ 0xEDB88320u : d >> 1;
		}
		t_crc32c[0][i] = c;
		t_crc32[i] = d;
		uint16_t h = (uint16_t)i;
		for (int k = 0; k < 8; k++)
			h = (h & 1) ? (uint16_t)((h >> 1) ^ 0xA001) : (uint16_t)(h >> 1);
		t_crc16[i] = h;
		uint32_t b = i << 24;
		for (int k = 0; k < 8; k++)
			b = (b & 0x80000000u) ? (b << 1) ^ 0x04C11DB7u : b << 1;
		t_becrc32[i] = b;
	}
	/* slicing-by-8 tables for crc32c: checksums run over every metadata block */
	for (int s = 1; s < 8; s++)
		for (uint32_t i = 0; i < 256; i++)
			t_crc32c[s][i] = (t_crc32c[s - 1][i] >> 8) ^ t_crc32c[0][t_crc32c[s - 1][i] & 0xff];
	tables_ready = 1;
}

uint32_t sv_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!tables_ready)
		build_tables();
	while (len >= 8) {
		uint32_t lo = crc ^ sv_le32(p);
		uint32_t hi = sv_le32(p + 4);
		crc = t_crc32c[7][lo & 0xff] ^ t_crc32c[6][(lo >> 8) & 0xff] ^ t_crc32c[5][(lo >> 16) & 0xff] ^
		      t_crc32c[4][lo >> 24] ^ t_crc32c[3][hi & 0xff] ^ t_crc32c[2][(hi >> 8) & 0xff] ^
		      t_crc32c[1][(hi >> 16) & 0xff] ^ t_crc32c[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = t_crc32c[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t sv_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!tables_ready)
		build_tables();
	crc = ~crc;
	while (len--)
		crc = t_crc32[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint16_t sv_crc16(uint16_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!tables_ready)
		build_tables();
	while (len--)
		crc = (uint16_t)((crc >> 8) ^ t_crc16[(crc ^ *p++) & 0xff]);
	return crc;
}

uint32_t sv_be_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!tables_ready)
		build_tables();
	while (len--)
		crc = (crc << 8) ^ t_becrc32[((crc >> 24) ^ *p++) & 0xff];
	return crc;
}
