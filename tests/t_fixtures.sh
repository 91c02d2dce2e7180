#!/bin/bash
# t_fixtures.sh -- salvage against mke2fs-built images of a known tree.
#
# Builds (or reuses) the fixture trees and images from tests/fixtures (cached
# in $WORK/fixtures-KEY, KEY = hash of the fixture scripts and the mke2fs
# version), then for every image:
#   fixture  kernel mount (ro) of the image == the source tree: proves the
#            image and manifest.py are right before salvage is judged
#   cp       salvage cp --devices IMG:/ OUT exits 0, OUT == the source tree
#   holes    the 4.5 GiB sparse file stays sparse in OUT
#   tar      salvage tar IMG:/ | tar -x, exits 0, result == the source tree
# (sockets are left out of every salvage comparison: cp and tar skip them)
#   kernel   OUT == kernel mount, including atime and lost+found (salvage
#            must reproduce what the kernel reports, even for things the
#            tree comparison has to leave out); tar result == kernel mount
#            without atime (tar -x does not restore atime)
# Every comparison against the tree leaves out lost+found (mke2fs makes it)
# and atime (mke2fs -d sets it to "now"); images.list adds per-image
# exclusions (see fixtures/mkimages.sh).
# FIXTURE_IMAGES="ext4 ext2-1k" limits the run to some images.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
MAN="python3 $TESTS/manifest.py"
PATH=$PATH:/sbin:/usr/sbin

if [ "$(id -u)" != 0 ]; then
	echo "SKIP fixtures: need root (device nodes, owners, xattrs in trusted.*)"
	exit 0
fi
for t in mke2fs debugfs e2fsck; do
	command -v $t > /dev/null || { echo "SKIP fixtures: $t not installed"; exit 0; }
done

key=$( { cat "$TESTS"/fixtures/*; mke2fs -V 2>&1; } | sha256sum | cut -c1-16)
FX="$WORK/fixtures-$key"
if [ ! -f "$FX/images.list" ]; then
	rm -rf --one-file-system "$WORK"/fixtures-*
	mkdir -p "$FX"
	echo "building fixture images in $FX (first run: a few minutes)"
	if ! bash "$TESTS/fixtures/mkimages.sh" "$FX" > "$FX/build.log" 2>&1; then
		echo "FAIL fixtures: mkimages.sh failed:"
		tail -20 "$FX/build.log"
		exit 1
	fi
fi

S="$WORK/fxscratch.$$"
mkdir -p "$S"
MNT="$S/mnt"
mkdir -p "$MNT"
cleanup() {
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	mountpoint -q "$MNT" 2>/dev/null || rm -rf --one-file-system "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# compare NAME FILE1 FILE2: PASS/FAIL with the first 20 lines of the diff
compare() {
	if cmp -s "$2" "$3"; then
		echo "PASS $1"
	else
		echo "FAIL $1: manifests differ (- expected, + got):"
		diff -u "$2" "$3" | sed -n '3,22p' | cut -c1-300
		return 1
	fi
}

# Can the scratch filesystem hold an 8000-byte xattr value (the ea_inode
# one)?  If not, salvage cp and tar -x cannot keep it there: leave it out of
# those comparisons and check it in the tar stream itself instead.
DROP=""
if ! python3 -c 'import os,sys; open(sys.argv[1],"w").close(); os.setxattr(sys.argv[1], "user.huge", bytes(8000))' "$S/xattr-probe" 2>/dev/null; then
	DROP="--drop-xattr user.huge"
fi
rm -f "$S/xattr-probe"

# tar_xattr IMG PATH NAME VALUEFILE: the pax header of PATH in `salvage tar`
# carries SCHILY.xattr.NAME with exactly the bytes of VALUEFILE
tar_xattr() {
	"$SALVAGE" tar "$1:$2" 2>/dev/null | python3 -c '
import sys
want, val = ("SCHILY.xattr." + sys.argv[1]).encode(), open(sys.argv[2], "rb").read()
data, off = sys.stdin.buffer.read(), 0
while off + 512 <= len(data):
    h = data[off:off + 512]
    if h == bytes(512):
        break
    size = int(h[124:136].strip(b"\0 ") or b"0", 8)
    body = data[off + 512:off + 512 + size]
    if h[156:157] == b"x":
        p = 0
        while p < len(body):
            sp = body.index(b" ", p)
            n = int(body[p:sp])
            k, _, v = body[sp + 1:p + n - 1].partition(b"=")
            if k == want:
                sys.exit(0 if v == val else 1)
            p += n
    off += 512 + (size + 511) // 512 * 512
sys.exit(1)
' "$3" "$4"
}

mount_ok=0
mount_failed=0
have_salvage=1
[ -x "$SALVAGE" ] || have_salvage=0

while read -r name tree opts; do
	if [ -n "${FIXTURE_IMAGES:-}" ]; then
		case " $FIXTURE_IMAGES " in *" $name "*) ;; *) continue ;; esac
	fi
	img="$FX/$name.img"
	# shellcheck disable=SC2086
	$MAN --no-lostfound $opts "$FX/trees/$tree" > "$S/tree.man"
	# salvage cp and tar leave sockets out by design (a socket means nothing
	# without its program; tar has no socket type)
	# shellcheck disable=SC2086
	$MAN --no-lostfound --no-sockets $DROP $opts "$FX/trees/$tree" > "$S/tree-nosock.man"
	# the tree side gets --extra-xattrs, the image side must not
	iopts=$(echo " $opts " | sed 's/ --extra-xattrs [^ ]*//')

	mounted=0
	if mount -o loop,ro "$img" "$MNT" 2> "$S/mount.err"; then
		mounted=1
		mount_ok=1
		# shellcheck disable=SC2086
		$MAN --no-lostfound $iopts "$MNT" > "$S/mnt.man"
		compare "fixtures/$name/fixture: kernel mount == source tree" "$S/tree.man" "$S/mnt.man"
		$MAN --no-sockets $DROP --atime "$MNT" > "$S/mnt-atime.man"
		$MAN --no-sockets $DROP "$MNT" > "$S/mnt-all.man"
		umount "$MNT"
	else
		echo "SKIP fixtures/$name/kernel: the kernel cannot mount this image: $(grep -v '^ *dmesg' "$S/mount.err" | head -1 | sed 's/^mount: [^:]*: //')"
		mount_failed=$((mount_failed + 1))
	fi

	if [ $have_salvage = 0 ]; then
		echo "SKIP fixtures/$name/cp: no salvage binary at $SALVAGE"
		continue
	fi

	# (a) cp
	out="$S/cp"
	rm -rf --one-file-system "$out"
	"$SALVAGE" cp --devices "$img:/" "$out" > "$S/cp.log" 2>&1
	rc=$?
	# When the scratch filesystem cannot hold the 8000-byte value, cp must say so and exit 1
	# (something was not kept); every other failure, and any other exit status, is a failure.
	if [ -n "$DROP" ] && [ $rc -eq 1 ] && grep -q 'user.huge (8000 bytes) not kept' "$S/cp.log" &&
		[ "$(grep -c 'not kept' "$S/cp.log")" -eq "$(grep -c 'user.huge (8000 bytes) not kept' "$S/cp.log")" ]; then
		rc=0
	fi
	if [ $rc -ne 0 ]; then
		echo "FAIL fixtures/$name/cp: salvage cp exited $rc"
		head -5 "$S/cp.log"
	fi
	if [ -d "$out" ]; then
		# the atime manifest first: readlink updates a symlink's atime, so
		# any earlier walk of OUT would change what it reports
		[ $mounted = 1 ] && $MAN --no-sockets $DROP --atime "$out" > "$S/cp-atime.man"
		# shellcheck disable=SC2086
		$MAN --no-lostfound --no-sockets $DROP $iopts "$out" > "$S/cp.man"
		compare "fixtures/$name/cp: salvage cp == source tree" "$S/tree-nosock.man" "$S/cp.man"
		f="$out/sparse/huge_4g5"
		if [ -f "$f" ]; then
			alloc=$(( $(stat -c %b "$f") * 512 ))
			if [ $alloc -lt $((64 << 20)) ]; then
				echo "PASS fixtures/$name/holes: 4.5 GiB sparse file has $alloc bytes allocated"
			else
				echo "FAIL fixtures/$name/holes: 4.5 GiB sparse file has $alloc bytes allocated (holes not kept)"
			fi
		fi
		# (c) kernel oracle, cp side
		if [ $mounted = 1 ]; then
			compare "fixtures/$name/kernel: salvage cp == kernel mount (incl. atime, lost+found)" \
				"$S/mnt-atime.man" "$S/cp-atime.man"
		fi
	else
		echo "FAIL fixtures/$name/cp: no output directory"
	fi
	rm -rf --one-file-system "$out"

	# (b) tar
	out="$S/tar"
	rm -rf --one-file-system "$out"
	mkdir -p "$out"
	"$SALVAGE" tar "$img:/" 2> "$S/tar.log" |
		tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C "$out" 2> "$S/untar.log"
	rcs=("${PIPESTATUS[@]}")
	if [ "${rcs[0]}" -ne 0 ] || [ "${rcs[1]}" -ne 0 ]; then
		echo "FAIL fixtures/$name/tar: salvage tar exited ${rcs[0]}, tar -x exited ${rcs[1]}"
		head -3 "$S/tar.log" "$S/untar.log"
	fi
	# shellcheck disable=SC2086
	$MAN --no-lostfound --no-sockets $DROP $iopts "$out" > "$S/tar.man"
	compare "fixtures/$name/tar: salvage tar | tar -x == source tree" "$S/tree-nosock.man" "$S/tar.man"
	if [ $mounted = 1 ]; then
		$MAN --no-sockets $DROP "$out" > "$S/tar-all.man"
		compare "fixtures/$name/kernel-tar: salvage tar | tar -x == kernel mount (incl. lost+found)" \
			"$S/mnt-all.man" "$S/tar-all.man"
	fi
	rm -rf --one-file-system "$out"
	if [ -n "$DROP" ] && [ -f "$FX/trees/$tree.xattrs" ]; then
		while read -r xp xn xf; do
			if tar_xattr "$img" "/$xp" "$xn" "$xf"; then
				echo "PASS fixtures/$name/tar-xattr: $xn of /$xp is in the pax header (scratch fs cannot hold it)"
			else
				echo "FAIL fixtures/$name/tar-xattr: $xn of /$xp missing or wrong in the pax header"
			fi
		done < "$FX/trees/$tree.xattrs"
	fi
done < "$FX/images.list"

if [ $mount_ok = 0 ] && [ $mount_failed -gt 0 ]; then
	echo "SKIP kernel-oracle: loop mounts unavailable (need root): $(head -1 "$S/mount.err" 2>/dev/null)"
fi
exit 0
