#!/bin/bash
# t_hostile_journal.sh -- hostile journals and orphan lists (issue 7: defect 4 and the walk rule).
#
# 1. big: a 512 MiB ext4 image whose 128 MiB journal is filled (by craft_journal.py) with ~95
#    transactions replacing ~32000 distinct blocks. `salvage ls` must stay small in memory (the
#    replay maps blocks to their journal copies, it does not copy them) while the replayed content
#    is still right: a block logged twice reads the later copy, an escaped block gets its magic
#    back, a revoked block keeps its content, a file whose blocks were all logged reads the
#    journal's bytes; and equal to the kernel's recovery (it replays when it mounts a copy) when loop
#    mounts are available.
# 2. maxlen: a journal superblock claiming s_maxlen far beyond the journal inode (refused), and a
#    journal inode claiming 2^32 blocks through a triple-indirect tree looping on one block (the
#    map is cut at the device's size: no hang, no memory blow-up).
# 3. orphans: an orphan chain that loops (each inode listed once) and an orphan file that names one
#    inode 100,000 times (listed once).
# The RSS assertions are skipped for the sanitizer build (build-san in the binary's path).
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
PATH=$PATH:/sbin:/usr/sbin
export MKE2FS_CONFIG="$TESTS/fixtures/mke2fs.conf"
export E2FSPROGS_FAKE_TIME=1700000000
CRAFT="$TESTS/craft_journal.py"

for t in debugfs mke2fs dumpe2fs python3; do
	if ! command -v $t > /dev/null 2>&1; then
		echo "SKIP hostile_journal: $t not installed"
		exit 0
	fi
done
SAN=0
case "$SALVAGE" in *build-san*) SAN=1 ;; esac
RSS_MAX_MB=64
S="$WORK/hostile_journal.$$"
mkdir -p "$S/mnt"
cleanup() {
	mountpoint -q "$S/mnt" 2> /dev/null && umount "$S/mnt"
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run SECONDS ARGS... -- salvage with a time limit; sets RC and RSS (peak, MiB); out/err in $S
run() {
	local secs=$1
	shift
	read -r RC RSS < <(python3 - "$secs" "$SALVAGE" "$@" 3> "$S/out" 4> "$S/err" <<'PY'
import os, resource, subprocess, sys
try:
    rc = subprocess.run(['timeout', sys.argv[1]] + sys.argv[2:], stdin=subprocess.DEVNULL,
                        stdout=os.fdopen(3, 'wb'), stderr=os.fdopen(4, 'wb')).returncode
except OSError:
    rc = 127
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
)
}

# rss_ok NAME -- the last run stayed under RSS_MAX_MB (not checked under the sanitizer)
rss_ok() {
	if [ $SAN = 1 ]; then
		return 0
	fi
	if [ "$RSS" -ge $RSS_MAX_MB ]; then
		echo "FAIL $1: peak RSS ${RSS} MiB (limit ${RSS_MAX_MB} MiB)"
		return 1
	fi
	return 0
}

# done_ok NAME -- the last run ended by itself with status 0 or 1
done_ok() {
	if [ "$RC" = 124 ]; then
		echo "FAIL $1: no answer after the time limit (hang)"
		return 1
	fi
	if [ "$RC" -gt 1 ]; then
		echo "FAIL $1: exit $RC: $(head -2 "$S/err" | tr '\n' ' ' | cut -c1-200)"
		return 1
	fi
	return 0
}

blk() { python3 -c "import sys; sys.stdout.buffer.write(sys.argv[1].encode() * (int(sys.argv[2])))" "$@"; }

# ---- 1. a journal replaying ~32000 blocks ----
IMG="$S/big.img"
mke2fs -q -F -t ext4 -O ^metadata_csum -b 4096 -J size=128 "$IMG" 512M > /dev/null 2>&1
blk o 8192 > "$S/o2"
blk o 4096 > "$S/o1"
blk h $((300 * 4096)) > "$S/h"
for f in "f o2" "g o1" "r o1" "h h"; do
	set -- $f
	debugfs -w -R "write $S/$2 $1" "$IMG" > /dev/null 2>&1
done
if ! python3 "$CRAFT" big "$IMG" Z > "$S/craft.out" 2> "$S/craft.err"; then
	echo "FAIL big: crafting failed: $(tail -1 "$S/craft.err")"
else
	read -r LOGLEN NTARGETS < "$S/craft.out"
	run 60 ls "$IMG"
	if done_ok big/ls && rss_ok big/ls; then
		if [ "$(sort "$S/out" | tr '\n' ' ')" = "f g h lost+found r " ]; then
			echo "PASS big/ls: $NTARGETS blocks replayed from a $LOGLEN-block log, peak RSS ${RSS} MiB"
		else
			echo "FAIL big/ls: listing is $(tr '\n' ' ' < "$S/out")"
		fi
	fi
	# expected replayed content
	{ blk B 4096; blk o 4096; } > "$S/f.want"
	python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('c03b3998') + b'G' * 4092)" > "$S/g.want"
	cp "$S/o1" "$S/r.want"
	blk Z $((300 * 4096)) > "$S/h.want"
	ok=1
	for f in f g r h; do
		run 60 cat "$IMG:/$f"
		if ! done_ok "big/cat-$f"; then
			ok=0
		elif ! cmp -s "$S/out" "$S/$f.want"; then
			echo "FAIL big/cat-$f: /$f does not read the journal's version"
			ok=0
		fi
	done
	[ $ok = 1 ] && echo "PASS big/content: later copy wins, escaped magic restored, revoke kept, logged file replayed"
	run 60 journal --json "$IMG"
	if done_ok big/journal; then
		python3 - "$S/out" "$NTARGETS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))['journal']
want = int(sys.argv[2]) + 3          # f twice, g, the bulk blocks; r is revoked
if j['replayed_writes'] == want and j['revoke_hits'] == 1:
    print('PASS big/journal: %d writes, %d revoke hit' % (j['replayed_writes'], j['revoke_hits']))
else:
    print('FAIL big/journal: replayed_writes=%s (want %d) revoke_hits=%s' % (j['replayed_writes'], want,
          j['revoke_hits']))
PY
	fi
	if [ "$(id -u)" = 0 ] && cp "$IMG" "$S/ref.img" && mount -o loop "$S/ref.img" "$S/mnt" 2> /dev/null; then
		ok=1
		for f in f g r h; do
			run 60 cat "$IMG:/$f"
			cmp -s "$S/out" "$S/mnt/$f" || { echo "FAIL big/kernel: /$f differs from the kernel's recovery"; ok=0; }
		done
		umount "$S/mnt"
		[ $ok = 1 ] && echo "PASS big/kernel: replayed files equal the kernel's recovery"
	else
		echo "SKIP big/kernel: loop mounts unavailable"
	fi
	rm -f "$S/ref.img"
fi
rm -f "$IMG"

# ---- 2. s_maxlen beyond the journal inode ----
IMG="$S/claim.img"
mke2fs -q -F -t ext4 -O ^metadata_csum -b 1024 "$IMG" 8M > /dev/null 2>&1
python3 "$CRAFT" maxlen "$IMG" claim
run 20 journal "$IMG"
if done_ok maxlen-claim/journal && rss_ok maxlen-claim/journal; then
	grep -q 'claims 4294967280 blocks' "$S/out" && echo "PASS maxlen-claim: a journal longer than its inode is refused" ||
		echo "FAIL maxlen-claim: not refused: $(grep journal: "$S/out" | head -1)"
fi

IMG="$S/loop.img"
mke2fs -q -F -t ext3 -b 1024 "$IMG" 8M > /dev/null 2>&1
python3 "$CRAFT" maxlen "$IMG" loop
for cmd in ls journal; do
	run 20 $cmd "$IMG"
	done_ok "maxlen-loop/$cmd" && rss_ok "maxlen-loop/$cmd" || continue
	# cut by the journal (more runs than the device holds) or, before that, by the ext layer's
	# once-per-walk rule (the looping indirect blocks and repeated blocks are reported there)
	if grep -q 'journal is cut\|already used (a loop)' "$S/err" "$S/out"; then
		echo "PASS maxlen-loop/$cmd: a journal map of 2^32 blocks on 8 MiB is cut at the device's size (RSS ${RSS} MiB)"
	else
		echo "FAIL maxlen-loop/$cmd: the looping journal map was not reported"
	fi
done

# ---- 3. orphans ----
IMG="$S/orphan.img"
mke2fs -q -F -t ext4 -O ^metadata_csum -b 1024 "$IMG" 16M > /dev/null 2>&1
blk x 5000 > "$S/x"
blk q $((400 * 1024)) > "$S/q"
for f in a b of; do
	debugfs -w -R "write $S/$([ $f = of ] && echo q || echo x) $f" "$IMG" > /dev/null 2>&1
done
A=$(debugfs -R "stat a" "$IMG" 2> /dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
B=$(debugfs -R "stat b" "$IMG" 2> /dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
cp "$IMG" "$S/ofile.img"
python3 "$CRAFT" orphan_loop "$IMG" "$A" "$B"
run 20 journal --json "$IMG"
if done_ok orphan-loop/journal; then
	python3 - "$S/out" "$A" "$B" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))['journal']
inos = sorted(x['ino'] for x in j['orphans'])
want = sorted([int(sys.argv[2]), int(sys.argv[3])])
print('PASS orphan-loop: each inode of a looping chain listed once' if inos == want and j['orphans_total'] == 2
      else 'FAIL orphan-loop: listed %s (total %s), want %s' % (inos[:10], j['orphans_total'], want))
PY
	grep -q 'loops back' "$S/err" || echo "FAIL orphan-loop/report: the loop is not reported"
fi
IMG="$S/ofile.img"
python3 "$CRAFT" orphan_file "$IMG" of "$A"
run 20 journal --json "$IMG"
if done_ok orphan-file/journal && rss_ok orphan-file/journal; then
	python3 - "$S/out" "$A" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))['journal']
print('PASS orphan-file: an inode named 100,000 times is listed once' if j['orphans_total'] == 1 and
      j['orphans'][0]['ino'] == int(sys.argv[2]) else 'FAIL orphan-file: %s orphans listed' % j['orphans_total'])
PY
fi
exit 0
