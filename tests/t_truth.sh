#!/bin/bash
# t_truth.sh: per-file truth in cp and tar (issue 8). Bad sectors are injected with
# --inject-faults (a failing drive under the rescue reader) into small images made with mke2fs -d:
#   - a file whose bytes before the bad sector differ from those under it comes out of cp and tar
#     equal to the original except exactly 512 zero bytes (no stale buffer, no wider loss);
#   - the damaged file is named under every hard link in the text and JSON reports, with the exact
#     file bytes lost and the bad area in source bytes;
#   - 250 damaged files: --report has them all, stderr shows 50 and says how many more and where;
#   - --manifest: every hash and size matches the file written, statuses intact / damaged:OFF+LEN;
#   - an unreadable extent tree block (depth 1) and an unreadable indirect block name the file;
#   - the damage report never overwrites the source.
# Env: SALVAGE (the binary). Prints PASS/FAIL/SKIP lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SALVAGE=${SALVAGE:-$HERE/../salvage}
CRAFT="$HERE/craft_truth.py"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
# check NAME CONDITION-RESULT WHY: pass when the result is "ok"
check() { if [ "$2" = ok ]; then pass "$1"; else fail "$1" "$3 ($2)"; fi; }

for tool in mke2fs debugfs python3 tar sha256sum; do
	command -v $tool >/dev/null 2>&1 || { skip truth "$tool not installed"; exit 0; }
done
[ -x "$SALVAGE" ] || { fail truth "no salvage binary at $SALVAGE (run make)"; exit 0; }

T=$(mktemp -d "${TMPDIR:-/tmp}/t_truth.XXXXXX")
trap 'rm -rf "$T"' EXIT
py() { python3 "$CRAFT" "$@"; }
# physical block of logical block L of PATH in IMG
bmap() { debugfs -R "bmap $2 $3" "$1" 2>/dev/null | tr -d ' \n'; }
ino_of() { debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p'; }

# ---- image A: a pattern file with three names, and intact files ----
mkdir -p "$T/a/sub"
py pattern "$T/a/pat" $((3 << 20))
ln "$T/a/pat" "$T/a/pat_link"
ln "$T/a/pat" "$T/a/sub/link2"
py pattern "$T/a/intact" 100000
printf 'hello\n' >"$T/a/small"
printf 'tabbed\n' >"$T/a/tab	name"
mke2fs -q -F -t ext4 -b 4096 -d "$T/a" "$T/a.img" 16M >/dev/null 2>&1 || { fail truth-image "mke2fs -d failed"; exit 0; }
IMG="$T/a.img"
IMGSUM=$(sha256sum <"$IMG")
INO=$(ino_of "$IMG" /pat)
# the bad sector: file bytes X..X+511, in cp's second 1 MiB chunk and tar's fifth 256 KiB one
X=$(( (1 << 20) + 5 * 4096 + 1024 ))
PB=$(bmap "$IMG" /pat $((X / 4096)))
S=$(( PB * 4096 + X % 4096 ))
FAULT="--inject-faults $S+512"
SIZE=$((3 << 20))

"$SALVAGE" cp $FAULT --report "$T/cp.txt" --manifest "$T/cp.man" "$IMG" "$T/out" >"$T/cp.stdout" 2>"$T/cp.err"
rc=$?
[ $rc = 1 ] && pass truth-cp-exit || fail truth-cp-exit "exit $rc, want 1 (damage): $(head -3 "$T/cp.err")"
check truth-cp-exact-zeros "$(py zeros_only "$T/a/pat" "$T/out/pat" $X 512)" "cp output is not the original with exactly 512 zeros"
r=$(stat -c %i "$T/out/pat" "$T/out/pat_link" "$T/out/sub/link2" | sort -u | wc -l)
[ "$r" = 1 ] && pass truth-cp-links || fail truth-cp-links "the three names are not one file in the copy"
cmp -s "$T/a/intact" "$T/out/intact" && pass truth-cp-intact || fail truth-cp-intact "an intact file differs"
want="file inode $INO: bytes $X-$((X + 511)) cannot be read (source bytes $S-$((S + 511)), block $PB); zeros in their place"
grep -qF "$want" "$T/cp.err" && pass truth-cp-message || fail truth-cp-message "no line '$want' on stderr: $(head -c 400 "$T/cp.err")"

# text report: one line per name, then the bad area in source bytes
ok=ok
for n in /pat /pat_link /sub/link2; do
	grep -qxF "damaged: $n (inode $INO, $SIZE bytes): lost bytes $X-$((X + 511))" "$T/cp.txt" || ok="no line for $n"
done
[ "$(grep -c '^damaged: ' "$T/cp.txt")" = 3 ] || ok="$(grep -c '^damaged: ' "$T/cp.txt") damaged lines, want 3"
grep -qxF "bad area: bytes $S-$((S + 511)) of $IMG (error)" "$T/cp.txt" || ok="no bad area line"
check truth-report-text "$ok" "$(head -c 500 "$T/cp.txt" | tr '\n' '|')"

# manifest of cp: every line's hash and size match the file written; the statuses
r=$(py manifest "$T/cp.man" "$T/out")
[ "$r" = "6 lines ok" ] && pass truth-manifest-cp || fail truth-manifest-cp "$r"
ok=ok
for n in /pat /pat_link /sub/link2; do
	s=$(py status "$T/cp.man" $n)
	[ "$s" = "damaged:$X+512" ] || ok="$n: status $s"
done
for n in /intact /small '/tab\tname'; do
	s=$(py status "$T/cp.man" "$n")
	[ "$s" = intact ] || ok="$n: status $s"
done
check truth-manifest-status "$ok" "wrong status"

# tar: the same bytes, the JSON report, the manifest of the member data
mkdir -p "$T/x"
"$SALVAGE" tar $FAULT --json --report "$T/tar.json" --manifest "$T/tar.man" "$IMG" >"$T/a.tar" 2>"$T/tar.err"
rc=$?
[ $rc = 1 ] && pass truth-tar-exit || fail truth-tar-exit "exit $rc, want 1: $(head -3 "$T/tar.err")"
tar -xf "$T/a.tar" -C "$T/x" 2>"$T/x.err" || fail truth-tar-extract "$(head -3 "$T/x.err")"
check truth-tar-exact-zeros "$(py zeros_only "$T/a/pat" "$T/x/pat" $X 512)" "tar member is not the original with exactly 512 zeros"
cmp -s "$T/out/pat" "$T/x/pat" && pass truth-tar-equals-cp || fail truth-tar-equals-cp "tar member data differs from cp's output"
r=$(py json "$T/tar.json" "sorted(d['damaged'][0]['names']) == ['/pat', '/pat_link', '/sub/link2'] and d['damaged'][0]['lost'] == [[$X, 512]] and d['damaged'][0]['ino'] == $INO and d['damaged'][0]['size'] == $SIZE and d['damaged'][0]['why'] == 'read error' and d['files_damaged'] == 1 and d['bytes_lost'] == 512 and d['bad_areas'] == [{'offset': $S, 'length': 512, 'kind': 'error'}] and len(d['damaged']) == 1")
[ "$r" = True ] && pass truth-report-json || fail truth-report-json "$(head -c 600 "$T/tar.json")"
r=$(py manifest "$T/tar.man" "$T/x")
[ "$r" = "6 lines ok" ] && pass truth-manifest-tar || fail truth-manifest-tar "$r"
sort "$T/cp.man" >"$T/cp.sorted"; sort "$T/tar.man" >"$T/tar.sorted"
cmp -s "$T/cp.sorted" "$T/tar.sorted" && pass truth-manifest-same || fail truth-manifest-same "cp and tar manifests differ: $(diff "$T/cp.sorted" "$T/tar.sorted" | head -4 | tr '\n' '|')"

# cp --json without --report: the JSON on stdout
"$SALVAGE" cp $FAULT --json -q "$IMG" "$T/out2" >"$T/cp2.json" 2>/dev/null
r=$(py json "$T/cp2.json" "sorted(d['damaged'][0]['names']) == ['/pat', '/pat_link', '/sub/link2'] and d['damaged'][0]['lost'] == [[$X, 512]] and d['metadata'] == []" 2>&1)
[ "$r" = True ] && pass truth-cp-json-stdout || fail truth-cp-json-stdout "$r: $(head -c 300 "$T/cp2.json")"

# no damage: exit 0, every file intact, an empty report
"$SALVAGE" cp --report "$T/clean.txt" --manifest "$T/clean.man" "$IMG" "$T/out3" >/dev/null 2>"$T/clean.err"
rc=$?
r=$(py manifest "$T/clean.man" "$T/out3")
n=$(grep -c '	intact	' "$T/clean.man")
[ $rc = 0 ] && [ "$r" = "6 lines ok" ] && [ "$n" = 6 ] && [ ! -s "$T/clean.txt" ] && pass truth-clean ||
	fail truth-clean "exit $rc, manifest: $r, $n intact, report $(wc -c <"$T/clean.txt") bytes"

# the report and manifest never overwrite the source; tar --json needs --report
"$SALVAGE" cp $FAULT --report "$IMG" "$IMG" "$T/out4" >/dev/null 2>"$T/self.err"
rc=$?
"$SALVAGE" tar --manifest "$IMG" "$IMG" >/dev/null 2>>"$T/self.err"
rc2=$?
[ $rc = 2 ] && [ $rc2 = 2 ] && [ "$(sha256sum <"$IMG")" = "$IMGSUM" ] && pass truth-source-safe ||
	fail truth-source-safe "exit $rc/$rc2 or the image changed: $(head -2 "$T/self.err")"
"$SALVAGE" tar --json "$IMG" >/dev/null 2>"$T/tj.err"
rc=$?
[ $rc = 2 ] && pass truth-tar-json-needs-report || fail truth-tar-json-needs-report "exit $rc"

# ---- image B: 250 damaged files, never capped silently ----
py many "$T/b/d" 250 3000
mke2fs -q -F -t ext4 -b 4096 -d "$T/b" "$T/b.img" 16M >/dev/null 2>&1 || { fail truth-many "mke2fs failed"; exit 0; }
b0=$(debugfs -R "blocks /d/f000" "$T/b.img" 2>/dev/null | tr -d ' \n')
b1=$(debugfs -R "blocks /d/f249" "$T/b.img" 2>/dev/null | tr -d ' \n')
if [ -z "$b0" ] || [ -z "$b1" ] || [ $((b1 - b0)) != 249 ]; then
	fail truth-many "the 250 files are not in blocks one after another ($b0..$b1)"
else
	BF="--inject-faults $((b0 * 4096))+$((250 * 4096))"
	"$SALVAGE" cp $BF --report "$T/many.txt" "$T/b.img" "$T/outb" >/dev/null 2>"$T/many.err"
	n=$(grep -c '^damaged: /d/f[0-9]* (inode [0-9]*, 3000 bytes): lost bytes 0-2999$' "$T/many.txt")
	[ "$n" = 250 ] && pass truth-many-report || fail truth-many-report "$n damaged lines in --report, want 250"
	shown=$(grep -c '^salvage cp: damaged: ' "$T/many.err")
	grep -qF "salvage cp: ... and 200 more damaged names not shown here; all of them are in $T/many.txt" "$T/many.err"
	has=$?
	[ "$shown" = 50 ] && [ $has = 0 ] && pass truth-many-stderr ||
		fail truth-many-stderr "$shown names on stderr (want 50), 'more' line found: $has"
	grep -qF 'more problems follow and are not printed one by one' "$T/many.err" &&
	grep -qF -- '--report FILE' "$T/many.err" && pass truth-problem-cap-says-where ||
		fail truth-problem-cap-says-where "the 200-problem cap does not say where the full list is"
	"$SALVAGE" tar $BF "$T/b.img" >/dev/null 2>"$T/many2.err"
	grep -qF 'salvage tar: ... and 200 more damaged names not shown here; `--report FILE` writes all of them' \
		"$T/many2.err" && pass truth-many-no-report || fail truth-many-no-report "$(tail -3 "$T/many2.err")"
	r=$(py zeros_only "$T/b/d/f249" "$T/outb/d/f249" 0 3000)
	check truth-many-bytes "$r" "a damaged small file is not all zeros"
fi

# ---- image C: an unreadable extent tree block (depth 1: 400 extents in two leaves) ----
mkdir -p "$T/c"
py sparse_frag "$T/c/frag" 400 4096
printf 'x\n' >"$T/c/other"
mke2fs -q -F -t ext4 -b 4096 -d "$T/c" "$T/c.img" 16M >/dev/null 2>&1 || { fail truth-extent "mke2fs failed"; exit 0; }
# the second index entry of the root: "0/ 1   2/  2   LSTART - LEND  LEAF  ..."
read -r L2 LEAF2 < <(debugfs -R "ex /frag" "$T/c.img" 2>/dev/null | awk '$1 == "0/" && $3 == "2/" { print $5, $8 }')
CINO=$(ino_of "$T/c.img" /frag)
CSIZE=$(stat -c %s "$T/c/frag")
if [ -z "${LEAF2:-}" ]; then
	fail truth-extent "no second extent leaf in the image (debugfs ex)"
else
	"$SALVAGE" cp --inject-faults $((LEAF2 * 4096 + 1024))+512 --json --report "$T/ext.json" "$T/c.img" "$T/outc" \
		>/dev/null 2>"$T/ext.err"
	rc=$?
	# lost: from the gap before leaf 2's range (the hole at L2-1 cannot be told from lost data) to the end
	r=$(py json "$T/ext.json" "d['damaged'][0]['path'] == '/frag' and d['damaged'][0]['ino'] == $CINO and d['damaged'][0]['lost'] == [[$(( (L2 - 1) * 4096 )), $(( CSIZE - (L2 - 1) * 4096 ))]] and 'map damaged' in d['damaged'][0]['why'] and {'what': 'extent block', 'block': $LEAF2, 'ino': $CINO, 'path': '/frag'} in d['metadata'] and len(d['damaged']) == 1" 2>&1)
	[ $rc = 1 ] && [ "$r" = True ] && pass truth-extent-block ||
		fail truth-extent-block "exit $rc; $r: $(head -c 500 "$T/ext.json")"
	cmp -s -n $(( (L2 - 1) * 4096 )) "$T/c/frag" "$T/outc/frag" && pass truth-extent-before-intact ||
		fail truth-extent-before-intact "the part under the readable leaf differs"
	cmp -s "$T/c/other" "$T/outc/other" && pass truth-extent-others || fail truth-extent-others "another file differs"
fi

# ---- image D: ext2 block map, an unreadable indirect block ----
mkdir -p "$T/d"
py pattern "$T/d/big" $((200 * 1024))
mke2fs -q -F -t ext2 -b 1024 -d "$T/d" "$T/d.img" 4M >/dev/null 2>&1 || { fail truth-indirect "mke2fs failed"; exit 0; }
IND=$(debugfs -R "stat /big" "$T/d.img" 2>/dev/null | tr ',' '\n' | sed -n 's/.*(IND):\([0-9]*\).*/\1/p' | head -1)
DINO=$(ino_of "$T/d.img" /big)
if [ -z "$IND" ]; then
	fail truth-indirect "no indirect block found by debugfs"
else
	"$SALVAGE" tar --inject-faults $((IND * 1024))+512 --report "$T/ind.txt" "$T/d.img" >"$T/d.tar" 2>"$T/ind.err"
	rc=$?
	# direct blocks 0-11 are in the inode; the single indirect block maps logical 12-267
	grep -qxF "damaged: /big (inode $DINO, $((200 * 1024)) bytes): lost bytes $((12 * 1024))-$((200 * 1024 - 1))" "$T/ind.txt" &&
	grep -qxF "metadata: indirect block block $IND (inode $DINO): /big" "$T/ind.txt" && [ $rc = 1 ] &&
		pass truth-indirect-block || fail truth-indirect-block "exit $rc: $(head -c 400 "$T/ind.txt" | tr '\n' '|')"
	mkdir -p "$T/xd" && tar -xf "$T/d.tar" -C "$T/xd" 2>/dev/null
	cmp -s -n $((12 * 1024)) "$T/d/big" "$T/xd/big" && pass truth-indirect-direct-intact ||
		fail truth-indirect-direct-intact "the directly mapped part differs"
fi
exit 0
