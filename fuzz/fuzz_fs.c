/* fuzz_fs.c: libFuzzer harness for the filesystem reader and the exporters: the input is an ext2/3/4
 * image; it is opened, walked, every file's content, symlink target and xattrs are read, and the
 * whole tree is archived with sv_tar to /dev/null. The harness sets no budget of its own: any
 * hang is the library's (libFuzzer's -timeout reports it). */
#include "fuzz.h"
#include "export/export.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK (64u << 10)          /* the largest block size */

struct ctx {
	struct sv_fs *fs;
	uint8_t *buf;                  /* CHUNK bytes */
	const struct sv_inode *in;
	uint32_t bsize;
};

static int xattr_cb(void *ctx, const struct sv_xattr *x)
{
	(void)ctx;
	fuzz_sink_bytes += strlen(x->name) + x->value_len + (x->value_len ? x->value[x->value_len - 1] : 0);
	return 0;
}

/* For each mapped run inside i_size, read its first block through sv_file_read. */
static int run_cb(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	struct ctx *c = ctx;
	(void)pblk; (void)len; (void)flags;
	uint64_t off;
	if (!sv_mul64(lblk, c->bsize, &off) || off >= c->in->size)
		return 0;
	uint64_t n = c->in->size - off < c->bsize ? c->in->size - off : c->bsize;
	sv_file_read(c->fs, c->in, off, c->buf, (size_t)n);
	return 0;
}

static void read_content(struct ctx *c, const struct sv_inode *in)
{
	uint64_t n = in->size < CHUNK ? in->size : CHUNK;
	sv_file_read(c->fs, in, 0, c->buf, (size_t)n);
	if (in->size > CHUNK)
		sv_file_read(c->fs, in, in->size - 1, c->buf, 1);
	if (in->flags & EXT4_INLINE_DATA_FL) {
		size_t len;
		sv_inline_read(c->fs, in, c->buf, CHUNK, &len);
		return;
	}
	c->in = in;
	sv_file_map(c->fs, in, run_cb, c);
}

static int walk_cb(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct ctx *c = ctx;
	if (ev == SV_WALK_LEAVE)
		return 0;
	fuzz_sink_bytes += strlen(e->path) + e->rel_len + e->name_len + (e->link_rel ? strlen(e->link_rel) : 0);
	unsigned type = e->in->mode & SV_IFMT;
	if (type == SV_IFREG && !e->link_rel)
		read_content(c, e->in);
	if (type == SV_IFLNK) {
		char target[4097];
		size_t len;
		sv_symlink_read(c->fs, e->in, target, sizeof target, &len);
	}
	sv_xattr_iterate(c->fs, e->in, xattr_cb, c);
	return 0;
}

static void note_cb(void *ctx, int kind, const char *path, const char *msg)
{
	(void)ctx;
	fuzz_sink_bytes += (size_t)kind + (path ? strlen(path) : 0) + strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sink = -2;
	if (sink == -2)
		sink = open("/dev/null", O_WRONLY);
	struct sv_dev *dev;
	if (fuzz_dev(data, size, &dev) != SV_OK)
		return 0;
	struct sv_report rep = fuzz_report();
	struct sv_fs *fs = fuzz_fs_open(dev, &rep);
	if (fs) {
		struct ctx c = { fs, malloc(CHUNK), NULL, sv_fs_block_size(fs) };
		if (c.buf)
			sv_walk(fs, EXT4_ROOT_INO, "/", NULL, walk_cb, &c);
		free(c.buf);
		uint64_t bytes;
		struct sv_select sel = { NULL, 0, UINT64_MAX };
		sv_tree_bytes(fs, EXT4_ROOT_INO, "/", &sel, &bytes);
		if (sink >= 0) {
			struct sv_tar_opts to;
			memset(&to, 0, sizeof to);
			to.sel = sel;
			to.fd = sink;
			to.note = note_cb;
			struct sv_export_stats st;
			memset(&st, 0, sizeof st);
			char err[512];
			sv_tar(fs, EXT4_ROOT_INO, "/", &to, &st, err, sizeof err);
		}
		sv_fs_close(fs);
	}
	sv_dev_close(dev);
	return 0;
}
