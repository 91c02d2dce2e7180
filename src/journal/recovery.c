/* recovery.c: the recovery passes over the pending log, with the kernel's semantics
 * (fs/jbd2/recovery.c; Documentation/filesystems/ext4/journal.rst):
 *   scan   - walk from s_start/s_sequence to the end of the valid log, checking checksums;
 *   logged - note every filesystem block the replayed log holds a copy of;
 *   revoke - for those blocks only, the newest transaction that revoked each;
 *   replay - map every logged block not revoked by the same or a later transaction to its copy
 *            in the journal, in an overlay of the filesystem device that reads it on demand
 *            (never onto the source; no block is copied into memory).
 * Termination and memory: every pass visits each journal block at most once and at most as many
 * blocks as the journal really has on the device, so a log whose sequence numbers loop around the
 * ring still ends, and the tables hold at most one entry per logged block. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PASS_SCAN, PASS_LOGGED, PASS_REVOKE, PASS_REPLAY };
#define REPORT_CAP 20                 /* per-block problems reported before summarising */
#define COMMIT_HEADER_SIZE 60         /* struct commit_header: header, type, size, pad, 8 sums, sec, nsec */

static bool tid_gt(uint32_t x, uint32_t y) { return (int32_t)(x - y) > 0; }
static bool tid_geq(uint32_t x, uint32_t y) { return (int32_t)(x - y) >= 0; }

const char *sv_journal_stop_text(int stop)
{
	switch (stop) {
	case SV_JSTOP_CLEAN: return "the journal is empty (clean)";
	case SV_JSTOP_END: return "end of the log";
	case SV_JSTOP_BADTYPE: return "a block of unknown type ends the log";
	case SV_JSTOP_COMMIT_CSUM: return "a commit block failed its checksum; the log ends before it";
	case SV_JSTOP_STALE: return "stale blocks from an older log end it";
	case SV_JSTOP_TOO_LONG: return "the log ran longer than the journal (looping sequence numbers)";
	case SV_JSTOP_IO: return "a journal block could not be read";
	case SV_JSTOP_FATAL: return "the log is damaged in a committed transaction; the kernel refuses it";
	default: return "not scanned";
	}
}

/* ---- logged blocks and their revokes: fs block -> newest revoking transaction ----
 * PASS_LOGGED lists every block the log holds a copy of (sorted, each once); PASS_REVOKE then
 * records revokes of those blocks only. Revoke records naming other blocks cannot matter, so
 * memory is 13 bytes per logged block, bounded by the log's real length whatever the revoke
 * blocks claim. */
struct revtab {
	uint64_t *blk;                /* sorted, distinct */
	uint32_t *tid;                /* newest revoking transaction of blk[i], when rev[i] */
	uint8_t *rev;
	size_t n, cap;
};

static int radd(struct revtab *t, uint64_t blk)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		uint64_t *nb = ncap < t->cap ? NULL : realloc(t->blk, ncap * sizeof *nb);
		if (!nb)
			return SV_ERR_NOMEM;
		t->blk = nb;
		t->cap = ncap;
	}
	t->blk[t->n++] = blk;
	return SV_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* After PASS_LOGGED: sort, drop repeats, no block revoked yet. */
static int rseal(struct revtab *t)
{
	if (t->n)
		qsort(t->blk, t->n, sizeof *t->blk, cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!k || t->blk[k - 1] != t->blk[i])
			t->blk[k++] = t->blk[i];
	t->n = k;
	t->tid = malloc((k ? k : 1) * sizeof *t->tid);
	t->rev = calloc(k ? k : 1, 1);
	return t->tid && t->rev ? SV_OK : SV_ERR_NOMEM;
}

/* The index of blk in the sealed table (none before rseal: the log has no revoke record). */
static bool rfind(const struct revtab *t, uint64_t blk, size_t *at)
{
	if (!t->rev)
		return false;
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->blk[mid] < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->n || t->blk[lo] != blk)
		return false;
	*at = lo;
	return true;
}

/* A revoke record of transaction tid: kept only for a block the log holds. */
static void rrevoke(struct revtab *t, uint64_t blk, uint32_t tid)
{
	size_t i;
	if (!rfind(t, blk, &i))
		return;
	if (!t->rev[i] || tid_gt(tid, t->tid[i])) {
		t->rev[i] = 1;
		t->tid[i] = tid;
	}
}

/* A block logged by transaction tid is skipped when revoked by tid or a later transaction. */
static bool revoked(const struct revtab *t, uint64_t blk, uint32_t tid)
{
	size_t i;
	return rfind(t, blk, &i) && t->rev[i] && !tid_gt(tid, t->tid[i]);
}

static void rfree(struct revtab *t)
{
	free(t->blk);
	free(t->tid);
	free(t->rev);
	memset(t, 0, sizeof *t);
}

/* ---- one recovery ---- */
struct tag {
	uint64_t blocknr;
	uint32_t flags;
	uint32_t csum;
};

struct rec {
	struct jnl *j;
	struct sv_journal_info *info;
	uint8_t *buf, *dbuf, *tmp;
	struct tag *tags;
	struct revtab rt;
	struct sv_dev *ov;
	unsigned ov_src;              /* the journal device's index among the overlay's sources */
	uint64_t fs_blocks;
	uint32_t end_tid;
	bool end_set;
	bool fatal;
	bool open_tx;                 /* scan: blocks seen for a transaction not yet committed */
	unsigned suppressed;
};

static void pb(struct rec *r, uint64_t jblk, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pb(struct rec *r, uint64_t jblk, const char *fmt, ...)
{
	if (r->j->reported >= REPORT_CAP) {
		r->suppressed++;
		return;
	}
	r->j->reported++;
	char msg[280];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sv_report(r->j->rep, SV_PB_JOURNAL, r->info->ino, SV_NOBLOCK, "journal block %llu: %s",
		  (unsigned long long)jblk, msg);
}

static uint64_t wrap(const struct jnl *j, uint64_t b)
{
	if (b >= j->last)
		b = j->first + (b - j->first) % (j->last - j->first);
	return b;
}

/* crc32c(seed, block with the 4 bytes at off zeroed); if hdr_only, only the first hdr bytes count
 * and the rest is taken as zeros (jbd2's "partial" commit block check). */
static uint32_t csum_zeroed(struct rec *r, const uint8_t *b, size_t off, size_t hdr_only)
{
	uint32_t bs = r->j->bs;
	if (hdr_only) {
		memset(r->tmp, 0, bs);
		memcpy(r->tmp, b, hdr_only);
	} else {
		memcpy(r->tmp, b, bs);
	}
	memset(r->tmp + off, 0, 4);
	return sv_crc32c(r->j->csum_seed, r->tmp, bs);
}

static bool block_tail_ok(struct rec *r, const uint8_t *b)
{
	if (r->j->csum_v < 2)
		return true;
	uint32_t bs = r->j->bs;
	return csum_zeroed(r, b, bs - 4, 0) == sv_be32(b + bs - 4);
}

/* Decode the tags of a descriptor block (count_tags in the kernel: stops at LAST_TAG or when the
 * next tag would not fit before the checksum tail). */
static size_t decode_tags(struct rec *r, const uint8_t *b)
{
	struct jnl *j = r->j;
	size_t size = j->bs - (j->csum_v >= 2 ? 4 : 0);
	size_t pos = 12, n = 0;
	bool b64 = j->incompat & JBD2_FEATURE_INCOMPAT_64BIT;
	while (pos + j->tag_bytes <= size) {
		const uint8_t *p = b + pos;
		struct tag t;
		t.blocknr = sv_be32(p);
		t.flags = sv_be16(p + 6);
		if (b64)
			t.blocknr |= (uint64_t)sv_be32(p + 8) << 32;
		t.csum = j->csum_v == 3 ? sv_be32(p + 12) : j->csum_v == 2 ? sv_be16(p + 4) : 0;
		r->tags[n++] = t;
		pos += j->tag_bytes;
		if (!(t.flags & JBD2_FLAG_SAME_UUID))
			pos += 16;
		if (t.flags & JBD2_FLAG_LAST_TAG)
			break;
	}
	return n;
}

static void stop_scan(struct rec *r, int why, uint32_t tid, uint64_t jblk, const char *msg)
{
	struct sv_journal_info *info = r->info;
	info->stop = why;
	info->stop_block = (uint32_t)jblk;
	snprintf(info->stop_msg, sizeof info->stop_msg, "%s", msg);
	if (!r->end_set) {
		r->end_tid = tid;
		r->end_set = true;
	}
}

static void note_tx(struct rec *r, uint32_t tid, uint64_t jblk)
{
	struct sv_journal_info *info = r->info;
	if (info->tx_listed && info->tx[info->tx_listed - 1].tid == tid)
		return;
	if (info->tx_listed >= SV_JOURNAL_TX_LIST)
		return;
	struct sv_journal_tx *t = &info->tx[info->tx_listed++];
	memset(t, 0, sizeof *t);
	t->tid = tid;
	t->start = (uint32_t)jblk;
}

static struct sv_journal_tx *cur_tx(struct rec *r, uint32_t tid)
{
	struct sv_journal_info *info = r->info;
	if (info->tx_listed && info->tx[info->tx_listed - 1].tid == tid)
		return &info->tx[info->tx_listed - 1];
	return NULL;
}

static void replay_tags(struct rec *r, size_t ntags, uint64_t *next, uint32_t tid)
{
	static const uint8_t magic[4] = { 0xC0, 0x3B, 0x39, 0x98 };
	struct jnl *j = r->j;
	struct sv_journal_info *info = r->info;
	for (size_t i = 0; i < ntags; i++) {
		const struct tag *t = &r->tags[i];
		uint64_t jb = *next, off;
		*next = wrap(j, *next + 1);
		if (!sv_jnl_offset(j, (uint32_t)jb, &off)) {
			pb(r, jb, "the logged copy of filesystem block %llu (transaction %u) is not on the device; that "
			   "block is not replayed", (unsigned long long)t->blocknr, tid);
			continue;
		}
		if (revoked(&r->rt, t->blocknr, tid)) {
			info->revoke_hits++;
			continue;
		}
		if (j->csum_v >= 2) {
			/* the checksum covers the block as logged (escaped), seeded with the uuid and tid */
			if (sv_jnl_read(j, (uint32_t)jb, r->dbuf) != SV_OK) {
				pb(r, jb, "cannot read the logged copy of filesystem block %llu (transaction %u); that "
				   "block is not replayed", (unsigned long long)t->blocknr, tid);
				continue;
			}
			uint8_t seq[4] = { (uint8_t)(tid >> 24), (uint8_t)(tid >> 16), (uint8_t)(tid >> 8), (uint8_t)tid };
			uint32_t c = sv_crc32c(j->csum_seed, seq, 4);
			c = sv_crc32c(c, r->dbuf, j->bs);
			if (j->csum_v == 2)
				c &= 0xffff;
			if (c != t->csum) {
				info->bad_csum++;
				pb(r, jb, "logged copy of filesystem block %llu (transaction %u) fails its checksum; skipped "
				   "as the kernel does", (unsigned long long)t->blocknr, tid);
				continue;
			}
		}
		if (t->blocknr >= r->fs_blocks) {
			info->out_of_range++;
			pb(r, jb, "transaction %u logs filesystem block %llu, beyond the filesystem's %llu blocks; skipped",
			   tid, (unsigned long long)t->blocknr, (unsigned long long)r->fs_blocks);
			continue;
		}
		/* The overlay reads the block from the journal when asked; a later transaction's copy
		 * replaces this entry. ESCAPE: the block began with the journal magic, logged zeroed. */
		int st = sv_overlay_redirect(r->ov, t->blocknr, r->ov_src, off,
					     (t->flags & JBD2_FLAG_ESCAPE) ? magic : NULL);
		if (st != SV_OK) {
			r->fatal = true;
			return;
		}
		info->replayed++;
	}
}

/* PASS_LOGGED: enter the blocks a descriptor logs. */
static int note_logged(struct rec *r, size_t ntags)
{
	for (size_t i = 0; i < ntags; i++)
		if (radd(&r->rt, r->tags[i].blocknr) != SV_OK)
			return SV_ERR_NOMEM;
	return SV_OK;
}

static int do_pass(struct rec *r, int pass)
{
	struct jnl *j = r->j;
	struct sv_journal_info *info = r->info;
	uint32_t tid = j->sb.s_sequence;
	uint64_t next = j->sb.s_start;
	/* Budget: each block of the log area at most once, and never more than the journal blocks
	 * really mapped on the device (s_maxlen and i_size are only claims). */
	uint64_t steps = 0, limit = (uint64_t)(j->last - j->first);
	if (limit > j->mapped)
		limit = j->mapped;
	uint32_t crc = ~0u;
	bool need_check_time = false;
	uint64_t last_time = 0;
	uint64_t tx_blocks = 0, tx_revokes = 0;
	bool b64 = j->incompat & JBD2_FEATURE_INCOMPAT_64BIT;
	char msg[200];

	for (;;) {
		if (pass != PASS_SCAN && tid_geq(tid, r->end_tid))
			break;
		uint64_t here = next;
		if (steps >= limit) {
			if (pass == PASS_SCAN) {
				snprintf(msg, sizeof msg, "the log runs past %llu blocks, the real size of the log area; stopped "
					 "at transaction %u", (unsigned long long)limit, tid);
				pb(r, here, "%s", msg);
				stop_scan(r, SV_JSTOP_TOO_LONG, tid, here, msg);
			}
			break;
		}
		steps++;
		if (sv_jnl_read(j, (uint32_t)here, r->buf) != SV_OK) {
			snprintf(msg, sizeof msg, "cannot read journal block %llu; the log ends at transaction %u",
				 (unsigned long long)here, tid);
			pb(r, here, "cannot read this journal block (transaction %u)", tid);
			if (pass == PASS_SCAN)
				stop_scan(r, SV_JSTOP_IO, tid, here, msg);
			break;
		}
		next = wrap(j, next + 1);
		uint32_t magic = sv_be32(r->buf), type = sv_be32(r->buf + 4), seq = sv_be32(r->buf + 8);
		if (magic != JBD2_MAGIC_NUMBER || seq != tid) {
			if (pass == PASS_SCAN) {
				if (magic != JBD2_MAGIC_NUMBER)
					snprintf(msg, sizeof msg, "journal block %llu holds no journal header: end of the log",
						 (unsigned long long)here);
				else
					snprintf(msg, sizeof msg, "journal block %llu belongs to transaction %u, not %u: end "
						 "of the log", (unsigned long long)here, seq, tid);
				stop_scan(r, SV_JSTOP_END, tid, here, msg);
			} else {
				pb(r, here, "recovery pass %d ended at transaction %u, expected %u (read error?)", pass, tid,
				   r->end_tid);
			}
			break;
		}
		if (pass == PASS_SCAN) {
			note_tx(r, tid, here);
			r->open_tx = true;
		}
		struct sv_journal_tx *tx = pass == PASS_SCAN ? cur_tx(r, tid) : NULL;

		if (type == JBD2_DESCRIPTOR_BLOCK) {
			if (!block_tail_ok(r, r->buf)) {
				if (pass == PASS_SCAN) {
					need_check_time = true;
					pb(r, here, "descriptor block of transaction %u fails its checksum", tid);
				} else {
					pb(r, here, "descriptor block of transaction %u fails its checksum; its blocks are "
					   "replayed as listed", tid);
				}
			}
			size_t n = decode_tags(r, r->buf);
			if (pass == PASS_SCAN) {
				tx_blocks += n;
				if (tx)
					tx->blocks += (uint32_t)n;
				if (j->csum_v == 1 && !r->end_set) {
					/* checksum v1: crc32_be over the descriptor and every data block */
					crc = sv_be_crc32(crc, r->buf, j->bs);
					bool bad = false;
					for (size_t i = 0; i < n; i++) {
						uint64_t jb = next;
						next = wrap(j, next + 1);
						steps++;
						if (sv_jnl_read(j, (uint32_t)jb, r->dbuf) != SV_OK) {
							snprintf(msg, sizeof msg, "cannot read journal block %llu; the log ends "
								 "at transaction %u", (unsigned long long)jb, tid);
							stop_scan(r, SV_JSTOP_IO, tid, jb, msg);
							bad = true;
							break;
						}
						crc = sv_be_crc32(crc, r->dbuf, j->bs);
					}
					if (bad)
						break;
					continue;
				}
				next = wrap(j, next + n);
				steps += n;
			} else if (pass == PASS_LOGGED || pass == PASS_REVOKE) {
				if (pass == PASS_LOGGED && note_logged(r, n) != SV_OK)
					return SV_ERR_NOMEM;
				next = wrap(j, next + n);
				steps += n;
			} else {
				steps += n;
				replay_tags(r, n, &next, tid);
				if (r->fatal)
					return SV_ERR_NOMEM;
			}
			continue;
		}
		if (type == JBD2_COMMIT_BLOCK) {
			if (pass != PASS_SCAN) {
				tid++;
				continue;
			}
			uint64_t ctime = sv_be64(r->buf + 48);
			if (need_check_time) {
				if (ctime >= last_time) {
					snprintf(msg, sizeof msg, "a descriptor or revoke block of committed transaction %u "
						 "fails its checksum: the kernel refuses the whole log, so nothing is replayed",
						 tid);
					pb(r, here, "%s", msg);
					r->fatal = true;
					stop_scan(r, SV_JSTOP_FATAL, tid, here, msg);
					break;
				}
				snprintf(msg, sizeof msg, "transaction %u holds stale blocks from an older log (commit time "
					 "goes backwards): end of the log", tid);
				stop_scan(r, SV_JSTOP_STALE, tid, here, msg);
				break;
			}
			bool ok = true;
			if (j->csum_v == 1) {
				uint32_t found = sv_be32(r->buf + 16);
				uint8_t ctype = r->buf[12], csize = r->buf[13];
				ok = (crc == found && ctype == JBD2_CRC32_CHKSUM && csize == 4) ||
				     (ctype == 0 && csize == 0 && found == 0);
				crc = ~0u;
			} else if (j->csum_v >= 2) {
				uint32_t found = sv_be32(r->buf + 16);
				ok = csum_zeroed(r, r->buf, 16, 0) == found ||
				     csum_zeroed(r, r->buf, 16, COMMIT_HEADER_SIZE) == found;
			}
			if (!ok) {
				if (ctime < last_time) {
					snprintf(msg, sizeof msg, "commit block of transaction %u fails its checksum and is "
						 "older than the previous one: stale, end of the log", tid);
					stop_scan(r, SV_JSTOP_STALE, tid, here, msg);
				} else {
					snprintf(msg, sizeof msg, "commit block of transaction %u fails its checksum: the log "
						 "ends before that transaction, as in the kernel", tid);
					pb(r, here, "%s", msg);
					stop_scan(r, SV_JSTOP_COMMIT_CSUM, tid, here, msg);
				}
				break;
			}
			last_time = ctime;
			if (tx)
				tx->committed = true;
			r->open_tx = false;
			info->log_blocks += tx_blocks;
			info->revoke_records += tx_revokes;
			tx_blocks = tx_revokes = 0;
			tid++;
			continue;
		}
		if (type == JBD2_REVOKE_BLOCK) {
			if (pass == PASS_REPLAY || pass == PASS_LOGGED)
				continue;
			uint32_t csz = j->csum_v >= 2 ? 4 : 0;
			uint32_t rcount = sv_be32(r->buf + 12);
			if (pass == PASS_SCAN && !block_tail_ok(r, r->buf)) {
				need_check_time = true;
				pb(r, here, "revoke block of transaction %u fails its checksum", tid);
			}
			if (rcount > j->bs - csz) {
				if (pass == PASS_SCAN) {
					snprintf(msg, sizeof msg, "revoke block of transaction %u claims %u bytes in a %u-byte "
						 "block: the kernel refuses the whole log, so nothing is replayed", tid, rcount,
						 j->bs);
					pb(r, here, "%s", msg);
					r->fatal = true;
					stop_scan(r, SV_JSTOP_FATAL, tid, here, msg);
				}
				break;
			}
			uint32_t rlen = b64 ? 8 : 4;
			uint32_t nrec = rcount > 16 ? (rcount - 16) / rlen : 0;
			if (pass == PASS_SCAN) {
				tx_revokes += nrec;
				if (tx)
					tx->revokes += nrec;
				continue;
			}
			for (uint32_t off = 16; off + rlen <= rcount; off += rlen)
				rrevoke(&r->rt, b64 ? sv_be64(r->buf + off) : sv_be32(r->buf + off), tid);
			continue;
		}
		/* any other type with the expected sequence ends the log (the kernel's "unrecognised") */
		if (pass == PASS_SCAN) {
			snprintf(msg, sizeof msg, "journal block %llu of transaction %u has unknown type %u: end of the log",
				 (unsigned long long)here, tid, type);
			pb(r, here, "%s", msg);
			stop_scan(r, SV_JSTOP_BADTYPE, tid, here, msg);
		}
		break;
	}
	if (pass == PASS_SCAN && !r->end_set) {
		r->end_tid = tid;
		r->end_set = true;
	}
	return SV_OK;
}

/* Fast commits (ext4 fc area after the log): a head tag (9) naming the transaction after the
 * last full commit means the kernel would replay fast-commit records; salvage does not. */
static void check_fast_commit(struct rec *r)
{
	struct jnl *j = r->j;
	struct sv_journal_info *info = r->info;
	if (!info->fast_commit || !info->log_pending || r->fatal)
		return;
	uint64_t fb = (uint64_t)j->last + 1;
	if (fb >= j->total || sv_jnl_read(j, (uint32_t)fb, r->dbuf) != SV_OK)
		return;
	if (sv_le16(r->dbuf) == 9 && sv_le16(r->dbuf + 2) >= 8 && sv_le32(r->dbuf + 8) == r->end_tid) {
		info->fc_pending = true;
		sv_report(j->rep, SV_PB_JOURNAL, info->ino, SV_NOBLOCK,
			  "journal block %llu: fast-commit records for transaction %u were not replayed; changes made "
			  "after the last full commit may be missing", (unsigned long long)fb, r->end_tid);
	}
}

static int recover(struct sv_fs *fs, struct sv_dev *ext, struct sv_report *rep, struct sv_journal_info *info,
		   struct sv_dev **ov_out)
{
	struct jnl j;
	int st = sv_jnl_open(fs, ext, rep, &j, info);
	if (st != SV_OK)
		return st;
	struct rec r;
	memset(&r, 0, sizeof r);
	r.j = &j;
	r.info = info;
	r.fs_blocks = sv_fs_super(fs)->s_blocks_count;
	info->log_pending = j.sb.s_start != 0;
	info->first_tid = info->end_tid = j.sb.s_sequence;
	if (!info->log_pending) {
		info->stop = SV_JSTOP_CLEAN;
		snprintf(info->stop_msg, sizeof info->stop_msg, "the journal is empty: nothing to replay");
		if (ov_out) {
			st = sv_dev_overlay(sv_fs_dev(fs), j.bs, false, ov_out);
		}
		sv_jnl_release(&j);
		return st;
	}
	r.buf = malloc(j.bs);
	r.dbuf = malloc(j.bs);
	r.tmp = malloc(j.bs);
	r.tags = malloc((j.bs / 8 + 1) * sizeof *r.tags);
	if (!r.buf || !r.dbuf || !r.tmp || !r.tags) {
		st = SV_ERR_NOMEM;
		goto out;
	}
	st = do_pass(&r, PASS_SCAN);
	if (st != SV_OK)
		goto out;
	if (r.fatal) {
		info->end_tid = info->first_tid;
		info->tx_count = 0;
		info->log_blocks = info->revoke_records = 0;
	} else {
		info->end_tid = r.end_tid;
		info->tx_count = r.end_tid - info->first_tid;
		info->torn_tail = r.open_tx;
	}
	check_fast_commit(&r);
	if (ov_out) {
		st = sv_dev_overlay(sv_fs_dev(fs), j.bs, false, &r.ov);
		if (st != SV_OK)
			goto out;
		sv_overlay_set_report(r.ov, rep);
		st = sv_overlay_source(r.ov, j.dev, &r.ov_src);
		if (st == SV_OK && !r.fatal && info->tx_count) {
			if (info->revoke_records) {       /* no revoke record: no table needed */
				st = do_pass(&r, PASS_LOGGED);
				if (st == SV_OK)
					st = rseal(&r.rt);
				if (st == SV_OK)
					st = do_pass(&r, PASS_REVOKE);
			}
			/* one entry per logged block at most: size the overlay once (a hint only) */
			sv_overlay_reserve(r.ov, info->log_blocks);
			if (st == SV_OK)
				st = do_pass(&r, PASS_REPLAY);
			rfree(&r.rt);
		}
		if (st != SV_OK) {
			sv_dev_close(r.ov);
			r.ov = NULL;
			goto out;
		}
		info->distinct_blocks = sv_overlay_count(r.ov);
		*ov_out = r.ov;
	}
	if (r.suppressed)
		sv_report(rep, SV_PB_JOURNAL, info->ino, SV_NOBLOCK, "%u more journal problems not shown", r.suppressed);
out:
	free(r.buf);
	free(r.dbuf);
	free(r.tmp);
	free(r.tags);
	rfree(&r.rt);
	sv_jnl_release(&j);
	return st;
}

int sv_journal_scan(struct sv_fs *fs, struct sv_dev *ext_journal, struct sv_report *rep,
		    struct sv_journal_info *info)
{
	return recover(fs, ext_journal, rep, info, NULL);
}

int sv_journal_replay(struct sv_fs *fs, struct sv_dev *ext_journal, struct sv_report *rep,
		      struct sv_dev **overlay_out, struct sv_journal_info *info)
{
	struct sv_dev *ov = NULL;
	int st = recover(fs, ext_journal, rep, info, &ov);
	if (st == SV_OK)
		*overlay_out = ov;
	return st;
}
