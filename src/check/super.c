/* super.c: the superblock's fields, the backup superblocks' agreement with the primary, and the
 * journal's superblock (Documentation/filesystems/ext4/super.rst, journal.rst). */
#include "internal.h"
#include "../journal/journal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the superblock claims beyond what the source holds: the check works on what is there
 * (check.c, ck_geometry), and says here what it left out. */
static void ck_claims(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	uint32_t all = c->ngroups_claimed;
	if (sb->s_blocks_count > c->dev_blocks) {
		char groups[120] = "";
		if (c->ngroups < all)
			snprintf(groups, sizeof groups, "; groups %u-%u lie past its end and are not checked", c->ngroups,
				 all - 1);
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "the filesystem has %llu blocks but the source holds only %llu: "
		       "it is truncated%s", (unsigned long long)sb->s_blocks_count, (unsigned long long)c->dev_blocks,
		       groups);
	}
	if (c->ipg_fit < c->ipg)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "%u inodes per group of %u bytes do not fit in a group of %u "
		       "blocks; only the first %u inodes of each group are checked", c->ipg, c->isize,
		       sb->s_blocks_per_group, c->ipg_fit);
	if (sb->s_inodes_count > c->ninodes)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "the superblock claims %u inodes, but the inode tables the source "
		       "holds have room for %u; only those are checked", sb->s_inodes_count, c->ninodes);
}

void ck_super(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	uint64_t loc = sv_fs_super_location(c->fs);
	if (loc) {
		/* a primary that fails only its checksum is replaced silently by e2fsck; other damage counts */
		uint8_t p[1024];
		struct sv_super ps;
		char why[160] = "unreadable";
		if (sv_dev_read(sv_fs_dev(c->fs), 1024, p, sizeof p) == SV_OK &&
		    sv_super_decode(p, sizeof p, &ps, why, sizeof why) == SV_OK)
			ck_note(c, SV_CK_SUPER, 0, loc, "the primary superblock fails its checksum; checked with %s",
				sv_fs_super_source(c->fs));
		else
			ck_err(c, SV_CK_SUPER, 0, loc, "the primary superblock is damaged (%s); checked with %s",
			       why, sv_fs_super_source(c->fs));
	}
	else if (!sb->csum_ok)
		ck_note(c, SV_CK_SUPER, 0, 0, "the primary superblock fails its checksum");
	uint32_t ngroups = c->ngroups_claimed;    /* c->ngroups stops at the source's end */
	if ((uint64_t)sb->s_inodes_per_group * ngroups != sb->s_inodes_count)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "inode count %u is not inodes per group (%u) times groups (%u)",
		       sb->s_inodes_count, sb->s_inodes_per_group, ngroups);
	uint32_t want_first = c->bsize == 1024 && !c->bigalloc ? 1 : 0;
	if (sb->s_first_data_block != want_first)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "first data block is %u; with %u-byte blocks it must be %u",
		       sb->s_first_data_block, c->bsize, want_first);
	if (sb->s_r_blocks_count > sb->s_blocks_count / 2)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "reserved block count %llu is more than half the filesystem",
		       (unsigned long long)sb->s_r_blocks_count);
	if (sb->s_free_blocks_count > sb->s_blocks_count)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "free block count %llu exceeds the block count %llu",
		       (unsigned long long)sb->s_free_blocks_count, (unsigned long long)sb->s_blocks_count);
	if (sb->s_free_inodes_count > sb->s_inodes_count)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "free inode count %u exceeds the inode count %u",
		       sb->s_free_inodes_count, sb->s_inodes_count);
	/* The kernel clears "valid" while it has the filesystem mounted without a journal (and on some
	 * errors); finding it clear means the last writes may be incomplete. e2fsck counts it. */
	if (!(sb->s_state & 1) && !((sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) &&
				     (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER)))
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "the filesystem was not cleanly unmounted (state 0x%x): writes "
		       "in flight at the crash may be missing; check the newest files", sb->s_state);
	if (sb->s_rev_level > 0 && (sb->s_first_ino < 11 || sb->s_first_ino > sb->s_inodes_count))
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "first non-reserved inode %u is out of range", sb->s_first_ino);
	if (c->isize < 128 || c->isize > c->bsize || (c->isize & (c->isize - 1)))
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "inode size %u is invalid", c->isize);
	if (sb->s_blocks_per_group > 8 * c->bsize * (1u << c->cbits) || sb->s_blocks_per_group < 8)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "blocks per group %u is invalid", sb->s_blocks_per_group);
	if (sb->s_inodes_per_group > 8 * c->bsize || sb->s_inodes_per_group == 0)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "inodes per group %u is invalid", sb->s_inodes_per_group);
	if ((sb->s_feature_compat & EXT4_FEATURE_COMPAT_RESIZE_INODE) && sb->s_reserved_gdt_blocks > c->bsize / 4)
		ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "%u reserved descriptor blocks is more than the resize inode "
		       "can map", sb->s_reserved_gdt_blocks);
	if (sb->s_last_orphan > sb->s_inodes_count)
		ck_err(c, SV_CK_ORPHAN, 0, SV_NOBLOCK, "the orphan list starts at inode %u, beyond the last inode",
		       sb->s_last_orphan);
	if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_META_BG) {
		uint32_t per = c->bsize / (c->is64 ? sb->s_desc_size : 32);
		uint64_t desc_blocks = ((uint64_t)ngroups + per - 1) / per;
		if (sb->s_first_meta_bg > desc_blocks)
			ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "first_meta_bg %u is larger than the %llu descriptor blocks",
			       sb->s_first_meta_bg, (unsigned long long)desc_blocks);
	}
	if ((sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE) && c->isize > 128) {
		uint32_t max = c->isize - 128;
		if (sb->s_min_extra_isize > max || (sb->s_min_extra_isize & 3))
			ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "required extra inode size %u is invalid",
			       sb->s_min_extra_isize);
		if (sb->s_want_extra_isize > max || (sb->s_want_extra_isize & 3))
			ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "desired extra inode size %u is invalid",
			       sb->s_want_extra_isize);
	}
	if (sb->s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_QUOTA) {
		const uint32_t q[3] = { sb->s_usr_quota_inum, sb->s_grp_quota_inum, sb->s_prj_quota_inum };
		static const char *const qn[3] = { "user", "group", "project" };
		for (int i = 0; i < 3; i++)
			if (q[i] && (q[i] > sb->s_inodes_count || (q[i] < sb->s_first_ino && q[i] != 3 && q[i] != 4)))
				ck_err(c, SV_CK_SUPER, 0, SV_NOBLOCK, "the %s quota inode number %u is invalid", qn[i], q[i]);
	}
	ck_claims(c);

	/* backups: e2fsck rewrites backups that differ from the primary, silently, so these are notes */
	uint8_t raw[1024];
	unsigned checked = 0;
	for (uint32_t g = 1; g < c->ngroups && checked < 64; g++) {
		if (!ck_group_has_super(c, g))
			continue;
		uint64_t blk = ck_group_first(c, g);
		if (blk == loc)
			continue;
		checked++;
		struct sv_super b;
		char why[160];
		uint64_t off = blk * c->bsize;
		if (sv_dev_read(sv_fs_dev(c->fs), off, raw, sizeof raw) != SV_OK) {
			ck_note(c, SV_CK_SUPER_BACKUP, 0, blk, "group %u: the backup superblock at block %llu is unreadable",
				g, (unsigned long long)blk);
			continue;
		}
		if (sv_super_decode(raw, sizeof raw, &b, why, sizeof why) != SV_OK) {
			ck_note(c, SV_CK_SUPER_BACKUP, 0, blk, "group %u: the backup superblock at block %llu is damaged (%s)",
				g, (unsigned long long)blk, why);
			continue;
		}
		const char *diff = NULL;
		if (b.s_blocks_count != sb->s_blocks_count)
			diff = "block count";
		else if (b.s_inodes_count != sb->s_inodes_count)
			diff = "inode count";
		else if (b.s_blocks_per_group != sb->s_blocks_per_group || b.s_inodes_per_group != sb->s_inodes_per_group)
			diff = "group geometry";
		else if (b.s_log_block_size != sb->s_log_block_size || b.s_first_data_block != sb->s_first_data_block)
			diff = "block size";
		else if (memcmp(b.s_uuid, sb->s_uuid, 16))
			diff = "UUID";
		else if (b.s_feature_compat != sb->s_feature_compat ||
			 (b.s_feature_incompat & ~(uint32_t)EXT4_FEATURE_INCOMPAT_RECOVER) !=
			 (sb->s_feature_incompat & ~(uint32_t)EXT4_FEATURE_INCOMPAT_RECOVER) ||
			 (b.s_feature_ro_compat & ~(uint32_t)EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT) !=
			 (sb->s_feature_ro_compat & ~(uint32_t)EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT))
			diff = "feature flags";
		if (diff)
			ck_note(c, SV_CK_SUPER_BACKUP, 0, blk, "group %u: the backup superblock at block %llu differs from "
				"the primary in its %s", g, (unsigned long long)blk, diff);
	}
}

static bool jnl_backup_same(const struct sv_super *sb, const struct sv_inode *in)
{
	for (int i = 0; i < 15; i++)
		if (sb->s_jnl_blocks[i] != sv_le32(in->block + 4 * i))
			return false;
	return true;
}

static int first_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	uint64_t *out = ctx;
	if (lblk == 0)
		*out = pblk;
	return 1;
}

void ck_journal(struct ck *c)
{
	const struct sv_super *sb = c->sb;
	bool has = sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL;
	bool recover = sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER;
	if (!has) {
		if (recover)
			ck_err(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the superblock says the journal needs recovery, but "
			       "the filesystem has no journal");
		if (sb->s_journal_inum && sb->s_journal_inum <= c->ninodes && (ck_state(c, sb->s_journal_inum) & IS_USED) &&
		    sb->s_journal_inum < c->first_ino)
			ck_err(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the has_journal feature is off but inode %u is a journal",
			       sb->s_journal_inum);
		return;
	}
	if (recover) {
		struct sv_journal_info *ji = calloc(1, sizeof *ji);
		c->quiet = true;
		if (ji && sv_journal_scan(c->fs, NULL, NULL, ji) == SV_OK && ji->stop == SV_JSTOP_FATAL) {
			c->quiet = false;
			ck_err(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the journal needs recovery but its log is damaged so "
			       "that the kernel refuses to replay it (%s)", ji->stop_msg);
		} else {
			c->quiet = false;
			ck_note(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the journal needs recovery: the kernel (and e2fsck) "
				"would replay it first");
		}
		free(ji);
	}
	uint32_t ji = sb->s_journal_inum;
	if (ji == 0) {
		if (!sb->s_journal_dev && !(sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_JOURNAL_DEV))
			ck_note(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the journal is on an external device, not checked here");
		return;
	}
	struct sv_inode in;
	int st = ji <= c->ninodes ? sv_inode_read(c->fs, ji, &in) : SV_ERR_NOTFOUND;
	if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFREG || in.links_count == 0) {
		ck_err(c, SV_CK_JOURNAL, ji, SV_NOBLOCK, "the journal inode %u is not a regular file in use; the "
		       "journal is lost", ji);
		return;
	}
	if (ji == EXT4_JOURNAL_INO && (sb->s_jnl_backup_type != 1 || memcmp(sb->s_jnl_blocks, in.raw + 0x28, 0) ||
				       !jnl_backup_same(sb, &in)))
		ck_err(c, SV_CK_JOURNAL, 0, SV_NOBLOCK, "the superblock's backup of the journal inode's block map is "
		       "missing or out of date");
	uint64_t b0 = SV_NOBLOCK;
	c->quiet = true;
	if (!(in.flags & EXT4_INLINE_DATA_FL))
		sv_file_map(c->fs, &in, first_run, &b0);
	c->quiet = false;
	if (b0 == SV_NOBLOCK || b0 >= c->nblocks) {
		ck_err(c, SV_CK_JOURNAL, ji, SV_NOBLOCK, "the journal inode %u maps no first block; the journal "
		       "superblock is missing", ji);
		return;
	}
	if (sv_fs_read_block(c->fs, b0, c->buf2) != SV_OK) {
		ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal superblock (block %llu) is unreadable",
		       (unsigned long long)b0);
		return;
	}
	const uint8_t *j = c->buf2;
	uint32_t magic = sv_be32(j), type = sv_be32(j + 4), jbs = sv_be32(j + 12), maxlen = sv_be32(j + 16);
	uint32_t first = sv_be32(j + 20);
	if (magic != 0xC03B3998u || (type != 3 && type != 4)) {
		ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal superblock at block %llu has a bad magic number or "
		       "type; the journal is unusable", (unsigned long long)b0);
		return;
	}
	if (jbs != c->bsize)
		ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal's block size %u differs from the filesystem's %u",
		       jbs, c->bsize);
	uint64_t fblocks = (in.size + c->bsize - 1) / c->bsize;
	if (maxlen > fblocks || first == 0 || first >= maxlen)
		ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal superblock's geometry (length %u, first block %u) does "
		       "not fit the %llu-block journal file", maxlen, first, (unsigned long long)fblocks);
	if (type == 4) {
		uint32_t incompat = sv_be32(j + 0x28);
		if (incompat & ~0x3fu)
			ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal has unknown incompatible features 0x%x", incompat);
		uint32_t nr_users = sv_be32(j + 0x40);
		if (nr_users > 48)
			ck_err(c, SV_CK_JOURNAL, ji, b0, "the journal superblock claims %u users (at most 48)", nr_users);
	}
	int32_t err = (int32_t)sv_be32(j + 0x1C);
	if (err)
		ck_note(c, SV_CK_JOURNAL, ji, b0, "the journal records an error (errno %d) from the last mount", (int)err);
}
