/* test_ext_layout.c: the names of the metadata kinds, and (with arguments, for tests/t_blame.sh,
 * which compares them with dumpe2fs and debugfs) a dump of sv_fs_layout and sv_file_meta:
 *   test_ext_layout --layout IMAGE        one line "KIND GROUP BLOCK COUNT" per run
 *   test_ext_layout --meta IMAGE INO...   one line "INO KIND BLOCK COUNT" per run */
#include "ext/ext.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); failed++; } } while (0)

static const char *const short_name[] = { "?", "super", "gdt", "rsvgdt", "bbitmap", "ibitmap", "itable",
					  "extent", "indirect", "xattr" };

static int print_run(void *ctx, int kind, uint32_t group, uint64_t blk, uint64_t count)
{
	const uint32_t *ino = ctx;
	if (ino)
		printf("%u %s %llu %llu\n", *ino, short_name[kind], (unsigned long long)blk, (unsigned long long)count);
	else
		printf("%s %u %llu %llu\n", short_name[kind], group, (unsigned long long)blk, (unsigned long long)count);
	return 0;
}

static int dump(int argc, char **argv)
{
	struct sv_dev *d;
	struct sv_fs *fs;
	char err[256];
	if (sv_dev_open_path(argv[2], &d, err, sizeof err) != SV_OK ||
	    sv_fs_open(d, &(struct sv_fs_opts){ NULL, -1, 0, 0 }, &fs, err, sizeof err) != SV_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int st = SV_OK;
	if (!strcmp(argv[1], "--layout"))
		st = sv_fs_layout(fs, print_run, NULL);
	for (int i = 3; i < argc && !strcmp(argv[1], "--meta"); i++) {
		uint32_t ino = (uint32_t)strtoul(argv[i], NULL, 0);
		struct sv_inode in;
		if (sv_inode_read(fs, ino, &in) == SV_OK)
			st = sv_file_meta(fs, &in, print_run, &ino);
	}
	sv_fs_close(fs);
	sv_dev_close(d);
	return st == SV_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3)
		return dump(argc, argv);
	bool distinct = true;
	for (int a = SV_META_SUPER; a <= SV_META_XATTR; a++)
		for (int b = a + 1; b <= SV_META_XATTR; b++)
			if (!strcmp(sv_meta_kind_name(a), sv_meta_kind_name(b)))
				distinct = false;
	CHECK("layout_kind_names_distinct", distinct);
	CHECK("layout_kind_names", !strcmp(sv_meta_kind_name(SV_META_INODE_TABLE), "inode table") &&
				   !strcmp(sv_meta_kind_name(SV_META_EXTENT), "extent block") &&
				   !strcmp(sv_meta_kind_name(0), "metadata"));
	return failed ? 1 : 0;
}
