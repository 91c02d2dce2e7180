/* ext.h: the ext2/ext3/ext4 reader. Opens a filesystem on a struct sv_dev, decodes the
 * superblock and group descriptors, reads inodes, maps file blocks (extents and block maps),
 * iterates directories, reads symlinks, inline data and extended attributes.
 * Everything on disk is untrusted: damage is reported to the sv_report given at open, and the
 * reader carries on where it can. Nothing here prints or exits. */
#ifndef SV_EXT_H
#define SV_EXT_H

#include "../base/base.h"
#include "../io/io.h"

/* ---- superblock (host-order copy of the fields salvage uses) ---- */
/* feature bits (Documentation/filesystems/ext4/super.rst) */
#define EXT4_FEATURE_COMPAT_DIR_PREALLOC 0x0001
#define EXT4_FEATURE_COMPAT_HAS_JOURNAL 0x0004
#define EXT4_FEATURE_COMPAT_EXT_ATTR 0x0008
#define EXT4_FEATURE_COMPAT_RESIZE_INODE 0x0010
#define EXT4_FEATURE_COMPAT_DIR_INDEX 0x0020
#define EXT4_FEATURE_COMPAT_SPARSE_SUPER2 0x0200
#define EXT4_FEATURE_COMPAT_FAST_COMMIT 0x0400
#define EXT4_FEATURE_COMPAT_STABLE_INODES 0x0800
#define EXT4_FEATURE_COMPAT_ORPHAN_FILE 0x1000
#define EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT4_FEATURE_RO_COMPAT_LARGE_FILE 0x0002
#define EXT4_FEATURE_RO_COMPAT_HUGE_FILE 0x0008
#define EXT4_FEATURE_RO_COMPAT_GDT_CSUM 0x0010
#define EXT4_FEATURE_RO_COMPAT_DIR_NLINK 0x0020
#define EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE 0x0040
#define EXT4_FEATURE_RO_COMPAT_QUOTA 0x0100
#define EXT4_FEATURE_RO_COMPAT_BIGALLOC 0x0200
#define EXT4_FEATURE_RO_COMPAT_METADATA_CSUM 0x0400
#define EXT4_FEATURE_RO_COMPAT_READONLY 0x1000
#define EXT4_FEATURE_RO_COMPAT_PROJECT 0x2000
#define EXT4_FEATURE_RO_COMPAT_VERITY 0x8000
#define EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT 0x10000
#define EXT4_FEATURE_INCOMPAT_COMPRESSION 0x0001
#define EXT4_FEATURE_INCOMPAT_FILETYPE 0x0002
#define EXT4_FEATURE_INCOMPAT_RECOVER 0x0004
#define EXT4_FEATURE_INCOMPAT_JOURNAL_DEV 0x0008
#define EXT4_FEATURE_INCOMPAT_META_BG 0x0010
#define EXT4_FEATURE_INCOMPAT_EXTENTS 0x0040
#define EXT4_FEATURE_INCOMPAT_64BIT 0x0080
#define EXT4_FEATURE_INCOMPAT_MMP 0x0100
#define EXT4_FEATURE_INCOMPAT_FLEX_BG 0x0200
#define EXT4_FEATURE_INCOMPAT_EA_INODE 0x0400
#define EXT4_FEATURE_INCOMPAT_DIRDATA 0x1000
#define EXT4_FEATURE_INCOMPAT_CSUM_SEED 0x2000
#define EXT4_FEATURE_INCOMPAT_LARGEDIR 0x4000
#define EXT4_FEATURE_INCOMPAT_INLINE_DATA 0x8000
#define EXT4_FEATURE_INCOMPAT_ENCRYPT 0x10000
#define EXT4_FEATURE_INCOMPAT_CASEFOLD 0x20000

/* inode flags */
#define EXT4_SECRM_FL 0x1
#define EXT4_COMPR_FL 0x4
#define EXT4_IMMUTABLE_FL 0x10
#define EXT4_APPEND_FL 0x20
#define EXT4_NODUMP_FL 0x40
#define EXT4_NOATIME_FL 0x80
#define EXT4_ENCRYPT_FL 0x800
#define EXT4_INDEX_FL 0x1000
#define EXT4_IMAGIC_FL 0x2000
#define EXT4_JOURNAL_DATA_FL 0x4000
#define EXT4_HUGE_FILE_FL 0x40000
#define EXT4_EXTENTS_FL 0x80000
#define EXT4_VERITY_FL 0x100000
#define EXT4_EA_INODE_FL 0x200000
#define EXT4_INLINE_DATA_FL 0x10000000
#define EXT4_PROJINHERIT_FL 0x20000000
#define EXT4_CASEFOLD_FL 0x40000000

#define EXT4_ROOT_INO 2
#define EXT4_JOURNAL_INO 8

struct sv_super {
	uint32_t s_inodes_count;
	uint64_t s_blocks_count;
	uint64_t s_r_blocks_count;
	uint64_t s_free_blocks_count;
	uint32_t s_free_inodes_count;
	uint32_t s_first_data_block;
	uint32_t s_log_block_size;
	uint32_t s_log_cluster_size;
	uint32_t s_blocks_per_group;
	uint32_t s_clusters_per_group;
	uint32_t s_inodes_per_group;
	int64_t s_mtime, s_wtime, s_mkfs_time, s_lastcheck;
	uint16_t s_mnt_count;
	int16_t s_max_mnt_count;
	uint16_t s_magic;
	uint16_t s_state;           /* 1 clean, 2 errors, 4 orphans being recovered */
	uint16_t s_errors;
	uint16_t s_minor_rev_level;
	uint32_t s_creator_os;
	uint32_t s_rev_level;
	uint16_t s_def_resuid, s_def_resgid;
	uint32_t s_first_ino;
	uint16_t s_inode_size;
	uint16_t s_block_group_nr;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat;
	uint8_t s_uuid[16];
	char s_volume_name[17];     /* NUL-terminated */
	char s_last_mounted[65];    /* NUL-terminated */
	uint16_t s_reserved_gdt_blocks;
	uint8_t s_journal_uuid[16];
	uint32_t s_journal_inum;
	uint32_t s_journal_dev;
	uint32_t s_last_orphan;
	uint32_t s_hash_seed[4];
	uint8_t s_def_hash_version;
	uint8_t s_jnl_backup_type;
	uint16_t s_desc_size;
	uint32_t s_default_mount_opts;
	uint32_t s_first_meta_bg;
	uint32_t s_jnl_blocks[17];
	uint16_t s_min_extra_isize, s_want_extra_isize;
	uint32_t s_flags;
	uint16_t s_mmp_interval;
	uint64_t s_mmp_block;
	uint32_t s_raid_stride, s_raid_stripe_width;
	uint8_t s_log_groups_per_flex;
	uint8_t s_checksum_type;
	uint64_t s_kbytes_written;
	uint32_t s_error_count;
	int64_t s_first_error_time, s_last_error_time;
	uint32_t s_first_error_ino, s_last_error_ino;
	uint64_t s_first_error_block, s_last_error_block;
	char s_first_error_func[33], s_last_error_func[33];
	uint32_t s_backup_bgs[2];   /* sparse_super2 */
	uint8_t s_encoding;
	uint16_t s_encoding_flags;
	uint32_t s_orphan_file_inum;
	uint32_t s_checksum_seed;
	uint32_t s_checksum;
	uint32_t s_usr_quota_inum, s_grp_quota_inum, s_prj_quota_inum;
	bool csum_ok;               /* metadata_csum superblock checksum verified (true if not applicable) */
};

/* Decode 1024 bytes of superblock. Returns SV_OK, or SV_ERR_CORRUPT with a reason in why. */
int sv_super_decode(const uint8_t *raw, size_t len, struct sv_super *sb, char *why, size_t whylen);

/* ---- group descriptors ---- */
struct sv_group {
	uint64_t bg_block_bitmap, bg_inode_bitmap, bg_inode_table;
	uint32_t bg_free_blocks_count, bg_free_inodes_count, bg_used_dirs_count, bg_itable_unused;
	uint16_t bg_flags;          /* 1 INODE_UNINIT, 2 BLOCK_UNINIT, 4 ITABLE_ZEROED */
	uint16_t bg_checksum;
	uint32_t bg_block_bitmap_csum, bg_inode_bitmap_csum;
	bool csum_ok;
};
#define EXT4_BG_INODE_UNINIT 1
#define EXT4_BG_BLOCK_UNINIT 2
#define EXT4_BG_INODE_ZEROED 4

/* ---- the open filesystem ---- */
struct sv_fs;
struct sv_fs_opts {
	struct sv_report *report;   /* where damage goes; may be NULL */
	int64_t sb_block;           /* -1: primary then backups; else this superblock (in blocks of sb_bsize) */
	uint32_t sb_bsize;          /* block size for sb_block (0: try all) */
	size_t cache_bytes;         /* block cache size; 0: default (8 MiB) */
};
/* Open: reads the superblock (falling back to backups when the primary is bad and
 * sb_block == -1), the group descriptors, and checks geometry. *out is set only on success.
 * err gets a person-readable reason on failure. */
int sv_fs_open(struct sv_dev *dev, const struct sv_fs_opts *opts, struct sv_fs **out, char *err, size_t errlen);
void sv_fs_close(struct sv_fs *fs);                          /* NULL-safe; does not close dev */
const struct sv_super *sv_fs_super(const struct sv_fs *fs);
struct sv_dev *sv_fs_dev(const struct sv_fs *fs);
struct sv_report *sv_fs_report(struct sv_fs *fs);
uint32_t sv_fs_block_size(const struct sv_fs *fs);
/* Groups whose descriptors were loaded: the superblock's count, bounded by the groups that start on
 * the device (rounded up to a whole flex group). Loops over groups use this, never the claim. */
uint32_t sv_fs_group_count(const struct sv_fs *fs);
/* Inodes those groups can hold: min(s_inodes_count, groups * s_inodes_per_group). Tables indexed
 * by inode number are sized from this, never from s_inodes_count alone. */
uint32_t sv_fs_inode_count(const struct sv_fs *fs);
/* Blocks the device really holds (the last may be partial): the base of every work budget. */
uint64_t sv_fs_dev_blocks(const struct sv_fs *fs);
const struct sv_group *sv_fs_group(const struct sv_fs *fs, uint32_t g); /* NULL if out of range */
/* Superblock actually used: 0 for the primary, else the block number (in fs block size) of the backup. */
uint64_t sv_fs_super_location(const struct sv_fs *fs);
/* Human-readable text on where the superblock came from ("primary", "backup at block 32768 (group 1)"). */
const char *sv_fs_super_source(const struct sv_fs *fs);
/* Checksum seed for metadata_csum (crc32c of uuid, or s_checksum_seed). */
uint32_t sv_fs_csum_seed(const struct sv_fs *fs);
bool sv_fs_has_csum(const struct sv_fs *fs);    /* metadata_csum */
/* Read one filesystem block (through the cache). Out-of-range blocks are reported and
 * zero-filled (SV_ERR_CORRUPT). */
int sv_fs_read_block(struct sv_fs *fs, uint64_t blk, void *buf);
/* Read count contiguous blocks straight from the device (bulk file data; bypasses the cache). */
int sv_fs_read_blocks(struct sv_fs *fs, uint64_t blk, uint64_t count, void *buf);
/* Superblock backup locations: true when group g holds a superblock backup. */
bool sv_fs_group_has_super(const struct sv_fs *fs, uint32_t g);
/* Replace the device the fs reads through (e.g. a journal overlay on top of it); flushes the cache. */
void sv_fs_set_dev(struct sv_fs *fs, struct sv_dev *dev);

/* ---- where the filesystem's own structures lie (layout.c) ----
 * For imaging what matters first and for saying what a bad sector hit. Per group, in group order:
 * the superblock copy and group descriptor blocks (and reserved GDT blocks), the block bitmap,
 * the inode bitmap, the inode table. Blocks outside the device are left out. Not the journal or
 * the per-file metadata: see sv_file_meta and s_journal_inum. */
enum sv_meta_kind {
	SV_META_SUPER = 1,        /* a superblock copy (the primary: block 0, or 1 with 1 KiB blocks) */
	SV_META_GDT,              /* group descriptor blocks */
	SV_META_RESERVED_GDT,     /* reserved GDT blocks (for growing) */
	SV_META_BLOCK_BITMAP,
	SV_META_INODE_BITMAP,
	SV_META_INODE_TABLE,      /* inodes group*s_inodes_per_group+1 ... in order, s_inode_size each */
	SV_META_EXTENT,           /* sv_file_meta: an extent tree node (index or leaf block) */
	SV_META_INDIRECT,         /* sv_file_meta: an indirect, double or triple indirect block */
	SV_META_XATTR,            /* sv_file_meta: the inode's extended attribute block (i_file_acl) */
};
const char *sv_meta_kind_name(int kind);   /* "inode table", "extent block", ... */
/* Called per run of blocks of one kind; nonzero stops (the value is returned). */
typedef int (*sv_layout_fn)(void *ctx, int kind, uint32_t group, uint64_t blk, uint64_t count);
int sv_fs_layout(struct sv_fs *fs, sv_layout_fn fn, void *ctx);
/* Where group g's superblock copy and descriptor blocks would lie (from the superblock alone, not
 * clipped to the device or the group): the superblock copy at sb_blk when has_super, gdt_n
 * descriptor blocks from gdt_blk, then rsv_n reserved GDT blocks (classic layout and meta_bg). */
struct sv_group_head {
	bool has_super;
	uint64_t sb_blk, gdt_blk, gdt_n, rsv_n;
};
void sv_fs_group_head(const struct sv_fs *fs, uint32_t g, struct sv_group_head *h);
struct sv_inode;
/* The blocks of inode in that are not its data: extent tree nodes, indirect blocks, the xattr
 * block; group is 0. Same walk rules as sv_file_map (each node once, device-bounded). */
struct sv_inode;
int sv_file_meta(struct sv_fs *fs, const struct sv_inode *in, sv_layout_fn fn, void *ctx);

/* ---- inodes ---- */
struct sv_inode {
	uint32_t ino;
	uint16_t mode;              /* i_mode: type bits (S_IFMT values are Linux's) and permissions */
	uint32_t uid, gid;          /* 32-bit (lo | hi << 16) */
	uint64_t size;              /* i_size, clamped to what the inode's map can address (sv_inode_size_max) */
	uint64_t size_on_disk;      /* i_size_lo | i_size_high << 32 as stored (differs only when clamped) */
	uint16_t links_count;
	int64_t atime, ctime, mtime, crtime, dtime;   /* seconds, with the extra epoch bits */
	uint32_t atime_ns, ctime_ns, mtime_ns, crtime_ns;
	bool has_crtime;
	uint32_t flags;
	uint64_t blocks;            /* i_blocks in 512-byte units (huge_file handled) */
	uint64_t file_acl;
	uint32_t generation;
	uint32_t projid;
	uint16_t extra_isize;
	uint8_t block[60];          /* i_block: extent root, block map, fast symlink, inline data head */
	uint16_t raw_len;           /* bytes of the on-disk inode (s_inode_size) */
	uint8_t raw[1024];          /* the raw on-disk inode (first raw_len bytes), for xattrs in the inode */
	bool csum_ok;               /* false when metadata_csum verification failed */
};
/* Linux S_IFMT values (on-disk, independent of the host) */
#define SV_IFMT 0170000
#define SV_IFSOCK 0140000
#define SV_IFLNK 0120000
#define SV_IFREG 0100000
#define SV_IFBLK 0060000
#define SV_IFDIR 0040000
#define SV_IFCHR 0020000
#define SV_IFIFO 0010000

/* Read inode ino. SV_ERR_CSUM is returned (with *out filled) when only the checksum is bad.
 * SV_ERR_NOTFOUND/CORRUPT for out-of-range numbers. A size beyond sv_inode_size_max is damage:
 * it is reported and out->size is clamped (out->size_on_disk keeps the stored value). */
int sv_inode_read(struct sv_fs *fs, uint32_t ino, struct sv_inode *out);
/* Largest size the inode's map can address: 2^32 blocks for extents (and inline data), and
 * min(12 + p + p^2 + p^3, 2^32) blocks for block maps, p = block size / 4 (logical block numbers
 * are 32-bit; compare ext4_max_size / ext4_max_bitmap_size in fs/ext4/super.c). */
uint64_t sv_inode_size_max(const struct sv_fs *fs, const struct sv_inode *in);
/* Device numbers of a char/block device inode (old and new encodings). */
void sv_inode_devnum(const struct sv_inode *in, uint32_t *major, uint32_t *minor);

/* ---- file block mapping ---- */
#define SV_MAP_UNWRITTEN 1
/* Called once per run of mapped blocks in logical order: logical block lblk maps to physical
 * block pblk for len blocks. Holes are simply absent. Return nonzero to stop (value returned). */
typedef int (*sv_map_fn)(void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len, unsigned flags);
/* Walk the extent tree or block map of inode. Damage is reported and the walk continues where
 * possible. Not for inline-data inodes (returns SV_ERR_INVAL).
 * Runs come in logical order, without overlaps, and each physical block at most once: a block the
 * map gives to a second logical block of the same file is reported and left out (that part reads
 * as a hole), so a looping or self-overlapping map delivers no more than the device holds. Each
 * tree node (indirect or extent block) is visited at most once per walk. */
int sv_file_map(struct sv_fs *fs, const struct sv_inode *in, sv_map_fn fn, void *ctx);
/* Blocks shared between inodes (a cross-linked image): by default a block that sv_file_map already
 * gave to another inode is given again only while a budget of half the device's blocks lasts
 * (then it is reported and left out), so that all the files of an image never hold more than
 * 1.5 times the device. sv_fs_share_blocks(fs, true) turns this off: every map as it is (check). */
void sv_fs_share_blocks(struct sv_fs *fs, bool share);
/* Read file content [off, off+len) into buf: holes and unwritten extents read as zeros; bytes
 * past i_size read as zeros. Handles inline data. Encrypted files return SV_ERR_ENCRYPTED.
 * Gives the same bytes as sv_file_map (same once-per-file rule) however the file is cut into
 * reads; reading a file front to back in chunks walks its map once in all (the fs remembers the
 * last file read; not thread-safe, like the rest of struct sv_fs). */
int sv_file_read(struct sv_fs *fs, const struct sv_inode *in, uint64_t off, void *buf, size_t len);
/* Inline data (inode i_block + system.data xattr). Copies up to cap bytes into buf, sets *len. */
int sv_inline_read(struct sv_fs *fs, const struct sv_inode *in, uint8_t *buf, size_t cap, size_t *len);

/* ---- directories ---- */
struct sv_dirent {
	uint32_t ino;
	uint8_t file_type;          /* EXT4_FT_*; 0 when the filetype feature is off */
	uint16_t name_len;
	const char *name;           /* name_len bytes, NUL-terminated copy; valid during the callback */
};
#define EXT4_FT_UNKNOWN 0
#define EXT4_FT_REG_FILE 1
#define EXT4_FT_DIR 2
#define EXT4_FT_CHRDEV 3
#define EXT4_FT_BLKDEV 4
#define EXT4_FT_FIFO 5
#define EXT4_FT_SOCK 6
#define EXT4_FT_SYMLINK 7
/* Calls fn for every live entry of directory in (linear and htree layouts, inline dirs),
 * including "." and ".." (as stored). Return nonzero from fn to stop. Damaged blocks are
 * reported and skipped. An entry with an empty name (name_len 0, inode set) is reported and
 * still passed to fn (name_len 0, name ""): callers give it a safe name. Each physical block is
 * parsed at most once per call. */
typedef int (*sv_dir_fn)(void *ctx, const struct sv_dirent *de);
int sv_dir_iterate(struct sv_fs *fs, const struct sv_inode *dir, sv_dir_fn fn, void *ctx);
/* Look up one name in a directory: SV_OK and *ino, or SV_ERR_NOTFOUND. */
int sv_dir_lookup(struct sv_fs *fs, const struct sv_inode *dir, const char *name, size_t name_len, uint32_t *ino);
/* Resolve an absolute path ("/" -> root). Symlinks are not followed. */
int sv_path_resolve(struct sv_fs *fs, const char *path, uint32_t *ino);

/* ---- symlinks ---- */
/* Target of a symlink inode (fast, block-mapped, extent-mapped or inline). NUL-terminated
 * in buf (cap bytes); *len set without the NUL. */
int sv_symlink_read(struct sv_fs *fs, const struct sv_inode *in, char *buf, size_t cap, size_t *len);

/* ---- extended attributes ---- */
struct sv_xattr {
	const char *name;           /* full name, "user.foo", "security.selinux", "system.posix_acl_access" */
	const uint8_t *value;       /* valid during the callback */
	size_t value_len;
};
/* Calls fn for every xattr in the inode body and the external block (and ea_inode values).
 * system.data (inline data) is skipped. Return nonzero from fn to stop. */
typedef int (*sv_xattr_fn)(void *ctx, const struct sv_xattr *x);
int sv_xattr_iterate(struct sv_fs *fs, const struct sv_inode *in, sv_xattr_fn fn, void *ctx);
/* Find one xattr by index/name in the inode body (used for inline data's system.data). */

#endif
