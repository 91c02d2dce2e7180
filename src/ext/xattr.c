/* xattr.c: extended attributes in the inode body and in an external block, and values stored in
 * their own inode (ea_inode) (Documentation/filesystems/ext4/attributes.rst). POSIX ACLs are
 * converted from ext4's compact on-disk form to the form Linux's getxattr returns. */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EA_MAGIC 0xEA020000u
#define EA_VALUE_MAX 65536u    /* Linux XATTR_SIZE_MAX */

static const char *const prefixes[] = {
	[1] = "user.", [2] = "system.posix_acl_access", [3] = "system.posix_acl_default",
	[4] = "trusted.", [6] = "security.", [7] = "system.", [8] = "system.richacl",
};

struct ea_entry {
	uint8_t name_len, name_index;
	uint16_t value_offs;
	uint32_t value_inum, value_size;
	const uint8_t *name;
};

/* Convert an ext4 ACL (version 1, short entries for USER_OBJ/GROUP_OBJ/MASK/OTHER) to the
 * posix_acl_xattr form (version 2, 8-byte entries). Returns the new length or 0 if malformed. */
static size_t acl_to_xattr(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	if (len < 4 || sv_le32(in) != 1 || cap < 4)
		return 0;
	sv_put_le32(out, 2);
	size_t o = 4;
	struct sv_cur c = sv_cur_make(in + 4, len - 4);
	while (c.pos < c.len) {
		uint16_t tag = sv_cur_le16(&c), perm = sv_cur_le16(&c);
		uint32_t id = 0xFFFFFFFFu;
		if (tag == 2 || tag == 8) /* ACL_USER, ACL_GROUP carry an id */
			id = sv_cur_le32(&c);
		if (c.bad || o + 8 > cap)
			return 0;
		sv_put_le16(out + o, tag);
		sv_put_le16(out + o + 2, perm);
		sv_put_le32(out + o + 4, id);
		o += 8;
	}
	return o;
}

/* Value of an ea_inode attribute: the data of inode value_inum. */
static int ea_inode_value(struct sv_fs *fs, const struct sv_inode *owner, uint32_t vino, uint32_t size,
			  uint8_t *buf)
{
	struct sv_inode vi;
	int st = sv_inode_read(fs, vino, &vi);
	if (st != SV_OK && st != SV_ERR_CSUM)
		return SV_ERR_CORRUPT;
	if (!(vi.flags & EXT4_EA_INODE_FL) || vi.size < size) {
		sv_report(fs->rep, SV_PB_XATTR, owner->ino, SV_NOBLOCK,
			  "inode %u: extended attribute value inode %u is not a valid value inode", owner->ino, vino);
		return SV_ERR_CORRUPT;
	}
	return sv_file_read(fs, &vi, 0, buf, size);
}

/* Walk the entries of one xattr area. base: where value offsets count from; area: entries start. */
typedef int (*entry_fn)(void *ctx, const struct ea_entry *e, const uint8_t *value);

static int walk_entries(struct sv_fs *fs, const struct sv_inode *in, const uint8_t *base, size_t base_len,
			size_t first, uint64_t blk, entry_fn fn, void *ctx)
{
	size_t pos = first;
	unsigned count = 0;
	while (pos + 4 <= base_len && sv_le32(base + pos) != 0) {
		if (pos + 16 > base_len || ++count > 4096)
			goto bad;
		struct ea_entry e;
		e.name_len = base[pos];
		e.name_index = base[pos + 1];
		e.value_offs = sv_le16(base + pos + 2);
		e.value_inum = sv_le32(base + pos + 4);
		e.value_size = sv_le32(base + pos + 8);
		if (pos + 16 + e.name_len > base_len)
			goto bad;
		e.name = base + pos + 16;
		const uint8_t *value = NULL;
		if (!e.value_inum) {
			size_t vbase = blk == SV_NOBLOCK ? first : 0;  /* in-inode offsets count from the first entry */
			if (e.value_size > base_len || vbase + e.value_offs > base_len - e.value_size)
				goto bad;
			value = base + vbase + e.value_offs;
		}
		int r = fn(ctx, &e, value);
		if (r)
			return r;
		pos += (16 + e.name_len + 3) & ~3u;
	}
	return SV_OK;
bad:
	sv_report(fs->rep, SV_PB_XATTR, in->ino, blk,
		  "inode %u: extended attribute %s is damaged; attributes after the damage are lost", in->ino,
		  blk == SV_NOBLOCK ? "area in the inode" : "block");
	return SV_ERR_CORRUPT;
}

static int ibody_area(const struct sv_fs *fs, const struct sv_inode *in, size_t *start)
{
	size_t s = 128 + (size_t)in->extra_isize;
	if (fs->inode_size <= 128 || s + 4 > in->raw_len || sv_le32(in->raw + s) != EA_MAGIC)
		return SV_ERR_NOTFOUND;
	*start = s + 4;
	return SV_OK;
}

struct find_ctx {
	int index;
	const char *name;
	uint8_t *buf;
	size_t cap, *len;
	bool found;
};

static int find_cb(void *ctx, const struct ea_entry *e, const uint8_t *value)
{
	struct find_ctx *f = ctx;
	size_t nl = strlen(f->name);
	if (e->name_index != f->index || e->name_len != nl || memcmp(e->name, f->name, nl) || !value)
		return 0;
	size_t n = e->value_size < f->cap ? e->value_size : f->cap;
	memcpy(f->buf, value, n);
	*f->len = n;
	f->found = true;
	return 1;
}

int sv_xattr_ibody_find(struct sv_fs *fs, const struct sv_inode *in, int index, const char *name, uint8_t *buf,
			size_t cap, size_t *len)
{
	size_t start;
	*len = 0;
	if (ibody_area(fs, in, &start) != SV_OK)
		return SV_ERR_NOTFOUND;
	struct find_ctx f = { index, name, buf, cap, len, false };
	/* The value offsets are relative to the first entry, i.e. to raw + start. */
	int r = walk_entries(fs, in, in->raw + start, in->raw_len - start, 0, SV_NOBLOCK, find_cb, &f);
	if (f.found)
		return SV_OK;
	return r < 0 ? r : SV_ERR_NOTFOUND;
}

struct it_ctx {
	struct sv_fs *fs;
	const struct sv_inode *in;
	sv_xattr_fn fn;
	void *ctx;
	uint8_t *vbuf;     /* EA_VALUE_MAX bytes for ea_inode values and ACL conversion */
	bool in_block;     /* walking the external block (shared between inodes) */
	int st;
};

/* A value kept outside the inode (in the xattr block or an ea_inode) may be shared by every inode;
 * the bytes such values give out in all are bounded by half the device (struct sv_claims). */
static bool shared_value_ok(struct it_ctx *c, const struct ea_entry *e)
{
	struct sv_claims *cl = &c->fs->claims;
	if (cl->off || (!c->in_block && !e->value_inum))
		return true;
	if (e->value_size <= cl->xattr_left) {
		cl->xattr_left -= e->value_size;
		return true;
	}
	if (cl->xattr_told++ < 4)
		sv_report(c->fs->rep, SV_PB_XATTR, c->in->ino, SV_NOBLOCK,
			  "inode %u: extended attribute values shared between inodes already gave out more than half "
			  "the device; this one (%u bytes) and later ones are left out", c->in->ino, e->value_size);
	c->st = SV_ERR_CORRUPT;
	return false;
}

static int it_cb(void *ctx, const struct ea_entry *e, const uint8_t *value)
{
	struct it_ctx *c = ctx;
	if (e->name_index == 7 && e->name_len == 4 && !memcmp(e->name, "data", 4))
		return 0;   /* system.data holds inline data, not a user-visible attribute */
	const char *pfx = e->name_index < sizeof prefixes / sizeof prefixes[0] ? prefixes[e->name_index] : NULL;
	if (!pfx) {
		sv_report(c->fs->rep, SV_PB_XATTR, c->in->ino, SV_NOBLOCK,
			  "inode %u: extended attribute with unknown name index %u skipped", c->in->ino, e->name_index);
		c->st = SV_ERR_CORRUPT;
		return 0;
	}
	if (!shared_value_ok(c, e))
		return 0;
	char name[300];
	snprintf(name, sizeof name, "%s%.*s", pfx, (int)e->name_len, (const char *)e->name);
	size_t vlen = e->value_size;
	if (e->value_inum) {
		if (vlen > EA_VALUE_MAX || ea_inode_value(c->fs, c->in, e->value_inum, (uint32_t)vlen, c->vbuf) != SV_OK) {
			c->st = SV_ERR_CORRUPT;
			return 0;
		}
		value = c->vbuf;
	}
	/* An ACL read into vbuf (ea_inode) is converted into its upper half; one too long for the lower
	 * half would overlap its own output, and is no real ACL (ext4 stores at most 32 entries). */
	if ((e->name_index == 2 || e->name_index == 3) && !(value == c->vbuf && vlen > EA_VALUE_MAX / 2)) {
		uint8_t *conv = c->vbuf + (value == c->vbuf ? EA_VALUE_MAX / 2 : 0);
		size_t n = acl_to_xattr(value, vlen, conv, EA_VALUE_MAX / 2);
		if (n) {
			value = conv;
			vlen = n;
		}
	}
	struct sv_xattr x = { name, value, vlen };
	return c->fn(c->ctx, &x);
}

/* External xattr block header: magic, refcount, h_blocks == 1, hash, checksum (attributes.rst). */
static int block_area(struct sv_fs *fs, const struct sv_inode *in, uint8_t *buf)
{
	uint64_t blk = in->file_acl;
	if (!sv_blk_ok(fs, blk)) {
		sv_report(fs->rep, SV_PB_XATTR, in->ino, blk,
			  "inode %u: extended attribute block %llu is outside the filesystem", in->ino,
			  (unsigned long long)blk);
		return SV_ERR_CORRUPT;
	}
	if (sv_fs_read_block(fs, blk, buf) != SV_OK)
		return SV_ERR_IO;
	if (sv_le32(buf) != EA_MAGIC || sv_le32(buf + 8) != 1) {
		sv_report(fs->rep, SV_PB_XATTR, in->ino, blk,
			  "inode %u: extended attribute block %llu has no valid header", in->ino, (unsigned long long)blk);
		return SV_ERR_CORRUPT;
	}
	if (fs->has_csum) {
		uint8_t le[8];
		uint32_t stored = sv_le32(buf + 0x10);
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(blk >> (8 * i));
		sv_put_le32(buf + 0x10, 0);
		uint32_t c = sv_crc32c(fs->csum_seed, le, 8);
		c = sv_crc32c(c, buf, fs->bsize);
		sv_put_le32(buf + 0x10, stored);
		if (c != stored)
			sv_report(fs->rep, SV_PB_XATTR_CSUM, in->ino, blk,
				  "inode %u: extended attribute block %llu fails its checksum; using it anyway", in->ino,
				  (unsigned long long)blk);
	}
	return SV_OK;
}

int sv_xattr_iterate(struct sv_fs *fs, const struct sv_inode *in, sv_xattr_fn fn, void *ctx)
{
	struct it_ctx c = { fs, in, fn, ctx, malloc(EA_VALUE_MAX), false, SV_OK };
	if (!c.vbuf)
		return SV_ERR_NOMEM;
	int r = 0;
	size_t start;
	if (ibody_area(fs, in, &start) == SV_OK)
		r = walk_entries(fs, in, in->raw + start, in->raw_len - start, 0, SV_NOBLOCK, it_cb, &c);
	if (r < 0) {
		c.st = r;
		r = 0;
	}
	if (!r && in->file_acl) {
		uint8_t *buf = malloc(fs->bsize);
		if (!buf)
			r = SV_ERR_NOMEM;
		else if ((r = block_area(fs, in, buf)) == SV_OK) {
			c.in_block = true;
			r = walk_entries(fs, in, buf, fs->bsize, 32, in->file_acl, it_cb, &c);
		}
		if (r < 0) {
			c.st = r;
			r = 0;
		}
		free(buf);
	}
	free(c.vbuf);
	return r ? r : c.st;
}
