#!/bin/bash
# t_source_safe.sh -- salvage never writes to the image it reads.
#
# For a small ext4 image with a journal (and, when the e2fsprogs corpus is
# there, a few of its images whose journal needs recovery -- the place where
# a tool would be tempted to replay in place), every command runs once:
# probe, info, ls, ls -l -R, stat, cat, du, cp, tar, check, journal.  Their
# exit statuses are ignored (some commands may not exist yet), but after
# each one:
#   - the image's SHA-256, size and mtime are unchanged, and
#   - an inotify watch saw no IN_MODIFY / IN_CLOSE_WRITE / IN_ATTRIB on it:
#     IN_CLOSE_WRITE fires whenever a descriptor opened for writing is
#     closed, so even an O_RDWR open that writes nothing is caught.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
CORPUS="$(dirname "$REPO")/shared/corpus/e2fsprogs"
PATH=$PATH:/sbin:/usr/sbin

if [ ! -x "$SALVAGE" ]; then
	echo "SKIP source_safe: no salvage binary at $SALVAGE"
	exit 0
fi
S="$WORK/source-safe.$$"
mkdir -p "$S"
trap 'rm -rf "$S"' EXIT
trap 'exit 130' INT TERM

# a small image: files, dir, symlink, xattr, journal
mkdir -p "$S/tree/dir"
printf 'hello\n' > "$S/tree/file"
head -c 200000 /dev/zero | tr '\0' 'x' > "$S/tree/dir/big"
ln -s file "$S/tree/link"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.k", b"v")' "$S/tree/file" 2>/dev/null
if ! MKE2FS_CONFIG="$TESTS/fixtures/mke2fs.conf" mke2fs -F -q -t ext4 -b 4096 \
	-d "$S/tree" "$S/small.img" 16M > "$S/mke2fs.log" 2>&1; then
	echo "SKIP source_safe: mke2fs failed: $(head -1 "$S/mke2fs.log")"
	exit 0
fi

IMAGES=("$S/small.img")
if [ -f "$CORPUS/catalog.tsv" ]; then
	# up to three corpus images whose journal needs recovery
	for t in $(awk -F'\t' '$13 == "yes" && $2 == "image.gz" { print $1 }' "$CORPUS/catalog.tsv" | head -3); do
		gzip -dc "$CORPUS/$t/image.gz" > "$S/$t.img" 2>/dev/null && IMAGES+=("$S/$t.img")
	done
fi

# watch FILE SENTINEL: print inotify write events on FILE; exit once SENTINEL
# is written (events arrive in order, so everything before is printed)
WATCH='
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
names = {IN_MODIFY: "IN_MODIFY", IN_ATTRIB: "IN_ATTRIB", IN_CLOSE_WRITE: "IN_CLOSE_WRITE"}
wd = libc.inotify_add_watch(fd, os.fsencode(sys.argv[1]), IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE) if fd >= 0 else -1
sw = libc.inotify_add_watch(fd, os.fsencode(sys.argv[2]), IN_CLOSE_WRITE) if wd >= 0 else -1
if sw < 0:
    print("inotify unavailable", flush=True); sys.exit(0)
print("ready", flush=True)
while True:
    buf = os.read(fd, 4096)
    off = 0
    while off < len(buf):
        w, mask, cookie, ln = struct.unpack_from("iIII", buf, off)
        off += 16 + ln
        if w == sw:
            sys.exit(0)
        print(" ".join(v for k, v in names.items() if mask & k), flush=True)
'

for img in "${IMAGES[@]}"; do
	iname=$(basename "$img" .img)
	file=/file
	[ "$iname" = small ] || file=/lost+found
	before=$(sha256sum < "$img")
	meta=$(stat -c '%s %Y' "$img")
	while read -r label cmdline; do
		rm -rf "$S/out" "$S/out2"
		: > "$S/sentinel"
		python3 -c "$WATCH" "$img" "$S/sentinel" > "$S/events" 2>&1 &
		wpid=$!
		for _ in $(seq 100); do
			grep -q . "$S/events" && break
			sleep 0.05
		done
		# shellcheck disable=SC2086
		eval "timeout 60 \"\$SALVAGE\" $cmdline" > /dev/null 2>&1
		: > "$S/sentinel"
		for _ in $(seq 100); do
			kill -0 $wpid 2>/dev/null || break
			sleep 0.05
		done
		kill $wpid 2>/dev/null
		wait $wpid 2>/dev/null
		events=$(grep -v -e '^ready$' -e '^inotify unavailable$' "$S/events" | sort -u | tr '\n' ' ' | sed 's/ $//')
		after=$(sha256sum < "$img")
		meta2=$(stat -c '%s %Y' "$img")
		if [ "$after" != "$before" ] || [ "$meta2" != "$meta" ]; then
			echo "FAIL source_safe/$iname/$label: image changed (sha256/size/mtime)"
			before=$after meta=$meta2
		elif [ -n "$events" ]; then
			echo "FAIL source_safe/$iname/$label: image opened for writing (inotify: $events)"
		else
			echo "PASS source_safe/$iname/$label"
		fi
	done <<EOC
probe probe "\$img"
info info "\$img"
ls ls "\$img"
ls-lR ls -l -R "\$img:/"
stat stat "\$img:$file"
cat cat "\$img:$file"
du du "\$img:/"
cp cp --devices "\$img:/" "\$S/out"
cp-file cp "\$img:$file" "\$S/out2"
tar tar "\$img:/"
check check "\$img"
journal journal "\$img"
EOC
done
exit 0
