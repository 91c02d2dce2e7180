#!/bin/bash
# t_image.sh -- `salvage image SOURCE OUT.img [--map OUT.map] [PATH...]`, filesystem-aware imaging.
#   whole:    every in-use file copies out of OUT.img (with and without --map) exactly as from the
#             source; every '+' area of the map holds the source's bytes, everything else is zero;
#             OUT.img is the source's size but allocates about the used blocks, far below the size
#   faults:   with read errors injected below the rescue reader, the map marks exactly those sectors
#             '-' (rounded to 512 bytes), they are zero in OUT.img (a whole bad 64 KiB is a hole), and
#             cp and check on OUT.img --map name the same damage as on the failing source
#   paths:    PATH selection: only /b's data is read, /a's data stays '?' and a hole; all metadata is
#             there (ls -R and check agree with the source)
#   resume:   stopped by --stop-after and by SIGINT (with slow failing reads), then run again: the
#             image and map equal an uninterrupted run's; a resumed run re-reads nothing it has
#   ddrescue: GNU ddrescue continues from salvage's mapfile and completes the image byte for byte
#   retry:    --max-retries on a later run reads the '-' areas again (the drive got better)
#   parts:    a GPT disk: OUT.img is the whole disk, partition tables included; cp finds the fs
#   journal:  a journal needing recovery is imaged whole: cp on OUT.img replays as on the source
#   refuse:   OUT.img or the mapfile being the source (or a symlink to it), an existing image
#             without its map, a map without its image: refused, the source unchanged
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
PATH=$PATH:/sbin:/usr/sbin
export MKE2FS_CONFIG="$TESTS/fixtures/mke2fs.conf"
export E2FSPROGS_FAKE_TIME=1700000000
W="$WORK/image.$$"
mkdir -p "$W"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
pass() { echo "PASS image-$1"; }
fail() { echo "FAIL image-$1: $2"; }
CI="python3 $TESTS/craft_image.py"
for t in mke2fs debugfs python3; do
	command -v $t > /dev/null || { echo "SKIP image: $t missing"; exit 0; }
done

# ---- the source: 64 MiB, 4 KiB blocks, about 7 MiB of files ----
mkdir -p "$W/tree/a" "$W/tree/b/deep"
python3 - "$W/tree" <<'PY'
import os, random, sys
t = sys.argv[1]
r = random.Random(8)
def w(p, n):
    with open(os.path.join(t, p), 'wb') as f:
        f.write(r.randbytes(n))
w('a/big', 4 << 20)
for i in range(20):
    w('a/s%02d' % i, 1000 * i + 1)
for i in range(40):
    w('b/g%02d' % i, 3000 * i + 7)
w('b/deep/mid', 1 << 20)
os.symlink('x' * 200, os.path.join(t, 'b/longlink'))
os.setxattr(os.path.join(t, 'b/g01'), b'user.note', b'y' * 3000)
PY
SRC="$W/src.img"
mke2fs -q -F -t ext4 -d "$W/tree" "$SRC" 64M > /dev/null 2>&1 || { fail setup "mke2fs -d failed"; exit 0; }
SRCSUM=$(sha256sum < "$SRC")
bmap() { debugfs -R "bmap $1 $2" "$SRC" 2> /dev/null; }

# cpout NAME SOURCE-ARGS...: salvage cp into $W/NAME (fresh); stderr in $W/NAME.err, status in $W/NAME.rc
cpout() {
	local n=$1
	shift
	rm -rf "$W/$n"
	"$SALVAGE" cp "$@" "$W/$n" 2> "$W/$n.err"
	echo $? > "$W/$n.rc"
}
# problems FILE: the problem lines naming a path or an inode, with the source's name taken out
# report FILE: a whole report with the source's name taken out, without the lines saying where the
# unreadable areas came from (read errors or a mapfile)
report() { sed -e "s#$W/[a-z0-9]*\.img#SRC#g" "$1" | grep -vE '^salvage: SRC: (the mapfile|[0-9.]+ [KMG]?i?B in)'; }
# the damage lines, with the image's name and the cause (a read error on the source, an area the map
# does not mark finished on the image) left out: the same bytes of the same files must be named
problems() {
	sed -e "s#$W/[a-z0-9]*\.img#SRC#g" -e 's/are not rescued (the ddrescue map does not mark them finished)/cannot be read/' \
		"$1" | grep -E '^salvage: (/|inode)' | sort
}

# ---- whole ----
"$SALVAGE" image -q "$SRC" "$W/o1.img" > "$W/o1.out" 2>&1
rc=$?
cpout c1 "$W/o1.img"
cpout c1m "$W/o1.img" --map "$W/o1.img.map"
cpout c0 "$SRC"
used=$(( $(dumpe2fs -h "$SRC" 2> /dev/null | awk -F: '/^Block count/{c=$2} /^Free blocks/{f=$2} END{print c-f}') * 4096 ))
alloc=$(( $(stat -c %b "$W/o1.img") * 512 ))
size=$(stat -c %s "$SRC")
if [ $rc != 0 ]; then
	fail whole "salvage image exited $rc: $(head -3 "$W/o1.out")"
elif ! [ -f "$W/o1.img.map" ]; then
	fail whole "no mapfile o1.img.map by default"
elif ! diff -r --no-dereference "$W/c0" "$W/c1" > /dev/null || ! diff -r --no-dereference "$W/c0" "$W/c1m" > /dev/null; then
	fail whole "cp from the image differs from cp from the source"
elif [ "$(cat "$W/c1m.rc")" != 0 ]; then
	fail whole "cp OUT.img --map exited $(cat "$W/c1m.rc"): $(head -2 "$W/c1m.err")"
elif ! v=$($CI verify "$SRC" "$W/o1.img" "$W/o1.img.map"); then
	fail whole "$v"
elif [ $alloc -gt $((used + used / 20)) ] || [ $alloc -lt $((6 << 20)) ] || [ $alloc -gt $((size / 4)) ]; then
	fail whole "OUT.img allocates $alloc bytes; used blocks $used, size $size"
else
	pass whole
fi
[ "$(sha256sum < "$SRC")" = "$SRCSUM" ] || fail whole-source "the source changed"

# ---- faults: file data (unaligned), a whole 64 KiB of /a/big, a directory block sector, an inode
# table sector, /b/g01's xattr block ----
bb3=$(bmap /a/big 3) b16=$(bmap /a/big 16) b31=$(bmap /a/big 31) dirb=$(bmap /b 0)
ib=$(debugfs -R "imap /b/g05" "$SRC" 2> /dev/null | awk '/located at block/{gsub(",","",$4); print $4}')
xb=$(debugfs -R "stat /b/g01" "$SRC" 2> /dev/null | awk '/File ACL:/{print $6}')
if [ -z "$bb3" ] || [ $((b31 - b16)) != 15 ] || [ -z "$dirb" ] || [ -z "$ib" ]; then
	fail faults "setup: could not locate the blocks ($bb3 $b16 $b31 $dirb $ib $xb)"
else
	F="$((bb3 * 4096 + 100))+1000,$((b16 * 4096))+65536,$((dirb * 4096 + 1024))+512,$((ib * 4096 + 512))+512"
	[ -n "$xb" ] && [ "$xb" != 0 ] && F="$F,$((xb * 4096 + 2048))+100"
	"$SALVAGE" image --inject-faults "$F" "$SRC" "$W/o2.img" --map "$W/o2.map" > "$W/o2.out" 2>&1
	rc=$?
	cpout c2 --inject-faults "$F" "$SRC"
	cpout c2m "$W/o2.img" --map "$W/o2.map"
	"$SALVAGE" check --inject-faults "$F" "$SRC" > "$W/k2" 2>&1
	krc=$?
	"$SALVAGE" check "$W/o2.img" --map "$W/o2.map" > "$W/k2m" 2>&1
	kmrc=$?
	if [ $rc != 1 ]; then
		fail faults "salvage image exited $rc, not 1: $(tail -3 "$W/o2.out")"
	elif [ "$($CI areas "$W/o2.map" -)" != "$($CI round "$F" 512)" ]; then
		fail faults "the map's '-' areas [$($CI areas "$W/o2.map" - | tr '\n' ' ')] are not the injected sectors [$($CI round "$F" 512 | tr '\n' ' ')]"
	elif [ -n "$($CI areas "$W/o2.map" '*')" ]; then
		fail faults "skipped areas left after pass 2: $($CI areas "$W/o2.map" '*' | tr '\n' ' ')"
	elif ! v=$($CI verify "$SRC" "$W/o2.img" "$W/o2.map"); then
		fail faults "$v"
	elif ! $CI nodata "$W/o2.img" $((b16 * 4096)) 65536; then
		fail faults "the unreadable 64 KiB at byte $((b16 * 4096)) is not a hole in OUT.img"
	elif ! diff -r --no-dereference "$W/c2" "$W/c2m" > /dev/null; then
		fail faults "cp OUT.img --map gives other bytes than cp of the failing source"
	elif [ "$(problems "$W/c2.err")" != "$(problems "$W/c2m.err")" ] || [ -z "$(problems "$W/c2.err")" ]; then
		fail faults "cp names other damage: source [$(problems "$W/c2.err" | head -3)] image [$(problems "$W/c2m.err" | head -3)]"
	elif [ "$(cat "$W/c2.rc")" != "$(cat "$W/c2m.rc")" ]; then
		fail faults "cp exit status $(cat "$W/c2.rc") on the source, $(cat "$W/c2m.rc") on the image"
	elif [ $krc != $kmrc ] || ! diff <(report "$W/k2") <(report "$W/k2m") > /dev/null || ! grep -q 'directory block' "$W/k2"; then
		fail faults "check on OUT.img --map differs from check on the failing source ($krc/$kmrc)"
	else
		pass faults
	fi
fi

# ---- paths: /b only ----
"$SALVAGE" image -q "$SRC" "$W/o3.img" /b > /dev/null 2>&1
rc=$?
cpout c3 "$W/o3.img:/b" --map "$W/o3.img.map"
cpout c3s "$SRC:/b"
"$SALVAGE" ls -R "$W/o3.img" --map "$W/o3.img.map" > "$W/ls3" 2> /dev/null
"$SALVAGE" ls -R "$SRC" > "$W/ls0" 2> /dev/null
"$SALVAGE" check "$W/o3.img" --map "$W/o3.img.map" > "$W/k3" 2>&1
krc=$?
if [ $rc != 0 ]; then
	fail paths "salvage image ... /b exited $rc"
elif ! diff -r --no-dereference "$W/c3" "$W/c3s" > /dev/null || [ "$(cat "$W/c3.rc")" != 0 ]; then
	fail paths "/b from the image differs from /b of the source"
elif [ "$($CI status "$W/o3.img.map" $((b16 * 4096)) 65536)" != "?" ] || ! $CI nodata "$W/o3.img" $((b16 * 4096)) 65536; then
	fail paths "/a/big's data was read (map: $($CI status "$W/o3.img.map" $((b16 * 4096)) 65536))"
elif [ "$($CI status "$W/o3.img.map" $((ib * 4096)) 4096)" != "+" ] || [ "$($CI status "$W/o3.img.map" $((dirb * 4096)) 4096)" != "+" ]; then
	fail paths "an inode table or directory block is missing"
elif ! diff "$W/ls0" "$W/ls3" > /dev/null; then
	fail paths "ls -R on the image differs from the source"
elif [ $krc != 0 ]; then
	fail paths "check on the image (metadata only) is not clean: $(tail -2 "$W/k3")"
else
	pass paths
fi

# ---- resume ----
"$SALVAGE" image "$SRC" "$W/o4.img" --stop-after 2M > "$W/o4a.out" 2>&1
rc1=$?
st1=$($CI status "$W/o4.img.map" 0 $size)
"$SALVAGE" image "$SRC" "$W/o4.img" > "$W/o4b.out" 2>&1
rc2=$?
"$SALVAGE" image "$SRC" "$W/o4.img" > "$W/o4c.out" 2>&1
rc3=$?
if [ $rc1 != 1 ] || ! grep -q "run the same command again" "$W/o4a.out"; then
	fail resume "a stopped run exits $rc1 and says: $(head -2 "$W/o4a.out")"
elif [ "$st1" != "+?" ]; then
	fail resume "the map of the stopped run has statuses '$st1'"
elif [ $rc2 != 0 ] || ! grep -q continuing "$W/o4b.out"; then
	fail resume "the second run exits $rc2: $(head -2 "$W/o4b.out")"
elif ! cmp -s "$W/o1.img" "$W/o4.img" || ! diff <(grep -v '^#' "$W/o1.img.map") <(grep -v '^#' "$W/o4.img.map") > /dev/null; then
	fail resume "the resumed image or map differs from an uninterrupted run's"
elif ! grep -qE 'read [0-9.]+ KiB from' "$W/o4c.out"; then
	fail resume "a run over a complete image read more than the superblock: $(grep 'read ' "$W/o4c.out")"
else
	pass resume
fi
# SIGINT during slow failing reads (0.2 s each): the map is saved, the next run completes it
F5="$((bb3 * 4096))+512,$((b16 * 4096 + 8192))+512,$((b16 * 4096 + 40960))+512,$((dirb * 4096 + 2048))+512"
timeout --preserve-status -s INT 1 "$SALVAGE" image --inject-faults "$F5/200" "$SRC" "$W/o5.img" > "$W/o5a.out" 2>&1
rc1=$?
"$SALVAGE" image "$SRC" "$W/o5.img" --max-retries 1 > "$W/o5b.out" 2>&1
rc2=$?
if [ $rc1 != 1 ] || ! grep -q "stopped" "$W/o5a.out" || ! [ -f "$W/o5.img.map" ]; then
	fail resume-sigint "interrupted run: status $rc1, $(head -2 "$W/o5a.out")"
elif [ $rc2 != 0 ] || ! cmp -s "$W/o1.img" "$W/o5.img"; then
	fail resume-sigint "the run after the interrupt: status $rc2, image equal: $(cmp -s "$W/o1.img" "$W/o5.img" && echo yes || echo no)"
else
	pass resume-sigint
fi

# ---- ddrescue continues from salvage's map ----
if command -v ddrescue > /dev/null; then
	"$SALVAGE" image -q "$SRC" "$W/o6.img" --stop-after 1M > /dev/null 2>&1
	ddrescue -q "$SRC" "$W/o6.img" "$W/o6.img.map" > "$W/dd.out" 2>&1
	rc=$?
	if [ $rc != 0 ] || ! cmp -s "$SRC" "$W/o6.img"; then
		fail ddrescue "ddrescue exited $rc or the image is not the source: $(head -2 "$W/dd.out")"
	elif [ "$($CI status "$W/o6.img.map" 0 $size)" != "+" ]; then
		fail ddrescue "ddrescue's map is not all '+'"
	else
		pass ddrescue
	fi
else
	echo "SKIP image-ddrescue: GNU ddrescue not installed (apt-get install gddrescue)"
fi

# ---- retry: bad sectors from an earlier run, read again with --max-retries ----
cp --sparse=always "$W/o2.img" "$W/o7.img" && cp "$W/o2.map" "$W/o7.map"
"$SALVAGE" image "$SRC" "$W/o7.img" --map "$W/o7.map" > "$W/o7a.out" 2>&1
rc1=$?
bad1=$($CI areas "$W/o7.map" -)
"$SALVAGE" image "$SRC" "$W/o7.img" --map "$W/o7.map" --max-retries 1 > "$W/o7b.out" 2>&1
rc2=$?
if [ $rc1 != 1 ] || [ "$bad1" != "$($CI round "$F" 512)" ]; then
	fail retry "without --max-retries the bad sectors must stay bad (status $rc1)"
elif [ $rc2 != 0 ] || [ -n "$($CI areas "$W/o7.map" -)" ] || ! cmp -s "$W/o1.img" "$W/o7.img"; then
	fail retry "--max-retries 1 did not read them (status $rc2): $(tail -3 "$W/o7b.out")"
else
	pass retry
fi

# ---- parts: a GPT disk with the filesystem in partition 2 ----
if command -v sfdisk > /dev/null; then
	D="$W/disk.img"
	truncate -s 80M "$D"
	printf 'label: gpt\nstart=2048, size=4096, type=linux\nstart=8192, size=131072, type=linux\n' | sfdisk -q "$D" > /dev/null 2>&1
	dd if="$SRC" of="$D" bs=1M seek=4 conv=notrunc status=none
	"$SALVAGE" image -q "$D" "$W/o8.img" > "$W/o8.out" 2>&1
	rc=$?
	cpout c8 "$W/o8.img" --map "$W/o8.img.map"
	if [ $rc != 0 ] || [ "$(stat -c %s "$W/o8.img")" != $((80 << 20)) ]; then
		fail parts "salvage image of a disk: status $rc, size $(stat -c %s "$W/o8.img")"
	elif ! diff -r --no-dereference "$W/c0" "$W/c8" > /dev/null; then
		fail parts "cp of the disk image differs"
	elif [ "$($CI status "$W/o8.img.map" 0 34816)" != "+" ] || [ "$($CI status "$W/o8.img.map" $(((80 << 20) - 16896)) 16896)" != "+" ]; then
		fail parts "the partition tables (first 34 sectors, last 33) are not in the image"
	elif [ "$("$SALVAGE" probe "$W/o8.img" 2>&1 | sed "s#$W/o8.img##")" != "$("$SALVAGE" probe "$D" 2>&1 | sed "s#$D##")" ]; then
		fail parts "probe of the image differs from probe of the disk"
	else
		pass parts
	fi
else
	echo "SKIP image-parts: sfdisk not installed"
fi

# ---- journal: a transaction pending in the journal (debugfs jo/jw/jc) ----
J="$W/j.img"
mke2fs -q -F -b 1024 -t ext4 -O ^metadata_csum "$J" 8M > /dev/null 2>&1
python3 -c "import sys; sys.stdout.buffer.write(b'o' * 65536)" > "$W/f.bin"
python3 -c "import sys; sys.stdout.buffer.write(b'X' * 3072)" > "$W/x.bin"
debugfs -w -R "write $W/f.bin f" "$J" > /dev/null 2>&1
JB=($(debugfs -R "blocks f" "$J" 2> /dev/null))
printf 'jo\njw -b %s,%s,%s %s\njc\n' "${JB[0]}" "${JB[1]}" "${JB[2]}" "$W/x.bin" | debugfs -w -f - "$J" > /dev/null 2>&1
if ! dumpe2fs -h "$J" 2> /dev/null | grep -q needs_recovery; then
	echo "SKIP image-journal: debugfs did not leave a journal needing recovery"
else
	"$SALVAGE" image -q "$J" "$W/o9.img" > /dev/null 2>&1
	rc=$?
	cpout c9 "$W/o9.img" --map "$W/o9.img.map"
	cpout c9s "$J"
	if [ $rc != 0 ] || ! diff -r --no-dereference "$W/c9" "$W/c9s" > /dev/null || [ "$(head -c 3 "$W/c9/f")" != XXX ]; then
		fail journal "cp of the image (replayed) differs from cp of the source (status $rc)"
	else
		pass journal
	fi
fi

# ---- refuse ----
ok=1
ln -s "$SRC" "$W/link.img"
cp "$SRC" "$W/copy.img"
for args in "$SRC $SRC" "$SRC $W/link.img" "$SRC $W/new.img --map $SRC" "$SRC $W/copy.img" \
	"$SRC $W/nomap.img --map $W/o1.img.map"; do
	"$SALVAGE" image $args > "$W/r.out" 2>&1
	rc=$?
	if [ $rc != 2 ]; then
		fail refuse "salvage image $args: status $rc, not 2: $(head -1 "$W/r.out")"
		ok=0
	fi
done
[ "$(sha256sum < "$SRC")" = "$SRCSUM" ] || { fail refuse "the source changed"; ok=0; }
[ -e "$W/new.img" ] && { fail refuse "an image was created although the map was the source"; ok=0; }
grep -q "never writes" <("$SALVAGE" image "$SRC" "$SRC" 2>&1) || { fail refuse "no reason given"; ok=0; }
[ $ok = 1 ] && pass refuse
exit 0
