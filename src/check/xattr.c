/* xattr.c: external extended attribute blocks (Documentation/filesystems/ext4/attributes.rst):
 * header, entries inside the block, values not overlapping, checksum, and reference counts
 * against the number of inodes that point at each block. */
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define EA_MAGIC 0xEA020000u

/* EA blocks met so far, found by block number through an open-addressing hash of index + 1
 * (a crafted image may give every inode its own block: a list would make pass 1 quadratic). */
static size_t ea_slot(const struct ck *c, uint64_t blk)
{
	size_t h = (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 20) & (c->eahcap - 1);
	while (c->eahash[h] && c->eas[c->eahash[h] - 1].blk != blk)
		h = (h + 1) & (c->eahcap - 1);
	return h;
}

static struct ea_ent *ea_find(struct ck *c, uint64_t blk)
{
	if (!c->eahcap)
		return NULL;
	size_t h = ea_slot(c, blk);
	return c->eahash[h] ? &c->eas[c->eahash[h] - 1] : NULL;
}

/* A new entry for blk (not yet there); NULL when out of memory or past the cap. */
static struct ea_ent *ea_add(struct ck *c, uint64_t blk)
{
	if (c->neas == c->capeas) {
		size_t nc = c->capeas ? c->capeas * 2 : 64;
		struct ea_ent *ne = nc <= (1u << 22) ? realloc(c->eas, nc * sizeof *ne) : NULL;
		if (!ne)
			return NULL;
		c->eas = ne;
		c->capeas = nc;
	}
	if ((c->neas + 1) * 2 > c->eahcap) {
		size_t nc = c->eahcap ? c->eahcap * 2 : 128;
		uint32_t *nh = calloc(nc, sizeof *nh);
		if (!nh)
			return NULL;
		free(c->eahash);
		c->eahash = nh;
		c->eahcap = nc;
		for (size_t i = 0; i < c->neas; i++)
			c->eahash[ea_slot(c, c->eas[i].blk)] = (uint32_t)i + 1;
	}
	struct ea_ent *e = &c->eas[c->neas++];
	memset(e, 0, sizeof *e);
	e->blk = blk;
	c->eahash[ea_slot(c, blk)] = (uint32_t)c->neas;
	return e;
}

static uint32_t entry_hash(const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
	uint32_t h = 0;
	for (size_t i = 0; i < nlen; i++)
		h = (h << 5) ^ (h >> 27) ^ (uint32_t)(int32_t)(signed char)name[i];
	for (size_t i = 0; i + 4 <= ((vlen + 3) & ~(size_t)3); i += 4) {
		uint8_t w[4] = { 0, 0, 0, 0 };
		memcpy(w, val + i, i + 4 <= vlen ? 4 : vlen - i);
		h = (h << 16) ^ (h >> 16) ^ sv_le32(w);
	}
	return h;
}

/* Validate the block's layout; returns a reason or NULL. */
static const char *ea_block_bad(struct ck *c, const uint8_t *b, uint64_t blk)
{
	if (sv_le32(b) != EA_MAGIC)
		return "bad magic number";
	if (sv_le32(b + 8) != 1)
		return "it claims to span several blocks";
	size_t pos = 32, end_entries = 32, min_val = c->bsize;
	for (unsigned n = 0; n < c->bsize / 16; n++) {
		if (pos + 4 > c->bsize)
			return "entries run past the end of the block";
		if (sv_le32(b + pos) == 0)
			break;
		if (pos + 16 > c->bsize)
			return "entries run past the end of the block";
		uint8_t nlen = b[pos];
		uint16_t voff = sv_le16(b + pos + 2);
		uint32_t vino = sv_le32(b + pos + 4), vsize = sv_le32(b + pos + 8), hash = sv_le32(b + pos + 12);
		size_t esz = (16 + (size_t)nlen + 3) & ~(size_t)3;
		if (pos + esz > c->bsize)
			return "an entry runs past the end of the block";
		if (vino) {
			c->cur_ea_inum = true;
			if (!vsize)
				return "an attribute kept in an EA inode has value size 0";
			if (!(c->sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_EA_INODE))
				return "an attribute refers to an EA inode but the filesystem lacks the ea_inode feature";
		}
		if (vino == 0 && vsize) {
			if ((size_t)voff + vsize > c->bsize || voff < 32)
				return "a value lies outside the block";
			if (voff < min_val)
				min_val = voff;
			if (hash && hash != entry_hash(b + pos + 16, nlen, b + voff, vsize))
				return "an entry's hash does not match its name and value";
		}
		pos += esz;
		end_entries = pos + 4;
	}
	if (end_entries > min_val)
		return "entries and values overlap";
	if (c->csum) {
		uint8_t le[8], tmp4[4] = { 0, 0, 0, 0 };
		sv_put_le32(le, (uint32_t)blk);
		sv_put_le32(le + 4, (uint32_t)(blk >> 32));
		uint32_t s = sv_crc32c(sv_fs_csum_seed(c->fs), le, 8);
		s = sv_crc32c(s, b, 0x10);
		s = sv_crc32c(s, tmp4, 4);
		s = sv_crc32c(s, b + 0x14, c->bsize - 0x14);
		if (s != sv_le32(b + 0x10))
			return "it fails its checksum";
	}
	return NULL;
}

void ck_xattr_block(struct ck *c, const struct sv_inode *in)
{
	uint64_t blk = in->file_acl;
	if (blk < c->sb->s_first_data_block || blk >= c->nblocks) {
		ck_err(c, SV_CK_XATTR, in->ino, blk, "extended attribute block %llu is outside the filesystem",
		       (unsigned long long)blk);
		return;
	}
	struct ea_ent *e = ea_find(c, blk);
	if (e) {
		e->refs++;
		if (!e->valid)
			ck_err(c, SV_CK_XATTR, in->ino, blk, "shares the damaged extended attribute block %llu",
			       (unsigned long long)blk);
		return;
	}
	if (!(e = ea_add(c, blk)))
		return;
	e->refs = 1;
	e->first_ino = in->ino;
	c->cur_ino = in->ino;
	c->cur_last_cluster = UINT64_MAX;
	ck_mark(c, blk, 1);
	if (sv_fs_read_block(c->fs, blk, c->buf2) != SV_OK) {
		ck_err(c, SV_CK_IO, in->ino, blk, "extended attribute block %llu is unreadable", (unsigned long long)blk);
		return;
	}
	const char *why = ea_block_bad(c, c->buf2, blk);
	e->h_refcount = sv_le32(c->buf2 + 4);
	if (why) {
		ck_err(c, SV_CK_XATTR, in->ino, blk, "extended attribute block %llu is damaged: %s",
		       (unsigned long long)blk, why);
		return;
	}
	e->valid = true;
}

void ck_xattr_refs(struct ck *c)
{
	for (size_t i = 0; i < c->neas; i++) {
		struct ea_ent *e = &c->eas[i];
		if (e->valid && e->h_refcount != e->refs)
			ck_err(c, SV_CK_XATTR, e->first_ino, e->blk, "extended attribute block %llu has reference count "
			       "%u, but %u inode%s use it", (unsigned long long)e->blk, e->h_refcount, e->refs,
			       e->refs == 1 ? "" : "s");
	}
}

/* Attributes in the inode body after i_extra_isize: entries, then values counted from the first
 * entry; finds system.data (index 7, "data") for inline data. */
void ck_xattr_ibody(struct ck *c, const struct sv_inode *in, bool *has_data)
{
	*has_data = false;
	size_t start = 128 + (size_t)sv_le16(in->raw + 0x80);
	if (c->isize <= 128 || start + 4 > in->raw_len || sv_le32(in->raw + start) != EA_MAGIC)
		return;
	const uint8_t *base = in->raw + start + 4;
	size_t room = in->raw_len - start - 4, pos = 0, min_val = room;
	for (unsigned n = 0; n < room / 16 + 1; n++) {
		if (pos + 4 > room || sv_le32(base + pos) == 0)
			break;
		if (pos + 16 > room) {
			ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "extended attributes in the inode run past its end");
			return;
		}
		uint8_t nlen = base[pos], idx = base[pos + 1];
		uint16_t voff = sv_le16(base + pos + 2);
		uint32_t vino = sv_le32(base + pos + 4), vsize = sv_le32(base + pos + 8);
		size_t esz = (16 + (size_t)nlen + 3) & ~(size_t)3;
		if (pos + esz > room) {
			ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "extended attributes in the inode run past its end");
			return;
		}
		if (idx == 7 && nlen == 4 && !memcmp(base + pos + 16, "data", 4))
			*has_data = true;
		if (vino) {
			c->cur_ea_inum = true;
			if (!(c->sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_EA_INODE))
				ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "an attribute refers to EA inode %u but the "
				       "filesystem lacks the ea_inode feature", vino);
			if (!vsize)
				ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "an attribute in EA inode %u has size 0", vino);
		} else if (vsize) {
			if ((size_t)voff + vsize > room) {
				ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "an extended attribute value in the inode lies "
				       "past its end");
				return;
			}
			if (voff < min_val)
				min_val = voff;
		}
		pos += esz;
	}
	if (pos + 4 > min_val && min_val < room)
		ck_err(c, SV_CK_XATTR, in->ino, SV_NOBLOCK, "extended attributes in the inode overlap their values "
		       "(allocation collision)");
}

/* Looks for the attribute (index, name) among n entries at base (room bytes); values are counted
 * from vbase (vroom bytes). Copies up to cap bytes of the value; returns its size, or -1. */
static long ea_scan(const uint8_t *base, size_t room, const uint8_t *vbase, size_t vroom, uint8_t idx,
		    const char *name, uint8_t *val, size_t cap)
{
	size_t nl = strlen(name), pos = 0;
	for (unsigned n = 0; n < room / 16 + 1; n++) {
		if (pos + 16 > room || sv_le32(base + pos) == 0)
			return -1;
		uint8_t elen = base[pos];
		size_t esz = (16 + (size_t)elen + 3) & ~(size_t)3;
		if (pos + esz > room)
			return -1;
		if (base[pos + 1] == idx && elen == nl && !memcmp(base + pos + 16, name, nl)) {
			uint16_t voff = sv_le16(base + pos + 2);
			uint32_t vsize = sv_le32(base + pos + 8);
			if (sv_le32(base + pos + 4) || (size_t)voff + vsize > vroom)
				return (long)(vsize > 0x7fffffff ? 0x7fffffff : vsize);
			memcpy(val, vbase + voff, vsize < cap ? vsize : cap);
			return (long)vsize;
		}
		pos += esz;
	}
	return -1;
}

long ck_xattr_get(struct ck *c, const struct sv_inode *in, uint8_t idx, const char *name, uint8_t *val, size_t cap)
{
	size_t start = 128 + (size_t)sv_le16(in->raw + 0x80);
	if (c->isize > 128 && start + 4 <= in->raw_len && sv_le32(in->raw + start) == EA_MAGIC) {
		const uint8_t *base = in->raw + start + 4;
		size_t room = in->raw_len - start - 4;
		long r = ea_scan(base, room, base, room, idx, name, val, cap);
		if (r >= 0)
			return r;
	}
	if (!in->file_acl || in->file_acl >= c->nblocks)
		return -1;
	uint8_t *b = malloc(c->bsize);
	long r = -1;
	if (b && sv_fs_read_block(c->fs, in->file_acl, b) == SV_OK && sv_le32(b) == EA_MAGIC)
		r = ea_scan(b + 32, c->bsize - 32, b, c->bsize, idx, name, val, cap);
	free(b);
	return r;
}
