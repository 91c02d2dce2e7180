#!/bin/sh
# fuzz/mkcorpus.sh OUTDIR -- the seed corpus for the fuzz harnesses (`make fuzz-corpus`).
#
# Writes OUTDIR/{fs,check,journal,path,part}/: small images made with mke2fs -d from a small tree
# (files of several sizes, a sparse file, fast and long symlinks, a hard link, a FIFO, long names, a
# 200-entry directory indexed by e2fsck -D, xattrs set with debugfs), one per feature set; images
# whose journal needs recovery (transactions written with debugfs jo/jw/jc, as tests/t_journal.sh
# does); MBR and GPT partitioned disks (sfdisk). Images are 64 KiB to 1 MiB; journal images need
# a 2.2 MiB filesystem (a journal has at least 1024 blocks); the journal is put right after the
# tree and each image is cut after its last non-zero 1 KiB block (about 110 KiB; 1 MiB for ext3,
# whose block-mapped journal has indirect blocks spread over it); the reader takes the rest as a
# truncated image, zeros.
# Needs mke2fs, debugfs, e2fsck, python3; sfdisk for the partition seeds (skipped without it).
set -eu
OUT=${1:?usage: mkcorpus.sh OUTDIR}
export PATH="$PATH:/sbin:/usr/sbin"
for t in mke2fs debugfs e2fsck python3; do
	command -v $t > /dev/null || { echo "mkcorpus: $t is missing (e2fsprogs, python3)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/salvage-seeds.XXXXXX")
trap 'rm -rf "$W"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/fs" "$OUT/check" "$OUT/journal" "$OUT/path" "$OUT/part"
# reproducible defaults (the test fixtures' pinned mke2fs.conf) and times
MKE2FS_CONFIG="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/mke2fs.conf"
E2FSPROGS_FAKE_TIME=1700000000
export MKE2FS_CONFIG E2FSPROGS_FAKE_TIME

# ---- the source tree ----
T="$W/tree"
mkdir -p "$T/d1/d2/d3" "$T/big" "$T/empty"
printf 'hello\n' > "$T/d1/small"
python3 - "$T" <<'PY'
import os, sys
t = sys.argv[1]
for n, size in (("f1000", 1000), ("f5000", 5000), ("f20000", 20000)):
    with open(os.path.join(t, "d1", n), "wb") as f:
        f.write(bytes((i * 7 + len(n)) & 255 for i in range(size)))
with open(os.path.join(t, "d1", "d2", "sparse"), "wb") as f:   # data, a hole, data, a hole at the end
    f.write(b"S" * 3000)
    f.seek(300000)
    f.write(b"T" * 2000)
    f.truncate(400000)
# 200 names in one directory (hard links: one inode), indexed by e2fsck -D
open(os.path.join(t, "big", "entry-000-with-a-longer-name"), "w").close()
for i in range(1, 200):
    os.link(os.path.join(t, "big", "entry-000-with-a-longer-name"),
            os.path.join(t, "big", "entry-%03d-with-a-longer-name" % i))
open(os.path.join(t, "d1", "d2", "d3", "n" * 255), "w").write("long name\n")
PY
ln -s d1/small "$T/short"
ln -s "$(printf 'x%.0s' $(seq 1 150))" "$T/d1/long-link"
ln "$T/d1/f1000" "$T/d1/d2/hard"
mkfifo "$T/fifo" 2> /dev/null || true
SMALL="$W/small"                     # for the journal images: the journal leaves little room
mkdir -p "$SMALL/d"
printf 'small tree\n' > "$SMALL/d/a"
head -c 3000 "$T/d1/f5000" > "$SMALL/d/b"
ln -s a "$SMALL/d/link"
printf 'X%.0s' $(seq 1 3000) > "$W/bigval"    # an xattr value large enough for an ea_inode

# mk NAME SIZE MKE2FS-ARGS...: an image of the tree, directories indexed, a few xattrs
mk() {
	name=$1 size=$2
	shift 2
	img="$W/$name.img"
	if ! mke2fs -q -F -N 64 "$@" -d "$T" "$img" "$size" > "$W/mke2fs.log" 2>&1; then
		echo "mkcorpus: skipped $name: mke2fs $* failed: $(head -n 1 "$W/mke2fs.log")" >&2
		rm -f "$img"
		return 0
	fi
	e2fsck -fyD "$img" > /dev/null 2>&1 || true
	debugfs -w -f - "$img" > /dev/null 2>&1 <<-EOF || true
		ea_set /d1/small user.note hello
		ea_set /d1 user.dir a-directory-attribute
		ea_set /d1/f1000 trusted.t 0123456789abcdef0123456789abcdef
	EOF
	add "$img" "$name" fs check path
}

# add IMG NAME HARNESS...: copy a seed into each harness's folder (path seeds get a path list)
add() {
	img=$1 name=$2
	shift 2
	for h in "$@"; do
		if [ "$h" = path ]; then
			python3 - "$img" "$OUT/path/$name" <<-'PY'
				import sys
				paths = b"/d1/small\n/big/entry-150-with-a-longer-name\n/d1/d2/d3/" + b"n" * 255 + \
				        b"\n/nosuch\n/d1/../d1/f1000\n//d1//d2/\n/short/x\n/\n/d1/long-link"
				img = open(sys.argv[1], "rb").read()
				open(sys.argv[2], "wb").write(len(paths).to_bytes(2, "little") + paths + img)
			PY
		else
			cp "$img" "$OUT/$h/$name"
		fi
	done
}

mk ext2-1k 128K -t ext2 -b 1024
mk ext2-2k 192K -t ext2 -b 2048
mk ext2-4k 256K -t ext2 -b 4096
mk ext2-nofiletype 128K -t ext2 -b 1024 -O ^filetype
mk ext2-128inode 128K -t ext2 -b 1024 -I 128
mk ext4-1k 160K -t ext4 -b 1024
mk ext4-4k 256K -t ext4 -b 4096
mk ext4-nocsum 160K -t ext4 -b 1024 -O ^metadata_csum
mk ext4-gdtcsum 160K -t ext4 -b 1024 -O ^metadata_csum,uninit_bg
mk ext4-inline 160K -t ext4 -b 1024 -I 256 -O inline_data
mk ext4-bigalloc 256K -t ext4 -b 1024 -O bigalloc -C 4096
mk ext4-64bit 160K -t ext4 -b 1024 -O 64bit
mk ext4-metabg 160K -t ext4 -b 1024 -O meta_bg,^resize_inode
mk ext4-nojournal 160K -t ext4 -b 1024 -O ^has_journal
mk ext4-largedir 160K -t ext4 -b 1024 -O large_dir
mk ext4-noflex 160K -t ext4 -b 1024 -O ^flex_bg
mk ext4-sparse2 160K -t ext4 -b 1024 -O sparse_super2
mk ext4-quota 160K -t ext4 -b 1024 -O quota
mk ext4-casefold 160K -t ext4 -b 1024 -O casefold
mk ext4-encrypt 160K -t ext4 -b 1024 -O encrypt
mk ext4-hugefile 160K -t ext4 -b 1024 -O huge_file
mk ext4-csumseed 160K -t ext4 -b 1024 -O metadata_csum_seed

# ea_inode: a 3000-byte value in its own inode (1 KiB blocks)
mk ext4-eainode 160K -t ext4 -b 1024 -O ea_inode
if [ -f "$W/ext4-eainode.img" ]; then
	debugfs -w -R "ea_set -f $W/bigval /d1/f5000 user.big" "$W/ext4-eainode.img" > /dev/null 2>&1 || true
	add "$W/ext4-eainode.img" ext4-eainode fs check path
fi

# a damaged primary superblock: the reader falls back to the backup in group 1
mk ext2-backup 384K -t ext2 -b 1024 -g 256
if [ -f "$W/ext2-backup.img" ]; then
	cp "$W/ext2-backup.img" "$W/ext2-badsb.img"
	dd if=/dev/zero of="$W/ext2-badsb.img" bs=1 seek=1080 count=2 conv=notrunc 2> /dev/null
	add "$W/ext2-badsb.img" ext2-badsb fs check path
fi

# orphans: inodes on the s_last_orphan chain (deleted while open)
mk ext4-orphan 160K -t ext4 -b 1024 -O ^metadata_csum
if [ -f "$W/ext4-orphan.img" ]; then
	i1=$(debugfs -R "stat /d1/f5000" "$W/ext4-orphan.img" 2> /dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	i2=$(debugfs -R "stat /d1/small" "$W/ext4-orphan.img" 2> /dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	if [ -n "$i1" ] && [ -n "$i2" ]; then
		debugfs -w -f - "$W/ext4-orphan.img" > /dev/null 2>&1 <<-EOF || true
			unlink /d1/f5000
			sif <$i1> links_count 0
			sif <$i1> dtime $i2
			ssv last_orphan $i1
		EOF
		add "$W/ext4-orphan.img" ext4-orphan fs check path journal
	fi
fi

# ---- journals that need recovery (1 KiB blocks, 1024-block journal) ----
# cut IMG: drop the all-zero 1 KiB blocks at the end
cut_zeros() {
	python3 - "$1" <<-'PY'
		import sys
		p = sys.argv[1]
		d = open(p, "rb").read()
		end = len(d.rstrip(b"\0"))
		end = (end + 1023) // 1024 * 1024
		open(p, "wb").write(d[:max(end, 2048)])
	PY
}
blk() { python3 -c "import sys; sys.stdout.buffer.write(sys.argv[1].encode() * (1024 * int(sys.argv[2])))" "$@"; }
blk X 3 > "$W/x.bin"
blk Z 1 > "$W/z.bin"
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('c03b3998') + b'E' * 1020)" > "$W/esc.bin"

# jimg NAME MKE2FS-ARGS...: a journaled image of the small tree; sets B1..B4 to blocks of /d/b
jimg() {
	name=$1
	shift
	IMG="$W/j-$name.img"
	mke2fs -q -F -b 1024 -N 32 -J size=1,location=100 "$@" -d "$SMALL" "$IMG" 2200K > "$W/mke2fs.log" 2>&1 || {
		echo "mkcorpus: skipped journal $name: $(head -n 1 "$W/mke2fs.log")" >&2
		return 1
	}
	set -- $(debugfs -R "blocks /d/b" "$IMG" 2> /dev/null)
	B1=$1 B2=$2 B3=$3
	itab=$(debugfs -R "imap <2>" "$IMG" 2> /dev/null | sed -n 's/.*located at block \([0-9]*\).*/\1/p')
	B4=${itab:-$B1}
}
# tx JO-OPTIONS JW-ARGS: one transaction per debugfs session (sessions append)
tx() { printf 'jo %s\njw %s\njc\n' "$1" "$2" | debugfs -w -f - "$IMG" > /dev/null 2>&1 || true; }
jdone() { cut_zeros "$IMG"; add "$IMG" "journal-$1" journal fs check; }

if jimg simple -t ext3; then tx "" "-b $B1,$B2,$B3 $W/x.bin"; jdone ext3-simple; fi
if jimg revoke -t ext4 -O ^metadata_csum; then
	tx "" "-b $B1,$B2,$B3 $W/x.bin"
	tx "" "-r $B1,$B3 /dev/null"
	tx "" "-b $B3 $W/z.bin"
	jdone revoke
fi
for v in 2 3; do
	if jimg csum$v -t ext4 -O metadata_csum; then
		tx "-c -v $v" "-b $B1,$B2 $W/x.bin"
		tx "-c -v $v" "-b $B4 $W/z.bin"
		jdone csum$v
	fi
done
if jimg b64 -t ext4 -O 64bit,metadata_csum; then tx "-c" "-b $B1,$B3 $W/x.bin"; jdone 64bit; fi
if jimg torn -t ext4 -O metadata_csum; then
	tx "-c" "-b $B1 $W/z.bin"
	printf 'jo -c\njw -c -b %s %s\njc\n' "$B2" "$W/z.bin" | debugfs -w -f - "$IMG" > /dev/null 2>&1 || true
	jdone torn
fi
if jimg escape -t ext4 -O ^metadata_csum; then tx "" "-b $B2 $W/esc.bin"; jdone escape; fi
if jimg itable -t ext4 -O ^metadata_csum; then tx "" "-b $B4,$B1,$B2 $W/x.bin"; jdone itable; fi
if jimg clean -t ext4; then jdone clean; fi

# ---- partition tables (part harness): small disks, partitions from sector 34 ----
if command -v sfdisk > /dev/null; then
	disk() {   # disk NAME SIZE-KIB: sfdisk script on stdin
		rm -f "$W/$1.disk"
		truncate -s "$2K" "$W/$1.disk"
		sfdisk -q "$W/$1.disk" > /dev/null 2>&1 && cp "$W/$1.disk" "$OUT/part/$1" ||
			echo "mkcorpus: skipped partition seed $1" >&2
	}
	disk mbr 64 <<-EOF
		label: dos
		start=34, size=40, type=83
		start=80, size=20, type=82
		start=100, size=20, type=c, bootable
	EOF
	disk mbr-extended 64 <<-EOF
		label: dos
		start=34, size=20, type=83
		start=60, size=60, type=5
		start=62, size=10, type=83
		start=80, size=10, type=7
		start=100, size=18, type=83
	EOF
	disk gpt 64 <<-EOF
		label: gpt
		first-lba: 34
		start=34, size=30, type=0FC63DAF-8483-4772-8E79-3D47DE7245A4, name="root fs"
		start=64, size=20, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"
		start=84, size=10, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
	EOF
	# a filesystem inside a partition, as pick_volume finds it
	if [ -f "$W/ext2-1k.img" ]; then
		rm -f "$W/withfs.disk"
		truncate -s 160K "$W/withfs.disk"
		printf 'label: dos\nstart=64, size=256, type=83\n' | sfdisk -q "$W/withfs.disk" > /dev/null 2>&1 &&
			dd if="$W/ext2-1k.img" of="$W/withfs.disk" bs=512 seek=64 conv=notrunc 2> /dev/null &&
			cp "$W/withfs.disk" "$OUT/part/mbr-with-ext2"
	fi
	# GPT whose primary header is damaged: the backup at the end is used
	if [ -f "$OUT/part/gpt" ]; then
		cp "$OUT/part/gpt" "$OUT/part/gpt-backup"
		printf 'XX' | dd of="$OUT/part/gpt-backup" bs=1 seek=$((512 + 16)) conv=notrunc 2> /dev/null
	fi
else
	echo "mkcorpus: sfdisk missing (fdisk package): no partition seeds" >&2
fi
# sizes of the seeds
for h in fs check journal path part; do
	printf 'mkcorpus: %s: %s seeds\n' "$h" "$(ls "$OUT/$h" | wc -l)"
done
