/* dir.c: directory iteration and lookup (Documentation/filesystems/ext4/directory.rst). Linear and
 * htree directories are read the same way: htree interior blocks look like one empty entry
 * spanning the block, so a linear pass over every block sees every leaf entry exactly once. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dir_it {
	struct sv_fs *fs;
	const struct sv_inode *dir;
	sv_dir_fn fn;
	void *ctx;
	uint8_t *buf;
	uint64_t nblocks;   /* logical blocks within i_size */
	int st;
	int stop;
	unsigned notes;     /* damaged-but-kept entries reported so far */
	char name[256];     /* name_len is one byte: at most 255 and a NUL */
};

/* rec_len decoding for blocks of 64 KiB ("Linear (Classic) Directories"). */
static uint32_t rec_len_decode(uint16_t v, uint32_t bsize)
{
	if (bsize >= 65536 && (v == 65535 || v == 0))
		return bsize;
	return (v & 65532) | ((uint32_t)(v & 3) << 16);
}

/* Directory block checksum: a 12-byte fake entry at the end with crc32c over the block before it. */
static bool dirblock_has_tail(const uint8_t *b, uint32_t bsize)
{
	const uint8_t *t = b + bsize - 12;
	return sv_le32(t) == 0 && sv_le16(t + 4) == 12 && t[6] == 0 && t[7] == 0xDE;
}

/* Report an entry that is damaged but kept; a hostile block holds hundreds, so only the first
 * few of one iteration are told. */
static void entry_note(struct dir_it *it, uint64_t blk, uint64_t lblk, size_t pos, uint32_t ino, const char *what)
{
	char where[64] = "inline data";
	if (blk != SV_NOBLOCK)
		snprintf(where, sizeof where, "block %llu (logical %llu)", (unsigned long long)blk,
			 (unsigned long long)lblk);
	if (it->notes < 8)
		sv_report(it->fs->rep, SV_PB_DIR, it->dir->ino, blk,
			  "directory inode %u, %s, entry at offset %zu (inode %u): %s", it->dir->ino, where, pos, ino,
			  what);
	it->notes++;
	it->st = SV_ERR_CORRUPT;
}

/* Parse the entries in [p, p+len). Entries are validated against the space really there.
 * name_len is one byte ("Linear (Classic) Directories"): the byte after it is the file type with
 * the filetype feature and zero without it (the old 16-bit name_len of revision 0 never exceeded
 * 255). The kernel and e2fsprogs read the low byte only; a set high byte without filetype is
 * damage (e2fsck clears it), reported here and read the same way, so a name never exceeds 255. */
static int parse_entries(struct dir_it *it, const uint8_t *p, size_t len, uint64_t blk, uint64_t lblk)
{
	bool ft = it->fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FILETYPE;
	size_t pos = 0;
	while (pos + 8 <= len) {
		uint32_t ino = sv_le32(p + pos);
		uint32_t rec = rec_len_decode(sv_le16(p + pos + 4), it->fs->bsize);
		uint8_t nl = p[pos + 6];
		uint8_t type = ft ? p[pos + 7] : 0;
		if (rec < 8 || (rec & 3) || rec > len - pos || (size_t)nl + 8 > rec) {
			sv_report(it->fs->rep, SV_PB_DIR, it->dir->ino, blk,
				  "directory inode %u, block %llu (logical %llu): damaged entry at offset %zu; the "
				  "rest of this block is skipped", it->dir->ino, (unsigned long long)blk,
				  (unsigned long long)lblk, pos);
			it->st = SV_ERR_CORRUPT;
			return 0;
		}
		if (ino && !ft && p[pos + 7])
			entry_note(it, blk, lblk, pos, ino, "the name length's high byte is set (a name over 255 "
				   "bytes, without the filetype feature); the name is read as its first byte says, as the "
				   "kernel reads it");
		if (ino && ino > it->fs->sb.s_inodes_count) {
			sv_report(it->fs->rep, SV_PB_DIR, it->dir->ino, blk,
				  "directory inode %u: entry \"%.*s\" points to inode %u beyond the last inode %u; "
				  "skipped", it->dir->ino, (int)nl, (const char *)p + pos + 8, ino,
				  it->fs->sb.s_inodes_count);
			it->st = SV_ERR_CORRUPT;
		} else if (ino) {
			/* An empty name is damage, but the inode it names may hold data: passed on with
			 * name_len 0 for the caller to give it a safe name. */
			if (nl == 0)
				entry_note(it, blk, lblk, pos, ino, "the entry has an empty name; it is passed on so "
					   "that its file can be saved under a made-up name");
			memcpy(it->name, p + pos + 8, nl);
			it->name[nl] = 0;
			struct sv_dirent de = { ino, type, nl, it->name };
			int r = it->fn(it->ctx, &de);
			if (r) {
				it->stop = r;
				return r;
			}
		}
		pos += rec;
	}
	return 0;
}

static int dir_block(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t n, unsigned flags)
{
	struct dir_it *it = ctx;
	if (flags & SV_MAP_UNWRITTEN)
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		if (lblk + i >= it->nblocks)
			return 1;
		uint64_t b = pblk + i;
		if (sv_fs_read_block(it->fs, b, it->buf) != SV_OK) {
			it->st = SV_ERR_IO;
			continue;
		}
		uint32_t len = it->fs->bsize;
		/* htree root and interior blocks carry a dx_tail, not a leaf tail; the kernel may leave an old
		 * leaf tail's bytes in them, so only leaf blocks are checked here (directory.rst, "Hash Tree"). */
		bool dx_node = (it->dir->flags & EXT4_INDEX_FL) &&
			       (lblk + i == 0 || (sv_le32(it->buf) == 0 && rec_len_decode(sv_le16(it->buf + 4), len) == len));
		if (it->fs->has_csum && !dx_node && dirblock_has_tail(it->buf, it->fs->bsize)) {
			uint32_t c = sv_crc32c(sv_inode_csum_seed(it->fs, it->dir->ino, it->dir->generation), it->buf,
					       it->fs->bsize - 12);
			if (c != sv_le32(it->buf + it->fs->bsize - 4))
				sv_report(it->fs->rep, SV_PB_DIR_CSUM, it->dir->ino, b,
					  "directory inode %u: block %llu fails its checksum; reading its entries anyway",
					  it->dir->ino, (unsigned long long)b);
		}
		int r = parse_entries(it, it->buf, len, b, lblk + i);
		if (r)
			return r;
	}
	return 0;
}

/* Inline directories: i_block holds the parent inode (4 bytes) then entries; more entries may be in
 * the system.data attribute. "." and ".." are not stored and are synthesised here. */
static int inline_dir(struct dir_it *it)
{
	uint8_t buf[1024 + 60];
	size_t n = 0;
	int st = sv_inline_read(it->fs, it->dir, buf, sizeof buf, &n);
	if (n < 4)
		return st ? st : SV_ERR_CORRUPT;
	struct sv_dirent dot = { it->dir->ino, EXT4_FT_DIR, 1, "." };
	int r = it->fn(it->ctx, &dot);
	if (r)
		return r;
	struct sv_dirent dotdot = { sv_le32(buf), EXT4_FT_DIR, 2, ".." };
	if ((r = it->fn(it->ctx, &dotdot)))
		return r;
	size_t first = n < 60 ? n : 60;
	if ((r = parse_entries(it, buf + 4, first - 4, SV_NOBLOCK, 0)))
		return r;
	if (n > 60 && (r = parse_entries(it, buf + 60, n - 60, SV_NOBLOCK, 0)))
		return r;
	return it->st ? it->st : st;
}

int sv_dir_iterate(struct sv_fs *fs, const struct sv_inode *dir, sv_dir_fn fn, void *ctx)
{
	if ((dir->mode & SV_IFMT) != SV_IFDIR)
		return SV_ERR_NOTDIR;
	struct dir_it it = { fs, dir, fn, ctx, NULL, 0, SV_OK, 0, 0, { 0 } };
	if (dir->flags & EXT4_INLINE_DATA_FL)
		return inline_dir(&it);
	it.nblocks = (dir->size + fs->bsize - 1) / fs->bsize;
	if (!(it.buf = malloc(fs->bsize)))
		return SV_ERR_NOMEM;
	int r = sv_file_map(fs, dir, dir_block, &it);
	free(it.buf);
	if (it.stop)
		return it.stop;
	if (r < 0)
		return r;
	return it.st;
}

struct lookup {
	const char *name;
	size_t len;
	uint32_t ino;
};

static int lookup_cb(void *ctx, const struct sv_dirent *de)
{
	struct lookup *l = ctx;
	if (de->name_len == l->len && !memcmp(de->name, l->name, l->len)) {
		l->ino = de->ino;
		return 1;
	}
	return 0;
}

int sv_dir_lookup(struct sv_fs *fs, const struct sv_inode *dir, const char *name, size_t name_len, uint32_t *ino)
{
	struct lookup l = { name, name_len, 0 };
	int r = sv_dir_iterate(fs, dir, lookup_cb, &l);
	if (l.ino) {
		*ino = l.ino;
		return SV_OK;
	}
	return r < 0 && r != SV_ERR_CORRUPT && r != SV_ERR_CSUM ? r : SV_ERR_NOTFOUND;
}

int sv_path_resolve(struct sv_fs *fs, const char *path, uint32_t *ino)
{
	uint32_t cur = EXT4_ROOT_INO;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		struct sv_inode in;
		int st = sv_inode_read(fs, cur, &in);
		if (st != SV_OK && st != SV_ERR_CSUM)
			return st;
		if ((in.mode & SV_IFMT) != SV_IFDIR)
			return SV_ERR_NOTDIR;
		uint32_t next;
		st = sv_dir_lookup(fs, &in, p, (size_t)(e - p), &next);
		if (st != SV_OK)
			return st;
		cur = next;
		p = e;
	}
	*ino = cur;
	return SV_OK;
}
