/* test_sha256.c: SHA-256 against the FIPS 180-4 example vectors (NIST "Example Algorithm" SHA256
 * one-block, two-block and long messages), the padding boundaries (55, 56, 63, 64, 65, 119, 120
 * bytes: values from an independent implementation), and the same input fed in pieces of every
 * size from 1 to 130 bytes. */
#include "base/base.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); failed++; } } while (0)

static void hex_of(const void *p, size_t n, char out[65])
{
	struct sv_sha256 s;
	uint8_t sum[32];
	sv_sha256_init(&s);
	sv_sha256_update(&s, p, n);
	sv_sha256_final(&s, sum);
	sv_sha256_hex(sum, out);
}

static bool is(const char *msg, size_t n, const char *want)
{
	char got[65];
	hex_of(msg, n, got);
	if (strcmp(got, want))
		printf("  got %s\n want %s\n", got, want);
	return !strcmp(got, want);
}

int main(void)
{
	CHECK("sha256 empty", is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK("sha256 fips one block 'abc'",
	      is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	CHECK("sha256 fips two blocks (448 bits)",
	      is(m2, strlen(m2), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
	const char *m3 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
			 "mnopqrstnopqrstu";
	CHECK("sha256 896 bits", is(m3, strlen(m3), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));

	/* a million 'a', fed in uneven pieces */
	struct sv_sha256 s;
	uint8_t sum[32];
	char hex[65];
	static char a[1000];
	memset(a, 'a', sizeof a);
	sv_sha256_init(&s);
	size_t left = 1000000;
	for (size_t k = 1; left; k = k % 997 + 1) {
		size_t n = k < left ? k : left;
		sv_sha256_update(&s, a, n);
		left -= n;
	}
	sv_sha256_final(&s, sum);
	sv_sha256_hex(sum, hex);
	CHECK("sha256 fips one million 'a'", !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));

	static const struct { size_t n; const char *hex; } pad[] = {
		{ 55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b" },
		{ 56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27" },
		{ 63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055" },
		{ 64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241" },
		{ 65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e" },
		{ 119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e" },
		{ 120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5" },
	};
	uint8_t b[130];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)((i * 7 + 3) & 255);
	bool ok = true;
	for (size_t i = 0; i < sizeof pad / sizeof pad[0]; i++)
		ok &= is((const char *)b, pad[i].n, pad[i].hex);
	CHECK("sha256 padding boundaries", ok);

	/* pieces of every size give the one-shot result */
	char whole[65];
	hex_of(b, sizeof b, whole);
	ok = true;
	for (size_t k = 1; k <= sizeof b; k++) {
		sv_sha256_init(&s);
		for (size_t off = 0; off < sizeof b; off += k)
			sv_sha256_update(&s, b + off, sizeof b - off < k ? sizeof b - off : k);
		sv_sha256_final(&s, sum);
		sv_sha256_hex(sum, hex);
		ok &= !strcmp(hex, whole);
	}
	CHECK("sha256 any split", ok);
	return failed ? 1 : 0;
}
