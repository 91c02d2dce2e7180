#!/bin/bash
# t_journal.sh -- journal replay in memory against the kernel's (and e2fsck's) recovery.
#
# 1. Images with pending transactions written by `debugfs -w` journal commands (jo/jw/jc):
#    a simple replay, revokes, checksum v2 and v3, 64bit tags, a torn (uncommitted) last
#    transaction, an escaped block (starts with the journal magic), and a log that wraps
#    around the end of the journal (built by rotating a written log and moving s_start).
#    For each: the expected file content, then salvage's replayed tree (salvage cp IMG:/)
#    against the kernel's view after it mounts a copy (it replays), or e2fsck -fy's when loop
#    mounts are unavailable.
# 2. Crash images written by the kernel: mount a copy, write, delete a file held open, sync,
#    copy the image while still mounted; compare salvage's view of the copy with the kernel's
#    view of another copy (which it replays); `salvage journal` lists the orphan.
# 3. The corpus j_* images (../shared/corpus/e2fsprogs): where the kernel mounts a copy,
#    salvage's replayed tree equals the kernel's.
# After every salvage command the source image's sha256 must be unchanged.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
: "${CORPUS:=$REPO/../shared/corpus/e2fsprogs}"
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpus/e2fsprogs
PATH=$PATH:/sbin:/usr/sbin
export MKE2FS_CONFIG="$TESTS/fixtures/mke2fs.conf"
export E2FSPROGS_FAKE_TIME=1700000000

for t in debugfs mke2fs e2fsck python3; do
	if ! command -v $t > /dev/null 2>&1; then
		echo "SKIP journal: $t not installed"
		exit 0
	fi
done
S="$WORK/journal.$$"
mkdir -p "$S/mnt"
cleanup() {
	mountpoint -q "$S/mnt" 2>/dev/null && umount "$S/mnt"
	[ -n "${HELD:-}" ] && mountpoint -q "$S/held" 2>/dev/null && umount -l "$S/held"
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Can the kernel mount loop images here?
CAN_MOUNT=0
if [ "$(id -u)" = 0 ]; then
	mke2fs -q -F -t ext4 "$S/probe.img" 4M > /dev/null 2>&1
	if mount -o loop "$S/probe.img" "$S/mnt" 2> /dev/null; then
		umount "$S/mnt"
		CAN_MOUNT=1
	fi
	rm -f "$S/probe.img"
fi

# tree IMG DIR -- a comparable listing of a tree (manifest.py when present)
tree() {
	if [ -f "$TESTS/manifest.py" ]; then
		python3 "$TESTS/manifest.py" --no-xattrs "$1" 2>/dev/null | grep -v '^lost+found' 
	else
		(cd "$1" && find . -path ./lost+found -prune -o -print | sort | while read -r p; do
			if [ -f "$p" ]; then echo "$p $(sha256sum < "$p" | cut -c1-64)"; else echo "$p"; fi
		done)
	fi
}

# safe NAME IMG CMD... -- run salvage, then check the image was not changed
safe() {
	local name=$1 img=$2
	shift 2
	local before after
	before=$(sha256sum < "$img")
	"$SALVAGE" "$@" > "$S/out" 2> "$S/err"
	local rc=$?
	after=$(sha256sum < "$img")
	if [ "$before" != "$after" ]; then
		echo "FAIL $name: salvage $1 changed the source image"
		return 99
	fi
	return $rc
}

# reference IMG DIR -- the recovered tree as the kernel (or e2fsck) sees it, copied into DIR.
# Prints the method; returns 1 when the kernel refuses to mount the copy.
reference() {
	local img=$1 dir=$2
	cp "$img" "$S/ref.img"
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ $CAN_MOUNT = 1 ]; then
		if ! mount -o loop${MOPT:-} "$S/ref.img" "$S/mnt" 2> "$S/mount.err"; then
			rm -f "$S/ref.img"
			return 1
		fi
		cp -a "$S/mnt/." "$dir/"
		umount "$S/mnt"
		echo kernel
	else
		e2fsck -fy "$S/ref.img" > /dev/null 2>&1
		debugfs -R "rdump / $dir" "$S/ref.img" > /dev/null 2>&1
		echo e2fsck
	fi
	rm -f "$S/ref.img"
	return 0
}

# compare NAME IMG -- salvage's replayed tree against the reference
compare() {
	local name=$1 img=$2 how
	rm -rf "$S/sv"
	safe "$name" "$img" cp ${SVOPT:-} "$img:/" "$S/sv"
	local rc=$?
	[ $rc = 99 ] && return 1
	if [ $rc -gt 1 ]; then
		echo "FAIL $name: salvage cp failed (exit $rc): $(head -2 "$S/err" | tr '\n' ' ')"
		return 1
	fi
	if ! how=$(reference "$img" "$S/ref"); then
		echo "SKIP $name/kernel: the kernel refuses to mount a copy: $(dmesg 2>/dev/null | grep -E 'JBD2|EXT4' | tail -1 | cut -c1-120)"
		return 0
	fi
	tree "$S/ref" > "$S/ref.tree"
	tree "$S/sv" > "$S/sv.tree"
	if cmp -s "$S/ref.tree" "$S/sv.tree"; then
		echo "PASS $name/$how: replayed tree equals the $how's"
	else
		echo "FAIL $name/$how: trees differ (- $how, + salvage):"
		diff -u "$S/ref.tree" "$S/sv.tree" | sed -n '3,14p' | cut -c1-200
	fi
}

# journal_ok NAME IMG -- `salvage journal` (text and JSON) runs and leaves the source alone
journal_ok() {
	local name=$1 img=$2
	safe "$name" "$img" journal ${SVOPT:-} "$img"
	local rc=$?
	[ $rc = 99 ] && return 1
	if [ $rc -gt 1 ]; then
		echo "FAIL $name/journal: exit $rc: $(head -2 "$S/err" | tr '\n' ' ')"
		return 1
	fi
	cp "$S/out" "$S/journal.txt"
	safe "$name" "$img" journal ${SVOPT:-} --json "$img" || [ $? = 1 ] || return 1
	if ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$S/out" 2> /dev/null; then
		echo "FAIL $name/journal: --json output is not JSON"
		return 1
	fi
	cp "$S/out" "$S/journal.json"
	return 0
}

# jfield KEY -- a field of the last journal --json output
jfield() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["journal"][sys.argv[2]])' "$S/journal.json" "$1"
}

# expect_block NAME FILE BLOCKINDEX CONTENTFILE -- block k of the salvage copy equals the content
expect_block() {
	local name=$1 f=$2 k=$3 want=$4
	if cmp -s <(dd if="$S/sv/$f" bs=1024 skip="$k" count=1 2> /dev/null) "$want"; then
		return 0
	fi
	echo "FAIL $name: block $k of /$f is not what the journal holds"
	return 1
}

blk() { python3 -c "import sys; sys.stdout.buffer.write(sys.argv[1].encode() * (1024 * int(sys.argv[2])))" "$@"; }
blk X 3 > "$S/x.bin"
blk Y 1 > "$S/y.bin"
blk Z 1 > "$S/z.bin"
blk o 64 > "$S/f.bin"
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('c03b3998') + b'E' * 1020)" > "$S/esc.bin"

# base NAME MKE2FS-OPTIONS -- a 1 KiB-block image with /f (64 blocks of 'o'); sets B[] to f's blocks
base() {
	IMG="$S/$1.img"
	rm -f "$IMG"
	shift
	mke2fs -q -F -b 1024 "$@" "$IMG" 8M > /dev/null 2>&1
	debugfs -w -R "write $S/f.bin f" "$IMG" > /dev/null 2>&1
	B=($(debugfs -R "blocks f" "$IMG" 2> /dev/null))
}
# tx JO-OPTIONS JW-ARGS -- one transaction in its own debugfs session (sessions append)
tx() { printf 'jo %s\njw %s\njc\n' "$1" "$2" | debugfs -w -f - "$IMG" > /dev/null 2>&1; }

needs_recovery() { dumpe2fs -h "$1" 2> /dev/null | grep -q 'needs_recovery'; }

# ---- 1. debugfs-made transactions ----
run_case() {
	local name=$1
	if ! needs_recovery "$IMG"; then
		echo "FAIL $name: debugfs did not leave a journal needing recovery"
		return
	fi
	journal_ok "$name" "$IMG" || return
	compare "$name" "$IMG"
}

base simple -t ext4 -O ^metadata_csum
tx "" "-b ${B[0]},${B[1]},${B[2]} $S/x.bin"
run_case simple
cmp -s <(dd if="$S/sv/f" bs=1024 count=3 2>/dev/null) "$S/x.bin" && echo "PASS simple/content" ||
	echo "FAIL simple/content: the replayed /f does not hold the logged blocks"

base revoke -t ext4 -O ^metadata_csum
tx "" "-b ${B[0]},${B[1]},${B[2]} $S/x.bin"     # T1 logs 0,1,2
tx "" "-r ${B[0]},${B[2]} /dev/null"            # T2 revokes 0 and 2
tx "" "-b ${B[2]} $S/z.bin"                     # T3 logs 2 again: newer than the revoke
run_case revoke
blk o 1 > "$S/o.bin"
expect_block revoke f 0 "$S/o.bin" && expect_block revoke f 1 <(blk X 1) && expect_block revoke f 2 "$S/z.bin" &&
	[ "$(jfield revoke_hits)" = 2 ] && echo "PASS revoke/content: revoked block kept, later rewrite replayed" ||
	echo "FAIL revoke/content: revoke_hits=$(jfield revoke_hits)"

for v in 2 3; do
	base csum$v -t ext4 -O metadata_csum
	tx "-c -v $v" "-b ${B[0]},${B[1]} $S/x.bin"
	tx "-c -v $v" "-b ${B[3]} $S/z.bin"
	run_case csum$v
	[ "$(jfield checksum)" = $v ] && expect_block csum$v f 3 "$S/z.bin" &&
		echo "PASS csum$v/content: checksum v$v journal replayed" ||
		echo "FAIL csum$v/content: journal reports checksum $(jfield checksum)"
done

base b64 -t ext4 -O 64bit,metadata_csum
tx "-c" "-b ${B[0]},${B[5]} $S/x.bin"
run_case b64
grep -q 64bit "$S/journal.txt" && expect_block b64 f 5 <(blk X 1) && echo "PASS b64/content: 64bit tags" ||
	echo "FAIL b64/content: no 64bit feature or wrong block"

base torn -t ext4 -O metadata_csum
tx "-c" "-b ${B[0]} $S/z.bin"
printf 'jo -c\njw -c -b %s %s\njc\n' "${B[1]}" "$S/y.bin" | debugfs -w -f - "$IMG" > /dev/null 2>&1
run_case torn
expect_block torn f 0 "$S/z.bin" && expect_block torn f 1 "$S/o.bin" && [ "$(jfield torn_tail)" = True ] &&
	echo "PASS torn/content: uncommitted last transaction ignored" ||
	echo "FAIL torn/content: torn_tail=$(jfield torn_tail)"

base escape -t ext4 -O ^metadata_csum
tx "" "-b ${B[4]} $S/esc.bin"
run_case escape
expect_block escape f 4 "$S/esc.bin" && echo "PASS escape/content: escaped block has its magic back" ||
	echo "FAIL escape/content"

# wrap: three transactions, then the log area is rotated so the second one crosses the end
# of the journal, and s_start moves with it (checksum v3: the rotation keeps every checksum valid).
base wrap -t ext4 -O metadata_csum
blk W 60 > "$S/w.bin"
for r in 0 1 2; do
	list=$(IFS=,; echo "${B[*]:$((r * 20)):20}")
	tx "-c" "-b $list $S/w.bin"
done
debugfs -R "blocks <8>" "$IMG" 2> /dev/null > "$S/jblocks"
python3 - "$IMG" "$S/jblocks" <<'PY'
import struct, sys
img, jb = sys.argv[1], [int(x) for x in open(sys.argv[2]).read().split()]
bs, shift = 1024, 1000          # log area is journal blocks 1..1023; the log now starts at 1001
def crc32c(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc
with open(img, 'r+b') as f:
    def rd(i):
        f.seek(jb[i] * bs); return f.read(bs)
    def wr(i, d):
        f.seek(jb[i] * bs); f.write(d)
    n = len(jb) - 1
    area = [rd(i) for i in range(1, len(jb))]
    for i in range(n):
        wr(1 + (i + shift) % n, area[i])
    sb = bytearray(rd(0)[:1024])
    struct.pack_into('>I', sb, 0x1c, 1 + shift)
    sb[0xfc:0x100] = b'\0' * 4
    struct.pack_into('>I', sb, 0xfc, crc32c(0xffffffff, bytes(sb)))
    f.seek(jb[0] * bs); f.write(sb)
PY
run_case wrap
starts=$(python3 -c 'import json,sys; print(" ".join(str(t["start"]) for t in json.load(open(sys.argv[1]))["journal"]["tx"]))' "$S/journal.json")
cmp -s <(dd if="$S/sv/f" bs=1024 count=60 2> /dev/null) "$S/w.bin" &&
	[ "$(jfield transactions)" = 3 ] && echo "PASS wrap/content: log wrapping at the journal's end (tx at $starts)" ||
	echo "FAIL wrap/content: transactions=$(jfield transactions) starts=$starts"

# external journal device (needs a loop device for mke2fs -J device= and for the kernel)
if [ $CAN_MOUNT = 1 ] && command -v losetup > /dev/null 2>&1; then
	IMG="$S/ext.img"
	mke2fs -q -F -O journal_dev -b 1024 "$S/ext.jnl" 2M > /dev/null 2>&1
	L=$(losetup -f --show "$S/ext.jnl")
	mke2fs -q -F -t ext4 -b 1024 -J device="$L" "$IMG" 8M > /dev/null 2>&1
	debugfs -w -R "write $S/f.bin f" "$IMG" > /dev/null 2>&1
	B=($(debugfs -R "blocks f" "$IMG" 2> /dev/null))
	printf 'jo -f %s\njw -b %s,%s %s\njc\n' "$L" "${B[0]}" "${B[1]}" "$S/x.bin" | debugfs -w -f - "$IMG" > /dev/null 2>&1
	SVOPT="--journal $S/ext.jnl" MOPT=",journal_path=$L" run_case external
	losetup -d "$L"
	cmp -s <(dd if="$S/sv/f" bs=1024 count=2 2> /dev/null) <(blk X 2) && echo "PASS external/content" ||
		echo "FAIL external/content: the external journal's blocks were not replayed"
else
	echo "SKIP external: needs root and losetup"
fi

# a damaged journal must not crash: flip bytes all over the log of the csum3 image
cp "$S/csum3.img" "$S/garbage.img"
J0=$(debugfs -R "bmap <8> 0" "$S/garbage.img" 2> /dev/null)
python3 - "$S/garbage.img" "$J0" <<'PY'
import random, sys
img, j0 = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
with open(img, 'r+b') as f:
    for _ in range(400):
        off = (j0 + r.randrange(1, 12)) * 1024 + r.randrange(0, 1024)
        f.seek(off)
        f.write(bytes([r.randrange(256)]))
PY
safe garbage "$S/garbage.img" journal "$S/garbage.img"; rc=$?
[ $rc -le 1 ] && echo "PASS garbage/journal: damaged log handled (exit $rc)" || echo "FAIL garbage/journal: exit $rc"
safe garbage "$S/garbage.img" cp "$S/garbage.img:/" "$S/gout"; rc=$?
[ $rc -le 1 ] && echo "PASS garbage/cp: exit $rc" || echo "FAIL garbage/cp: exit $rc"

# --no-replay shows the raw state
base noreplay -t ext4 -O ^metadata_csum
tx "" "-b ${B[0]} $S/z.bin"
rm -rf "$S/sv"
safe noreplay "$IMG" cp --no-replay "$IMG:/" "$S/sv"
cmp -s <(dd if="$S/sv/f" bs=1024 count=1 2> /dev/null) "$S/o.bin" && echo "PASS noreplay: --no-replay reads the raw blocks" ||
	echo "FAIL noreplay: --no-replay shows replayed content"

# ---- 2. crash images written by the kernel ----
if [ $CAN_MOUNT = 1 ]; then
	for cfg in "ext4 4096" "ext3 1024"; do
		set -- $cfg
		name=crash-$1
		img="$S/$name.img"
		mke2fs -q -F -t "$1" -b "$2" "$img" 32M > /dev/null 2>&1
		mkdir -p "$S/held"
		HELD=1
		mount -o loop "$img" "$S/held"
		mkdir -p "$S/held/d/e"
		for i in $(seq 1 40); do head -c $((i * 1537)) /dev/urandom > "$S/held/d/file$i"; done
		echo hello > "$S/held/d/e/small"
		ln -s ../d/file1 "$S/held/d/e/link"
		head -c 300000 /dev/urandom > "$S/held/held-open"
		sync
		exec 7< "$S/held/held-open"
		rm "$S/held/held-open"
		rm "$S/held/d/file3" "$S/held/d/file4"
		mv "$S/held/d/file5" "$S/held/d/e/renamed"
		sync
		cp "$img" "$S/$name.copy"
		exec 7<&-
		umount "$S/held"
		HELD=
		img="$S/$name.copy"
		if ! needs_recovery "$img"; then
			echo "SKIP $name: the copy taken while mounted does not need recovery"
			continue
		fi
		journal_ok "$name" "$img" || continue
		if grep -q 'deleted while open' "$S/journal.txt"; then
			echo "PASS $name/orphan: salvage journal lists the file deleted while open"
		else
			echo "FAIL $name/orphan: no orphan listed by salvage journal"
		fi
		compare "$name" "$img"
	done
else
	echo "SKIP crash images: loop mounts unavailable (need root)"
fi

# ---- 3. corpus j_* images ----
if ls -d "$CORPUS"/j_* > /dev/null 2>&1; then
	for d in "$CORPUS"/j_*; do
		name=corpus-$(basename "$d")
		img="$S/$(basename "$d").img"
		src=$(ls "$d"/image* 2> /dev/null | head -1)
		case "$src" in
		*.gz) zcat "$src" > "$img" ;;
		*.tar.bz2)
			mkdir -p "$S/tar" && tar xjf "$src" -C "$S/tar"
			img=$(ls "$S"/tar/*.img | head -1)
			if [ -f "$img.jnl" ]; then
				SVOPT="--journal $img.jnl" journal_ok "$name" "$img"
				grep -q 'unusable' "$S/journal.txt" && echo "PASS $name: damaged external journal refused, as the kernel does" ||
					echo "FAIL $name: damaged external journal accepted"
			fi
			rm -rf "$S/tar"
			continue ;;
		*.bz2) bzcat "$src" > "$img" ;;
		*) echo "SKIP $name: image is not a single gz/bz2 file"; continue ;;
		esac
		journal_ok "$name" "$img" || continue
		if [ $CAN_MOUNT = 1 ]; then
			compare "$name" "$img"
		else
			echo "SKIP $name: loop mounts unavailable"
		fi
	done
else
	echo "SKIP corpus j_*: $CORPUS not found"
fi
exit 0
