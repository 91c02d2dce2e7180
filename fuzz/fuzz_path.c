/* fuzz_path.c: libFuzzer harness for the path resolver. Input layout: a 2-byte little-endian length
 * n, then n bytes of paths separated by newlines, then the ext2/3/4 image. Each path (at most 16)
 * is resolved with sv_path_resolve and the inode found is read. */
#include "fuzz.h"
#include <stdlib.h>

#define MAX_PATHS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t n = sv_le16(data);
	if (n > size - 2)
		n = size - 2;
	char *paths = malloc(n + 1);
	if (!paths)
		return 0;
	memcpy(paths, data + 2, n);
	paths[n] = '\0';
	struct sv_dev *dev;
	if (sv_dev_mem(data + 2 + n, size - 2 - n, &dev) != SV_OK) {
		free(paths);
		return 0;
	}
	struct sv_report rep = fuzz_report();
	struct sv_fs *fs = fuzz_fs_open(dev, &rep);
	char *p = paths;
	for (int k = 0; fs && k < MAX_PATHS && p <= paths + n; k++) {
		char *nl = memchr(p, '\n', (size_t)(paths + n - p));
		if (nl)
			*nl = '\0';
		uint32_t ino;
		struct sv_inode in;
		if (sv_path_resolve(fs, p, &ino) == SV_OK)
			sv_inode_read(fs, ino, &in);
		if (!nl)
			break;
		p = nl + 1;
	}
	sv_fs_close(fs);
	sv_dev_close(dev);
	free(paths);
	return 0;
}
