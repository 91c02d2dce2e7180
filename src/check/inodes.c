/* inodes.c: the orphan list, then pass 1: every inode of the initialised part of each inode
 * table is read; the in-use ones (links > 0, or reserved) are checked field by field, their
 * blocks walked and marked, their sizes and block counts compared with what the walk found.
 * Which inodes count as in use, and which fields matter, follow e2fsck's pass 1. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define RESIZE_INO 7

static void mark_orphan(struct ck *c, uint32_t ino, const char *how)
{
	struct sv_inode in;
	int st = sv_inode_read(c->fs, ino, &in);
	if (st != SV_OK && st != SV_ERR_CSUM) {
		ck_err(c, SV_CK_ORPHAN, ino, SV_NOBLOCK, "the orphan list (%s) names inode %u, which cannot be read",
		       how, ino);
		return;
	}
	if (in.mode == 0) {
		ck_err(c, SV_CK_ORPHAN, ino, SV_NOBLOCK, "the orphan list (%s) names inode %u, which is not in use",
		       how, ino);
		return;
	}
	ist_w(c, ino)->state |= IS_ORPHAN;
	ck_note(c, SV_CK_ORPHAN, ino, SV_NOBLOCK, "%s while still open at the last shutdown; the kernel %s it "
		"at the next mount", in.links_count ? "truncated" : "deleted",
		in.links_count ? "finishes truncating" : "frees");
}

static int orphan_file_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct ck *c = ctx;
	if (++c->cb_runs > c->dev_blocks)
		return 1;    /* more runs than the source has blocks: a map that repeats itself */
	for (uint64_t i = 0; i < len; i++) {
		/* each block once, and no more blocks than the source holds */
		if (!blkset_add(&c->seen, pblk + i))
			continue;
		if (c->seen.n > c->dev_blocks)
			return 1;
		if (sv_fs_read_block(c->fs, pblk + i, c->buf2) != SV_OK)
			continue;
		for (uint32_t k = 0; k + 8 < c->bsize; k += 4) {
			uint32_t ino = sv_le32(c->buf2 + k);
			if (!ino)
				continue;
			if (ino < c->first_ino || ino > c->ninodes)
				ck_err(c, SV_CK_ORPHAN, 0, pblk + i, "the orphan file lists inode %u, which is out of range",
				       ino);
			else if (!(ck_state(c, ino) & IS_ORPHAN))
				mark_orphan(c, ino, "orphan file");
		}
	}
	return 0;
}

void ck_orphans(struct ck *c)
{
	uint32_t ino = c->sb->s_last_orphan;
	for (uint32_t steps = 0; ino; steps++) {
		if (ino < c->first_ino || ino > c->ninodes) {
			ck_err(c, SV_CK_ORPHAN, 0, SV_NOBLOCK, "the orphan list %s inode %u, which is out of range; "
			       "the rest of the list is lost", steps ? "continues with" : "starts at", ino);
			return;
		}
		if ((ck_state(c, ino) & IS_ORPHAN) || steps > c->ninodes) {
			ck_err(c, SV_CK_ORPHAN, ino, SV_NOBLOCK, "the orphan list loops back to inode %u", ino);
			return;
		}
		mark_orphan(c, ino, "chain");
		if (!(ck_state(c, ino) & IS_ORPHAN))
			return;
		struct sv_inode in;
		int st = sv_inode_read(c->fs, ino, &in);
		if (st != SV_OK && st != SV_ERR_CSUM)
			return;
		ino = (uint32_t)in.dtime;
	}
	uint32_t of = c->sb->s_orphan_file_inum;
	if ((c->sb->s_feature_compat & EXT4_FEATURE_COMPAT_ORPHAN_FILE) && of && of <= c->ninodes) {
		struct sv_inode in;
		int st = sv_inode_read(c->fs, of, &in);
		if ((st == SV_OK || st == SV_ERR_CSUM) && (in.mode & SV_IFMT) == SV_IFREG &&
		    !(in.flags & EXT4_INLINE_DATA_FL)) {
			c->quiet = true;
			blkset_reset(&c->seen);
			c->cb_runs = 0;
			sv_file_map(c->fs, &in, orphan_file_run, c);
			blkset_reset(&c->seen);
			c->quiet = false;
		}
	}
}

static bool valid_type(uint16_t mode)
{
	switch (mode & SV_IFMT) {
	case SV_IFREG: case SV_IFDIR: case SV_IFLNK: case SV_IFCHR: case SV_IFBLK: case SV_IFIFO: case SV_IFSOCK:
		return true;
	}
	return false;
}

static int add_dir(struct ck *c, uint32_t ino)
{
	if (c->ndirs == c->capdirs) {
		size_t nc = c->capdirs ? c->capdirs * 2 : 1024;
		uint32_t *nd = realloc(c->dirs, nc * sizeof *nd);
		if (!nd)
			return SV_ERR_NOMEM;
		c->dirs = nd;
		c->capdirs = nc;
	}
	c->dirs[c->ndirs++] = ino;
	return SV_OK;
}

static void check_special(struct ck *c, const struct sv_inode *in)
{
	uint32_t ino = in->ino;
	if (in->flags & (EXT4_INDEX_FL | EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "a device, fifo or socket inode has block-mapping flags "
		       "(0x%x)", in->flags);
	if (in->flags & (EXT4_IMMUTABLE_FL | EXT4_APPEND_FL))
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "a device, fifo or socket inode is marked immutable or "
		       "append-only");
	if (in->size)
		ck_err(c, SV_CK_SIZE, ino, SV_NOBLOCK, "a device, fifo or socket inode has size %llu (should be 0)",
		       (unsigned long long)in->size);
}

static void check_fast_symlink(struct ck *c, const struct sv_inode *in)
{
	if (in->flags & EXT4_EXTENTS_FL)
		ck_err(c, SV_CK_SYMLINK, in->ino, SV_NOBLOCK, "fast symlink has the extents flag set");
	else if (!(in->flags & EXT4_ENCRYPT_FL)) {
		size_t n = strnlen((const char *)in->block, 60);
		if (n != in->size)
			ck_err(c, SV_CK_SYMLINK, in->ino, SV_NOBLOCK, "symlink size %llu does not match its %zu-byte "
			       "target", (unsigned long long)in->size, n);
	}
}

static void check_slow_symlink(struct ck *c, const struct sv_inode *in)
{
	if (in->size >= c->bsize || c->cur_blocks != 1 || c->cur_last != 0) {
		ck_err(c, SV_CK_SYMLINK, in->ino, SV_NOBLOCK, "symlink of size %llu has %llu blocks (should be one "
		       "block holding the target)", (unsigned long long)in->size, (unsigned long long)c->cur_blocks);
		return;
	}
	if (in->flags & EXT4_ENCRYPT_FL)
		return;
	uint64_t blk = SV_NOBLOCK;
	if (in->flags & EXT4_EXTENTS_FL) {
		if (sv_le16(in->block + 6) == 0 && sv_le16(in->block + 2) >= 1)
			blk = sv_le32(in->block + 12 + 8) | (uint64_t)sv_le16(in->block + 12 + 6) << 32;
	} else {
		blk = sv_le32(in->block);
	}
	if (blk == SV_NOBLOCK || blk >= c->nblocks || sv_fs_read_block(c->fs, blk, c->buf2) != SV_OK)
		return;
	size_t n = strnlen((const char *)c->buf2, c->bsize);
	if (n != in->size)
		ck_err(c, SV_CK_SYMLINK, in->ino, blk, "symlink size %llu does not match its %zu-byte target",
		       (unsigned long long)in->size, n);
}

/* Sizes and block counts against the walk (e2fsck pass 1, check_blocks). */
static void check_sizes(struct ck *c, const struct sv_inode *in, bool ea_counted)
{
	uint32_t ino = in->ino;
	uint16_t t = in->mode & SV_IFMT;
	if (!c->bigalloc && !c->cur_ea_inum) {
		uint64_t want = (c->cur_blocks + (ea_counted ? 1 : 0)) * (c->bsize / 512);
		if (in->blocks != want)
			ck_err(c, SV_CK_SIZE, ino, SV_NOBLOCK, "i_blocks is %llu, should be %llu (the block count does "
			       "not match the blocks the file maps)", (unsigned long long)in->blocks,
			       (unsigned long long)want);
	}
	if ((ck_state(c, ino) & IS_ORPHAN) || (in->flags & EXT4_VERITY_FL))
		return;
	if (t == SV_IFDIR) {
		uint64_t nb = in->size / c->bsize;
		if (in->size & (c->bsize - 1))
			ck_err(c, SV_CK_SIZE, ino, SV_NOBLOCK, "directory size %llu is not a multiple of the block size",
			       (unsigned long long)in->size);
		else if ((int64_t)nb != c->cur_last + 1 && !(in->flags & EXT4_INLINE_DATA_FL))
			ck_err(c, SV_CK_SIZE, ino, SV_NOBLOCK, "directory size %llu does not match its %lld blocks",
			       (unsigned long long)in->size, (long long)(c->cur_last + 1));
	} else if (c->cur_last_init >= 0 && in->size < (uint64_t)c->cur_last_init * c->bsize) {
		ck_err(c, SV_CK_SIZE, ino, SV_NOBLOCK, "size %llu is smaller than the data it maps (%lld blocks); "
		       "the tail would be cut off", (unsigned long long)in->size, (long long)(c->cur_last_init + 1));
	}
}

/* An encrypted inode keeps its encryption context in attribute "c" (index 9): version 1 is 28
 * bytes, version 2 is 40; without it the file's names and data cannot be decrypted. */
static void check_encryption(struct ck *c, const struct sv_inode *in)
{
	uint8_t v[64];
	long n = ck_xattr_get(c, in, 9, "c", v, sizeof v);
	if (n < 0) {
		ck_err(c, SV_CK_INODE, in->ino, SV_NOBLOCK, "has the encrypt flag but no encryption context "
		       "attribute: its contents cannot be decrypted");
		return;
	}
	if (n < 1 || v[0] == 0 || (v[0] == 1 && n != 28) || (v[0] == 2 && n != 40)) {
		ck_err(c, SV_CK_INODE, in->ino, SV_NOBLOCK, "its encryption context attribute is damaged (%ld bytes, "
		       "version %u): its contents cannot be decrypted", n, n >= 1 ? v[0] : 0);
		return;
	}
	ist_w(c, in->ino)->ftype |= IFT_ENC;
}

static void check_inode(struct ck *c, struct sv_inode *in, bool csum_bad)
{
	uint32_t ino = in->ino;
	uint16_t t = in->mode & SV_IFMT;
	bool reserved = ino < c->first_ino && ino != EXT4_ROOT_INO;
	static const uint8_t ft[16] = { 0, EXT4_FT_FIFO, EXT4_FT_CHRDEV, 0, EXT4_FT_DIR, 0, EXT4_FT_BLKDEV, 0,
					EXT4_FT_REG_FILE, 0, EXT4_FT_SYMLINK, 0, EXT4_FT_SOCK, 0, 0, 0 };
	ist_w(c, ino)->state |= IS_USED;
	ist_w(c, ino)->links = in->links_count;
	ist_w(c, ino)->ftype = ft[(in->mode >> 12) & 15];
	c->cur_ea_inum = false;
	if (c->has_quota && !c->quota_skip) {
		struct qrec *q = ck_table_get(&c->quota, ino);
		if (q) {
			q->id[0] = in->uid;
			q->id[1] = in->gid;
			q->id[2] = in->projid;
			q->space = in->blocks * 512;
		}
	}
	c->cur_ea_inum = false;
	if (ino == 1 && (in->mode || in->uid || in->gid || in->links_count || in->file_acl ||
			 (in->flags & EXT4_INLINE_DATA_FL))) {
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "the bad-blocks inode looks invalid (mode, owner, links or "
		       "attributes set)");
		return;
	}
	if (reserved) {
		bool resize = ino == RESIZE_INO && (c->sb->s_feature_compat & EXT4_FEATURE_COMPAT_RESIZE_INODE);
		if (resize) {
			uint32_t dind = sv_le32(in->block + 13 * 4);
			if (dind && dind < c->nblocks) {
				c->cur_ino = ino;
				c->cur_last_cluster = UINT64_MAX;
				ck_mark(c, dind, 1);
			}
			return;
		}
		if (in->mode == 0 && !(ino == 1 && sv_le32(in->block)))
			return;
		if (in->flags & EXT4_INLINE_DATA_FL)
			return;
		if (ino == 1 && (in->flags & EXT4_EXTENTS_FL))
			return;
		ck_walk_blocks(c, in);
		if (in->file_acl)
			ck_xattr_block(c, in);
		return;
	}
	if (ino == EXT4_ROOT_INO && t != SV_IFDIR) {
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "the root inode is not a directory (mode 0%o); nothing "
		       "below the root can be reached", in->mode);
		ist_w(c, ino)->state |= IS_BAD;
		return;
	}
	if (csum_bad)
		ck_err(c, SV_CK_INODE_CSUM, ino, SV_NOBLOCK, "the inode fails its checksum: its fields may be "
		       "damaged");
	if (in->dtime && !(ck_state(c, ino) & IS_ORPHAN)) {
		if (in->dtime <= c->ninodes)
			ck_err(c, SV_CK_ORPHAN, ino, SV_NOBLOCK, "in use but carries an orphan-list link (%lld) in "
			       "its deletion time: part of a damaged orphan list", (long long)in->dtime);
		else
			ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "in use but has a deletion time set");
	}
	if (!valid_type(in->mode)) {
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "invalid file type in mode 0%o", in->mode);
		ist_w(c, ino)->state |= IS_BAD;
		return;
	}
	if (c->isize > 128) {
		uint16_t x = sv_le16(in->raw + 0x80);
		if (x && (x < 4 || x > c->isize - 128 || (x & 3)))
			ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "extra inode size %u is invalid for %u-byte inodes", x,
			       c->isize);
	}
	if ((in->flags & EXT4_EXTENTS_FL) && !c->extents && t != SV_IFLNK)
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "uses extents but the filesystem lacks the extent feature");
	if ((in->flags & EXT4_INLINE_DATA_FL) && !c->inline_data)
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "has inline data but the filesystem lacks the inline_data "
		       "feature");
	if ((in->flags & EXT4_INDEX_FL) && (t != SV_IFDIR || !c->dir_index))
		ck_err(c, SV_CK_HTREE, ino, SV_NOBLOCK, "has the hashed-index flag but %s",
		       t != SV_IFDIR ? "is not a directory" : "the filesystem lacks dir_index");
	if (t == SV_IFDIR) {
		ist_w(c, ino)->state |= IS_DIR;
		c->res->dirs++;
		if (add_dir(c, ino) != SV_OK)
			ist_w(c, ino)->state |= IS_BAD;
	} else if (t == SV_IFREG) {
		ist_w(c, ino)->state |= IS_REG;
	}
	if (in->flags & EXT4_EA_INODE_FL) {
		if (t != SV_IFREG)
			ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "has the EA-inode flag but is not a regular file");
		else
			ist_w(c, ino)->ftype |= 0x80;
	}
	if (!c->is64 && sv_le16(in->raw + 0x76))
		ck_err(c, SV_CK_XATTR, ino, SV_NOBLOCK, "the high bits of the extended attribute block number are "
		       "set (%u) on a filesystem without 64bit", sv_le16(in->raw + 0x76));
	bool has_data = false;
	ck_xattr_ibody(c, in, &has_data);
	if ((in->flags & EXT4_INLINE_DATA_FL) && c->inline_data && !has_data)
		ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "has the inline-data flag but no system.data attribute");
	if ((in->flags & EXT4_ENCRYPT_FL) && c->encrypt && (t == SV_IFREG || t == SV_IFDIR || t == SV_IFLNK))
		check_encryption(c, in);
	bool ea = false;
	if (in->file_acl && !(c->sb->s_feature_compat & EXT4_FEATURE_COMPAT_EXT_ATTR)) {
		ck_err(c, SV_CK_XATTR, ino, in->file_acl, "has an extended attribute block (%llu) but the filesystem "
		       "lacks the ext_attr feature", (unsigned long long)in->file_acl);
	} else if (in->file_acl) {
		ck_xattr_block(c, in);
		ea = in->file_acl < c->nblocks;
	}
	c->cur_ino = ino;
	c->cur_blocks = 0;
	c->cur_last = c->cur_last_init = -1;
	if (t == SV_IFCHR || t == SV_IFBLK || t == SV_IFIFO || t == SV_IFSOCK) {
		check_special(c, in);
		return;
	}
	if (in->flags & EXT4_INLINE_DATA_FL) {
		check_sizes(c, in, ea);
		return;
	}
	if (t == SV_IFLNK && in->size < 60 && in->size > 0 && !(in->flags & EXT4_EXTENTS_FL)) {
		check_fast_symlink(c, in);
		check_sizes(c, in, ea);
		return;
	}
	ck_walk_blocks(c, in);
	if (c->cur_unwalked)
		return;    /* the map was not walked to its end: its counts prove nothing */
	if (t == SV_IFLNK && in->size < 60 && (in->flags & EXT4_EXTENTS_FL) && c->cur_blocks == 0)
		check_fast_symlink(c, in);
	else if (t == SV_IFLNK)
		check_slow_symlink(c, in);
	if (!(ck_state(c, ino) & IS_BAD))
		check_sizes(c, in, ea);
}

int ck_inodes(struct ck *c)
{
	for (uint32_t g = 0; g < c->ngroups; g++) {
		const struct sv_group *gd = sv_fs_group(c->fs, g);
		uint32_t n = c->ipg;
		uint64_t itb = ck_itable_blocks(c);
		if (gd->bg_inode_table < c->sb->s_first_data_block || gd->bg_inode_table >= c->nblocks ||
		    itb > c->nblocks - gd->bg_inode_table || bm_get(&c->gskip, g))
			continue;    /* reported with the descriptors */
		if (c->uninit_bg) {
			if (gd->bg_flags & EXT4_BG_INODE_UNINIT)
				n = 0;
			else
				n = c->ipg - (gd->bg_itable_unused < c->ipg ? gd->bg_itable_unused : c->ipg);
		}
		if (g == 0 && n < c->first_ino)
			n = c->first_ino < c->ipg ? c->first_ino : c->ipg;
		if (n > c->ipg_fit)
			n = c->ipg_fit;    /* the rest of the table lies outside the group (reported) */
		for (uint32_t i = 0; i < n; i++) {
			uint64_t ino64 = (uint64_t)g * c->ipg + i + 1;
			if (ino64 > c->ninodes)
				break;
			uint32_t ino = (uint32_t)ino64;
			struct sv_inode in;
			int st = sv_inode_read(c->fs, ino, &in);
			if (st != SV_OK && st != SV_ERR_CSUM)
				continue;
			bool reserved = ino < c->first_ino;
			if (in.links_count == 0 && !reserved && !(ck_state(c, ino) & IS_ORPHAN)) {
				if (in.mode && !in.dtime)
					ck_err(c, SV_CK_INODE, ino, SV_NOBLOCK, "deleted inode (no links) has no deletion "
					       "time");
				else if (st == SV_ERR_CSUM)
					ck_err(c, SV_CK_INODE_CSUM, ino, SV_NOBLOCK, "unused inode fails its checksum");
				continue;
			}
			check_inode(c, &in, st == SV_ERR_CSUM);
			if (!reserved || ino == EXT4_ROOT_INO)
				c->res->inodes_used++;
		}
	}
	return SV_OK;
}
