/* tar.c: `tar`: a POSIX pax archive (IEEE 1003.1-2017, "pax Interchange Format") of a tree:
 * ustar headers, with an extended header ('x') carrying what ustar cannot hold: long or
 * non-ASCII names (hdrcharset=BINARY when not UTF-8), sizes over 8 GiB, large ids, times with
 * nanoseconds, SCHILY.xattr.* attributes, and files with holes in GNU's pax sparse format 1.0
 * (GNU tar manual, "Storing Sparse Files": a map of decimal numbers at the start of the data). */
#include "internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 512
#define OUTCAP (1u << 20)
#define CHUNK (256u << 10)

/* a growable byte buffer; `oom` latches */
struct tbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void tb_add(struct tbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 512;
		while (b->len + n + 1 > nc)
			nc *= 2;
		char *p = realloc(b->p, nc);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void tb_str(struct tbuf *b, const char *s) { tb_add(b, s, strlen(s)); }

struct tar {
	struct sv_fs *fs;
	struct sv_report *rep;
	const struct sv_tar_opts *o;
	struct sv_export_stats *st;
	uint32_t bsize;
	uint8_t *out;            /* output buffer */
	size_t olen;
	int werr;                /* errno of the first failed write */
	uint8_t *buf;            /* source read buffer */
	size_t bufcap;
	const char *root_name;   /* "." for the filesystem root, else the last component */
	struct tbuf name, link, pax, sparse_name;
	bool xattr_eq_noted;
	struct sv_truth tr;      /* lost ranges, damage registry, hashes */
};

/* ---- output ---- */
static void out_flush(struct tar *t)
{
	size_t off = 0;
	while (off < t->olen && !t->werr) {
		ssize_t w = write(t->o->fd, t->out + off, t->olen - off);
		if (w < 0) {
			if (errno != EINTR)
				t->werr = errno;
			continue;
		}
		off += (size_t)w;
	}
	t->olen = 0;
}

static void out_put(struct tar *t, const void *p, size_t n)
{
	if (t->werr)
		return;
	/* Big pieces (file data) are written straight from the caller's buffer, saving a copy. */
	if (t->olen + n > OUTCAP || n >= OUTCAP / 16) {
		out_flush(t);
		if (n >= OUTCAP / 16) {
			const uint8_t *q = p;
			while (n && !t->werr) {
				ssize_t w = write(t->o->fd, q, n);
				if (w < 0) {
					if (errno != EINTR)
						t->werr = errno;
					continue;
				}
				q += w;
				n -= (size_t)w;
			}
			return;
		}
	}
	memcpy(t->out + t->olen, p, n);
	t->olen += n;
}

static void out_zeros(struct tar *t, uint64_t n)
{
	while (n && !t->werr) {
		if (t->olen == OUTCAP)
			out_flush(t);
		size_t k = OUTCAP - t->olen < n ? OUTCAP - t->olen : (size_t)n;
		memset(t->out + t->olen, 0, k);
		t->olen += k;
		n -= k;
	}
}

static uint64_t pad512(uint64_t n) { return (BLK - n % BLK) % BLK; }

/* ---- ustar header fields ---- */
/* Octal with a NUL when it fits in w-1 digits; otherwise base-256 (first byte's top bit set, two's
 * complement big-endian), which GNU tar and libarchive read. */
static void put_num(uint8_t *f, size_t w, int64_t v)
{
	if (v >= 0 && (w - 1) * 3 < 64 && (uint64_t)v < ((uint64_t)1 << ((w - 1) * 3))) {
		f[w - 1] = 0;
		uint64_t u = (uint64_t)v;
		for (size_t i = w - 1; i-- > 0; u >>= 3)
			f[i] = (uint8_t)('0' + (u & 7));
		return;
	}
	uint64_t u = (uint64_t)v;
	for (size_t i = w; i-- > 1;) {
		f[i] = (uint8_t)u;
		u = v < 0 ? (u >> 8) | 0xff00000000000000ull : u >> 8;
	}
	f[0] = v < 0 ? 0xff : 0x80;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0)
			return false;
	return true;
}

static bool is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) { i++; continue; }
		else if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
		else return false;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		/* no overlong forms, surrogates or values past U+10FFFF */
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* Put name into name[100] (+ prefix[155] split at a '/'); false when ustar cannot hold it. */
static bool put_name(uint8_t *h, const char *s, size_t n)
{
	if (n <= 100) {
		memcpy(h, s, n);
		return is_ascii(s, n);
	}
	if (n <= 256) {
		/* the split '/' is dropped: prefix is s[0, i), name is s[i+1, n) */
		for (size_t i = n - 1; i > 0; i--) {
			if (s[i] != '/')
				continue;
			if (n - i - 1 > 100)
				break;
			if (i <= 155 && n - i - 1 > 0) {
				memcpy(h + 345, s, i);
				memcpy(h, s + i + 1, n - i - 1);
				return is_ascii(s, n);
			}
		}
	}
	memcpy(h, s, 100);
	return false;
}

/* One pax record: "LEN KEY=VALUE\n" where LEN counts the whole record, its own digits included. */
static void pax_rec(struct tbuf *b, const char *key, const void *val, size_t vlen)
{
	size_t rest = 1 + strlen(key) + 1 + vlen + 1, n = rest + 1, d;
	for (;;) {
		char tmp[32];
		d = (size_t)snprintf(tmp, sizeof tmp, "%zu", n);
		if (d + rest == n)
			break;
		n = d + rest;
	}
	char len[32];
	snprintf(len, sizeof len, "%zu ", n);
	tb_str(b, len);
	tb_str(b, key);
	tb_add(b, "=", 1);
	tb_add(b, val, vlen);
	tb_add(b, "\n", 1);
}

static void pax_num(struct tbuf *b, const char *key, uint64_t v)
{
	char s[32];
	int n = snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	pax_rec(b, key, s, (size_t)n);
}

/* Times as "SEC.NSEC"; before 1970 the value is still one decimal number: -1.5 s is "-1.500000000". */
static void pax_time(struct tbuf *b, const char *key, int64_t sec, uint32_t ns)
{
	char s[48];
	int n;
	if (ns >= 1000000000u)
		ns = 0;
	if (sec < 0 && ns)
		n = snprintf(s, sizeof s, "-%lld.%09u", (long long)(-(sec + 1)), 1000000000u - ns);
	else
		n = snprintf(s, sizeof s, "%lld.%09u", (long long)sec, ns);
	pax_rec(b, key, s, (size_t)n);
}

struct xw {
	struct tar *t;
	const struct sv_walk_entry *e;
};

/* POSIX ACLs (the reader hands them over in the posix_acl_xattr form: le32 version 2, then
 * 8-byte entries le16 tag, le16 perm, le32 id) also go out as star's SCHILY.acl.* text, which is
 * what bsdtar restores ACLs from (GNU tar takes either). Ids double as names: "user:1234:r--:1234". */
static void acl_text(struct tbuf *b, const char *key, const uint8_t *v, size_t len)
{
	if (len < 4 || sv_le32(v) != 2 || (len - 4) % 8)
		return;
	struct tbuf txt = { 0 };
	for (size_t off = 4; off < len; off += 8) {
		unsigned tag = sv_le16(v + off), perm = sv_le16(v + off + 2);
		uint32_t id = sv_le32(v + off + 4);
		const char *kind = tag == 0x01 || tag == 0x02 ? "user" : tag == 0x04 || tag == 0x08 ? "group"
				 : tag == 0x10 ? "mask" : tag == 0x20 ? "other" : NULL;
		if (!kind) {
			free(txt.p);
			return;
		}
		char e[64];
		char rwx[4] = { perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-', perm & 1 ? 'x' : '-', 0 };
		if (tag == 0x02 || tag == 0x08)
			snprintf(e, sizeof e, "%s%s:%u:%s:%u", txt.len ? "," : "", kind, id, rwx, id);
		else
			snprintf(e, sizeof e, "%s%s::%s", txt.len ? "," : "", kind, rwx);
		tb_str(&txt, e);
	}
	if (txt.oom)
		b->oom = true;
	else if (txt.len)
		pax_rec(b, key, txt.p, txt.len);
	free(txt.p);
}

static int xattr_rec(void *ctx, const struct sv_xattr *x)
{
	struct xw *xw = ctx;
	struct tar *t = xw->t;
	if (!strcmp(x->name, "system.posix_acl_access"))
		acl_text(&t->pax, "SCHILY.acl.access", x->value, x->value_len);
	else if (!strcmp(x->name, "system.posix_acl_default"))
		acl_text(&t->pax, "SCHILY.acl.default", x->value, x->value_len);
	if (strchr(x->name, '=') || strchr(x->name, '\n')) {
		if (t->o->note)
			t->o->note(t->o->note_ctx, SV_NOTE_XATTR, xw->e->path,
				   "extended attribute with '=' or a newline in its name cannot be stored in a pax "
				   "archive; left out");
		return 0;
	}
	struct tbuf key = { 0 };
	tb_str(&key, "SCHILY.xattr.");
	tb_str(&key, x->name);
	if (!key.oom)
		pax_rec(&t->pax, key.p, x->value, x->value_len);
	else
		t->pax.oom = true;
	free(key.p);
	return 0;
}

struct hdr {
	char type;
	const char *name;
	size_t name_len;
	const char *link;       /* typeflag 1 and 2 */
	size_t link_len;
	uint64_t size;          /* bytes of data in the archive */
	const char *sparse;     /* pax sparse records to add, or NULL */
	size_t sparse_len;
	bool xattrs;
};

static void checksum(uint8_t *h)
{
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
	h[155] = ' ';
}

static void fill_ustar(uint8_t *h, const struct sv_inode *in, char type, uint64_t size)
{
	put_num(h + 100, 8, in->mode & 07777);
	put_num(h + 108, 8, in->uid);
	put_num(h + 116, 8, in->gid);
	put_num(h + 124, 12, (int64_t)size);
	put_num(h + 136, 12, in->mtime);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
}

/* Write the extended header (when needed) and the ustar header of one member. */
static int write_header(struct tar *t, const struct sv_walk_entry *e, const struct hdr *m)
{
	const struct sv_inode *in = e->in;
	uint8_t h[BLK];
	memset(h, 0, sizeof h);
	struct tbuf *px = &t->pax;
	px->len = 0;
	px->oom = false;
	bool name_bin = !is_utf8(m->name, m->name_len);
	bool link_bin = m->link && !is_utf8(m->link, m->link_len);
	if (name_bin || link_bin)
		pax_rec(px, "hdrcharset", "BINARY", 6);
	bool fits = put_name(h, m->name, m->name_len);
	if (m->sparse) {
		/* the real name travels in GNU.sparse.name; the ustar name is a placeholder */
		memset(h, 0, 100);
		memset(h + 345, 0, 155);
		const char *base = m->name + m->name_len;
		while (base > m->name && base[-1] != '/')
			base--;
		t->sparse_name.len = 0;
		t->sparse_name.oom = false;
		tb_str(&t->sparse_name, "GNUSparseFile.0/");
		for (const char *c = base; c < m->name + m->name_len && t->sparse_name.len < 100; c++)
			tb_add(&t->sparse_name, (unsigned char)*c < 0x80 && *c ? c : "_", 1);
		if (!t->sparse_name.oom)
			memcpy(h, t->sparse_name.p, t->sparse_name.len < 100 ? t->sparse_name.len : 100);
	} else if (!fits) {
		pax_rec(px, "path", m->name, m->name_len);
	}
	if (m->link) {
		memcpy(h + 157, m->link, m->link_len < 100 ? m->link_len : 100);
		if (m->link_len > 100 || !is_ascii(m->link, m->link_len))
			pax_rec(px, "linkpath", m->link, m->link_len);
	}
	if (m->size > 077777777777ull)
		pax_num(px, "size", m->size);
	if (in->uid > 07777777)
		pax_num(px, "uid", in->uid);
	if (in->gid > 07777777)
		pax_num(px, "gid", in->gid);
	pax_time(px, "mtime", in->mtime, in->mtime_ns);
	pax_time(px, "atime", in->atime, in->atime_ns);
	if (m->xattrs && !t->o->no_xattrs) {
		struct xw xw = { t, e };
		sv_xattr_iterate(t->fs, in, xattr_rec, &xw);
	}
	if (m->sparse)
		tb_add(px, m->sparse, m->sparse_len);
	if (px->oom)
		return SV_ERR_NOMEM;
	if (px->len) {
		uint8_t x[BLK];
		memset(x, 0, sizeof x);
		/* the extended header's own name only matters to readers without pax support */
		size_t n = 0;
		const char *pre = "PaxHeaders/";
		memcpy(x, pre, strlen(pre));
		n = strlen(pre);
		const char *base = m->name + m->name_len;
		if (base > m->name && base[-1] == '/')
			base--;
		while (base > m->name && base[-1] != '/')
			base--;
		for (const char *c = base; c < m->name + m->name_len && n < 99; c++)
			x[n++] = (unsigned char)*c < 0x80 && *c && *c != '/' ? (uint8_t)*c : '_';
		struct sv_inode pin = *in;
		pin.mode = 0644;
		pin.uid = pin.uid > 07777777 ? 0 : pin.uid;
		pin.gid = pin.gid > 07777777 ? 0 : pin.gid;
		fill_ustar(x, &pin, 'x', px->len);
		checksum(x);
		out_put(t, x, BLK);
		out_put(t, px->p, px->len);
		out_zeros(t, pad512(px->len));
	}
	fill_ustar(h, in, m->type, m->size);
	if (m->type == '3' || m->type == '4') {
		uint32_t ma, mi;
		sv_inode_devnum(in, &ma, &mi);
		put_num(h + 329, 8, ma);
		put_num(h + 337, 8, mi);
	}
	checksum(h);
	out_put(t, h, BLK);
	return t->werr ? SV_ERR_IO : SV_OK;
}

/* ---- file data ---- */
enum { PH_COUNT, PH_MAP, PH_DATA };

struct fdata {
	struct tar *t;
	const struct sv_inode *in;
	int phase;
	bool sparse;
	bool inl;                /* inline data: its ilen bytes are in t->buf, the rest reads as zeros */
	size_t ilen;
	uint64_t pos;            /* file offset up to which runs were taken */
	uint64_t left;           /* data bytes the header promised and not yet written */
	uint64_t roff, rlen;     /* region being merged */
	bool rhave;
	uint64_t nreg, data, maptext;
};

static size_t ndigits(uint64_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void emit_region(struct fdata *f, uint64_t off, uint64_t len)
{
	if (f->phase == PH_COUNT) {
		f->nreg++;
		f->data += len;
		f->maptext += ndigits(off) + ndigits(len) + 2;
	} else if (f->phase == PH_MAP) {
		char s[48];
		int n = snprintf(s, sizeof s, "%llu\n%llu\n", (unsigned long long)off, (unsigned long long)len);
		out_put(f->t, s, (size_t)n);
	}
}

static void add_region(struct fdata *f, uint64_t off, uint64_t len)
{
	if (f->rhave && f->roff + f->rlen == off) {
		f->rlen += len;
		return;
	}
	if (f->rhave)
		emit_region(f, f->roff, f->rlen);
	f->roff = off;
	f->rlen = len;
	f->rhave = true;
}

/* Data bytes go out through here, never more than the header promised; returns how many went. */
static uint64_t data_put(struct fdata *f, const void *p, uint64_t n)
{
	if (n > f->left)
		n = f->left;
	out_put(f->t, p, (size_t)n);
	f->left -= n;
	return n;
}

static void data_zeros(struct fdata *f, uint64_t n)
{
	if (n > f->left)
		n = f->left;
	out_zeros(f->t, n);
	f->left -= n;
}

static int tar_run(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct fdata *f = ctx;
	struct tar *t = f->t;
	uint64_t bs = t->bsize, start, end;
	if (!sv_mul64(lblk, bs, &start) || start >= f->in->size)
		return 0;
	if (!sv_add64(lblk, len, &end) || !sv_mul64(end, bs, &end) || end > f->in->size)
		end = f->in->size;
	uint64_t s = start < f->pos ? f->pos : start;   /* overlapping runs of a damaged map: once */
	if (s >= end)
		return 0;
	if (f->phase == PH_DATA)
		sv_truth_run(&t->tr, s, end);
	if (flags & SV_MAP_UNWRITTEN)
		return 0;
	if (f->phase != PH_DATA) {
		add_region(f, s, end - s);
		f->pos = end;
		return 0;
	}
	if (!f->sparse)
		data_zeros(f, s - f->pos);
	uint64_t per = t->bufcap / bs;
	for (uint64_t b = (s - start) / bs; start + b * bs < end && !t->werr; b += per) {
		uint64_t cstart = start + b * bs;
		uint64_t n = (end - cstart + bs - 1) / bs;
		if (n > per)
			n = per;
		uint64_t from = cstart < s ? s : cstart;
		uint64_t to = cstart + n * bs < end ? cstart + n * bs : end;
		/* on failure the lost bytes are zero in buf (never the last chunk's) and reported */
		sv_truth_read(&t->tr, pblk + b, n, cstart, (size_t)(to - cstart), t->buf);
		uint64_t put = data_put(f, t->buf + (from - cstart), to - from);
		sv_truth_data(&t->tr, from, t->buf + (from - cstart), (size_t)put);
		t->st->bytes += to - from;
	}
	f->pos = end;
	return t->werr ? 1 : 0;
}

/* Mute the report for passes that walk the map again (only the data pass reports). */
static int map_pass(struct tar *t, struct fdata *f, int phase)
{
	struct sv_report saved = *t->rep;
	if (phase != PH_DATA)
		t->rep->fn = NULL;
	f->phase = phase;
	f->pos = 0;
	f->rhave = false;
	int r = SV_OK;
	if (!f->inl) {
		sv_truth_mapping(&t->tr, phase == PH_DATA);
		r = sv_file_map(t->fs, f->in, tar_run, f);
		sv_truth_mapping(&t->tr, false);
	} else if (phase != PH_DATA) {
		if (f->ilen)
			add_region(f, 0, f->ilen);
	} else {
		uint64_t put = data_put(f, t->buf, f->ilen);
		sv_truth_data(&t->tr, 0, t->buf, (size_t)put);
		t->st->bytes += f->ilen;
		f->pos = f->ilen;
	}
	if (phase != PH_DATA) {
		if (f->rhave)
			emit_region(f, f->roff, f->rlen);
		/* a file ending in a hole ends its map with an empty region at the real size (GNU tar
		 * truncates there) */
		uint64_t last = f->rhave ? f->roff + f->rlen : 0;
		if (last < f->in->size || !f->rhave)
			emit_region(f, f->in->size, 0);
		*t->rep = saved;
	}
	return r;
}

static int write_reg(struct tar *t, const struct sv_walk_entry *e, const char *name, size_t nlen)
{
	const struct sv_inode *in = e->in;
	struct fdata f;
	memset(&f, 0, sizeof f);
	f.t = t;
	f.in = in;
	struct hdr m = { '0', name, nlen, NULL, 0, in->size, NULL, 0, true };
	sv_truth_file_begin(&t->tr, e);
	if (in->flags & EXT4_INLINE_DATA_FL) {
		/* read once (damage reported once); a size past the inline bytes is a hole */
		f.inl = true;
		int ist = sv_inline_read(t->fs, in, t->buf, t->bufcap, &f.ilen);
		if (f.ilen > in->size)
			f.ilen = (size_t)in->size;
		if (ist != SV_OK && ist != SV_ERR_CSUM)
			sv_truth_inline_bad(&t->tr, f.ilen);
	}
	if (!t->o->no_sparse && in->size > 0) {
		map_pass(t, &f, PH_COUNT);
		if (f.data < in->size) {
			f.sparse = true;
			f.maptext += ndigits(f.nreg) + 1;
			uint64_t total = f.maptext + pad512(f.maptext) + f.data;
			m.size = total;
			struct tbuf b = { 0 };
			pax_rec(&b, "GNU.sparse.major", "1", 1);
			pax_rec(&b, "GNU.sparse.minor", "0", 1);
			pax_rec(&b, "GNU.sparse.name", name, nlen);
			pax_num(&b, "GNU.sparse.realsize", in->size);
			if (b.oom) {
				free(b.p);
				return SV_ERR_NOMEM;
			}
			m.sparse = b.p;
			m.sparse_len = b.len;
			int st = write_header(t, e, &m);
			free(b.p);
			if (st)
				return st;
			char hd[32];
			int k = snprintf(hd, sizeof hd, "%llu\n", (unsigned long long)f.nreg);
			out_put(t, hd, (size_t)k);
			f.nreg = 0;
			map_pass(t, &f, PH_MAP);
			out_zeros(t, pad512(f.maptext));
			f.left = f.data;
			int ms = map_pass(t, &f, PH_DATA);
			data_zeros(&f, f.left);
			out_zeros(t, pad512(total));
			t->st->files++;
			if (t->werr)
				return SV_ERR_IO;
			sv_truth_file_end(&t->tr, ms);
			return SV_OK;
		}
	}
	int st = write_header(t, e, &m);
	if (st)
		return st;
	f.left = in->size;
	f.sparse = false;
	int ms = map_pass(t, &f, PH_DATA);
	data_zeros(&f, f.left);
	out_zeros(t, pad512(in->size));
	t->st->files++;
	if (t->werr)
		return SV_ERR_IO;
	sv_truth_file_end(&t->tr, ms);
	return SV_OK;
}

/* ---- members ---- */
static int tar_entry(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct tar *t = ctx;
	if (ev == SV_WALK_LEAVE) {
		sv_truth_idle(&t->tr);
		return 0;
	}
	int kind;
	if (sv_select_skip(&t->o->sel, e, &kind)) {
		t->st->skipped++;
		if (t->o->note)
			t->o->note(t->o->note_ctx, kind, e->path,
				   kind == SV_NOTE_EXCLUDED ? "excluded" : "skipped: larger than --max-size");
		return SV_WALK_SKIP;
	}
	const struct sv_inode *in = e->in;
	unsigned type = in->mode & SV_IFMT;
	if (type == SV_IFSOCK) {
		t->st->skipped++;
		if (t->o->note)
			t->o->note(t->o->note_ctx, SV_NOTE_SOCKET, e->path, "socket left out (tar cannot store sockets)");
		return SV_WALK_SKIP;
	}
	if ((type == SV_IFREG || type == SV_IFLNK) && (in->flags & EXT4_ENCRYPT_FL)) {
		sv_report(t->rep, SV_PB_ENCRYPTED, in->ino, SV_NOBLOCK,
			  "inode %u is encrypted and there is no key; it is left out of the archive", in->ino);
		t->st->failed++;
		return SV_WALK_SKIP;
	}
	/* member name: root name, then the path below it; directories end in '/' */
	struct tbuf *nm = &t->name;
	nm->len = 0;
	nm->oom = false;
	tb_str(nm, t->root_name);
	if (e->depth) {
		tb_add(nm, "/", 1);
		tb_add(nm, e->rel, e->rel_len);
	}
	if (ev == SV_WALK_ENTER)
		tb_add(nm, "/", 1);
	if (nm->oom)
		return SV_ERR_NOMEM;
	struct hdr m = { 0, nm->p, nm->len, NULL, 0, 0, NULL, 0, true };
	int st;
	if (e->link_rel) {
		struct tbuf *lk = &t->link;
		lk->len = 0;
		lk->oom = false;
		tb_str(lk, t->root_name);
		tb_add(lk, "/", 1);
		tb_str(lk, e->link_rel);
		if (lk->oom)
			return SV_ERR_NOMEM;
		m.type = '1';
		m.link = lk->p;
		m.link_len = lk->len;
		m.xattrs = false;
		st = write_header(t, e, &m);
		t->st->hardlinks++;
		if (st == SV_OK)
			sv_truth_link(&t->tr, e);
		return st;
	}
	switch (type) {
	case SV_IFDIR:
		m.type = '5';
		t->st->dirs++;
		st = write_header(t, e, &m);
		if (st == SV_OK && !e->repeat)
			sv_truth_dir(&t->tr, e);   /* the walk reads its entries next */
		return st;
	case SV_IFREG:
		return write_reg(t, e, nm->p, nm->len);
	case SV_IFLNK: {
		size_t len = 0;
		st = sv_symlink_read(t->fs, in, (char *)t->buf, t->bufcap, &len);
		if (st != SV_OK && st != SV_ERR_CSUM && !len) {
			sv_report(t->rep, SV_PB_SYMLINK, in->ino, SV_NOBLOCK,
				  "symlink inode %u: target cannot be read (%s); left out", in->ino, sv_strerror(st));
			t->st->failed++;
			return SV_WALK_SKIP;
		}
		m.type = '2';
		m.link = (const char *)t->buf;
		m.link_len = strnlen(m.link, len);
		t->st->symlinks++;
		return write_header(t, e, &m);
	}
	case SV_IFIFO:
		m.type = '6';
		t->st->specials++;
		return write_header(t, e, &m);
	case SV_IFCHR:
	case SV_IFBLK:
		m.type = type == SV_IFCHR ? '3' : '4';
		t->st->specials++;
		return write_header(t, e, &m);
	default:
		sv_report(t->rep, SV_PB_INODE, e->ino, SV_NOBLOCK,
			  "inode %u has an unknown file type (mode %06o); left out", e->ino, in->mode);
		t->st->failed++;
		return SV_WALK_SKIP;
	}
}

int sv_tar(struct sv_fs *fs, uint32_t ino, const char *path, const struct sv_tar_opts *o,
	   struct sv_export_stats *st, char *err, size_t errlen)
{
	struct sv_report dummy;
	memset(&dummy, 0, sizeof dummy);
	memset(st, 0, sizeof *st);
	struct tar t;
	memset(&t, 0, sizeof t);
	t.fs = fs;
	t.rep = sv_fs_report(fs) ? sv_fs_report(fs) : &dummy;
	t.o = o;
	t.st = st;
	t.bsize = sv_fs_block_size(fs);
	t.bufcap = CHUNK < t.bsize ? t.bsize : CHUNK;

	const char *p = path && *path ? path : "/";
	size_t plen = strlen(p);
	while (plen > 0 && p[plen - 1] == '/')
		plen--;
	size_t base = plen;
	while (base > 0 && p[base - 1] != '/')
		base--;
	char *root = NULL;
	size_t blen = plen - base;
	if (blen == 0 || (blen == 1 && p[base] == '.') || (blen == 2 && p[base] == '.' && p[base + 1] == '.'))
		root = strdup(".");
	else if ((root = malloc(blen + 1)))
		snprintf(root, blen + 1, "%.*s", (int)blen, p + base);
	t.root_name = root;
	t.out = malloc(OUTCAP);
	/* Page-aligned: the kernel copies into an aligned buffer several times faster. */
	if (posix_memalign((void **)&t.buf, 4096, t.bufcap) != 0)
		t.buf = NULL;
	sv_os_grow_pipe(o->fd);
	int r = SV_ERR_NOMEM;
	if (root && t.out && t.buf &&
	    sv_truth_begin(&t.tr, fs, t.rep, o->damage, o->file_done, o->file_done_ctx) == SV_OK) {
		r = sv_walk(fs, ino, p, NULL, tar_entry, &t);
		sv_truth_end(&t.tr);
		if (r == SV_OK || t.werr) {
			out_zeros(&t, 2 * BLK);  /* end of archive */
			out_flush(&t);
		}
	}
	if (t.werr) {
		snprintf(err, errlen, "writing the archive failed: %s; the archive is incomplete", strerror(t.werr));
		r = SV_ERR_IO;
	} else if (r != SV_OK) {
		snprintf(err, errlen, "archive stopped: %s; the archive is incomplete", sv_strerror(r));
	}
	free(t.name.p);
	free(t.link.p);
	free(t.pax.p);
	free(t.sparse_name.p);
	free(root);
	free(t.out);
	free(t.buf);
	return r;
}
