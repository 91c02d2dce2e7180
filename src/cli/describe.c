/* describe.c: words for a filesystem: its kind (ext2/3/4), state, features, and what it looks like
 * (a root filesystem, /home, a mail spool), shared by probe and info. */
#include "describe.h"
#include <stdlib.h>
#include <string.h>

const char *desc_fs_kind(const struct sv_super *sb)
{
	uint32_t ext4_incompat = EXT4_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT |
				 EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT4_FEATURE_INCOMPAT_INLINE_DATA |
				 EXT4_FEATURE_INCOMPAT_EA_INODE | EXT4_FEATURE_INCOMPAT_LARGEDIR |
				 EXT4_FEATURE_INCOMPAT_CASEFOLD | EXT4_FEATURE_INCOMPAT_ENCRYPT |
				 EXT4_FEATURE_INCOMPAT_MMP | EXT4_FEATURE_INCOMPAT_CSUM_SEED;
	uint32_t ext4_ro = EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_GDT_CSUM |
			   EXT4_FEATURE_RO_COMPAT_DIR_NLINK | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE |
			   EXT4_FEATURE_RO_COMPAT_BIGALLOC | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM |
			   EXT4_FEATURE_RO_COMPAT_QUOTA | EXT4_FEATURE_RO_COMPAT_PROJECT | EXT4_FEATURE_RO_COMPAT_VERITY;
	if (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_JOURNAL_DEV)
		return "ext journal device";
	if ((sb->s_feature_incompat & ext4_incompat) || (sb->s_feature_ro_compat & ext4_ro))
		return "ext4";
	if (sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL)
		return "ext3";
	return "ext2";
}

const char *desc_fs_state(const struct sv_super *sb)
{
	if ((sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_RECOVER) &&
	    (sb->s_feature_compat & EXT4_FEATURE_COMPAT_HAS_JOURNAL))
		return "needs journal recovery (was not unmounted cleanly)";
	if (sb->s_state & 2)
		return "not clean: errors were detected";
	if (!(sb->s_state & 1))
		return "not clean (was not unmounted cleanly)";
	return "clean";
}

static const struct { uint32_t bit; int word; const char *name; } features[] = {
	{ EXT4_FEATURE_COMPAT_HAS_JOURNAL, 0, "has_journal" }, { EXT4_FEATURE_COMPAT_EXT_ATTR, 0, "ext_attr" },
	{ EXT4_FEATURE_COMPAT_RESIZE_INODE, 0, "resize_inode" }, { EXT4_FEATURE_COMPAT_DIR_INDEX, 0, "dir_index" },
	{ EXT4_FEATURE_COMPAT_SPARSE_SUPER2, 0, "sparse_super2" }, { EXT4_FEATURE_COMPAT_FAST_COMMIT, 0, "fast_commit" },
	{ EXT4_FEATURE_COMPAT_STABLE_INODES, 0, "stable_inodes" }, { EXT4_FEATURE_COMPAT_ORPHAN_FILE, 0, "orphan_file" },
	{ EXT4_FEATURE_INCOMPAT_FILETYPE, 1, "filetype" }, { EXT4_FEATURE_INCOMPAT_RECOVER, 1, "needs_recovery" },
	{ EXT4_FEATURE_INCOMPAT_JOURNAL_DEV, 1, "journal_dev" }, { EXT4_FEATURE_INCOMPAT_META_BG, 1, "meta_bg" },
	{ EXT4_FEATURE_INCOMPAT_EXTENTS, 1, "extent" }, { EXT4_FEATURE_INCOMPAT_64BIT, 1, "64bit" },
	{ EXT4_FEATURE_INCOMPAT_MMP, 1, "mmp" }, { EXT4_FEATURE_INCOMPAT_FLEX_BG, 1, "flex_bg" },
	{ EXT4_FEATURE_INCOMPAT_EA_INODE, 1, "ea_inode" }, { EXT4_FEATURE_INCOMPAT_DIRDATA, 1, "dirdata" },
	{ EXT4_FEATURE_INCOMPAT_CSUM_SEED, 1, "metadata_csum_seed" }, { EXT4_FEATURE_INCOMPAT_LARGEDIR, 1, "large_dir" },
	{ EXT4_FEATURE_INCOMPAT_INLINE_DATA, 1, "inline_data" }, { EXT4_FEATURE_INCOMPAT_ENCRYPT, 1, "encrypt" },
	{ EXT4_FEATURE_INCOMPAT_CASEFOLD, 1, "casefold" },
	{ EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER, 2, "sparse_super" }, { EXT4_FEATURE_RO_COMPAT_LARGE_FILE, 2, "large_file" },
	{ EXT4_FEATURE_RO_COMPAT_HUGE_FILE, 2, "huge_file" }, { EXT4_FEATURE_RO_COMPAT_GDT_CSUM, 2, "uninit_bg" },
	{ EXT4_FEATURE_RO_COMPAT_DIR_NLINK, 2, "dir_nlink" }, { EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE, 2, "extra_isize" },
	{ EXT4_FEATURE_RO_COMPAT_QUOTA, 2, "quota" }, { EXT4_FEATURE_RO_COMPAT_BIGALLOC, 2, "bigalloc" },
	{ EXT4_FEATURE_RO_COMPAT_METADATA_CSUM, 2, "metadata_csum" }, { EXT4_FEATURE_RO_COMPAT_READONLY, 2, "read-only" },
	{ EXT4_FEATURE_RO_COMPAT_PROJECT, 2, "project" }, { EXT4_FEATURE_RO_COMPAT_VERITY, 2, "verity" },
	{ EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT, 2, "orphan_present" },
};

void desc_features(const struct sv_super *sb, char *buf, size_t cap)
{
	uint32_t words[3] = { sb->s_feature_compat, sb->s_feature_incompat, sb->s_feature_ro_compat };
	uint32_t known[3] = { 0, 0, 0 };
	buf[0] = 0;
	size_t n = 0;
	for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
		known[features[i].word] |= features[i].bit;
		if (words[features[i].word] & features[i].bit)
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", features[i].name);
	}
	for (int w = 0; w < 3; w++)
		if (words[w] & ~known[w])
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%sunknown-%s-0x%x", n ? " " : "",
					      w == 0 ? "compat" : w == 1 ? "incompat" : "ro_compat", words[w] & ~known[w]);
}

void desc_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static bool path_kind(struct sv_fs *fs, const char *path, uint16_t want)
{
	uint32_t ino;
	struct sv_inode in;
	if (sv_path_resolve(fs, path, &ino) != SV_OK)
		return false;
	int st = sv_inode_read(fs, ino, &in);
	if (st != SV_OK && st != SV_ERR_CSUM)
		return false;
	return want == 0 || (in.mode & SV_IFMT) == want;
}

/* First line of a small file, printable characters only. */
static bool read_first_line(struct sv_fs *fs, const char *path, char *out, size_t cap)
{
	uint32_t ino;
	struct sv_inode in;
	if (sv_path_resolve(fs, path, &ino) != SV_OK)
		return false;
	int st = sv_inode_read(fs, ino, &in);
	if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFREG || in.size == 0)
		return false;
	char buf[256];
	size_t n = in.size < sizeof buf - 1 ? (size_t)in.size : sizeof buf - 1;
	if (sv_file_read(fs, &in, 0, buf, n) != SV_OK)
		return false;
	buf[n] = 0;
	size_t k = 0;
	while (k < n && k + 1 < cap && buf[k] != '\n' && buf[k] != '\r' && (unsigned char)buf[k] >= 0x20 &&
	       (unsigned char)buf[k] < 0x7f) {
		out[k] = buf[k];
		k++;
	}
	out[k] = 0;
	return k > 0;
}

struct homes {
	struct sv_fs *fs;
	int users;
	int entries;
};

static int home_cb(void *ctx, const struct sv_dirent *de)
{
	struct homes *h = ctx;
	if (de->name[0] == '.' || !strcmp(de->name, "lost+found"))
		return 0;
	if (++h->entries > 2000)
		return 1;
	struct sv_inode in;
	int st = sv_inode_read(h->fs, de->ino, &in);
	if ((st != SV_OK && st != SV_ERR_CSUM) || (in.mode & SV_IFMT) != SV_IFDIR)
		return 0;
	uint32_t x;
	static const char *const dots[] = { ".bashrc", ".profile", ".bash_history", ".ssh", ".config", ".cache" };
	for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++)
		if (sv_dir_lookup(h->fs, &in, dots[i], strlen(dots[i]), &x) == SV_OK) {
			h->users++;
			break;
		}
	return 0;
}

void desc_looks_like(struct sv_fs *fs, struct desc_look *l)
{
	memset(l, 0, sizeof *l);
	const struct sv_super *sb = sv_fs_super(fs);
	bool fstab = path_kind(fs, "/etc/fstab", SV_IFREG);
	bool init = path_kind(fs, "/sbin/init", 0) || path_kind(fs, "/usr/sbin/init", 0) ||
		    path_kind(fs, "/lib/systemd/systemd", 0) || path_kind(fs, "/usr/lib/systemd/systemd", 0) ||
		    path_kind(fs, "/etc/inittab", 0) || path_kind(fs, "/init", 0);
	l->root = fstab && init;
	l->has_fstab = fstab;
	l->has_init = init;
	read_first_line(fs, "/etc/hostname", l->hostname, sizeof l->hostname);
	if (!l->hostname[0])
		read_first_line(fs, "/etc/HOSTNAME", l->hostname, sizeof l->hostname);
	l->os[0] = 0;
	if (l->root) {
		char line[128];
		if (read_first_line(fs, "/etc/debian_version", line, sizeof line))
			snprintf(l->os, sizeof l->os, "Debian %.120s", line);
		else if (read_first_line(fs, "/etc/redhat-release", line, sizeof line))
			snprintf(l->os, sizeof l->os, "%.120s", line);
	}
	l->boot = !l->root && path_kind(fs, "/grub", SV_IFDIR) && !path_kind(fs, "/etc", SV_IFDIR);
	l->mail = path_kind(fs, "/var/spool/mail", SV_IFDIR) || path_kind(fs, "/var/mail", SV_IFDIR);
	if (!l->root && (path_kind(fs, "/spool/mail", SV_IFDIR) || path_kind(fs, "/mail", SV_IFDIR) ||
			 !strcmp(sb->s_last_mounted, "/var/mail") || !strcmp(sb->s_last_mounted, "/var/spool/mail")))
		l->mail = true;
	if (!l->root) {
		struct homes h = { fs, 0, 0 };
		uint32_t rino = EXT4_ROOT_INO;
		struct sv_inode root;
		int st = sv_inode_read(fs, rino, &root);
		if (st == SV_OK || st == SV_ERR_CSUM)
			sv_dir_iterate(fs, &root, home_cb, &h);
		l->home = h.users > 0 || !strcmp(sb->s_last_mounted, "/home");
		l->home_users = h.users;
	}
}

void desc_looks_text(const struct desc_look *l, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
	if (l->root) {
		ADD("a root filesystem (has /etc/fstab and an init)");
		if (l->os[0])
			ADD(", %s", l->os);
	} else if (l->home) {
		ADD("/home");
		if (l->home_users)
			ADD(" (%d user folder%s)", l->home_users, l->home_users == 1 ? "" : "s");
	} else if (l->boot) {
		ADD("/boot (has /grub)");
	}
	if (l->mail)
		ADD("%sa mail spool", n ? "; " : "");
	if (l->hostname[0])
		ADD("%shost name %s", n ? "; " : "", l->hostname);
	if (!n)
		ADD("data (no system layout recognised)");
#undef ADD
}
