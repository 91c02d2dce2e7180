/* cmd_info.c: `salvage info`: the superblock and group summary in plain words (like dumpe2fs -h). */
#include "describe.h"
#include <string.h>

static void help(void)
{
	printf("usage: salvage info [-g] [--json] [-p N] [--offset B] [--no-replay] SOURCE\n\n"
	       "The superblock in plain words and a summary of the block groups; -g lists every group.\n");
}

static int groups_flag(void *ctx, int argc, char **argv, int *i)
{
	(void)argc;
	if (strcmp(argv[*i], "-g") && strcmp(argv[*i], "--groups"))
		return 0;
	*(bool *)ctx = true;
	return 1;
}

int cmd_info(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	bool groups = false;
	int pa = cli_parse_args(argc, argv, &o, help, groups_flag, &groups, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	struct cli_src s;
	int st = cli_open(arg, &o, &s);
	if (st != EXIT_DONE) {
		cli_close(&s);
		return st;
	}
	const struct sv_super *sb = sv_fs_super(s.fs);
	uint32_t bs = sv_fs_block_size(s.fs);
	char uuid[37], juuid[37], feat[1024], a[32], b[32], t[64];
	desc_uuid(sb->s_uuid, uuid);
	desc_uuid(sb->s_journal_uuid, juuid);
	desc_features(sb, feat, sizeof feat);
	uint32_t ng = sv_fs_group_count(s.fs);
	unsigned bad_csum = 0, iuninit = 0, buninit = 0;
	for (uint32_t g = 0; g < ng; g++) {
		const struct sv_group *gd = sv_fs_group(s.fs, g);
		bad_csum += !gd->csum_ok;
		iuninit += !!(gd->bg_flags & EXT4_BG_INODE_UNINIT);
		buninit += !!(gd->bg_flags & EXT4_BG_BLOCK_UNINIT);
	}
	if (o.json) {
		printf("{\"type\":\"%s\",\"label\":", desc_fs_kind(sb));
		cli_json_str(stdout, sb->s_volume_name, strlen(sb->s_volume_name));
		printf(",\"uuid\":\"%s\",\"state\":\"%s\",\"replayed\":%s,\"replayed_transactions\":%u,\"replayed_blocks\":%llu,\"features\":\"%s\",\"block_size\":%u,"
		       "\"cluster_size\":%u,\"blocks\":%llu,\"free_blocks\":%llu,\"reserved_blocks\":%llu,"
		       "\"inodes\":%u,\"free_inodes\":%u,\"inode_size\":%u,\"blocks_per_group\":%u,"
		       "\"inodes_per_group\":%u,\"groups\":%u,\"desc_size\":%u,\"first_data_block\":%u,"
		       "\"mount_count\":%u,\"max_mount_count\":%d,\"last_mount_time\":%lld,\"last_write_time\":%lld,"
		       "\"created\":%lld,\"last_checked\":%lld,\"last_mounted_on\":",
		       uuid, desc_fs_state(sb), s.replayed ? "true" : "false", s.replay_tx,
		       (unsigned long long)s.replay_blocks, feat, bs,
		       bs << (sb->s_log_cluster_size - sb->s_log_block_size), (unsigned long long)sb->s_blocks_count,
		       (unsigned long long)sb->s_free_blocks_count, (unsigned long long)sb->s_r_blocks_count,
		       sb->s_inodes_count, sb->s_free_inodes_count, sb->s_inode_size, sb->s_blocks_per_group,
		       sb->s_inodes_per_group, ng, sb->s_desc_size, sb->s_first_data_block, sb->s_mnt_count,
		       sb->s_max_mnt_count, (long long)sb->s_mtime, (long long)sb->s_wtime, (long long)sb->s_mkfs_time,
		       (long long)sb->s_lastcheck);
		cli_json_str(stdout, sb->s_last_mounted, strlen(sb->s_last_mounted));
		printf(",\"superblock\":\"%s\",\"superblock_checksum_ok\":%s,\"journal_inode\":%u,"
		       "\"groups_bad_checksum\":%u,\"groups_inode_uninit\":%u,\"groups_block_uninit\":%u,"
		       "\"error_count\":%u}\n",
		       sv_fs_super_source(s.fs), sb->csum_ok ? "true" : "false", sb->s_journal_inum, bad_csum, iuninit,
		       buninit, sb->s_error_count);
	} else {
		printf("Filesystem:          %s", desc_fs_kind(sb));
		if (sb->s_volume_name[0])
			printf(" \"%s\"", sb->s_volume_name);
		printf("\nUUID:                %s\n", uuid);
		printf("State:               %s\n", desc_fs_state(sb));
		if (s.replayed)
			printf("Journal replay:      %u transaction%s, %llu block%s replayed in memory for this view "
			       "(the source is unchanged; --no-replay shows the raw state)\n", s.replay_tx,
			       s.replay_tx == 1 ? "" : "s", (unsigned long long)s.replay_blocks, s.replay_blocks == 1 ? "" : "s");
		printf("Superblock:          %s%s\n", sv_fs_super_source(s.fs), sb->csum_ok ? "" : " (checksum mismatch)");
		printf("Features:            %s\n", feat);
		printf("Size:                %s (%llu blocks of %u bytes)\n",
		       sv_human_size(sb->s_blocks_count * bs, a, sizeof a), (unsigned long long)sb->s_blocks_count, bs);
		if (sb->s_log_cluster_size != sb->s_log_block_size)
			printf("Cluster size:        %u bytes\n", bs << (sb->s_log_cluster_size - sb->s_log_block_size));
		printf("Free:                %s (%llu blocks), %llu reserved for root\n",
		       sv_human_size(sb->s_free_blocks_count * bs, b, sizeof b), (unsigned long long)sb->s_free_blocks_count,
		       (unsigned long long)sb->s_r_blocks_count);
		printf("Inodes:              %u (%u free), %u bytes each\n", sb->s_inodes_count, sb->s_free_inodes_count,
		       sb->s_inode_size);
		printf("Groups:              %u (%u blocks and %u inodes each)", ng, sb->s_blocks_per_group,
		       sb->s_inodes_per_group);
		if (sb->s_log_groups_per_flex && sb->s_log_groups_per_flex < 32)
			printf(", flex_bg of %u", 1u << sb->s_log_groups_per_flex);
		printf("\n");
		printf("Group descriptors:   %u bytes; %u with a bad checksum, %u with inodes uninitialised, "
		       "%u with blocks uninitialised\n",
		       sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT ? sb->s_desc_size : 32, bad_csum, iuninit,
		       buninit);
		printf("Last mounted on:     %s\n", sb->s_last_mounted[0] ? sb->s_last_mounted : "(never recorded)");
		printf("Created:             %s\n", sb->s_mkfs_time ? cli_fmt_time(sb->s_mkfs_time, 0, t, sizeof t) : "unknown");
		printf("Last mounted:        %s\n", sb->s_mtime ? cli_fmt_time(sb->s_mtime, 0, t, sizeof t) : "never");
		printf("Last written:        %s\n", sb->s_wtime ? cli_fmt_time(sb->s_wtime, 0, t, sizeof t) : "never");
		printf("Last checked:        %s\n", sb->s_lastcheck ? cli_fmt_time(sb->s_lastcheck, 0, t, sizeof t) : "never");
		printf("Mount count:         %u (check forced after %d)\n", sb->s_mnt_count, sb->s_max_mnt_count);
		if (sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
			if (sb->s_journal_inum)
				printf("Journal:             inode %u%s\n", sb->s_journal_inum,
				       (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) ? ", needs recovery" : ", clean");
			else
				printf("Journal:             external device UUID %s%s\n", juuid,
				       (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) ? ", needs recovery" : "");
		} else {
			printf("Journal:             none\n");
		}
		if (sb->s_last_orphan)
			printf("Orphan list:         starts at inode %u (files deleted while open, or truncated)\n",
			       sb->s_last_orphan);
		if (sb->s_error_count) {
			printf("Errors recorded:     %u; first at %s in %s (inode %u, block %llu)\n", sb->s_error_count,
			       cli_fmt_time(sb->s_first_error_time, 0, t, sizeof t), sb->s_first_error_func,
			       sb->s_first_error_ino, (unsigned long long)sb->s_first_error_block);
		}
		if (groups) {
			printf("\nGroup  first block  block bitmap  inode bitmap  inode table  free blocks  free inodes  dirs  flags  csum\n");
			for (uint32_t g = 0; g < ng; g++) {
				const struct sv_group *gd = sv_fs_group(s.fs, g);
				printf("%5u  %11llu  %12llu  %12llu  %11llu  %11u  %11u  %4u  %s%s%s%s  %s\n", g,
				       (unsigned long long)(sb->s_first_data_block + (uint64_t)g * sb->s_blocks_per_group),
				       (unsigned long long)gd->bg_block_bitmap, (unsigned long long)gd->bg_inode_bitmap,
				       (unsigned long long)gd->bg_inode_table, gd->bg_free_blocks_count,
				       gd->bg_free_inodes_count, gd->bg_used_dirs_count,
				       gd->bg_flags & EXT4_BG_INODE_UNINIT ? "I" : "-",
				       gd->bg_flags & EXT4_BG_BLOCK_UNINIT ? "B" : "-",
				       gd->bg_flags & EXT4_BG_INODE_ZEROED ? "Z" : "-",
				       sv_fs_group_has_super(s.fs, g) ? "S" : "-", gd->csum_ok ? "ok" : "BAD");
			}
		}
	}
	int ex = cli_exit_status(&s, EXIT_DONE);
	cli_close(&s);
	return ex;
}
