/* orphan.c: inodes the kernel finishes deleting (links_count 0) or truncating (to i_size) when it
 * mounts after a crash: the orphan chain from s_last_orphan through i_dtime, and the orphan file
 * (COMPAT_ORPHAN_FILE; Documentation/filesystems/ext4/orphan.rst: each block is an array of
 * 32-bit inode numbers followed by an 8-byte tail, magic then checksum). */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define EXT4_ORPHAN_BLOCK_MAGIC 0x0b10ca04u
#define ORPHAN_FILE_MAX_BLOCKS 65536   /* bound on work; real orphan files are a few blocks */
#define ORPHAN_REPORT_CAP 20           /* per-entry problems reported one by one */

/* a small set of inode numbers, to stop a looping chain */
struct iset {
	uint32_t *s;
	size_t cap, count;
};

static bool iset_add(struct iset *t, uint32_t ino, bool *nomem)
{
	if ((t->count + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		uint32_t *ns = calloc(ncap, sizeof *ns);
		if (!ns) {
			*nomem = true;
			return false;
		}
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->s[i])
				continue;
			size_t k = (t->s[i] * 2654435761u) & (ncap - 1);
			while (ns[k])
				k = (k + 1) & (ncap - 1);
			ns[k] = t->s[i];
		}
		free(t->s);
		t->s = ns;
		t->cap = ncap;
	}
	size_t k = (ino * 2654435761u) & (t->cap - 1);
	while (t->s[k]) {
		if (t->s[k] == ino)
			return false;
		k = (k + 1) & (t->cap - 1);
	}
	t->s[k] = ino;
	t->count++;
	return true;
}

static int emit(struct sv_fs *fs, uint32_t ino, int source, sv_orphan_fn fn, void *ctx, struct sv_orphan *o)
{
	memset(o, 0, sizeof *o);
	o->ino = ino;
	o->source = source;
	int st = sv_inode_read(fs, ino, &o->in);
	o->readable = st == SV_OK || st == SV_ERR_CSUM;
	o->will_delete = o->readable && o->in.links_count == 0;
	return fn(ctx, o);
}

struct ofile {
	struct sv_fs *fs;
	struct sv_report *rep;
	sv_orphan_fn fn;
	void *ctx;
	uint8_t *buf;
	uint32_t inodes;
	uint64_t blocks, max_blocks;
	int ret;
	struct sv_orphan *o;
	struct iset *seen;            /* shared with the chain: each inode is listed once */
	bool nomem;
	unsigned problems;            /* problems with entries (reports capped) */
};

static int ofile_run(void *vctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct ofile *f = vctx;
	uint32_t bs = sv_fs_block_size(f->fs);
	(void)lblk;
	if (flags & SV_MAP_UNWRITTEN)
		return 0;
	for (uint64_t i = 0; i < len; i++) {
		if (++f->blocks > f->max_blocks)
			return 1;
		if (sv_fs_read_block(f->fs, pblk + i, f->buf) != SV_OK)
			continue;
		if (sv_le32(f->buf + bs - 8) != EXT4_ORPHAN_BLOCK_MAGIC) {
			if (f->problems++ < ORPHAN_REPORT_CAP)
				sv_report(f->rep, SV_PB_JOURNAL, 0, pblk + i,
					  "orphan file block %llu has no orphan-block magic; its entries are ignored",
					  (unsigned long long)(pblk + i));
			continue;
		}
		for (uint32_t off = 0; off + 8 < bs; off += 4) {
			uint32_t ino = sv_le32(f->buf + off);
			if (!ino)
				continue;
			if (ino > f->inodes) {
				if (f->problems++ < ORPHAN_REPORT_CAP)
					sv_report(f->rep, SV_PB_JOURNAL, 0, pblk + i,
						  "orphan file names inode %u, beyond the %u inodes", ino, f->inodes);
				continue;
			}
			if (!iset_add(f->seen, ino, &f->nomem)) {
				if (f->nomem)
					return 1;
				if (f->problems++ < ORPHAN_REPORT_CAP)
					sv_report(f->rep, SV_PB_JOURNAL, ino, pblk + i,
						  "orphan file names inode %u again; listed once", ino);
				continue;
			}
			int r = emit(f->fs, ino, SV_ORPHAN_FILE, f->fn, f->ctx, f->o);
			if (r) {
				f->ret = r;
				return 1;
			}
		}
	}
	return 0;
}

/* Budget for the orphan walks: no more inodes than the device can hold (its size / inode size),
 * whatever s_inodes_count claims; each inode is listed at most once (a seen-set). */
static uint64_t inode_budget(struct sv_fs *fs)
{
	const struct sv_super *sb = sv_fs_super(fs);
	uint32_t isz = sb->s_inode_size >= 128 ? sb->s_inode_size : 128;
	uint64_t fit = sv_fs_dev(fs)->size / isz;
	return fit < sb->s_inodes_count ? fit : sb->s_inodes_count;
}

int sv_orphan_each(struct sv_fs *fs, struct sv_report *rep, sv_orphan_fn fn, void *ctx)
{
	const struct sv_super *sb = sv_fs_super(fs);
	struct sv_orphan *o = malloc(sizeof *o);
	if (!o)
		return SV_ERR_NOMEM;
	struct iset seen = { NULL, 0, 0 };
	bool nomem = false;
	int ret = 0;
	uint32_t ino = sb->s_last_orphan;
	uint64_t budget = inode_budget(fs), steps = 0;
	for (; ino; steps++) {
		if (ino > sb->s_inodes_count) {
			sv_report(rep, SV_PB_JOURNAL, ino, SV_NOBLOCK,
				  "orphan chain names inode %u, beyond the %u inodes; the rest of the chain is lost", ino,
				  sb->s_inodes_count);
			break;
		}
		if (steps >= budget) {
			sv_report(rep, SV_PB_JOURNAL, ino, SV_NOBLOCK,
				  "orphan chain is longer than the %llu inodes the device can hold; stopped at inode %u",
				  (unsigned long long)budget, ino);
			break;
		}
		if (!iset_add(&seen, ino, &nomem)) {
			if (!nomem)
				sv_report(rep, SV_PB_JOURNAL, ino, SV_NOBLOCK,
					  "orphan chain loops back to inode %u; the walk stops there", ino);
			break;
		}
		ret = emit(fs, ino, SV_ORPHAN_CHAIN, fn, ctx, o);
		if (ret)
			break;
		if (!o->readable) {
			sv_report(rep, SV_PB_JOURNAL, ino, SV_NOBLOCK,
				  "orphan inode %u cannot be read; the rest of the chain is lost", ino);
			break;
		}
		/* the next orphan is kept in i_dtime (offset 0x14) */
		ino = o->in.raw_len >= 0x18 ? sv_le32(o->in.raw + 0x14) : 0;
	}
	if (!nomem && !ret && (sb->s_feature_compat & EXT4_FEATURE_COMPAT_ORPHAN_FILE) && sb->s_orphan_file_inum) {
		struct sv_inode in;
		int st = sv_inode_read(fs, sb->s_orphan_file_inum, &in);
		if (st != SV_OK && st != SV_ERR_CSUM) {
			sv_report(rep, SV_PB_JOURNAL, sb->s_orphan_file_inum, SV_NOBLOCK,
				  "orphan file inode %u cannot be read (%s)", sb->s_orphan_file_inum, sv_strerror(st));
		} else if (!(in.flags & EXT4_INLINE_DATA_FL)) {
			uint64_t devblocks = sv_fs_dev(fs)->size / sv_fs_block_size(fs);
			struct ofile f = { fs, rep, fn, ctx, malloc(sv_fs_block_size(fs)), sb->s_inodes_count, 0,
					   devblocks < ORPHAN_FILE_MAX_BLOCKS ? devblocks : ORPHAN_FILE_MAX_BLOCKS, 0, o,
					   &seen, false, 0 };
			if (!f.buf) {
				free(seen.s);
				free(o);
				return SV_ERR_NOMEM;
			}
			sv_file_map(fs, &in, ofile_run, &f);
			ret = f.ret;
			nomem = f.nomem;
			if (f.problems > ORPHAN_REPORT_CAP)
				sv_report(rep, SV_PB_JOURNAL, sb->s_orphan_file_inum, SV_NOBLOCK,
					  "%u more problems with orphan file entries not listed", f.problems - ORPHAN_REPORT_CAP);
			free(f.buf);
		}
	}
	free(seen.s);
	free(o);
	return nomem ? SV_ERR_NOMEM : ret;
}
