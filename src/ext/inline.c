/* inline.c: inline data (Documentation/filesystems/ext4/inlinedata.rst): the first 60 bytes live in
 * i_block, the rest in the "system.data" extended attribute in the inode body. */
#include "internal.h"
#include <string.h>

int sv_inline_read(struct sv_fs *fs, const struct sv_inode *in, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = in->size < 60 ? (size_t)in->size : 60;
	if (n > cap)
		n = cap;
	memcpy(buf, in->block, n);
	*len = n;
	if (in->size <= 60)
		return SV_OK;
	size_t more = 0;
	int st = sv_xattr_ibody_find(fs, in, 7, "data", buf + n, cap - n, &more);
	if (st != SV_OK && st != SV_ERR_NOTFOUND)
		return st;
	if (n + more > in->size)
		more = (size_t)in->size - n;
	/* A size beyond the inline bytes reads as zeros, as the kernel reads it (mke2fs -d writes
	 * all-zero files this way); e2fsck accepts it. */
	*len = n + more;
	return SV_OK;
}
