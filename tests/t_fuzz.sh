#!/usr/bin/env bash
# t_fuzz.sh: damaged images never crash or hang salvage. Builds small ext2/ext3/ext4 images, flips
# seeded random bytes in their metadata (superblock, descriptors, bitmaps, inode tables, directory
# and extent blocks), and runs probe, info, ls -R, cp and tar on each under a time limit. Any exit
# status 0-3 is fine; signals, time-outs and sanitizer reports fail.
set -u
S=${SALVAGE:?}
W=${TMPDIR:-/tmp}/salvage-fuzz.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
command -v mke2fs >/dev/null || { echo "SKIP fuzz: mke2fs not installed"; exit 0; }
T="$W/tree"
mkdir -p "$T/d1/d2/d3" "$T/big"
for i in $(seq 1 40); do head -c $((i * 997)) /dev/zero | tr '\0' "x" > "$T/d1/f$i"; done
for i in $(seq 1 300); do : > "$T/big/entry-$i-with-a-longer-name"; done
head -c 300000 /dev/zero | tr '\0' 'y' > "$T/d1/d2/d3/large"
ln -s d1/f1 "$T/short"; ln -s "$(printf 'x%.0s' $(seq 1 150))" "$T/long"
ln "$T/d1/f2" "$T/d1/d2/hard"
ROUNDS=${FUZZ_ROUNDS:-12}
fails=0
for kind in "ext2 -b 1024" "ext3 -b 2048" "ext4" "ext4 -O inline_data" "ext4 -O bigalloc -C 4096"; do
	set -- $kind
	fs=$1; shift
	base="$W/base.img"
	mke2fs -q -F -t "$fs" "$@" -d "$T" "$base" 4M >/dev/null 2>&1 || { echo "SKIP fuzz $kind: mke2fs failed"; continue; }
	bad=0
	for r in $(seq 1 "$ROUNDS"); do
		img="$W/f.img"
		cp "$base" "$img"
		python3 - "$img" "$r" <<'PY'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, 'rb').read())
rnd = random.Random(seed * 7919)
# Bias the damage toward metadata: the first 300 KiB hold the superblock, descriptors, bitmaps,
# inode tables and most directory/extent blocks of these small images.
for _ in range(rnd.choice([1, 4, 16, 64])):
    off = rnd.randrange(1024, min(len(data), 300 * 1024))
    data[off] = rnd.randrange(256)
open(path, 'wb').write(data)
PY
		for cmd in "probe" "info" "ls -lR" "cp" "tar" "check" "journal"; do
			case $cmd in
			cp) rm -rf "$W/out"; args=("cp" "$img:/" "$W/out") ;;
			tar) args=("tar" "$img:/") ;;
			*) args=($cmd "$img") ;;
			esac
			timeout 30 "$S" "${args[@]}" > "$W/stdout" 2> "$W/stderr"
			rc=$?
			if [ $rc -gt 3 ] || grep -q -E "AddressSanitizer|runtime error:|LeakSanitizer" "$W/stderr"; then
				echo "FAIL fuzz $kind round $r: '$cmd' exit $rc"
				grep -m 5 -E "ERROR|runtime error|#[0-9]+ " "$W/stderr" | sed 's/^/    /'
				cp "$img" "${TMPDIR:-/tmp}/salvage-fuzz-fail-$fs-$r.img" 2>/dev/null
				bad=1
			fi
		done
	done
	if [ $bad = 0 ]; then echo "PASS fuzz $kind ($ROUNDS damaged images)"; else fails=$((fails + 1)); fi
done
[ $fails = 0 ]
