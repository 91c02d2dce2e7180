#!/usr/bin/env bash
# t_hostile_ext.sh: crafted images against the ext reader (issue 7). Each case is an image that
# made 42aa604 overflow the stack, hang, write far more than the image holds, or read wrong; the
# images are made with mke2fs -d and edited with tests/craft_ext.py. Every case asserts the bytes
# that come out (good files byte-identical, damaged parts as holes), the exit status (1: damage
# reported) and a report naming the inode, under `timeout 20`.
set -u
S=${SALVAGE:?}
TESTS=$(cd "$(dirname "$0")" && pwd)
CRAFT="$TESTS/craft_ext.py"
W=${TMPDIR:-/tmp}/salvage-hostile-ext.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
for t in mke2fs debugfs python3; do
	command -v $t >/dev/null || { echo "SKIP hostile-ext: $t not installed"; exit 0; }
done
san=0
case $S in *build-san*) san=1 ;; esac
fails=0
pass() { echo "PASS hostile-ext $1"; }
fail() { echo "FAIL hostile-ext $1: $2"; sed 's/^/    /' "$W/err" 2>/dev/null | head -5; fails=$((fails + 1)); }

# sv ARGS...: run salvage under a time limit; stdout in $W/out, stderr in $W/err, status in $rc
sv() {
	timeout 20 "$S" "$@" > "$W/out" 2> "$W/err"
	rc=$?
}
# mkimg IMG SIZE MKE2FS-ARGS...: an image of the tree $W/t
mkimg() {
	local img=$1 size=$2
	shift 2
	mke2fs -q -F "$@" -d "$W/t" "$img" "$size" > /dev/null 2>&1
}
newtree() { rm -rf "$W/t" "$W/cp"; mkdir -p "$W/t"; }
rnd() { head -c "$2" /dev/urandom > "$1"; }
# bytes allocated on disk for a file (holes excluded)
alloc() { python3 -c 'import os, sys; print(os.stat(sys.argv[1]).st_blocks * 512)' "$1"; }
# prefix_zeros FILE REF N SIZE: FILE is SIZE bytes, its first N bytes are REF's, the rest zeros
prefix_zeros() {
	python3 - "$@" <<'PY'
import sys
f, ref, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
d = open(f, "rb").read()
r = open(ref, "rb").read()[:n]
ok = len(d) == size and d[:n] == r and d.count(0, n) == size - n
sys.exit(0 if ok else 1)
PY
}
# peak_rss CMD...: the command's peak RSS in KiB (and its exit status after a space)
peak_rss() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys
try:
    r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode
except subprocess.TimeoutExpired:
    r = 124
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)
PY
}

# ---- 1: ext2 without filetype, name_len over 255 (stack overflow in 42aa604) ----
name_len_case() {   # name_len_case LABEL BLOCKSIZE HIGH
	local label=$1 bs=$2 high=$3
	newtree
	mkdir -p "$W/t/d" "$W/t/d2"
	rnd "$W/t/d/victim" 5000
	rnd "$W/t/d2/victim2" 7000
	rnd "$W/t/good" 3000
	local img="$W/nl$bs.img"
	mkimg "$img" 4M -t ext2 -O ^filetype -b "$bs" || { echo "SKIP hostile-ext $label: mke2fs failed"; return; }
	# high byte set, low byte the real length: read as the kernel reads it ("victim")
	python3 "$CRAFT" namelen "$img" /d victim $((6 + 256 * high)) > /dev/null
	# a length whose low byte runs past the name into the zeros after it: kept under a safe name
	local ino2
	ino2=$(python3 "$CRAFT" namelen "$img" /d2 victim2 $((0xB8 + 256 * (high - 1))))
	sv ls "$img:/d"
	if [ $rc -ne 1 ] || [ "$(cat "$W/out")" != victim ] || ! grep -q "offset 24 (inode" "$W/err"; then
		fail "$label" "ls: status $rc, listing '$(head -c 80 "$W/out")'"
		return
	fi
	sv cp "$img:/" "$W/cp"
	if [ $rc -ne 1 ] || ! cmp -s "$W/cp/d/victim" "$W/t/d/victim" || ! cmp -s "$W/cp/good" "$W/t/good" ||
	   ! cmp -s "$W/cp/d2/__salvage_badname_$ino2" "$W/t/d2/victim2"; then
		fail "$label" "cp: status $rc or wrong files"
		return
	fi
	pass "$label"
}
name_len_case name-len-4k 4096 11
name_len_case name-len-1k 1024 3

# ---- 3a: block map whose double indirect block lists itself (and is the triple indirect) ----
newtree
rnd "$W/t/victim" 300000
rnd "$W/t/good" 50000
img="$W/bm.img"
if mkimg "$img" 8M -t ext2 -b 1024; then
	size=$((48 << 20))
	ino=$(python3 "$CRAFT" bm-loop "$img" /victim $size)
	keep=$(((12 + 256) * 1024))   # direct and single indirect blocks are intact
	sv cp "$img:/" "$W/cp"
	imgsz=$(stat -c %s "$img")
	if [ $rc -ne 1 ] || ! grep -q "inode $ino: .*loop" "$W/err"; then
		fail blockmap-loop-cp "status $rc, no report naming inode $ino"
	elif [ "$(alloc "$W/cp/victim")" -gt "$imgsz" ] || ! prefix_zeros "$W/cp/victim" "$W/t/victim" $keep $size; then
		fail blockmap-loop-cp "victim: $(alloc "$W/cp/victim") bytes written for an image of $imgsz, or wrong bytes"
	elif ! cmp -s "$W/cp/good" "$W/t/good"; then
		fail blockmap-loop-cp "good file differs"
	else
		pass blockmap-loop-cp
	fi
	# cat (chunked sv_file_read) and tar (whole-map walk) give the same bytes as cp
	timeout 20 "$S" cat "$img:/victim" 2> "$W/err" | cmp -s - "$W/cp/victim"
	st=("${PIPESTATUS[@]}")
	if [ "${st[0]}" -ne 1 ] || [ "${st[1]}" -ne 0 ]; then
		fail blockmap-loop-cat "cat status ${st[0]} or bytes differ from cp"
	else
		pass blockmap-loop-cat
	fi
	rm -rf "$W/x" && mkdir -p "$W/x"
	timeout 20 "$S" tar "$img:/" 2> "$W/err" > "$W/a.tar"
	if [ "$(stat -c %s "$W/a.tar")" -gt $((2 * imgsz)) ] || ! tar -xf "$W/a.tar" -C "$W/x" 2> /dev/null ||
	   ! cmp -s "$W/x/victim" "$W/cp/victim"; then
		fail blockmap-loop-tar "archive of $(stat -c %s "$W/a.tar") bytes, or victim differs from cp"
	else
		pass blockmap-loop-tar
	fi
else
	echo "SKIP hostile-ext blockmap-loop: mke2fs failed"
fi

# ---- 3b: extent tree whose index entries all lead to one leaf (4 * 340 * 340 extents) ----
newtree
rnd "$W/t/victim" $((8 << 20))
rnd "$W/t/good" 50000
img="$W/ext.img"
if mkimg "$img" 16M -t ext4 -O ^metadata_csum -b 4096; then
	size=$((64 << 20))
	first=$(debugfs -R "blocks /victim" "$img" 2> /dev/null | python3 -c '
import sys
b = [int(x) for x in sys.stdin.read().split()]
n = 1
while n < len(b) and b[n] == b[0] + n: n += 1
print(n * 4096)')
	ino=$(python3 "$CRAFT" ext-loop "$img" /victim $size)
	imgsz=$(stat -c %s "$img")
	sv cp "$img:/" "$W/cp"
	if [ $rc -ne 1 ] || ! grep -q "inode $ino: .*already uses" "$W/err"; then
		fail extent-loop-cp "status $rc (124: hang), no report naming inode $ino"
	elif [ "$(alloc "$W/cp/victim")" -gt "$imgsz" ] || ! prefix_zeros "$W/cp/victim" "$W/t/victim" "$first" $size; then
		fail extent-loop-cp "victim: $(alloc "$W/cp/victim") bytes written for an image of $imgsz, or wrong bytes"
	elif ! cmp -s "$W/cp/good" "$W/t/good"; then
		fail extent-loop-cp "good file differs"
	else
		pass extent-loop-cp
	fi
	timeout 20 "$S" cat "$img:/victim" 2> "$W/err" | cmp -s - "$W/cp/victim"
	st=("${PIPESTATUS[@]}")
	if [ "${st[0]}" -ne 1 ] || [ "${st[1]}" -ne 0 ]; then
		fail extent-loop-cat "cat status ${st[0]} or bytes differ from cp"
	else
		pass extent-loop-cat
	fi
	rm -rf "$W/x" && mkdir -p "$W/x"
	timeout 20 "$S" tar "$img:/" 2> "$W/err" > "$W/a.tar"
	if [ "$(stat -c %s "$W/a.tar")" -gt $((2 * imgsz)) ] || ! tar -xf "$W/a.tar" -C "$W/x" 2> /dev/null ||
	   ! cmp -s "$W/x/victim" "$W/cp/victim"; then
		fail extent-loop-tar "archive of $(stat -c %s "$W/a.tar") bytes, or victim differs from cp"
	else
		pass extent-loop-tar
	fi
else
	echo "SKIP hostile-ext extent-loop: mke2fs failed"
fi

# ---- 3c: a directory whose map lists its first block 65804 times ----
newtree
mkdir -p "$W/t/d"
for i in 1 2 3 4 5; do echo "file $i" > "$W/t/d/f$i"; done
img="$W/dir.img"
if mkimg "$img" 8M -t ext2 -b 1024; then
	ino=$(python3 "$CRAFT" dir-repeat "$img" /d)
	sv ls "$img:/d"
	if [ $rc -ne 1 ] || [ "$(tr '\n' ' ' < "$W/out")" != "f1 f2 f3 f4 f5 " ] || ! grep -q "inode $ino: " "$W/err"; then
		fail dir-repeat-ls "status $rc, $(wc -l < "$W/out") names listed (want f1-f5 once each)"
	else
		set -- $(peak_rss "$S" ls -R "$img:/")
		if [ $san = 0 ] && [ "$1" -gt 65536 ]; then
			fail dir-repeat-ls "ls -R peak RSS $1 KiB"
		else
			pass dir-repeat-ls
		fi
	fi
	sv cp "$img:/d" "$W/cp"
	if [ $rc -ne 1 ] || [ "$(ls "$W/cp" | tr '\n' ' ')" != "f1 f2 f3 f4 f5 " ] || ! diff -r "$W/cp" "$W/t/d" > /dev/null ||
	   ! grep -q "inode $ino: " "$W/err" || grep -q "already exists" "$W/err"; then
		fail dir-repeat-cp "status $rc or wrong tree"
	else
		pass dir-repeat-cp
	fi
else
	echo "SKIP hostile-ext dir-repeat: mke2fs failed"
fi

# ---- 7: a superblock claiming far more blocks (and groups) than the device holds ----
claim_case() {   # claim_case LABEL CLAIM MKE2FS-ARGS...
	local label=$1 claim=$2
	shift 2
	newtree
	rnd "$W/t/good" 20000
	local img="$W/claim.img"
	mkimg "$img" 256K "$@" || { echo "SKIP hostile-ext $label: mke2fs failed"; return; }
	python3 "$CRAFT" claim-blocks "$img" "$claim"
	set -- $(peak_rss "$S" cat "$img:/good")
	local rss=$1
	sv cat "$img:/good"
	if [ $rc -ne 1 ] || ! cmp -s "$W/out" "$W/t/good" || ! grep -q "block groups but only" "$W/err"; then
		fail "$label" "status $rc, or the file did not come out whole"
	elif [ $san = 0 ] && [ "$rss" -gt 65536 ]; then
		fail "$label" "peak RSS $rss KiB for a 256 KiB image"
	else
		pass "$label"
	fi
}
claim_case claim-blocks-32 0xffffffff -t ext2 -b 1024
claim_case claim-blocks-64 $((((1 << 32) - 1) * 8192)) -t ext4 -O 64bit,^metadata_csum,^resize_inode,^has_journal -b 1024

# ---- 9: i_size of 2^62: clamped to what the block map can address ----
newtree
rnd "$W/t/huge" 5000
rnd "$W/t/good" 3000
img="$W/size.img"
if mkimg "$img" 4M -t ext2 -b 1024; then
	ino=$(python3 "$CRAFT" bigsize "$img" /huge $(((1 << 62) + 5000)))
	max=$(((12 + 256 + 65536 + 16777216) * 1024))
	sv ls -l "$img:/huge"
	if [ $rc -ne 1 ] || ! grep -q " $max " "$W/out" || ! grep -q "inode $ino: size" "$W/err"; then
		fail size-clamp-ls "status $rc, listing $(cat "$W/out")"
	else
		pass size-clamp-ls
	fi
	sv cp "$img:/" "$W/cp"
	if [ $rc -ne 1 ] || [ "$(stat -c %s "$W/cp/huge")" != $max ] || [ "$(alloc "$W/cp/huge")" -gt 65536 ] ||
	   ! cmp -s -n 5000 "$W/cp/huge" "$W/t/huge" || ! cmp -s "$W/cp/good" "$W/t/good"; then
		fail size-clamp-cp "status $rc, size $(stat -c %s "$W/cp/huge" 2> /dev/null)"
	else
		pass size-clamp-cp
	fi
	# 16 GiB of mostly zeros to /dev/null: seconds, not centuries
	timeout 20 "$S" cat "$img:/huge" > /dev/null 2> "$W/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail size-clamp-cat "status $rc (124: still reading after 20 s)"
	else
		pass size-clamp-cat
	fi
else
	echo "SKIP hostile-ext size-clamp: mke2fs failed"
fi

# ---- 12: an entry with an empty name is kept under a safe name, and reported ----
newtree
mkdir -p "$W/t/d"
echo hello > "$W/t/d/e"
echo other > "$W/t/d/keep"
img="$W/empty.img"
if mkimg "$img" 8M -t ext4 -O ^metadata_csum; then
	ino=$(python3 "$CRAFT" emptyname "$img" /d e)
	sv cp "$img:/d" "$W/cp"
	if [ $rc -ne 1 ] || ! cmp -s "$W/cp/__salvage_badname_$ino" "$W/t/d/e" || ! cmp -s "$W/cp/keep" "$W/t/d/keep" ||
	   ! grep -q "(inode $ino): the entry has an empty name" "$W/err"; then
		fail empty-name "status $rc, files: $(ls "$W/cp" 2> /dev/null | tr '\n' ' ')"
	else
		pass empty-name
	fi
else
	echo "SKIP hostile-ext empty-name: mke2fs failed"
fi

[ $fails = 0 ]
