/* journal.c: finding the journal (internal inode, its s_jnl_blocks backup, or an external journal
 * device), decoding and validating its superblock the way jbd2 does before it recovers
 * (fs/jbd2/journal.c: journal_get_superblock, load_superblock), and reading journal blocks.
 * Format: Documentation/filesystems/ext4/journal.rst; all journal fields are big-endian. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSB_SIZE 1024
#define EXT3_JNL_BACKUP_BLOCKS 1
#define JBD2_DEFAULT_FC_BLOCKS 256
#define JBD2_MIN_JOURNAL_BLOCKS 1024

int sv_jsb_decode(const uint8_t *raw, size_t len, struct sv_jsb *out, char *why, size_t whylen)
{
	if (len < JSB_SIZE) {
		snprintf(why, whylen, "journal superblock buffer too short (%zu bytes)", len);
		return SV_ERR_CORRUPT;
	}
	if (sv_be32(raw) != JBD2_MAGIC_NUMBER) {
		snprintf(why, whylen, "no journal magic (found 0x%08x, want 0x%08x)", sv_be32(raw), JBD2_MAGIC_NUMBER);
		return SV_ERR_CORRUPT;
	}
	struct sv_jsb s;
	memset(&s, 0, sizeof s);
	s.h_blocktype = sv_be32(raw + 4);
	if (s.h_blocktype != JBD2_SUPERBLOCK_V1 && s.h_blocktype != JBD2_SUPERBLOCK_V2) {
		snprintf(why, whylen, "journal block 0 has type %u, not a journal superblock", s.h_blocktype);
		return SV_ERR_CORRUPT;
	}
	s.h_sequence = sv_be32(raw + 8);
	s.s_blocksize = sv_be32(raw + 0x0c);
	s.s_maxlen = sv_be32(raw + 0x10);
	s.s_first = sv_be32(raw + 0x14);
	s.s_sequence = sv_be32(raw + 0x18);
	s.s_start = sv_be32(raw + 0x1c);
	s.s_errno = (int32_t)sv_be32(raw + 0x20);
	if (s.h_blocktype == JBD2_SUPERBLOCK_V2) {
		s.s_feature_compat = sv_be32(raw + 0x24);
		s.s_feature_incompat = sv_be32(raw + 0x28);
		s.s_feature_ro_compat = sv_be32(raw + 0x2c);
		memcpy(s.s_uuid, raw + 0x30, 16);
		s.s_nr_users = sv_be32(raw + 0x40);
		s.s_max_transaction = sv_be32(raw + 0x48);
		s.s_max_trans_data = sv_be32(raw + 0x4c);
		s.s_checksum_type = raw[0x50];
		s.s_num_fc_blks = sv_be32(raw + 0x54);
		s.s_head = sv_be32(raw + 0x58);
		s.s_checksum = sv_be32(raw + 0xfc);
		memcpy(s.s_users, raw + 0x100, sizeof s.s_users);
	}
	*out = s;
	return SV_OK;
}

/* ---- mapping journal blocks ---- */

struct mapctx {
	struct jnl *j;
	uint64_t want;                 /* journal blocks needed (from i_size) */
	int st;
	uint64_t calls;                /* runs seen: at most one per device block in a sane map */
	bool cut;                      /* the map named more blocks than the device holds */
};

/* One run of the journal inode's map. Runs beyond the device are holes; the total mapped is
 * capped by the device's block count (more can only mean blocks mapped twice), so memory and
 * the later walks are bounded by the device, not by i_size or s_maxlen. */
static int map_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct mapctx *m = ctx;
	struct jnl *j = m->j;
	(void)flags;
	if (lblk >= m->want)
		return 1;                      /* past the journal: stop */
	if (len > m->want - lblk)
		len = m->want - lblk;
	if (j->nruns && j->runs[j->nruns - 1].lblk + j->runs[j->nruns - 1].len > lblk) {
		m->st = SV_ERR_CORRUPT;        /* out of order: the ext layer walks in order, so damage */
		return 1;
	}
	if (++m->calls > j->dev_blocks) {
		m->cut = true;
		return 1;
	}
	if (pblk >= j->dev_blocks)
		return 0;                      /* not on the device: left unmapped */
	if (len > j->dev_blocks - pblk)
		len = j->dev_blocks - pblk;
	if (len > j->dev_blocks - j->mapped) {
		len = j->dev_blocks - j->mapped;
		m->cut = true;
		if (!len)
			return 1;
	}
	j->mapped += len;
	if (j->nruns && j->runs[j->nruns - 1].lblk + j->runs[j->nruns - 1].len == lblk &&
	    j->runs[j->nruns - 1].pblk + j->runs[j->nruns - 1].len == pblk) {
		j->runs[j->nruns - 1].len += len;
		return m->cut;
	}
	if (j->nruns == j->cap) {
		size_t ncap = j->cap ? j->cap * 2 : 16;
		struct jrun *nr = realloc(j->runs, ncap * sizeof *nr);
		if (!nr) {
			m->st = SV_ERR_NOMEM;
			return 1;
		}
		j->runs = nr;
		j->cap = ncap;
	}
	j->runs[j->nruns].lblk = lblk;
	j->runs[j->nruns].pblk = pblk;
	j->runs[j->nruns].len = len;
	j->nruns++;
	return m->cut;
}

/* Map the journal inode; want = journal blocks to map (from i_size). */
static int map_inode(struct jnl *j, const struct sv_inode *in, uint64_t want)
{
	j->nruns = 0;
	j->mapped = 0;
	struct mapctx m = { j, want, SV_OK, 0, false };
	int st = sv_file_map(j->fs, in, map_run, &m);
	if (m.st != SV_OK)
		return m.st;
	if (m.cut)
		sv_report(j->rep, SV_PB_JOURNAL, in->ino, SV_NOBLOCK,
			  "the journal inode's map names more blocks or runs than the %llu the device holds (blocks "
			  "mapped twice?); the journal is cut after %llu mapped blocks", (unsigned long long)j->dev_blocks,
			  (unsigned long long)j->mapped);
	if (st != SV_OK && st != SV_ERR_STOP && st != 1)
		return st < 0 ? st : SV_ERR_CORRUPT;
	return j->nruns ? SV_OK : SV_ERR_CORRUPT;
}

static bool jmap(struct jnl *j, uint32_t jblk, uint64_t *phys)
{
	if (j->identity) {
		*phys = jblk;
		return true;
	}
	size_t lo = 0, hi = j->nruns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jrun *r = &j->runs[mid];
		if (jblk < r->lblk)
			hi = mid;
		else if (jblk >= r->lblk + r->len)
			lo = mid + 1;
		else {
			*phys = r->pblk + (jblk - r->lblk);
			return true;
		}
	}
	return false;
}

bool sv_jnl_offset(struct jnl *j, uint32_t jblk, uint64_t *off)
{
	uint64_t phys;
	if (jblk >= j->total || !jmap(j, jblk, &phys) || phys >= j->dev_blocks)
		return false;
	return sv_mul64(phys, j->bs, off);
}

int sv_jnl_read(struct jnl *j, uint32_t jblk, uint8_t *buf)
{
	uint64_t off;
	if (!sv_jnl_offset(j, jblk, &off)) {
		memset(buf, 0, j->bs);
		return SV_ERR_CORRUPT;
	}
	return sv_dev_read(j->dev, off, buf, j->bs);
}

void sv_jnl_release(struct jnl *j)
{
	free(j->runs);
	j->runs = NULL;
	j->nruns = j->cap = 0;
}

/* ---- locating the journal ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void uuid_text(const uint8_t *u, char *buf, size_t cap)
{
	snprintf(buf, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* Try the journal inode (or, with backup, the copy of its i_block kept in s_jnl_blocks).
 * On success j->runs maps the journal and *size_blocks is its length from i_size. */
static int locate_internal(struct jnl *j, bool backup, uint64_t *size_blocks, char *why, size_t whylen)
{
	const struct sv_super *sb = sv_fs_super(j->fs);
	struct sv_inode in;
	if (backup) {
		if (sb->s_jnl_backup_type != EXT3_JNL_BACKUP_BLOCKS) {
			snprintf(why, whylen, "no backup of the journal inode's block map in the superblock");
			return SV_ERR_NOTFOUND;
		}
		memset(&in, 0, sizeof in);
		in.ino = sb->s_journal_inum;
		in.mode = SV_IFREG | 0600;
		in.links_count = 1;
		for (int i = 0; i < 15; i++)
			sv_put_le32(in.block + 4 * i, sb->s_jnl_blocks[i]);
		in.size = ((uint64_t)sb->s_jnl_blocks[15] << 32) | sb->s_jnl_blocks[16];
		if (sv_le16(in.block) == 0xF30A)       /* extent header magic */
			in.flags |= EXT4_EXTENTS_FL;
		in.csum_ok = true;
	} else {
		int st = sv_inode_read(j->fs, sb->s_journal_inum, &in);
		if (st != SV_OK && st != SV_ERR_CSUM) {
			snprintf(why, whylen, "journal inode %u cannot be read (%s)", sb->s_journal_inum, sv_strerror(st));
			return st;
		}
		if ((in.mode & SV_IFMT) != SV_IFREG) {
			snprintf(why, whylen, "journal inode %u is not a regular file (mode 0%o)", sb->s_journal_inum,
				 (unsigned)in.mode);
			return SV_ERR_CORRUPT;
		}
		if (in.flags & EXT4_INLINE_DATA_FL) {
			snprintf(why, whylen, "journal inode %u has inline data", sb->s_journal_inum);
			return SV_ERR_CORRUPT;
		}
	}
	uint64_t nb = in.size / j->bs;
	if (nb < 2) {
		snprintf(why, whylen, "journal %.80s size %llu bytes is too small", backup ? "backup" : "inode",
			 (unsigned long long)in.size);
		return SV_ERR_CORRUPT;
	}
	if (nb > UINT32_MAX)
		nb = UINT32_MAX;
	int st = map_inode(j, &in, nb);
	if (st != SV_OK) {
		snprintf(why, whylen, "the block map of journal %.80s is damaged (%s)", backup ? "backup" : "inode",
			 sv_strerror(st));
		return st;
	}
	*size_blocks = nb;
	return SV_OK;
}

/* The external journal device: an ext superblock with INCOMPAT_JOURNAL_DEV at 1024, the journal
 * superblock in the block after it; journal block numbers are device block numbers. */
static int locate_external(struct jnl *j, struct sv_journal_info *info, uint64_t *size_blocks,
			   uint32_t *jsb_block, char *why, size_t whylen)
{
	uint8_t raw[1024];
	const struct sv_super *fsb = sv_fs_super(j->fs);
	const char *dn = j->dev->name;
	if (sv_dev_read(j->dev, 1024, raw, sizeof raw) != SV_OK) {
		snprintf(why, whylen, "cannot read the superblock of the external journal %.80s", dn);
		return SV_ERR_IO;
	}
	/* only the fields a journal device has (sv_super_decode wants a filesystem: inodes etc.) */
	uint32_t incompat = sv_le32(raw + 0x60), ro = sv_le32(raw + 0x64), logbs = sv_le32(raw + 0x18);
	uint64_t blocks = sv_le32(raw + 0x04);
	if (incompat & EXT4_FEATURE_INCOMPAT_64BIT)
		blocks |= (uint64_t)sv_le32(raw + 0x150) << 32;
	snprintf(info->location, sizeof info->location, "external device %.80s", dn);
	if (sv_le16(raw + 0x38) != 0xEF53) {
		snprintf(why, whylen, "%.80s is not an external journal device (no ext superblock magic)", dn);
		return SV_ERR_CORRUPT;
	}
	if (!(incompat & EXT4_FEATURE_INCOMPAT_JOURNAL_DEV)) {
		snprintf(why, whylen, "%.80s is an ext filesystem, not an external journal device (no journal_dev feature)",
			 dn);
		return SV_ERR_CORRUPT;
	}
	if ((ro & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM) && sv_crc32c(~0u, raw, 0x3fc) != sv_le32(raw + 0x3fc)) {
		/* the kernel refuses it too ("external journal has corrupt superblock") */
		snprintf(why, whylen, "the superblock of external journal %.80s fails its checksum", dn);
		return SV_ERR_CSUM;
	}
	if (logbs > 6) {
		snprintf(why, whylen, "external journal %.80s has a bad block size (log %u)", dn, logbs);
		return SV_ERR_CORRUPT;
	}
	uint32_t bs = 1024u << logbs;
	if (bs != j->bs) {
		snprintf(why, whylen, "external journal %.80s has block size %u, the filesystem %u", dn, bs, j->bs);
		return SV_ERR_CORRUPT;
	}
	if (memcmp(raw + 0x68, fsb->s_journal_uuid, 16) != 0) {
		char a[40], b[40];
		uuid_text(raw + 0x68, a, sizeof a);
		uuid_text(fsb->s_journal_uuid, b, sizeof b);
		snprintf(why, whylen, "external journal %.80s has uuid %s but the filesystem wants journal %s", dn, a, b);
		return SV_ERR_CORRUPT;
	}
	uint64_t devblocks = j->dev->size / bs;
	uint64_t nb = blocks < devblocks ? blocks : devblocks;
	if (nb > UINT32_MAX)
		nb = UINT32_MAX;
	*jsb_block = 1024 / bs + 1;
	*size_blocks = nb;
	char u[40];
	uuid_text(raw + 0x68, u, sizeof u);
	snprintf(info->location, sizeof info->location, "external device %.80s (uuid %s)", dn, u);
	return SV_OK;
}

/* Checks jbd2 makes before trusting a journal superblock. why gets the first failure. */
static int validate(struct jnl *j, struct sv_journal_info *info, uint64_t size_blocks, uint8_t *raw, char *why,
		    size_t whylen)
{
	const struct sv_jsb *s = &j->sb;
	info->version = s->h_blocktype == JBD2_SUPERBLOCK_V2 ? 2 : 1;
	if (s->s_blocksize != j->bs) {
		snprintf(why, whylen, "journal block size %u differs from the filesystem's %u", s->s_blocksize, j->bs);
		return SV_ERR_CORRUPT;
	}
	if (s->s_maxlen > size_blocks) {
		snprintf(why, whylen, "journal claims %u blocks but only %llu are there", s->s_maxlen,
			 (unsigned long long)size_blocks);
		return SV_ERR_CORRUPT;
	}
	if (s->s_first == 0 || s->s_first >= s->s_maxlen) {
		snprintf(why, whylen, "journal log start s_first=%u is outside the journal (%u blocks)", s->s_first,
			 s->s_maxlen);
		return SV_ERR_CORRUPT;
	}
	j->compat = info->version == 2 ? s->s_feature_compat : 0;
	j->incompat = info->version == 2 ? s->s_feature_incompat : 0;
	bool v2 = j->incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2, v3 = j->incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3;
	if (j->incompat & ~(uint32_t)JBD2_KNOWN_INCOMPAT) {
		snprintf(why, whylen, "journal has unknown incompatible features 0x%x",
			 j->incompat & ~(uint32_t)JBD2_KNOWN_INCOMPAT);
		return SV_ERR_UNSUPPORTED;
	}
	if (v2 && v3) {
		snprintf(why, whylen, "journal claims both checksum v2 and v3");
		return SV_ERR_CORRUPT;
	}
	if ((v2 || v3) && (j->compat & JBD2_FEATURE_COMPAT_CHECKSUM)) {
		snprintf(why, whylen, "journal claims both checksum v1 and v%d", v3 ? 3 : 2);
		return SV_ERR_CORRUPT;
	}
	j->csum_v = v3 ? 3 : v2 ? 2 : (j->compat & JBD2_FEATURE_COMPAT_CHECKSUM) ? 1 : 0;
	info->csum_version = j->csum_v;
	info->sb_csum_ok = true;
	if (v2 || v3) {
		if (s->s_checksum_type != JBD2_CRC32C_CHKSUM) {
			snprintf(why, whylen, "journal checksum type %u is not crc32c", s->s_checksum_type);
			return SV_ERR_CORRUPT;
		}
		/* crc32c over the 1024-byte superblock with s_checksum zeroed */
		uint8_t save[4];
		memcpy(save, raw + 0xfc, 4);
		memset(raw + 0xfc, 0, 4);
		uint32_t c = sv_crc32c(~0u, raw, JSB_SIZE);
		memcpy(raw + 0xfc, save, 4);
		if (c != s->s_checksum) {
			info->sb_csum_ok = false;
			snprintf(why, whylen, "journal superblock checksum mismatch (stored 0x%08x, computed 0x%08x)",
				 s->s_checksum, c);
			return SV_ERR_CSUM;
		}
		j->csum_seed = sv_crc32c(~0u, s->s_uuid, 16);
	}
	if (j->csum_v == 3)
		j->tag_bytes = 16;
	else
		j->tag_bytes = 8 + (j->csum_v == 2 ? 2 : 0) + ((j->incompat & JBD2_FEATURE_INCOMPAT_64BIT) ? 4 : 0);
	j->first = s->s_first;
	j->last = s->s_maxlen;
	if (j->incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT) {
		uint32_t fc = s->s_num_fc_blks ? s->s_num_fc_blks : JBD2_DEFAULT_FC_BLOCKS;
		if (fc >= s->s_maxlen || s->s_maxlen - fc < JBD2_MIN_JOURNAL_BLOCKS) {
			snprintf(why, whylen, "journal fast-commit area of %u blocks does not fit a %u-block journal", fc,
				 s->s_maxlen);
			return SV_ERR_CORRUPT;
		}
		j->last = s->s_maxlen - fc;
		info->fast_commit = true;
		info->fc_blocks = fc;
	}
	if (j->first >= j->last) {
		snprintf(why, whylen, "journal log area [%u, %u) is empty", j->first, j->last);
		return SV_ERR_CORRUPT;
	}
	if (s->s_start && (s->s_start < j->first || s->s_start >= j->last)) {
		snprintf(why, whylen, "journal log head s_start=%u is outside the log area [%u, %u)", s->s_start, j->first,
			 j->last);
		return SV_ERR_CORRUPT;
	}
	j->total = s->s_maxlen;
	info->tag_bytes = j->tag_bytes;
	info->last = j->last;
	return SV_OK;
}

int sv_jnl_open(struct sv_fs *fs, struct sv_dev *ext, struct sv_report *rep, struct jnl *j,
		struct sv_journal_info *info)
{
	const struct sv_super *sb = sv_fs_super(fs);
	memset(j, 0, sizeof *j);
	memset(info, 0, sizeof *info);
	j->fs = fs;
	j->rep = rep;
	j->bs = sv_fs_block_size(fs);
	info->present = (sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL) != 0;
	info->fs_needs_recovery = (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) != 0;
	if (!info->present) {
		snprintf(info->stop_msg, sizeof info->stop_msg, "the filesystem has no journal");
		return SV_ERR_NOTFOUND;
	}
	uint8_t *raw = malloc(j->bs < JSB_SIZE ? JSB_SIZE : j->bs);
	if (!raw)
		return SV_ERR_NOMEM;
	char why[400] = "";
	uint64_t size_blocks = 0;
	uint32_t jsb_block = 0;
	int st;
	if (sb->s_journal_inum == 0) {
		info->external = true;
		if (!ext) {
			char u[40];
			uuid_text(sb->s_journal_uuid, u, sizeof u);
			snprintf(info->location, sizeof info->location, "external journal (uuid %s, device 0x%x)", u,
				 sb->s_journal_dev);
			snprintf(info->stop_msg, sizeof info->stop_msg,
				 "the journal is on another device (uuid %s); give it with --journal FILE", u);
			free(raw);
			return SV_ERR_NOTFOUND;
		}
		const char *dn = ext->name;
		j->dev = ext;
		j->identity = true;
		j->dev_blocks = ext->size / j->bs;
		st = locate_external(j, info, &size_blocks, &jsb_block, why, sizeof why);
		if (st == SV_OK) {
			j->total = (uint32_t)size_blocks;
			j->mapped = size_blocks;   /* identity map, already capped by the device */
			if (sv_jnl_read(j, jsb_block, raw) != SV_OK) {
				snprintf(why, sizeof why, "cannot read the journal superblock at block %u of %.80s", jsb_block,
					 dn);
				st = SV_ERR_IO;
			} else {
				st = sv_jsb_decode(raw, j->bs, &j->sb, why, sizeof why);
			}
		}
		if (st == SV_OK && j->sb.h_blocktype == JBD2_SUPERBLOCK_V2) {
			/* jbd2 refuses a shared journal; the fs must be its (only) user */
			uint32_t n = j->sb.s_nr_users;
			const uint8_t *fsu = sb->s_uuid;
			bool found = false;
			for (uint32_t i = 0; i < n && i < 48; i++)
				if (memcmp(j->sb.s_users + 16 * i, fsu, 16) == 0)
					found = true;
			if (n != 1 || !found) {
				snprintf(why, sizeof why,
					 "external journal %.80s does not list this filesystem as its only user (%u users)",
					 dn, n);
				st = SV_ERR_CORRUPT;
			}
		}
	} else {
		j->dev = sv_fs_dev(fs);
		j->dev_blocks = j->dev->size / j->bs;
		info->ino = sb->s_journal_inum;
		snprintf(info->location, sizeof info->location, "inode %u", sb->s_journal_inum);
		char why2[400] = "";
		for (int attempt = 0; attempt < 2; attempt++) {
			bool backup = attempt == 1;
			char *w = backup ? why2 : why;
			st = locate_internal(j, backup, &size_blocks, w, sizeof why);
			if (st == SV_OK) {
				j->total = (uint32_t)size_blocks;
				if (sv_jnl_read(j, 0, raw) != SV_OK) {
					snprintf(w, sizeof why, "cannot read journal block 0 (the journal superblock)");
					st = SV_ERR_IO;
				} else {
					st = sv_jsb_decode(raw, j->bs, &j->sb, w, sizeof why);
				}
			}
			if (st == SV_OK) {
				if (backup) {
					info->from_backup = true;
					snprintf(info->location, sizeof info->location,
						 "inode %u, mapped from the superblock's backup (s_jnl_blocks)",
						 sb->s_journal_inum);
					sv_report(rep, SV_PB_JOURNAL, sb->s_journal_inum, SV_NOBLOCK,
						  "journal inode %u is unusable (%s); using the copy of its block map kept in "
						  "the superblock", sb->s_journal_inum, why);
				}
				break;
			}
		}
		if (st != SV_OK && why2[0] && strcmp(why, why2) != 0) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof why - l, "; backup: %s", why2);
		}
		if (j->nruns)
			info->first_fs_block = j->runs[0].pblk;
	}
	if (st == SV_OK)
		st = validate(j, info, size_blocks, raw, why, sizeof why);
	free(raw);
	if (st != SV_OK) {
		copy_str(info->stop_msg, sizeof info->stop_msg, why);
		sv_report(rep, SV_PB_JOURNAL, info->ino, SV_NOBLOCK, "journal unusable: %s; nothing can be replayed", why);
		info->sb = j->sb;
		sv_jnl_release(j);
		return st;
	}
	info->sb = j->sb;
	info->usable = true;
	return SV_OK;
}
