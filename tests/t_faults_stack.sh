#!/bin/bash
# t_faults_stack.sh -- read errors below every layer of the stack, injected with --inject-faults
# (a failing drive under the rescue reader: any request touching those bytes fails whole).
#   cat:      one bad 512-byte sector in a file costs exactly those 512 bytes; the bytes before it
#             (a different pattern) never leak into its place; exit 1
#   inodes:   a bad sector in an inode table loses only the inodes in that sector: the other
#             inodes of the same block are still read (cp copies their files)
#   dirblock: a bad directory block: its names are reported, the rest of the tree is copied
#   extent:   a bad extent tree block: the file is reported by inode, other files intact
#   journal:  a replayed block whose journal copy is unreadable reads as zeros (never the stale
#             pre-replay content), with a report; the rest of the replay stands
#   check:    check finishes on all of the above and says the source had read errors
#   map:      a ddrescue mapfile over a zero-filled copy gives the same bytes as the live errors
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
PATH=$PATH:/sbin:/usr/sbin
W="$WORK/faults-stack.$$"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
pass() { echo "PASS faults-stack-$1"; }
fail() { echo "FAIL faults-stack-$1: $2"; }
command -v mke2fs >/dev/null && command -v debugfs >/dev/null || { echo "SKIP faults-stack: mke2fs/debugfs missing"; exit 0; }

# a tree: a 1 MiB file with a pattern that changes every 512 bytes, 64 small files (many inodes
# per inode-table block), a directory of 300 long names (several blocks), a fragmented file
# (an extent tree with depth 1) written by debugfs after the image is made
mkdir -p "$W/tree/many" "$W/tree/bigdir"
python3 - "$W/tree" <<'PY'
import os, sys
t = sys.argv[1]
with open(os.path.join(t, 'pattern'), 'wb') as f:
    for s in range(2048):
        f.write(bytes([(s * 37 + 11) % 251 + 1]) * 512)
for i in range(64):
    with open(os.path.join(t, 'many', 'f%03d' % i), 'w') as f:
        f.write('file %d\n' % i * (i + 1))
for i in range(300):
    with open(os.path.join(t, 'bigdir', 'entry-with-a-long-name-%04d' % i), 'w') as f:
        f.write('%d\n' % i)
PY
if ! mke2fs -F -q -t ext4 -b 4096 -I 256 -d "$W/tree" "$W/img" 32M > "$W/mk.log" 2>&1; then
	echo "SKIP faults-stack: mke2fs failed: $(head -1 "$W/mk.log")"
	exit 0
fi
sha_before=$(sha256sum < "$W/img")

# byte offset of a file's first data block, and of an inode's record
first_block() { debugfs -R "bmap $1 0" "$W/img" 2>/dev/null | tail -1; }
inode_of() { debugfs -R "stat $1" "$W/img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }
imap_off() {  # "Inode N is part of block group G\n\tlocated at block B, offset 0xOFF"
	debugfs -R "imap <$1>" "$W/img" 2>/dev/null | python3 -c '
import re, sys
t = sys.stdin.read()
b = int(re.search(r"located at block (\d+)", t).group(1)); o = int(re.search(r"offset (0x[0-9a-f]+)", t).group(1), 16)
print(b * 4096 + o)'
}

# ---- cat: one sector
pb=$(first_block /pattern)
bad=$((pb * 4096 + 300 * 512))
"$SALVAGE" cat --inject-faults $bad+512 "$W/img:/pattern" > "$W/cat.out" 2> "$W/cat.err"
rc=$?
python3 - "$W/tree/pattern" "$W/cat.out" <<'PY' > "$W/cat.cmp"
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else None
print('len' if diff is None else '%d %d %d %d' % (len(diff), diff[0] if diff else -1, diff[-1] if diff else -1,
      sum(1 for i in (diff or []) if b[i] != 0)))
PY
if [ "$rc" = 1 ] && [ "$(cat "$W/cat.cmp")" = "512 153600 154111 0" ] && grep -q "pattern" "$W/cat.err"; then
	pass cat-one-sector
else
	fail cat-one-sector "exit $rc, differing bytes (count first last nonzero): $(cat "$W/cat.cmp"); $(head -2 "$W/cat.err")"
fi

# ---- inodes: a bad sector in an inode table block holds 2 inodes (256 bytes each); the other
# 14 inodes of that block must still be read
ino=$(inode_of /many/f020)
ioff=$(imap_off "$ino")
sec=$((ioff / 512 * 512))
rm -rf "$W/cp1"
"$SALVAGE" cp --inject-faults $sec+512 "$W/img" "$W/cp1" > /dev/null 2> "$W/cp1.err"
rc=$?
missing=0
for i in $(seq 0 63); do
	n=$(printf 'f%03d' "$i")
	cmp -s "$W/tree/many/$n" "$W/cp1/many/$n" || missing=$((missing + 1))
done
others_ok=1
diff -r "$W/tree/bigdir" "$W/cp1/bigdir" > /dev/null || others_ok=0
cmp -s "$W/tree/pattern" "$W/cp1/pattern" || others_ok=0
if [ "$rc" = 1 ] && [ "$missing" -ge 1 ] && [ "$missing" -le 2 ] && [ "$others_ok" = 1 ] && [ ! -e "$W/cp1/many/f020" ]; then
	pass inode-table-sector
else
	fail inode-table-sector "exit $rc, $missing of 64 small files not copied (1-2 expected: only the inodes in the bad sector), others intact: $others_ok; $(head -3 "$W/cp1.err")"
fi

# ---- dirblock: the second block of /bigdir unreadable
db=$(debugfs -R "bmap /bigdir 1" "$W/img" 2>/dev/null | tail -1)
rm -rf "$W/cp2"
"$SALVAGE" cp --inject-faults $((db * 4096 + 1024))+512 "$W/img" "$W/cp2" > /dev/null 2> "$W/cp2.err"
rc=$?
n_out=$(ls "$W/cp2/bigdir" 2>/dev/null | wc -l)
if [ "$rc" = 1 ] && [ "$n_out" -gt 0 ] && [ "$n_out" -lt 300 ] && cmp -s "$W/tree/pattern" "$W/cp2/pattern" &&
   diff -r "$W/tree/many" "$W/cp2/many" > /dev/null && grep -q "bigdir" "$W/cp2.err"; then
	pass directory-block
else
	fail directory-block "exit $rc, $n_out of 300 names copied (some but not all expected), $(head -2 "$W/cp2.err")"
fi

# ---- extent: a file with an extent tree of depth 1 (fragmented by interleaved writes)
cp "$W/img" "$W/ext.img"
# debugfs write gives contiguous files; fragment by writing many small files, deleting every other,
# then writing the big one into the holes
python3 - "$W" <<'PY' > "$W/dbg.cmds"
import sys
w = sys.argv[1]
open(w + '/fragA', 'wb').write(b''.join(bytes([(i % 250) + 1]) * 4096 for i in range(400)))
for i in range(120):
    open('%s/s%03d' % (w, i), 'wb').write(bytes([i + 1]) * 4096)
    print('write %s/s%03d s%03d' % (w, i, i))
for i in range(0, 120, 2):
    print('rm s%03d' % i)
print('write %s/fragA fragA' % w)
PY
debugfs -w -f "$W/dbg.cmds" "$W/ext.img" > /dev/null 2>&1
eb=$(debugfs -R "stat /fragA" "$W/ext.img" 2>/dev/null | grep -o "(ETB0):[0-9]*" | head -1 | cut -d: -f2)
if [ -z "$eb" ]; then
	echo "SKIP faults-stack-extent-block: could not make a file with an extent tree block"
else
	rm -rf "$W/cp3"
	"$SALVAGE" cp --inject-faults $((eb * 4096))+512 "$W/ext.img" "$W/cp3" > /dev/null 2> "$W/cp3.err"
	rc=$?
	fino=$(debugfs -R "stat /fragA" "$W/ext.img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	if [ "$rc" = 1 ] && grep -q "inode $fino\|fragA" "$W/cp3.err" && cmp -s "$W/tree/pattern" "$W/cp3/pattern" &&
	   ! cmp -s "$W/fragA" "$W/cp3/fragA"; then
		pass extent-block
	else
		fail extent-block "exit $rc, $(head -3 "$W/cp3.err")"
	fi
fi

# ---- journal: a transaction replaces /pattern's first block with 'J'; its journal copy is unreadable
cp "$W/img" "$W/j.img"
jpos=$(python3 - "$W/j.img" "$TESTS" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from craft_journal import Image, Log, journal_map, file_blocks
path = sys.argv[1]
img = Image(path)
jmap = journal_map(path)
log = Log(img, jmap)
p = file_blocks(path, 'pattern')
m = file_blocks(path, 'many/f001')
# tx 1: pattern block 0 -> 'J' * 4096 (descriptor at log.first, data at log.first + 1)
log.transaction([(p[0], b'J' * img.bs, False)])
# tx 2: many/f001's block -> 'K' (stays readable)
log.transaction([(m[0], b'K' * img.bs, False)])
data_blk = jmap[log.first + 1]
log.finish()
img.close()
print(data_blk * img.bs)
PY
)
"$SALVAGE" cat "$W/j.img:/pattern" 2>/dev/null | head -c 4096 | tr -d 'J' | wc -c > "$W/j.ok"
"$SALVAGE" cat --inject-faults "$jpos+512" "$W/j.img:/pattern" > "$W/j.out" 2> "$W/j.err"
rc=$?
python3 - "$W/j.out" "$W/tree/pattern" <<'PY' > "$W/j.cmp"
import sys
b = open(sys.argv[1], 'rb').read(); a = open(sys.argv[2], 'rb').read()
blk = b[:4096]
# first sector unreadable in the journal: zeros; the rest of the block: the replayed 'J's;
# never the pre-replay bytes of the pattern
print('ok' if blk[:512] == b'\0' * 512 and blk[512:] == b'J' * 3584 and b[4096:] == a[4096:] else
      'bad: first %r ... %r' % (blk[:4], blk[512:516]))
PY
kk=$("$SALVAGE" cat --inject-faults "$jpos+512" "$W/j.img:/many/f001" 2>/dev/null | head -c 4 | tr -d 'K' | wc -c)
if [ "$(cat "$W/j.ok")" = 0 ] && [ "$rc" = 1 ] && [ "$(cat "$W/j.cmp")" = ok ] && [ "$kk" = 0 ]; then
	pass journal-copy-unreadable
else
	fail journal-copy-unreadable "replay ok without faults: $(cat "$W/j.ok") (0 expected), exit $rc, $(cat "$W/j.cmp"), other tx kept: $kk (0 expected); $(head -2 "$W/j.err")"
fi

# ---- check: finishes on a bad inode-table sector, and says there were read errors
timeout 60 "$SALVAGE" check --inject-faults $sec+512 "$W/img" > "$W/ck.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" -lt 4 ] && grep -qi "read" "$W/ck.out"; then
	pass check-read-errors
else
	fail check-read-errors "exit $rc: $(head -3 "$W/ck.out")"
fi

# ---- map: a ddrescue mapfile over a zero-filled copy gives the same bytes as the live error
cp "$W/img" "$W/z.img"
python3 - "$W/z.img" "$bad" "$W/z.map" <<'PY'
import sys
path, bad, mp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
size = __import__('os').path.getsize(path)
with open(path, 'r+b') as f:
    f.seek(bad); f.write(b'\0' * 512)
with open(mp, 'w') as m:
    m.write('# Mapfile. Created by hand\n0x%X     +               1\n' % size)
    m.write('0x%08X  0x%08X  +\n0x%08X  0x%08X  -\n0x%08X  0x%08X  +\n' % (0, bad, bad, 512, bad + 512, size - bad - 512))
PY
"$SALVAGE" cat --map "$W/z.map" "$W/z.img:/pattern" > "$W/z.out" 2> "$W/z.err"
rc=$?
if [ "$rc" = 1 ] && cmp -s "$W/z.out" "$W/cat.out" && grep -q "pattern" "$W/z.err"; then
	pass map-equals-live
else
	fail map-equals-live "exit $rc, same bytes as the live error: $(cmp "$W/z.out" "$W/cat.out" 2>&1 | head -1); $(head -2 "$W/z.err")"
fi
# without the map the zeros pass silently: the map is what makes them a reported loss
"$SALVAGE" cat "$W/z.img:/pattern" > /dev/null 2>&1
[ $? = 0 ] && pass map-needed || fail map-needed "a zero-filled image without map should read cleanly"

[ "$(sha256sum < "$W/img")" = "$sha_before" ] && pass source-unchanged || fail source-unchanged "the image changed"
