/* fuzz_journal.c: libFuzzer harness for journal replay: the input is an ext3/ext4 image; its
 * journal is scanned and replayed into an in-memory overlay (as cli_replay does, but whether or not
 * the superblock asks for recovery), the filesystem is reopened on the overlay and walked, each
 * regular file's map is walked, and the orphan list is read. */
#include "fuzz.h"
#include "export/export.h"
#include "journal/journal.h"

static int run_cb(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags)
{
	(void)ctx;
	fuzz_sink_bytes += (size_t)(lblk + pblk + len + flags);
	return 0;
}

static int walk_cb(void *ctx, int ev, const struct sv_walk_entry *e)
{
	struct sv_fs *fs = ctx;
	if (ev == SV_WALK_FILE && (e->in->mode & SV_IFMT) == SV_IFREG && !e->link_rel &&
	    !(e->in->flags & EXT4_INLINE_DATA_FL))
		sv_file_map(fs, e->in, run_cb, NULL);
	return 0;
}

static int orphan_cb(void *ctx, const struct sv_orphan *o)
{
	(void)ctx;
	fuzz_sink_bytes += o->ino + (size_t)o->will_delete;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sv_dev *dev;
	if (fuzz_dev(data, size, &dev) != SV_OK)
		return 0;
	struct sv_report rep = fuzz_report();
	struct sv_fs *fs = fuzz_fs_open(dev, &rep);
	if (!fs) {
		sv_dev_close(dev);
		return 0;
	}
	struct sv_journal_info info;
	struct sv_dev *ov = NULL;
	struct sv_fs *view = fs;
	struct sv_fs *nfs = NULL;
	if (sv_journal_replay(fs, NULL, &rep, &ov, &info) == SV_OK && sv_overlay_count(ov) > 0 &&
	    info.stop != SV_JSTOP_FATAL && (nfs = fuzz_fs_open(ov, &rep)) != NULL)
		view = nfs;
	sv_walk(view, EXT4_ROOT_INO, "/", NULL, walk_cb, view);
	sv_orphan_each(view, &rep, orphan_cb, NULL);
	sv_fs_close(nfs);
	sv_dev_close(ov);
	sv_fs_close(fs);
	sv_dev_close(dev);
	return 0;
}
