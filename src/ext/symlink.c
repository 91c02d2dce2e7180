/* symlink.c: symlink targets: fast (in i_block), inline, or in data blocks (block map or extents). */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

int sv_symlink_read(struct sv_fs *fs, const struct sv_inode *in, char *buf, size_t cap, size_t *len)
{
	if (cap == 0)
		return SV_ERR_INVAL;
	if (in->flags & EXT4_ENCRYPT_FL)
		return SV_ERR_ENCRYPTED;
	if (in->size >= cap || in->size > 65536) {
		sv_report(fs->rep, SV_PB_SYMLINK, in->ino, SV_NOBLOCK,
			  "symlink inode %u: target length %llu is too long", in->ino, (unsigned long long)in->size);
		return SV_ERR_CORRUPT;
	}
	size_t n = (size_t)in->size;
	/* A fast symlink keeps its target in i_block and owns no data blocks (an xattr block may be
	 * counted in i_blocks: ext4_inode_is_fast_symlink). */
	uint64_t ea_blocks = in->file_acl ? (uint64_t)(fs->bsize << (fs->sb.s_log_cluster_size - fs->sb.s_log_block_size)) >> 9 : 0;
	bool fast = !(in->flags & EXT4_INLINE_DATA_FL) && n < 60 &&
		    ((in->flags & EXT4_EA_INODE_FL) || in->blocks <= ea_blocks);
	int st = SV_OK;
	if (fast)
		memcpy(buf, in->block, n);
	else
		st = sv_file_read(fs, in, 0, buf, n);
	buf[n] = 0;
	if (strlen(buf) != n) {
		sv_report(fs->rep, SV_PB_SYMLINK, in->ino, SV_NOBLOCK,
			  "symlink inode %u: target contains a NUL byte; it is cut there", in->ino);
		n = strlen(buf);
		st = SV_ERR_CORRUPT;
	}
	*len = n;
	return st;
}
