/* fs.c: opening a filesystem: superblock (primary, else the backups), group descriptors
 * (classic and meta_bg layouts, 32/64-byte), their checksums, and block reads. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CACHE_BYTES (8u << 20)

struct sv_dev *sv_fs_dev(const struct sv_fs *fs) { return fs->dev; }
const struct sv_super *sv_fs_super(const struct sv_fs *fs) { return &fs->sb; }
struct sv_report *sv_fs_report(struct sv_fs *fs) { return fs->rep; }
uint32_t sv_fs_block_size(const struct sv_fs *fs) { return fs->bsize; }
uint32_t sv_fs_group_count(const struct sv_fs *fs) { return fs->ngroups; }
uint32_t sv_fs_inode_count(const struct sv_fs *fs) { return fs->ninodes; }
uint64_t sv_fs_dev_blocks(const struct sv_fs *fs) { return fs->dev_blocks; }
uint64_t sv_fs_super_location(const struct sv_fs *fs) { return fs->sb_location; }
const char *sv_fs_super_source(const struct sv_fs *fs) { return fs->sb_source; }
uint32_t sv_fs_csum_seed(const struct sv_fs *fs) { return fs->csum_seed; }
bool sv_fs_has_csum(const struct sv_fs *fs) { return fs->has_csum; }
bool sv_fs_group_has_super(const struct sv_fs *fs, uint32_t g) { return sv_super_group_has_backup(&fs->sb, g); }

const struct sv_group *sv_fs_group(const struct sv_fs *fs, uint32_t g)
{
	return g < fs->ngroups ? &fs->groups[g] : NULL;
}

/* The unreadable parts of a failed read, as the device below names them (sv_dev_bad): the first
 * few for the message, and how many there are in all. */
#define BAD_SHOWN 3
struct bad_list {
	uint64_t off[BAD_SHOWN], len[BAD_SHOWN];
	unsigned long n;
	uint64_t bytes;
};

static int bad_collect(void *ctx, uint64_t off, uint64_t len)
{
	struct bad_list *b = ctx;
	if (b->n < BAD_SHOWN) {
		b->off[b->n] = off;
		b->len[b->n] = len;
	}
	b->n++;
	b->bytes += len;
	return 0;
}

/* Report a failed read of blocks [blk, blk+count): exactly which bytes were lost (filesystem byte
 * offsets and their blocks), or the whole range when the device cannot say. */
static void report_unreadable(struct sv_fs *fs, uint64_t blk, uint64_t count)
{
	uint64_t bs = fs->bsize;
	struct bad_list b;
	memset(&b, 0, sizeof b);
	sv_dev_bad(fs->dev, blk * bs, count * bs, bad_collect, &b);
	if (!b.n) {
		sv_report(fs->rep, SV_PB_IO, 0, blk, "cannot read block%s %llu-%llu of %s; their bytes read as zeros",
			  count > 1 ? "s" : "", (unsigned long long)blk, (unsigned long long)(blk + count - 1),
			  fs->dev->name);
		return;
	}
	char list[200];
	size_t len = 0;
	for (unsigned long i = 0; i < b.n && i < BAD_SHOWN && len < sizeof list; i++) {
		uint64_t a = b.off[i], z = b.off[i] + b.len[i] - 1;
		int k = a / bs == z / bs
			? snprintf(list + len, sizeof list - len, "%s%llu-%llu (block %llu)", i ? ", " : "",
				   (unsigned long long)a, (unsigned long long)z, (unsigned long long)(a / bs))
			: snprintf(list + len, sizeof list - len, "%s%llu-%llu (blocks %llu-%llu)", i ? ", " : "",
				   (unsigned long long)a, (unsigned long long)z, (unsigned long long)(a / bs),
				   (unsigned long long)(z / bs));
		len += k > 0 ? (size_t)k : 0;
	}
	if (b.n == 1)
		sv_report(fs->rep, SV_PB_IO, 0, b.off[0] / bs, "cannot read filesystem bytes %s of %s; they read as zeros",
			  list, fs->dev->name);
	else
		sv_report(fs->rep, SV_PB_IO, 0, b.off[0] / bs, "cannot read %lu areas (%llu bytes) of %s: filesystem "
			  "bytes %s%s; they read as zeros", b.n, (unsigned long long)b.bytes, fs->dev->name, list,
			  b.n > BAD_SHOWN ? " and more" : "");
}

int sv_fs_read_block(struct sv_fs *fs, uint64_t blk, void *buf)
{
	if (blk >= fs->sb.s_blocks_count) {
		memset(buf, 0, fs->bsize);
		return SV_ERR_CORRUPT;
	}
	int st = sv_cache_read(fs->cache, blk, buf);
	if (st != SV_OK)
		report_unreadable(fs, blk, 1);
	return st;
}

#define RA_WINDOW (1u << 20)     /* bytes read ahead at once */
#define RA_SMALL (128u << 10)     /* reads up to this size may go through the window */
#define RA_GAP 64                 /* blocks a read may skip and still count as sequential */

/* Serve a small read from the read-ahead window, refilling it when reads move forward through the
 * disk. Returns false when the caller should read directly. */
static bool ra_read(struct sv_fs *fs, uint64_t blk, uint64_t count, void *buf)
{
	uint64_t len = count * fs->bsize;
	if (fs->ra_n && blk >= fs->ra_blk && blk + count <= fs->ra_blk + fs->ra_n) {
		memcpy(buf, fs->ra_buf + (blk - fs->ra_blk) * fs->bsize, (size_t)len);
		return true;
	}
	if (len > RA_SMALL || blk < fs->last_end || blk - fs->last_end > RA_GAP)
		return false;
	if (!fs->ra_buf && posix_memalign((void **)&fs->ra_buf, 4096, RA_WINDOW) != 0) {
		fs->ra_buf = NULL;
		return false;
	}
	uint64_t n = RA_WINDOW / fs->bsize;
	if (n > fs->blocks_end - blk)
		n = fs->blocks_end - blk;
	if (n * fs->bsize + blk * fs->bsize > fs->dev->size)
		n = fs->dev->size > blk * fs->bsize ? (fs->dev->size - blk * fs->bsize) / fs->bsize : 0;
	fs->ra_n = 0;
	if (n < count || sv_dev_read(fs->dev, blk * fs->bsize, fs->ra_buf, (size_t)(n * fs->bsize)) != SV_OK)
		return false;   /* a bad sector somewhere in the window: read just what was asked */
	fs->ra_blk = blk;
	fs->ra_n = n;
	memcpy(buf, fs->ra_buf, (size_t)len);
	return true;
}

int sv_fs_read_blocks(struct sv_fs *fs, uint64_t blk, uint64_t count, void *buf)
{
	uint64_t off, len;
	if (count == 0)
		return SV_OK;
	if (!sv_run_ok(fs, blk, count) || !sv_mul64(blk, fs->bsize, &off) || !sv_mul64(count, fs->bsize, &len) ||
	    len > SIZE_MAX) {
		if (count <= SIZE_MAX / fs->bsize)
			memset(buf, 0, (size_t)(count * fs->bsize));
		return SV_ERR_CORRUPT;
	}
	bool hit = ra_read(fs, blk, count, buf);
	fs->last_end = blk + count;
	if (hit)
		return SV_OK;
	int st = sv_dev_read(fs->dev, off, buf, (size_t)len);
	if (st != SV_OK)
		report_unreadable(fs, blk, count);
	return st;
}

/* Blocks the device really holds, and the blocks that can be read (see sv_blk_ok). */
static void set_dev_blocks(struct sv_fs *fs)
{
	fs->dev_blocks = fs->dev->size / fs->bsize + (fs->dev->size % fs->bsize != 0);
	fs->blocks_end = fs->sb.s_blocks_count < fs->dev_blocks ? fs->sb.s_blocks_count : fs->dev_blocks;
}

void sv_fs_set_dev(struct sv_fs *fs, struct sv_dev *dev)
{
	sv_cache_close(fs->cache);
	fs->cache = NULL;
	fs->ra_n = 0;
	fs->dev = dev;
	sv_fcursor_reset(&fs->cur);
	set_dev_blocks(fs);
	sv_claims_reset(fs);
	if (sv_cache_open(dev, fs->bsize, fs->cache_blocks, &fs->cache) != SV_OK)
		fs->cache = NULL;
}

void sv_fs_close(struct sv_fs *fs)
{
	if (!fs)
		return;
	sv_cache_close(fs->cache);
	sv_fcursor_reset(&fs->cur);
	sv_claims_reset(fs);
	free(fs->ra_buf);
	free(fs->groups);
	free(fs);
}

/* Group descriptor checksum: crc32c (metadata_csum) or crc16 (gdt_csum); super.rst, "Block Group
 * Descriptors". */
static uint16_t group_csum(const struct sv_fs *fs, uint32_t g, const uint8_t *raw)
{
	uint8_t le[4];
	sv_put_le32(le, g);
	if (fs->has_csum) {
		uint8_t tmp[1024];
		memcpy(tmp, raw, fs->desc_size);
		tmp[0x1E] = tmp[0x1F] = 0;
		uint32_t c = sv_crc32c(fs->csum_seed, le, 4);
		c = sv_crc32c(c, tmp, fs->desc_size);
		return (uint16_t)(c & 0xFFFF);
	}
	uint16_t c = sv_crc16(0xFFFF, fs->sb.s_uuid, 16);
	c = sv_crc16(c, le, 4);
	c = sv_crc16(c, raw, 0x1E);
	if (fs->desc_size > 0x20)
		c = sv_crc16(c, raw + 0x20, fs->desc_size - 0x20);
	return c;
}

static void decode_group(const struct sv_fs *fs, uint32_t g, const uint8_t *r, struct sv_group *gd)
{
	bool wide = fs->desc_size >= 64;
	gd->bg_block_bitmap = sv_le32(r + 0x0) | (wide ? (uint64_t)sv_le32(r + 0x20) << 32 : 0);
	gd->bg_inode_bitmap = sv_le32(r + 0x4) | (wide ? (uint64_t)sv_le32(r + 0x24) << 32 : 0);
	gd->bg_inode_table = sv_le32(r + 0x8) | (wide ? (uint64_t)sv_le32(r + 0x28) << 32 : 0);
	gd->bg_free_blocks_count = sv_le16(r + 0xC) | (wide ? (uint32_t)sv_le16(r + 0x2C) << 16 : 0);
	gd->bg_free_inodes_count = sv_le16(r + 0xE) | (wide ? (uint32_t)sv_le16(r + 0x2E) << 16 : 0);
	gd->bg_used_dirs_count = sv_le16(r + 0x10) | (wide ? (uint32_t)sv_le16(r + 0x30) << 16 : 0);
	gd->bg_flags = sv_le16(r + 0x12);
	gd->bg_block_bitmap_csum = sv_le16(r + 0x18) | (wide ? (uint32_t)sv_le16(r + 0x38) << 16 : 0);
	gd->bg_inode_bitmap_csum = sv_le16(r + 0x1A) | (wide ? (uint32_t)sv_le16(r + 0x3A) << 16 : 0);
	gd->bg_itable_unused = sv_le16(r + 0x1C) | (wide ? (uint32_t)sv_le16(r + 0x32) << 16 : 0);
	gd->bg_checksum = sv_le16(r + 0x1E);
	gd->csum_ok = true;
	if (fs->has_csum || fs->has_gdt_csum)
		gd->csum_ok = group_csum(fs, g, r) == gd->bg_checksum;
}

/* Block holding the descriptors of group g's descriptor block index (see "Meta Block Groups"). */
static uint64_t desc_block(const struct sv_fs *fs, uint64_t sb_group_block, uint32_t dblk)
{
	uint32_t per_block = fs->bsize / fs->desc_size;
	if (!(fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_META_BG) || dblk < fs->sb.s_first_meta_bg)
		return sb_group_block + 1 + dblk;
	/* meta_bg: descriptors of meta group m live in the first group of m (after its superblock if any). */
	uint64_t g0 = (uint64_t)dblk * per_block;
	uint64_t b = fs->sb.s_first_data_block + g0 * fs->sb.s_blocks_per_group;
	if (g0 <= 0xFFFFFFFFu && sv_super_group_has_backup(&fs->sb, (uint32_t)g0))
		b++;
	if (fs->bsize == 1024 && g0 == 0)
		b = 2; /* first group on 1 KiB blocks: superblock in block 1 */
	return b;
}

static int load_groups(struct sv_fs *fs, char *err, size_t errlen)
{
	uint32_t per_block = fs->bsize / fs->desc_size;
	uint32_t nblocks = (fs->ngroups + per_block - 1) / per_block;
	fs->groups = calloc(fs->ngroups, sizeof *fs->groups);
	uint8_t *buf = malloc(fs->bsize);
	if (!fs->groups || !buf) {
		free(buf);
		snprintf(err, errlen, "out of memory for %u group descriptors", fs->ngroups);
		return SV_ERR_NOMEM;
	}
	/* With a backup superblock the classic descriptor copy follows it. */
	uint64_t sb_group_block = fs->sb_location ? fs->sb_location : fs->sb.s_first_data_block;
	if (!fs->sb_location && fs->bsize == 1024 && fs->sb.s_first_data_block == 0)
		sb_group_block = 1;   /* bigalloc on 1 KiB blocks: the superblock still sits in block 1 */
	unsigned bad = 0;
	for (uint32_t d = 0; d < nblocks; d++) {
		uint64_t blk = desc_block(fs, sb_group_block, d);
		if (blk >= fs->sb.s_blocks_count || sv_fs_read_block(fs, blk, buf) != SV_OK) {
			snprintf(err, errlen, "group descriptor block %llu is unreadable or outside the filesystem",
				 (unsigned long long)blk);
			free(buf);
			return SV_ERR_CORRUPT;
		}
		for (uint32_t i = 0; i < per_block; i++) {
			uint32_t g = d * per_block + i;
			if (g >= fs->ngroups)
				break;
			decode_group(fs, g, buf + (size_t)i * fs->desc_size, &fs->groups[g]);
			if (!fs->groups[g].csum_ok)
				bad++;
		}
	}
	free(buf);
	if (bad)
		sv_report(fs->rep, SV_PB_GROUP_CSUM, 0, SV_NOBLOCK,
			  "%u of %u group descriptors fail their checksum; reading on, but `salvage check` "
			  "should be run", bad, fs->ngroups);
	/* An inode table outside the filesystem makes every inode of that group unreadable: that is
	 * damage to report, not a reason to refuse the whole filesystem. */
	uint32_t outside = 0;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		const struct sv_group *gd = &fs->groups[g];
		uint64_t itb = ((uint64_t)fs->sb.s_inodes_per_group * fs->inode_size + fs->bsize - 1) / fs->bsize;
		if (!sv_run_ok(fs, gd->bg_inode_table, itb) && ++outside <= 8)
			sv_report(fs->rep, SV_PB_GROUP, 0, gd->bg_inode_table,
				  "group %u: inode table at block %llu is outside the filesystem (or past the end of "
				  "the device); its inodes cannot be read", g, (unsigned long long)gd->bg_inode_table);
	}
	if (outside > 8)
		sv_report(fs->rep, SV_PB_GROUP, 0, SV_NOBLOCK,
			  "%u groups in all have their inode table outside the filesystem; their inodes cannot be read",
			  outside);
	return SV_OK;
}

/* How many groups to keep descriptors for. The superblock's count is a claim: a group that starts
 * past the end of the device holds nothing that can be read, except that with flex_bg the bitmaps
 * and inode tables of a whole flex group sit in its first group. So the groups starting on the
 * device are kept, rounded up to a whole flex group (of at most 2^16 groups), but no more groups
 * past the end than the device could hold inode tables for: a hostile count then costs memory
 * (and `info -g` lines) in proportion to the device, never to the claim. */
static uint32_t groups_kept(const struct sv_fs *fs, uint64_t claimed)
{
	uint64_t first = fs->sb.s_first_data_block, bpg = fs->sb.s_blocks_per_group;
	uint64_t on_dev = fs->dev_blocks > first ? (fs->dev_blocks - first + bpg - 1) / bpg : 1;
	if (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_FLEX_BG) {
		uint64_t flex = 1ull << (fs->sb.s_log_groups_per_flex < 16 ? fs->sb.s_log_groups_per_flex : 16);
		uint64_t itb = ((uint64_t)fs->sb.s_inodes_per_group * fs->inode_size + fs->bsize - 1) / fs->bsize;
		uint64_t room = on_dev + fs->dev_blocks / (itb ? itb : 1);
		on_dev = (on_dev + flex - 1) / flex * flex;
		if (on_dev > room)
			on_dev = room;
	}
	return (uint32_t)(claimed < on_dev ? claimed : on_dev);
}

/* Set up geometry from a decoded superblock found at sb_blk (0: primary). */
static int fs_setup(struct sv_fs *fs, uint64_t sb_blk, char *err, size_t errlen)
{
	fs->bsize = 1024u << fs->sb.s_log_block_size;
	fs->log_bsize = 10 + fs->sb.s_log_block_size;
	fs->cluster_ratio = 1u << (fs->sb.s_log_cluster_size - fs->sb.s_log_block_size);
	uint64_t claimed = (fs->sb.s_blocks_count - fs->sb.s_first_data_block + fs->sb.s_blocks_per_group - 1) /
			   fs->sb.s_blocks_per_group;
	fs->desc_size = (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) ? fs->sb.s_desc_size : 32;
	fs->inode_size = fs->sb.s_inode_size;
	fs->has_csum = fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
	fs->has_gdt_csum = !fs->has_csum && (fs->sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_GDT_CSUM);
	if (fs->sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_CSUM_SEED)
		fs->csum_seed = fs->sb.s_checksum_seed;
	else
		fs->csum_seed = sv_crc32c(~0u, fs->sb.s_uuid, 16);
	fs->sb_location = sb_blk;
	set_dev_blocks(fs);
	sv_claims_reset(fs);
	fs->ngroups = groups_kept(fs, claimed);
	uint64_t ninodes = (uint64_t)fs->ngroups * fs->sb.s_inodes_per_group;
	fs->ninodes = ninodes < fs->sb.s_inodes_count ? (uint32_t)ninodes : fs->sb.s_inodes_count;
	if (fs->sb.s_blocks_count > fs->dev_blocks)
		sv_report(fs->rep, SV_PB_SUPER, 0, SV_NOBLOCK,
			  "the filesystem claims %llu blocks but %s holds only %llu: the image or partition is "
			  "truncated; blocks past its end read as zeros",
			  (unsigned long long)fs->sb.s_blocks_count, fs->dev->name, (unsigned long long)fs->dev_blocks);
	if (fs->ngroups < claimed)
		sv_report(fs->rep, SV_PB_SUPER, 0, SV_NOBLOCK,
			  "the superblock claims %llu block groups but only %u start on %s; inodes from number %u "
			  "on (groups past the end) cannot be read", (unsigned long long)claimed, fs->ngroups,
			  fs->dev->name, fs->ninodes + 1);
	fs->cache_blocks = fs->cache_size_bytes / fs->bsize;
	if (fs->cache_blocks < 64)
		fs->cache_blocks = 64;
	sv_cache_close(fs->cache);
	fs->cache = NULL;
	if (sv_cache_open(fs->dev, fs->bsize, fs->cache_blocks, &fs->cache) != SV_OK) {
		snprintf(err, errlen, "out of memory for the block cache");
		return SV_ERR_NOMEM;
	}
	free(fs->groups);
	fs->groups = NULL;
	return load_groups(fs, err, errlen);
}

static int try_super_at(struct sv_fs *fs, uint64_t byte_off, char *why, size_t whylen)
{
	uint8_t raw[1024];
	if (byte_off + 1024 > fs->dev->size) {
		snprintf(why, whylen, "beyond the end of the source");
		return SV_ERR_CORRUPT;
	}
	if (sv_dev_read(fs->dev, byte_off, raw, sizeof raw) != SV_OK) {
		snprintf(why, whylen, "unreadable");
		return SV_ERR_IO;
	}
	return sv_super_decode(raw, sizeof raw, &fs->sb, why, whylen);
}

int sv_fs_open(struct sv_dev *dev, const struct sv_fs_opts *opts, struct sv_fs **out, char *err, size_t errlen)
{
	struct sv_fs *fs = calloc(1, sizeof *fs);
	if (!fs) {
		snprintf(err, errlen, "out of memory");
		return SV_ERR_NOMEM;
	}
	fs->dev = dev;
	fs->rep = opts ? opts->report : NULL;
	fs->cache_size_bytes = opts && opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE_BYTES;
	char why[200] = "", why2[200] = "";
	int st;

	if (opts && opts->sb_block >= 0) {
		/* An explicit superblock (like e2fsck -b N -B SIZE). */
		uint32_t bs = opts->sb_bsize ? opts->sb_bsize : 1024;
		st = try_super_at(fs, (uint64_t)opts->sb_block * bs, why, sizeof why);
		if (st == SV_OK && (1024u << fs->sb.s_log_block_size) != bs && opts->sb_bsize) {
			snprintf(why, sizeof why, "its block size is %u, not %u", 1024u << fs->sb.s_log_block_size, bs);
			st = SV_ERR_CORRUPT;
		}
		if (st == SV_OK) {
			uint64_t loc = (uint64_t)opts->sb_block * bs / (1024u << fs->sb.s_log_block_size);
			st = fs_setup(fs, loc, why, sizeof why);
			snprintf(fs->sb_source, sizeof fs->sb_source, "superblock at block %lld (as asked)",
				 (long long)opts->sb_block);
		}
		if (st != SV_OK) {
			snprintf(err, errlen, "the superblock at block %lld is not usable: %s", (long long)opts->sb_block, why);
			sv_fs_close(fs);
			return st;
		}
		*out = fs;
		return SV_OK;
	}

	st = try_super_at(fs, 1024, why, sizeof why);
	if (st == SV_OK) {
		st = fs_setup(fs, 0, why, sizeof why);
		if (st == SV_OK) {
			snprintf(fs->sb_source, sizeof fs->sb_source, "primary");
			if (!fs->sb.csum_ok)
				sv_report(fs->rep, SV_PB_SUPER_CSUM, 0, fs->sb.s_first_data_block,
					  "the primary superblock fails its checksum; reading it anyway");
			*out = fs;
			return SV_OK;
		}
	}
	/* Primary unusable: the backups in groups 1, 3, 5, 7, 9, 25, 27, ... for each block size,
	 * assuming mke2fs's default of 8 * blocksize blocks per group. */
	static const uint32_t bgs[] = { 1, 3, 5, 7, 9, 25, 27, 49, 81, 125, 243, 343 };
	for (uint32_t lb = 0; lb <= 6; lb++) {
		uint32_t bs = 1024u << lb;
		for (size_t i = 0; i < sizeof bgs / sizeof bgs[0]; i++) {
			uint64_t blk = (uint64_t)bgs[i] * 8 * bs + (bs == 1024 ? 1 : 0);
			uint64_t off = blk * bs;
			if (off + 1024 > dev->size)
				break;
			if (try_super_at(fs, off, why2, sizeof why2) != SV_OK)
				continue;
			if (fs->sb.s_log_block_size != lb || fs->sb.s_blocks_per_group != 8 * bs ||
			    (fs->sb.s_rev_level > 0 && fs->sb.s_block_group_nr != bgs[i]))
				continue;
			if (fs_setup(fs, blk, why2, sizeof why2) != SV_OK)
				continue;
			snprintf(fs->sb_source, sizeof fs->sb_source, "backup at block %llu (group %u, %u-byte blocks)",
				 (unsigned long long)blk, bgs[i], bs);
			sv_report(fs->rep, SV_PB_SUPER_BACKUP, 0, blk,
				  "the primary superblock is damaged (%s); using the backup superblock at block %llu "
				  "(group %u, block size %u). Counts in it may be older than the primary's",
				  why, (unsigned long long)blk, bgs[i], bs);
			*out = fs;
			return SV_OK;
		}
	}
	snprintf(err, errlen, "no usable ext2/3/4 superblock (primary superblock: %s; no backup superblock found either)",
		 why);
	sv_fs_close(fs);
	return SV_ERR_CORRUPT;
}
