/* inode.c: reading and decoding inodes (Documentation/filesystems/ext4/inodes.rst): 32-bit owners,
 * 64-bit sizes, huge_file block counts, nanosecond times with the extra epoch bits, checksums. */
#include "internal.h"
#include <string.h>

uint32_t sv_inode_csum_seed(const struct sv_fs *fs, uint32_t ino, uint32_t gen)
{
	uint8_t le[4];
	sv_put_le32(le, ino);
	uint32_t c = sv_crc32c(fs->csum_seed, le, 4);
	sv_put_le32(le, gen);
	return sv_crc32c(c, le, 4);
}

/* Inode checksum: crc32c over the whole inode with i_checksum_lo/hi zeroed ("Inode Table"). */
static bool inode_csum_ok(const struct sv_fs *fs, const struct sv_inode *in)
{
	const uint8_t *r = in->raw;
	size_t n = in->raw_len;
	bool has_hi = n > 128 && 128 + (size_t)in->extra_isize >= 0x84;
	uint32_t stored = sv_le16(r + 0x7C) | (has_hi ? (uint32_t)sv_le16(r + 0x82) << 16 : 0);
	uint8_t zero[2] = { 0, 0 };
	uint32_t c = sv_inode_csum_seed(fs, in->ino, in->generation);
	c = sv_crc32c(c, r, 0x7C);
	c = sv_crc32c(c, zero, 2);
	c = sv_crc32c(c, r + 0x7E, 2);
	if (n > 128) {
		if (has_hi) {
			c = sv_crc32c(c, r + 0x80, 2);
			c = sv_crc32c(c, zero, 2);
			c = sv_crc32c(c, r + 0x84, n - 0x84);
		} else {
			c = sv_crc32c(c, r + 0x80, n - 0x80);
		}
	}
	if (!has_hi)
		c &= 0xFFFF;
	return c == stored;
}

/* Times: 32-bit signed seconds plus, in the large inode, 2 epoch bits and 30 bits of nanoseconds. */
static void decode_time(const uint8_t *r, size_t lo, size_t extra, bool have_extra, int64_t *sec, uint32_t *ns)
{
	*sec = (int32_t)sv_le32(r + lo);
	*ns = 0;
	if (have_extra) {
		uint32_t x = sv_le32(r + extra);
		*sec += (int64_t)(x & 3) << 32;
		*ns = x >> 2;
		if (*ns > 999999999)
			*ns = 0;
	}
}

uint64_t sv_inode_size_max(const struct sv_fs *fs, const struct sv_inode *in)
{
	uint64_t blocks = 1ull << 32;   /* logical block numbers are 32-bit (ee_block, ext4_lblk_t) */
	if (!(in->flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))) {
		uint64_t p = fs->bsize / 4;     /* at most 16384: p^3 fits easily */
		uint64_t mapped = 12 + p + p * p + p * p * p;
		if (mapped < blocks)
			blocks = mapped;
	}
	return blocks << fs->log_bsize;
}

int sv_inode_read(struct sv_fs *fs, uint32_t ino, struct sv_inode *out)
{
	if (ino == 0 || ino > fs->sb.s_inodes_count)
		return SV_ERR_NOTFOUND;
	uint32_t g = (ino - 1) / fs->sb.s_inodes_per_group;
	uint32_t idx = (ino - 1) % fs->sb.s_inodes_per_group;
	if (g >= fs->ngroups)
		return SV_ERR_NOTFOUND;
	uint64_t byte = (uint64_t)idx * fs->inode_size;
	uint64_t blk = fs->groups[g].bg_inode_table + byte / fs->bsize;
	uint32_t off = (uint32_t)(byte % fs->bsize);
	if (!sv_blk_ok(fs, fs->groups[g].bg_inode_table) || !sv_blk_ok(fs, blk)) {
		sv_report(fs->rep, SV_PB_INODE, ino, blk,
			  "inode %u lies in group %u whose inode table (block %llu) is outside the filesystem",
			  ino, g, (unsigned long long)fs->groups[g].bg_inode_table);
		return SV_ERR_CORRUPT;
	}
	struct sv_inode in;
	memset(&in, 0, sizeof in);
	if (sv_cache_read_part(fs->cache, blk, off, in.raw, fs->inode_size) != SV_OK) {
		sv_report(fs->rep, SV_PB_IO, ino, blk, "cannot read inode %u (block %llu of %s)", ino,
			  (unsigned long long)blk, fs->dev->name);
		return SV_ERR_IO;
	}
	in.ino = ino;
	in.raw_len = (uint16_t)fs->inode_size;
	const uint8_t *r = in.raw;
	in.mode = sv_le16(r + 0x0);
	in.uid = sv_le16(r + 0x2) | (uint32_t)sv_le16(r + 0x78) << 16;
	in.gid = sv_le16(r + 0x18) | (uint32_t)sv_le16(r + 0x7A) << 16;
	in.size = sv_le32(r + 0x4) | (uint64_t)sv_le32(r + 0x6C) << 32;
	in.size_on_disk = in.size;
	in.links_count = sv_le16(r + 0x1A);
	in.flags = sv_le32(r + 0x20);
	memcpy(in.block, r + 0x28, 60);
	in.generation = sv_le32(r + 0x64);
	in.file_acl = sv_le32(r + 0x68);
	if (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT)
		in.file_acl |= (uint64_t)sv_le16(r + 0x76) << 32;
	in.blocks = sv_le32(r + 0x1C);
	if (fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
		in.blocks |= (uint64_t)sv_le16(r + 0x74) << 32;
		if (in.flags & EXT4_HUGE_FILE_FL)
			in.blocks <<= (fs->log_bsize - 9);   /* counted in filesystem blocks */
	}
	if (fs->inode_size > 128) {
		in.extra_isize = sv_le16(r + 0x80);
		if (in.extra_isize > fs->inode_size - 128 || (in.extra_isize & 3)) {
			sv_report(fs->rep, SV_PB_INODE, ino, blk,
				  "inode %u: extra inode size %u does not fit a %u-byte inode; ignoring the extra fields",
				  ino, in.extra_isize, fs->inode_size);
			in.extra_isize = 0;
		}
	}
	size_t end = 128 + (size_t)in.extra_isize;
	decode_time(r, 0x08, 0x8C, end >= 0x90, &in.atime, &in.atime_ns);
	decode_time(r, 0x0C, 0x84, end >= 0x88, &in.ctime, &in.ctime_ns);
	decode_time(r, 0x10, 0x88, end >= 0x8C, &in.mtime, &in.mtime_ns);
	if (end >= 0x98) {
		decode_time(r, 0x90, 0x94, true, &in.crtime, &in.crtime_ns);
		in.has_crtime = true;
	}
	in.dtime = sv_le32(r + 0x14);
	if (end >= 0xA0)
		in.projid = sv_le32(r + 0x9C);
	/* A size the map cannot reach is damage; clamped here so every reader (cat, cp, tar, du) sees
	 * one bounded size instead of reading zeros for centuries. */
	uint64_t max = sv_inode_size_max(fs, &in);
	if (in.size > max && in.mode != 0) {
		sv_report(fs->rep, SV_PB_INODE, ino, blk,
			  "inode %u: size %llu is beyond the %llu bytes its %s can address; it is read as %llu bytes",
			  ino, (unsigned long long)in.size, (unsigned long long)max,
			  (in.flags & EXT4_EXTENTS_FL) ? "extent tree" : (in.flags & EXT4_INLINE_DATA_FL) ?
			  "inline data" : "block map", (unsigned long long)max);
		in.size = max;
	}
	in.csum_ok = true;
	if (fs->has_csum && in.mode != 0)
		in.csum_ok = inode_csum_ok(fs, &in);
	*out = in;
	if (!in.csum_ok) {
		sv_report(fs->rep, SV_PB_INODE_CSUM, ino, blk,
			  "inode %u fails its checksum; its fields are used as they are", ino);
		return SV_ERR_CSUM;
	}
	return SV_OK;
}

void sv_inode_devnum(const struct sv_inode *in, uint32_t *major, uint32_t *minor)
{
	/* Old encoding in i_block[0] (8-bit major/minor); new in i_block[1] (12/20 bits). */
	uint32_t old = sv_le32(in->block), nw = sv_le32(in->block + 4);
	if (old) {
		*major = (old >> 8) & 0xff;
		*minor = old & 0xff;
	} else {
		*major = (nw & 0xfff00) >> 8;
		*minor = (nw & 0xff) | ((nw >> 12) & 0xfff00);
	}
}
