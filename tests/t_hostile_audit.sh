#!/bin/bash
# t_hostile_audit.sh: images from the second hostile-image audit of issue 7 (made with mke2fs -d
# and edited by tests/craft_audit.py). Each case made the code before it hang, blow up memory or
# write far more than the image holds; each asserts the bytes or sizes that come out, the exit
# status and the report, under a time limit.
# env: SALVAGE (the binary), BUILD (scratch space parent). Prints PASS/FAIL/SKIP lines.
set -u
S=${SALVAGE:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
HERE=$(cd "$(dirname "$0")" && pwd)
CRAFT="python3 $HERE/craft_audit.py"
W=$(mktemp -d "${BUILD:-/tmp}/t_hostile_audit.XXXXXX")
trap 'rm -rf "$W"' EXIT
pass() { echo "PASS hostile-audit $1"; }
fail() { echo "FAIL hostile-audit $1: $2"; sed 's/^/    /' "$W/err" 2>/dev/null | head -5; }
skip() { echo "SKIP hostile-audit $1: $2"; }
for t in mke2fs debugfs python3; do
	command -v $t >/dev/null || { skip all "$t not installed"; exit 0; }
done
case $S in *build-san*) SAN=1 ;; *) SAN=0 ;; esac

# sv ARGS...: salvage under a time limit; stdout in $W/out, stderr in $W/err, status in $rc
sv() {
	timeout 30 "$S" "$@" > "$W/out" 2> "$W/err"
	rc=$?
}
size() { stat -c %s "$1"; }
newtree() { rm -rf "$W/t"; mkdir -p "$W/t"; }

# ---- flex_bg with 2^16 groups a flex group, tiny groups claimed far past the device: the groups
# kept were rounded up to a whole flex group (65536 descriptors from a 2 MiB image; `info -g`
# printed 6.7 MB). Groups past the end are kept only as far as the device can hold their tables.
newtree
mkdir -p "$W/t/d"
head -c 5000 /dev/urandom > "$W/t/a"
img="$W/flex.img"
if mke2fs -q -F -t ext2 -b 1024 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT flex-claim "$img" 8
	truncate -s 2100K "$img"
	sv info -g "$img"
	out=$(size "$W/out")
	if [ $rc -ne 1 ] || [ "$out" -gt $((2 * $(size "$img"))) ] || ! grep -q "block groups but only" "$W/err"; then
		fail flex-groups "info -g: status $rc, $out bytes of output from a $(size "$img")-byte image"
	elif sv cat "$img:/a" && [ $rc -ne 1 ] || ! head -c 5000 "$W/t/a" | cmp -s - "$W/out"; then
		fail flex-groups "cat /a: status $rc, $(size "$W/out") bytes"
	else
		pass flex-groups
	fi
else
	skip flex-groups "mke2fs failed"
fi

# ---- cross-linked files: 600 inodes sharing the 1.5 MB of one file (a 4 MiB image). Each file
# alone is sound, so the once-per-file rule let cp and tar write 900 MB. A block an earlier inode
# had is given again only while half the device's blocks last.
newtree
mkdir -p "$W/t/m"
head -c 1500000 /dev/urandom > "$W/t/src"
for i in $(seq 1 600); do echo > "$W/t/m/$i"; done
img="$W/xlink.img"
if mke2fs -q -F -t ext2 -b 1024 -N 1000 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT crosslink "$img" /src /m > /dev/null
	lim=$((2 * $(size "$img")))
	rm -rf "$W/cp"
	sv cp "$img" "$W/cp"
	got=$(du -s -B1 "$W/cp" | cut -f1)      # bytes allocated: left-out blocks are holes
	same=$(for f in "$W"/cp/src "$W"/cp/m/*; do cmp -s "$f" "$W/t/src" && echo x; done | wc -l)
	if [ $rc -ne 1 ] || [ "$got" -gt "$lim" ] || [ "$same" -lt 1 ] || ! grep -q "cross-linked blocks" "$W/err"; then
		fail crosslink-cp "status $rc, $got bytes copied from a $(size "$img")-byte image, $same whole copies"
	else
		pass crosslink-cp
	fi
	rm -rf "$W/cp"
	sv tar "$img"
	got=$(size "$W/out")
	if [ $rc -ne 1 ] || [ "$got" -gt "$lim" ] || ! tar tf "$W/out" > /dev/null 2>&1; then
		fail crosslink-tar "status $rc, a $got-byte archive from a $(size "$img")-byte image"
	else
		pass crosslink-tar
	fi
	# each file read on its own is whole; check still names every sharer
	sv cat "$img:/m/7"
	if ! cmp -s "$W/out" "$W/t/src"; then
		fail crosslink-cat "cat /m/7: status $rc, $(size "$W/out") bytes"
	elif sv check "$img" && [ $rc -ne 1 ] || ! grep -q "blocks also claimed by /m/" "$W/out"; then
		fail crosslink-cat "check: status $rc, $(grep "files affected" "$W/out")"
	else
		pass crosslink-cat
	fi
else
	skip crosslink "mke2fs failed"
fi

# ---- cross-linked directories: 400 directories sharing the blocks of one holding 1500 entries:
# `ls -R` printed 1500 names 400 times, tar wrote 1.2 GB.
newtree
mkdir -p "$W/t/d" "$W/t/dd"
for i in $(seq 1 1500); do echo $i > "$W/t/d/entry_name_$i"; done
for i in $(seq 1 400); do mkdir "$W/t/dd/$i"; done
img="$W/xlinkd.img"
if mke2fs -q -F -t ext2 -b 1024 -N 2500 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT crosslink "$img" /d /dd dir > /dev/null
	lim=$((2 * $(size "$img")))
	sv ls -R "$img"
	got=$(size "$W/out")
	n=$(grep -c '^entry_name_1$' "$W/out")
	if [ $rc -ne 1 ] || [ "$got" -gt "$lim" ] || [ "$n" -lt 1 ] || ! grep -q "cross-linked blocks" "$W/err"; then
		fail crosslink-dirs "ls -R: status $rc, $got bytes listed from a $(size "$img")-byte image"
	else
		# a member costs 1.5 KiB or more however small its file (a sound image of tiny files
		# gives such archives too): bounded, but by more than twice the image
		sv tar "$img"
		got=$(size "$W/out")
		if [ $rc -ne 1 ] || [ "$got" -gt $((2 * lim)) ]; then
			fail crosslink-dirs "tar: status $rc, a $got-byte archive from a $(size "$img")-byte image"
		else
			pass crosslink-dirs
		fi
	fi
else
	skip crosslink-dirs "mke2fs failed"
fi

# ---- one 64 KiB xattr value (an ea_inode) referenced by 1500 inodes: tar wrote it 1500 times,
# 100 MB from a 4 MiB image. Values kept outside the inode give out at most half the device.
newtree
mkdir -p "$W/t/m"
head -c 65536 /dev/urandom > "$W/t/v"
for i in $(seq 1 1500); do : > "$W/t/m/$i"; done
img="$W/eaall.img"
if mke2fs -q -F -t ext4 -I 256 -b 1024 -N 1600 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT ea-all "$img" /m /v 65536 > /dev/null
	lim=$((2 * $(size "$img")))
	sv tar "$img"
	got=$(size "$W/out")
	n=$(python3 - "$W/out" "$W/t/v" <<'PY'
import sys, tarfile
v = open(sys.argv[2], "rb").read()
n = 0
for m in tarfile.open(sys.argv[1]):
    x = m.pax_headers.get("SCHILY.xattr.user.x")
    if x is not None and x.encode("utf-8", "surrogateescape") == v:
        n += 1
print(n)
PY
)
	if [ $rc -ne 1 ] || [ "$got" -gt "$lim" ] || [ "${n:-0}" -lt 1 ] || ! grep -q "gave out more than half" "$W/err"; then
		fail ea-shared "tar: status $rc, a $got-byte archive from a $(size "$img")-byte image, $n whole values"
	else
		pass ea-shared
	fi
else
	skip ea-shared "mke2fs failed"
fi

# ---- cat of a file whose size claims 4 TiB over 70 KB of data: cat wrote every zero (hours). Into
# a regular file it now writes only the mapped data and leaves the rest a hole; through a pipe the
# zeros are what was asked for, so only the head is checked there.
newtree
head -c 70000 /dev/urandom > "$W/t/big"
img="$W/sparse.img"
if mke2fs -q -F -t ext4 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT set-size "$img" /big 0x40000000000 > /dev/null
	rm -f "$W/cat.out"
	timeout 30 "$S" cat "$img:/big" > "$W/cat.out" 2> "$W/err"
	rc=$?
	alloc=$(du -k "$W/cat.out" | cut -f1)
	if [ $rc -gt 1 ] || [ "$(size "$W/cat.out")" != 4398046511104 ] || [ "$alloc" -gt 2048 ] ||
	   ! head -c 70000 "$W/cat.out" | cmp -s - "$W/t/big"; then
		fail sparse-cat "status $rc, $(size "$W/cat.out") bytes, $alloc KiB allocated"
	elif ! timeout 30 "$S" cat "$img:/big" 2> /dev/null | head -c 70000 | cmp -s - "$W/t/big"; then
		fail sparse-cat "the piped head differs"
	else
		pass sparse-cat
	fi
	rm -f "$W/cat.out"
else
	skip sparse-cat "mke2fs failed"
fi
