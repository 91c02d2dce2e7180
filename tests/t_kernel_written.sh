#!/bin/bash
# t_kernel_written.sh -- salvage against filesystems written by the kernel.
#
# For ext4 (4 KiB), ext3 (2 KiB) and ext2 (1 KiB): make an empty image, mount
# it read-write, run fsops.py (seeded random churn: creates, appends,
# truncates, deletes, renames, mkdir/rmdir, xattrs, symlinks, hard links,
# chmod/chown, utimes), unmount, e2fsck -fn it, then compare
#   manifest(mount -o ro)  with  manifest(salvage cp IMG:/ OUT)   incl. atime
#   manifest(mount -o ro)  with  manifest(salvage tar | tar -x)   no atime
# Needs root and loop mounts.  SEED (default 1) and OPS (default 3000)
# choose the churn.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
: "${SEED:=1}"
: "${OPS:=3000}"
MAN="python3 $TESTS/manifest.py"
PATH=$PATH:/sbin:/usr/sbin

if [ "$(id -u)" != 0 ]; then
	echo "SKIP kernel_written: need root for loop mounts"
	exit 0
fi
S="$WORK/kernel-written.$$"
mkdir -p "$S/mnt"
cleanup() {
	mountpoint -q "$S/mnt" 2>/dev/null && umount "$S/mnt"
	mountpoint -q "$S/mnt" 2>/dev/null || rm -rf --one-file-system "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

compare() {
	if cmp -s "$2" "$3"; then
		echo "PASS $1"
	else
		echo "FAIL $1: manifests differ (- kernel, + salvage):"
		diff -u "$2" "$3" | sed -n '3,22p' | cut -c1-300
	fi
}

first=1
for cfg in "ext4 4096 " "ext3 2048 --small" "ext2 1024 --small"; do
	set -- $cfg
	fs=$1 bs=$2 small=${3:-}
	name="$fs-${bs}-seed$SEED"
	img="$S/$name.img"
	MKE2FS_CONFIG="$TESTS/fixtures/mke2fs.conf" mke2fs -F -q -t "$fs" -b "$bs" -I 256 "$img" 96M > /dev/null 2>&1
	if ! mount -o loop "$img" "$S/mnt" 2> "$S/mount.err"; then
		if [ $first = 1 ]; then
			echo "SKIP kernel_written: loop mounts unavailable: $(head -1 "$S/mount.err")"
			exit 0
		fi
		echo "FAIL kernel_written/$name: mount failed: $(head -1 "$S/mount.err")"
		continue
	fi
	first=0
	if ! python3 "$TESTS/fsops.py" "$S/mnt" "$SEED" "$OPS" $small > "$S/ops.log" 2>&1; then
		echo "FAIL kernel_written/$name: fsops.py failed:"
		tail -5 "$S/ops.log"
		umount "$S/mnt"
		continue
	fi
	umount "$S/mnt"
	if ! e2fsck -fn "$img" > "$S/fsck.log" 2>&1; then
		echo "FAIL kernel_written/$name: e2fsck -fn reports problems in the kernel-written image:"
		grep -v '^Pass\|^e2fsck' "$S/fsck.log" | head -5
	fi
	mount -o loop,ro "$img" "$S/mnt"
	$MAN --atime "$S/mnt" > "$S/mnt-atime.man"
	$MAN "$S/mnt" > "$S/mnt.man"
	umount "$S/mnt"
	echo "kernel_written/$name: $(wc -l < "$S/mnt.man") entries"

	if [ ! -x "$SALVAGE" ]; then
		echo "SKIP kernel_written/$name: no salvage binary at $SALVAGE"
		continue
	fi
	rm -rf --one-file-system "$S/cp"
	"$SALVAGE" cp --devices "$img:/" "$S/cp" > "$S/cp.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL kernel_written/$name/cp: salvage cp exited $rc"; head -5 "$S/cp.log"; }
	if [ -d "$S/cp" ]; then
		$MAN --atime "$S/cp" > "$S/cp.man"
		compare "kernel_written/$name/cp: salvage cp == kernel (incl. atime)" "$S/mnt-atime.man" "$S/cp.man"
	else
		echo "FAIL kernel_written/$name/cp: no output directory"
	fi
	rm -rf --one-file-system "$S/cp" "$S/tar"
	mkdir -p "$S/tar"
	"$SALVAGE" tar "$img:/" 2> "$S/tar.log" |
		tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C "$S/tar" 2> "$S/untar.log"
	rcs=("${PIPESTATUS[@]}")
	if [ "${rcs[0]}" -ne 0 ] || [ "${rcs[1]}" -ne 0 ]; then
		echo "FAIL kernel_written/$name/tar: salvage tar exited ${rcs[0]}, tar -x exited ${rcs[1]}"
		head -3 "$S/tar.log" "$S/untar.log"
	fi
	$MAN "$S/tar" > "$S/tar.man"
	compare "kernel_written/$name/tar: salvage tar | tar -x == kernel" "$S/mnt.man" "$S/tar.man"
	rm -rf --one-file-system "$S/tar"
done
exit 0
