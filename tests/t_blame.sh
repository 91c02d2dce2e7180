#!/bin/bash
# t_blame.sh: where the filesystem's metadata lies (sv_fs_layout against dumpe2fs, sv_file_meta
# against debugfs's stat) on mke2fs images of several layouts, and `salvage blame`.
# env: SALVAGE (the binary), BUILD (build dir with tests/test_ext_layout). Prints PASS/FAIL/SKIP.
SALVAGE=${SALVAGE:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$HERE/../build}
LAYOUT=$BUILD/tests/test_ext_layout
T=$(mktemp -d "${TMPDIR:-/tmp}/t_blame.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

if ! command -v mke2fs >/dev/null || ! command -v debugfs >/dev/null || ! command -v dumpe2fs >/dev/null; then
	skip blame_all "mke2fs/debugfs/dumpe2fs not installed"
	exit 0
fi

# ---- sv_fs_layout against dumpe2fs ----
# layout NAME SIZE MKE2FS-OPTIONS...
layout() {
	local name=$1 size=$2
	shift 2
	local img=$T/lay_$name.img
	if ! mke2fs -q -F "$@" "$img" "$size" >/dev/null 2>&1; then
		skip layout_$name "mke2fs $* failed"
		return
	fi
	python3 "$HERE/craft_blame.py" layout "$img" >"$T/ref" 2>"$T/err" || { fail layout_$name "dumpe2fs: $(head -1 "$T/err")"; return; }
	"$LAYOUT" --layout "$img" 2>"$T/err" | sort >"$T/got"
	if [ -s "$T/ref" ] && cmp -s "$T/ref" "$T/got"; then
		pass layout_$name
	else
		fail layout_$name "differs from dumpe2fs: $(diff "$T/ref" "$T/got" | sed -n 2,3p | tr '\n' ' ')"
	fi
	rm -f "$img"
}
if [ -x "$LAYOUT" ]; then
	layout ext2_1k 20M -t ext2 -b 1024 -N 600
	layout ext2_nosparse 40M -t ext2 -b 1024 -O ^sparse_super,^resize_inode
	layout ext4_4k 300M -t ext4 -b 4096
	layout ext4_flex4_1k 60M -t ext4 -b 1024 -G 4
	layout meta_bg_1k 300M -t ext4 -b 1024 -O meta_bg,^resize_inode
	layout meta_bg_4k 600M -t ext4 -b 4096 -O meta_bg,^resize_inode,^flex_bg
	layout sparse_super2 60M -t ext4 -b 1024 -O sparse_super2
	layout sparse_super2_one 300M -t ext4 -b 4096 -O sparse_super2 -E num_backup_sb=1
	layout bigalloc 200M -t ext4 -O bigalloc -C 16384
else
	skip layout "$LAYOUT not built (make units)"
fi

# ---- sv_file_meta against debugfs stat (extent tree blocks, indirect blocks, xattr block) ----
tree=$T/tree
mkdir -p "$tree/d"
head -c 3000000 /dev/urandom >"$tree/big"
for i in $(seq 1 60); do dd if=/dev/urandom of="$tree/frag" bs=1024 seek=$((i * 2)) count=1 conv=notrunc 2>/dev/null; done
echo hi >"$tree/d/x"
if [ -x "$LAYOUT" ]; then
	for fs in "ext2 1024" "ext4 1024" "ext3 4096"; do
		set -- $fs
		img=$T/meta_$1_$2.img
		mke2fs -q -F -t "$1" -b "$2" -d "$tree" "$img" 20M >/dev/null 2>&1 || { skip file_meta_$1_$2 "mke2fs -d failed"; continue; }
		debugfs -w -R "ea_set /big user.test $(printf 'v%.0s' $(seq 1 300))" "$img" >/dev/null 2>&1
		inos=$(seq 2 20)
		python3 "$HERE/craft_blame.py" meta "$img" $inos >"$T/ref"
		"$LAYOUT" --meta "$img" $inos | awk '{ for (i = 0; i < $4; i++) print $1, $2, $3 + i, 1 }' | sort >"$T/got"
		# the reference must hold tree blocks (and the xattr block) for the check to mean anything
		if grep -q -E ' (extent|indirect) ' "$T/ref" && grep -q ' xattr ' "$T/ref" && cmp -s "$T/ref" "$T/got"; then
			pass file_meta_$1_$2
		else
			fail file_meta_$1_$2 "differs from debugfs stat: $(diff "$T/ref" "$T/got" | sed -n 2,3p | tr '\n' ' ')"
		fi
	done
fi
