/* cmd_probe.c: `salvage probe`: every partition and every filesystem on a source, and what each
 * looks like, so a person can tell which of two unmarked drives held root. */
#include "describe.h"
#include <stdlib.h>
#include <string.h>

static void help(void)
{
	printf("usage: salvage probe [--json] [--no-replay] SOURCE\n\n"
	       "Lists the partition table of SOURCE (an image or a device) and every ext2/3/4 filesystem on it:\n"
	       "type, label, UUID, size, used and free space, state (clean / not clean / needs journal recovery),\n"
	       "last mount point and times, and what it looks like (a root filesystem with its host name,\n"
	       "/home, a mail spool). Nothing is written to SOURCE.\n");
}

struct fsinfo {
	bool found;
	char kind[24], label[17], uuid[37], state[80], last_mounted[65], looks[400], super_src[96];
	uint64_t size, used, free;
	int64_t mtime, wtime;
	bool replayed;
	unsigned long problems;
	char err[300];
};

static void examine(struct cli_src *parent, struct sv_dev *vol, const struct cli_src_opts *o, struct fsinfo *fi)
{
	memset(fi, 0, sizeof *fi);
	uint8_t m[2];
	if (sv_dev_read(vol, 1024 + 0x38, m, 2) != SV_OK || sv_le16(m) != 0xEF53) {
		sv_dev_close(vol);
		return;
	}
	struct cli_src s;
	memset(&s, 0, sizeof s);
	s.source = parent->source;
	s.base = parent->base;
	s.dev = vol;
	struct sv_fs_opts fo = { &s.report, -1, 0, 0 };
	char err[300];
	fi->found = true;
	if (sv_fs_open(vol, &fo, &s.fs, err, sizeof err) != SV_OK) {
		snprintf(fi->err, sizeof fi->err, "%s", err);
		snprintf(fi->kind, sizeof fi->kind, "ext (damaged)");
		sv_dev_close(vol);
		return;
	}
	struct cli_src_opts qo = *o;
	qo.quiet = true;
	const struct sv_super *raw = sv_fs_super(s.fs);
	snprintf(fi->state, sizeof fi->state, "%s", desc_fs_state(raw));
	if (cli_replay(&s, &qo) != EXIT_DONE || !s.fs) {
		if (s.fs)
			sv_fs_close(s.fs);
		sv_dev_close(s.dev);
		return;
	}
	fi->replayed = s.replayed;
	const struct sv_super *sb = sv_fs_super(s.fs);
	uint32_t bs = sv_fs_block_size(s.fs);
	snprintf(fi->kind, sizeof fi->kind, "%s", desc_fs_kind(sb));
	snprintf(fi->label, sizeof fi->label, "%s", sb->s_volume_name);
	desc_uuid(sb->s_uuid, fi->uuid);
	snprintf(fi->last_mounted, sizeof fi->last_mounted, "%s", sb->s_last_mounted);
	snprintf(fi->super_src, sizeof fi->super_src, "%s", sv_fs_super_source(s.fs));
	fi->size = sb->s_blocks_count * bs;
	fi->free = sb->s_free_blocks_count * bs;
	fi->used = fi->size > fi->free ? fi->size - fi->free : 0;
	fi->mtime = sb->s_mtime;
	fi->wtime = sb->s_wtime;
	struct desc_look l;
	desc_looks_like(s.fs, &l);
	desc_looks_text(&l, fi->looks, sizeof fi->looks);
	fi->problems = s.report.errors;
	sv_fs_close(s.fs);
	sv_dev_close(s.dev);
}

static void print_fs_text(const struct fsinfo *fi, const char *indent)
{
	char a[32], b[32], c[32], t1[64], t2[64];
	if (fi->err[0]) {
		printf("%sext filesystem signature, but unreadable: %s\n", indent, fi->err);
		return;
	}
	printf("%s%s", indent, fi->kind);
	if (fi->label[0])
		printf(" \"%s\"", fi->label);
	printf(" UUID %s, %s (%s used, %s free)\n", fi->uuid, sv_human_size(fi->size, a, sizeof a),
	       sv_human_size(fi->used, b, sizeof b), sv_human_size(fi->free, c, sizeof c));
	printf("%sstate: %s%s\n", indent, fi->state, fi->replayed ? "; replayed in memory for this view" : "");
	printf("%slast mounted on: %s; last mounted %s; last written %s\n", indent,
	       fi->last_mounted[0] ? fi->last_mounted : "(never recorded)",
	       fi->mtime ? cli_fmt_time(fi->mtime, 0, t1, sizeof t1) : "never",
	       fi->wtime ? cli_fmt_time(fi->wtime, 0, t2, sizeof t2) : "never");
	if (strcmp(fi->super_src, "primary"))
		printf("%ssuperblock: %s\n", indent, fi->super_src);
	printf("%slooks like: %s\n", indent, fi->looks);
}

static void print_fs_json(const struct fsinfo *fi)
{
	printf("{\"type\":");
	cli_json_str(stdout, fi->kind, strlen(fi->kind));
	if (fi->err[0]) {
		printf(",\"error\":");
		cli_json_str(stdout, fi->err, strlen(fi->err));
		printf("}");
		return;
	}
	printf(",\"label\":");
	cli_json_str(stdout, fi->label, strlen(fi->label));
	printf(",\"uuid\":\"%s\",\"size\":%llu,\"used\":%llu,\"free\":%llu,\"state\":", fi->uuid,
	       (unsigned long long)fi->size, (unsigned long long)fi->used, (unsigned long long)fi->free);
	cli_json_str(stdout, fi->state, strlen(fi->state));
	printf(",\"replayed\":%s,\"last_mounted_on\":", fi->replayed ? "true" : "false");
	cli_json_str(stdout, fi->last_mounted, strlen(fi->last_mounted));
	printf(",\"last_mount_time\":%lld,\"last_write_time\":%lld,\"superblock\":", (long long)fi->mtime,
	       (long long)fi->wtime);
	cli_json_str(stdout, fi->super_src, strlen(fi->super_src));
	printf(",\"looks_like\":");
	cli_json_str(stdout, fi->looks, strlen(fi->looks));
	printf("}");
}

int cmd_probe(int argc, char **argv)
{
	struct cli_src_opts o;
	cli_src_opts_init(&o);
	const char *arg;
	int pa = cli_parse_args(argc, argv, &o, help, NULL, NULL, &arg);
	if (pa != EXIT_DONE)
		return pa < 0 ? EXIT_DONE : pa;
	struct cli_src s;
	memset(&s, 0, sizeof s);
	s.report.fn = cli_problem_print;
	s.source = (char *)arg;
	int r = cli_open_dev(arg, NULL, &o, &s.base);
	if (r != EXIT_DONE)
		return r;
	s.rescue = s.base;
	struct sv_part_table t;
	memset(&t, 0, sizeof t);
	sv_part_read(s.base, &s.report, &t);
	char sz[32];
	int nfs = 0;
	struct fsinfo fi;
	if (o.json) {
		printf("{\"source\":");
		cli_json_str(stdout, arg, strlen(arg));
		printf(",\"size\":%llu,\"sector_size\":%u,\"partition_table\":\"%s\",\"partitions\":[",
		       (unsigned long long)s.base->size, s.base->sector, sv_part_scheme_name(t.scheme));
	} else {
		printf("%s: %s, ", arg, sv_human_size(s.base->size, sz, sizeof sz));
		if (t.scheme == SV_PART_NONE)
			printf("no partition table\n");
		else
			printf("%s partition table%s, %d partition%s\n", sv_part_scheme_name(t.scheme),
			       t.used_backup ? " (primary damaged: backup used)" : "", t.count, t.count == 1 ? "" : "s");
	}
	for (int i = 0; i < t.count; i++) {
		const struct sv_part *p = &t.parts[i];
		struct sv_dev *vol = NULL;
		memset(&fi, 0, sizeof fi);
		if (!p->is_extended && sv_dev_slice(s.base, p->start, p->size, false, &vol) == SV_OK)
			examine(&s, vol, &o, &fi);
		if (fi.found)
			nfs++;
		if (o.json) {
			printf("%s{\"index\":%d,\"start\":%llu,\"size\":%llu,\"type\":", i ? "," : "", p->index,
			       (unsigned long long)p->start, (unsigned long long)p->size);
			cli_json_str(stdout, p->type_name, strlen(p->type_name));
			printf(",\"name\":");
			cli_json_str(stdout, p->name, strlen(p->name));
			printf(",\"filesystem\":");
			if (fi.found)
				print_fs_json(&fi);
			else
				printf("null");
			printf("}");
		} else {
			printf("  #%-3d start %llu, size %s, %s", p->index, (unsigned long long)p->start,
			       sv_human_size(p->size, sz, sizeof sz), p->type_name);
			if (p->name[0])
				printf(" \"%s\"", p->name);
			printf("\n");
			if (fi.found)
				print_fs_text(&fi, "       ");
		}
	}
	/* The whole source as one filesystem (no table, or a filesystem made on the bare disk). */
	memset(&fi, 0, sizeof fi);
	struct sv_dev *whole = NULL;
	if (sv_dev_slice(s.base, 0, s.base->size, false, &whole) == SV_OK)
		examine(&s, whole, &o, &fi);
	if (fi.found)
		nfs++;
	if (o.json) {
		printf("],\"whole_device_filesystem\":");
		if (fi.found)
			print_fs_json(&fi);
		else
			printf("null");
		printf(",\"filesystems\":%d}\n", nfs);
	} else {
		if (fi.found) {
			printf("  whole device:\n");
			print_fs_text(&fi, "       ");
		}
		if (!nfs)
			printf("  no ext2/3/4 filesystem found\n");
	}
	sv_part_table_free(&t);
	sv_dev_close(s.base);
	if (!nfs)
		return EXIT_UNREADABLE;
	return s.report.errors ? EXIT_DAMAGED : EXIT_DONE;
}
