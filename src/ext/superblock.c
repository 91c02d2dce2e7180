/* superblock.c: decoding and validating the ext superblock (Documentation/filesystems/ext4/super.rst). */
#include "internal.h"
#include <stdio.h>
#include <string.h>

static int64_t time_hi(const uint8_t *raw, size_t lo_off, size_t hi_off)
{
	/* Superblock times: 32-bit unsigned seconds plus an 8-bit high part (s_*_hi) */
	return (int64_t)sv_le32(raw + lo_off) + ((int64_t)raw[hi_off] << 32);
}

static void copy_str(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = 0;
}

int sv_super_decode(const uint8_t *raw, size_t len, struct sv_super *sb, char *why, size_t whylen)
{
	if (len < 1024) {
		snprintf(why, whylen, "superblock buffer too short");
		return SV_ERR_CORRUPT;
	}
	memset(sb, 0, sizeof *sb);
	sb->s_magic = sv_le16(raw + 0x38);
	if (sb->s_magic != 0xEF53) {
		snprintf(why, whylen, "no ext2/3/4 signature (magic 0x%04x, expected 0xef53)", sb->s_magic);
		return SV_ERR_CORRUPT;
	}
	sb->s_inodes_count = sv_le32(raw + 0x0);
	sb->s_feature_compat = sv_le32(raw + 0x5C);
	sb->s_feature_incompat = sv_le32(raw + 0x60);
	sb->s_feature_ro_compat = sv_le32(raw + 0x64);
	bool is64 = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT;
	sb->s_blocks_count = sv_le32(raw + 0x4) | (is64 ? (uint64_t)sv_le32(raw + 0x150) << 32 : 0);
	sb->s_r_blocks_count = sv_le32(raw + 0x8) | (is64 ? (uint64_t)sv_le32(raw + 0x154) << 32 : 0);
	sb->s_free_blocks_count = sv_le32(raw + 0xC) | (is64 ? (uint64_t)sv_le32(raw + 0x158) << 32 : 0);
	sb->s_free_inodes_count = sv_le32(raw + 0x10);
	sb->s_first_data_block = sv_le32(raw + 0x14);
	sb->s_log_block_size = sv_le32(raw + 0x18);
	sb->s_log_cluster_size = sv_le32(raw + 0x1C);
	sb->s_blocks_per_group = sv_le32(raw + 0x20);
	sb->s_clusters_per_group = sv_le32(raw + 0x24);
	sb->s_inodes_per_group = sv_le32(raw + 0x28);
	sb->s_mtime = time_hi(raw, 0x2C, 0x275);
	sb->s_wtime = time_hi(raw, 0x30, 0x274);
	sb->s_mnt_count = sv_le16(raw + 0x34);
	sb->s_max_mnt_count = (int16_t)sv_le16(raw + 0x36);
	sb->s_state = sv_le16(raw + 0x3A);
	sb->s_errors = sv_le16(raw + 0x3C);
	sb->s_minor_rev_level = sv_le16(raw + 0x3E);
	sb->s_lastcheck = time_hi(raw, 0x40, 0x277);
	sb->s_creator_os = sv_le32(raw + 0x48);
	sb->s_rev_level = sv_le32(raw + 0x4C);
	sb->s_def_resuid = sv_le16(raw + 0x50);
	sb->s_def_resgid = sv_le16(raw + 0x52);
	if (sb->s_rev_level == 0) {
		/* Revision 0: fixed inode size and first inode, no feature fields. */
		sb->s_first_ino = 11;
		sb->s_inode_size = 128;
		sb->s_feature_compat = sb->s_feature_incompat = sb->s_feature_ro_compat = 0;
	} else {
		sb->s_first_ino = sv_le32(raw + 0x54);
		sb->s_inode_size = sv_le16(raw + 0x58);
	}
	sb->s_block_group_nr = sv_le16(raw + 0x5A);
	memcpy(sb->s_uuid, raw + 0x68, 16);
	copy_str(sb->s_volume_name, raw + 0x78, 16);
	copy_str(sb->s_last_mounted, raw + 0x88, 64);
	sb->s_reserved_gdt_blocks = sv_le16(raw + 0xCE);
	memcpy(sb->s_journal_uuid, raw + 0xD0, 16);
	sb->s_journal_inum = sv_le32(raw + 0xE0);
	sb->s_journal_dev = sv_le32(raw + 0xE4);
	sb->s_last_orphan = sv_le32(raw + 0xE8);
	for (int i = 0; i < 4; i++)
		sb->s_hash_seed[i] = sv_le32(raw + 0xEC + 4 * i);
	sb->s_def_hash_version = raw[0xFC];
	sb->s_jnl_backup_type = raw[0xFD];
	sb->s_desc_size = sv_le16(raw + 0xFE);
	sb->s_default_mount_opts = sv_le32(raw + 0x100);
	sb->s_first_meta_bg = sv_le32(raw + 0x104);
	sb->s_mkfs_time = time_hi(raw, 0x108, 0x276);
	for (int i = 0; i < 17; i++)
		sb->s_jnl_blocks[i] = sv_le32(raw + 0x10C + 4 * i);
	sb->s_min_extra_isize = sv_le16(raw + 0x15C);
	sb->s_want_extra_isize = sv_le16(raw + 0x15E);
	sb->s_flags = sv_le32(raw + 0x160);
	sb->s_raid_stride = sv_le16(raw + 0x164);
	sb->s_mmp_interval = sv_le16(raw + 0x166);
	sb->s_mmp_block = sv_le64(raw + 0x168);
	sb->s_raid_stripe_width = sv_le32(raw + 0x170);
	sb->s_log_groups_per_flex = raw[0x174];
	sb->s_checksum_type = raw[0x175];
	sb->s_kbytes_written = sv_le64(raw + 0x178);
	sb->s_error_count = sv_le32(raw + 0x194);
	sb->s_first_error_time = time_hi(raw, 0x198, 0x278);
	sb->s_first_error_ino = sv_le32(raw + 0x19C);
	sb->s_first_error_block = sv_le64(raw + 0x1A0);
	copy_str(sb->s_first_error_func, raw + 0x1A8, 32);
	sb->s_last_error_time = time_hi(raw, 0x1CC, 0x279);
	sb->s_last_error_ino = sv_le32(raw + 0x1D0);
	sb->s_last_error_block = sv_le64(raw + 0x1D8);
	copy_str(sb->s_last_error_func, raw + 0x1E0, 32);
	sb->s_usr_quota_inum = sv_le32(raw + 0x240);
	sb->s_grp_quota_inum = sv_le32(raw + 0x244);
	sb->s_backup_bgs[0] = sv_le32(raw + 0x24C);
	sb->s_backup_bgs[1] = sv_le32(raw + 0x250);
	sb->s_prj_quota_inum = sv_le32(raw + 0x26C);
	sb->s_checksum_seed = sv_le32(raw + 0x270);
	sb->s_encoding = (uint8_t)sv_le16(raw + 0x27C);
	sb->s_encoding_flags = sv_le16(raw + 0x27E);
	sb->s_orphan_file_inum = sv_le32(raw + 0x280);
	sb->s_checksum = sv_le32(raw + 0x3FC);
	sb->csum_ok = true;
	if (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)
		sb->csum_ok = sv_crc32c(~0u, raw, 0x3FC) == sb->s_checksum;

	/* Geometry checks, before anything is computed from these fields. */
	if (sb->s_log_block_size > 6) {
		snprintf(why, whylen, "block size 2^(10+%u) is beyond 64 KiB", sb->s_log_block_size);
		return SV_ERR_CORRUPT;
	}
	uint32_t bsize = 1024u << sb->s_log_block_size;
	bool bigalloc = sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_BIGALLOC;
	if (!bigalloc) {
		sb->s_log_cluster_size = sb->s_log_block_size;
		sb->s_clusters_per_group = sb->s_blocks_per_group;
	}
	if (sb->s_log_cluster_size < sb->s_log_block_size || sb->s_log_cluster_size - sb->s_log_block_size > 16) {
		snprintf(why, whylen, "cluster size field %u does not fit block size %u", sb->s_log_cluster_size, bsize);
		return SV_ERR_CORRUPT;
	}
	uint64_t ratio = 1ull << (sb->s_log_cluster_size - sb->s_log_block_size);
	if (sb->s_clusters_per_group == 0 || sb->s_clusters_per_group > 8u * bsize ||
	    (uint64_t)sb->s_clusters_per_group * ratio != sb->s_blocks_per_group) {
		snprintf(why, whylen, "blocks per group %u (clusters per group %u) is impossible for %u-byte blocks",
			 sb->s_blocks_per_group, sb->s_clusters_per_group, bsize);
		return SV_ERR_CORRUPT;
	}
	if (sb->s_inodes_per_group == 0 || sb->s_inodes_per_group > 8u * bsize) {
		snprintf(why, whylen, "inodes per group %u is impossible for %u-byte blocks", sb->s_inodes_per_group, bsize);
		return SV_ERR_CORRUPT;
	}
	if (sb->s_inode_size < 128 || sb->s_inode_size > bsize || (sb->s_inode_size & (sb->s_inode_size - 1)) ||
	    sb->s_inode_size > 1024) {
		snprintf(why, whylen, "inode size %u is not a power of two between 128 and the block size",
			 sb->s_inode_size);
		return SV_ERR_CORRUPT;
	}
	if (sb->s_first_data_block > 1) {
		snprintf(why, whylen, "first data block %u is impossible", sb->s_first_data_block);
		return SV_ERR_CORRUPT;
	}
	if (sb->s_blocks_count <= sb->s_first_data_block) {
		snprintf(why, whylen, "block count %llu is too small", (unsigned long long)sb->s_blocks_count);
		return SV_ERR_CORRUPT;
	}
	uint64_t ngroups = (sb->s_blocks_count - sb->s_first_data_block + sb->s_blocks_per_group - 1) /
			   sb->s_blocks_per_group;
	if (ngroups > 0xFFFFFFFFull || ngroups * sb->s_inodes_per_group < sb->s_inodes_count ||
	    sb->s_inodes_count < sb->s_first_ino) {
		snprintf(why, whylen, "inode count %u does not match %llu groups of %u inodes", sb->s_inodes_count,
			 (unsigned long long)ngroups, sb->s_inodes_per_group);
		return SV_ERR_CORRUPT;
	}
	if (is64) {
		if (sb->s_desc_size < 32 || sb->s_desc_size > 1024 || (sb->s_desc_size & (sb->s_desc_size - 1))) {
			snprintf(why, whylen, "group descriptor size %u is invalid", sb->s_desc_size);
			return SV_ERR_CORRUPT;
		}
	}
	return SV_OK;
}

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

bool sv_super_group_has_backup(const struct sv_super *sb, uint32_t g)
{
	if (g == 0)
		return true;
	if (sb->s_feature_compat & EXT4_FEATURE_COMPAT_SPARSE_SUPER2)
		return g == sb->s_backup_bgs[0] || g == sb->s_backup_bgs[1];
	if (g == 1 || !(sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER))
		return true;
	if (!(g & 1))
		return false;
	return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}
