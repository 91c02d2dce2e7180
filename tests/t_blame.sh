#!/bin/bash
# t_blame.sh: where the filesystem's metadata lies (sv_fs_layout against dumpe2fs, sv_file_meta
# against debugfs's stat) on mke2fs images of several layouts, and `salvage blame`.
# env: SALVAGE (the binary), BUILD (build dir with tests/test_ext_layout). Prints PASS/FAIL/SKIP.
SALVAGE=${SALVAGE:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$HERE/../build}
LAYOUT=$BUILD/tests/test_ext_layout
T=$(mktemp -d "${TMPDIR:-/tmp}/t_blame.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

if ! command -v mke2fs >/dev/null || ! command -v debugfs >/dev/null || ! command -v dumpe2fs >/dev/null; then
	skip blame_all "mke2fs/debugfs/dumpe2fs not installed"
	exit 0
fi

# ---- sv_fs_layout against dumpe2fs ----
# layout NAME SIZE MKE2FS-OPTIONS...
layout() {
	local name=$1 size=$2
	shift 2
	local img=$T/lay_$name.img
	if ! mke2fs -q -F "$@" "$img" "$size" >/dev/null 2>&1; then
		skip layout_$name "mke2fs $* failed"
		return
	fi
	python3 "$HERE/craft_blame.py" layout "$img" >"$T/ref" 2>"$T/err" || { fail layout_$name "dumpe2fs: $(head -1 "$T/err")"; return; }
	"$LAYOUT" --layout "$img" 2>"$T/err" | sort >"$T/got"
	if [ -s "$T/ref" ] && cmp -s "$T/ref" "$T/got"; then
		pass layout_$name
	else
		fail layout_$name "differs from dumpe2fs: $(diff "$T/ref" "$T/got" | sed -n 2,3p | tr '\n' ' ')"
	fi
	rm -f "$img"
}
if [ -x "$LAYOUT" ]; then
	layout ext2_1k 20M -t ext2 -b 1024 -N 600
	layout ext2_nosparse 40M -t ext2 -b 1024 -O ^sparse_super,^resize_inode
	layout ext4_4k 300M -t ext4 -b 4096
	layout ext4_flex4_1k 60M -t ext4 -b 1024 -G 4
	layout meta_bg_1k 300M -t ext4 -b 1024 -O meta_bg,^resize_inode
	layout meta_bg_4k 600M -t ext4 -b 4096 -O meta_bg,^resize_inode,^flex_bg
	layout sparse_super2 60M -t ext4 -b 1024 -O sparse_super2
	layout sparse_super2_one 300M -t ext4 -b 4096 -O sparse_super2 -E num_backup_sb=1
	layout bigalloc 200M -t ext4 -O bigalloc -C 16384
else
	skip layout "$LAYOUT not built (make units)"
fi

# ---- sv_file_meta against debugfs stat (extent tree blocks, indirect blocks, xattr block) ----
tree=$T/tree
mkdir -p "$tree/d"
head -c 3000000 /dev/urandom >"$tree/big"
for i in $(seq 1 60); do dd if=/dev/urandom of="$tree/frag" bs=1024 seek=$((i * 2)) count=1 conv=notrunc 2>/dev/null; done
echo hi >"$tree/d/x"
if [ -x "$LAYOUT" ]; then
	for fs in "ext2 1024" "ext4 1024" "ext3 4096"; do
		set -- $fs
		img=$T/meta_$1_$2.img
		mke2fs -q -F -t "$1" -b "$2" -d "$tree" "$img" 20M >/dev/null 2>&1 || { skip file_meta_$1_$2 "mke2fs -d failed"; continue; }
		debugfs -w -R "ea_set /big user.test $(printf 'v%.0s' $(seq 1 300))" "$img" >/dev/null 2>&1
		inos=$(seq 2 20)
		python3 "$HERE/craft_blame.py" meta "$img" $inos >"$T/ref"
		"$LAYOUT" --meta "$img" $inos | awk '{ for (i = 0; i < $4; i++) print $1, $2, $3 + i, 1 }' | sort >"$T/got"
		# the reference must hold tree blocks (and the xattr block) for the check to mean anything
		if grep -q -E ' (extent|indirect) ' "$T/ref" && grep -q ' xattr ' "$T/ref" && cmp -s "$T/ref" "$T/got"; then
			pass file_meta_$1_$2
		else
			fail file_meta_$1_$2 "differs from debugfs stat: $(diff "$T/ref" "$T/got" | sed -n 2,3p | tr '\n' ' ')"
		fi
	done
fi

# ---- salvage blame: answers checked against debugfs icheck / ncheck ----
src=$T/src
mkdir -p "$src/data" "$src/d2"
head -c 200000 /dev/urandom >"$src/data/big"
head -c 3000 /dev/urandom >"$src/data/small"
head -c 20000 /dev/urandom >"$src/hard1"
ln "$src/hard1" "$src/d2/hard2"
for i in $(seq 1 80); do echo $i >"$src/d2/a_rather_long_file_name_to_fill_directory_blocks_$i"; done
for i in $(seq 1 60); do dd if=/dev/urandom of="$src/frag" bs=1024 seek=$((i * 2)) count=1 conv=notrunc 2>/dev/null; done
truncate -s 100G "$src/sparse"
echo x | dd of="$src/sparse" bs=1 seek=50G conv=notrunc 2>/dev/null
img=$T/blame.img
BS=1024
if ! mke2fs -q -F -t ext4 -b $BS -d "$src" "$img" 16M >/dev/null 2>&1; then
	skip blame "mke2fs -d failed"
	exit 0
fi
sum0=$(cksum <"$img")
bmap() { debugfs -R "bmap $1 $2" "$img" 2>/dev/null; }
# blame NAME ARGS...: run blame --json into $T/NAME.json, exit status in $T/NAME.rc
blame() {
	local name=$1
	shift
	"$SALVAGE" blame --json "$@" >"$T/$name.json" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}
# verdict NAME WANT_RC EXPECTATION...: exit status and the answer against debugfs
verdict() {
	local name=$1 want=$2 rc why
	shift 2
	rc=$(cat "$T/$name.rc")
	if [ "$rc" != "$want" ]; then
		fail blame_$name "exit $rc, want $want: $(head -2 "$T/$name.err")"
		return
	fi
	why=$(python3 "$HERE/craft_blame.py" expect "$img" "$T/$name.json" $BS "$@" 2>&1)
	if [ "$why" = ok ]; then pass blame_$name; else fail blame_$name "$why"; fi
}

# 200 bytes inside logical block 5 of /data/big
b=$(bmap /data/big 5)
blame data "$img" --bytes $((b * BS + 100))+200
verdict data 1 file "$b" $((5 * BS + 100)) 200

# one sector of the hard-linked file: both names
b=$(bmap /hard1 3)
blame hardlink "$img" --sectors $((b * BS / 512 + 1))
verdict hardlink 1 file "$b" $((3 * BS + 512)) 512
if python3 -c "import json,sys; f=json.load(open(sys.argv[1]))['files'][0]; sys.exit(sorted(f['paths']) != ['/d2/hard2', '/hard1'])" "$T/hardlink.json"; then
	pass blame_hardlink_both_names
else
	fail blame_hardlink_both_names "$(head -c 300 "$T/hardlink.json")"
fi

# the second block of the directory /d2
b=$(bmap /d2 1)
blame dirblock "$img" --bytes $((b * BS))+$BS
verdict dirblock 1 dir "$b"

# exactly the 256 bytes of /data/small's inode in the inode table
ino=$(debugfs -R "stat /data/small" "$img" 2>/dev/null | awk '/^Inode:/ { print $2 }')
set -- $(debugfs -R "imap <$ino>" "$img" 2>/dev/null | awk '/located at block/ { gsub(",", "", $4); print $4, $6 }')
loc=$(($1 * BS + $2))
isize=$(dumpe2fs -h "$img" 2>/dev/null | awk '/^Inode size:/ { print $3 }')
blame itable "$img" --bytes "$loc+$isize"
verdict itable 1 inode "$ino"

# free space only: exit 0, and debugfs knows no owner for the blocks
fb=$(dumpe2fs "$img" 2>/dev/null | awk '/^  Free blocks: [0-9]/ { split($3, r, "-"); print r[1] + 3; exit }')
blame free "$img" --bytes $((fb * BS + 10))+1000
verdict free 0 free

# the primary superblock and the first backup (group 1)
blame super "$img" --bytes 1100+100
verdict super 1 meta superblock "" 0
bpg=$(dumpe2fs -h "$img" 2>/dev/null | awk '/^Blocks per group:/ { print $4 }')
blame backup_super "$img" --bytes $(((bpg + 1) * BS))+512
verdict backup_super 1 meta superblock "" 1

# the extent tree block of /frag, and the journal
frag_ino=$(debugfs -R "stat /frag" "$img" 2>/dev/null | awk '/^Inode:/ { print $2 }')
etb=$(debugfs -R "stat /frag" "$img" 2>/dev/null | grep -o '(ETB0):[0-9]*' | head -1 | cut -d: -f2)
blame extent "$img" --bytes $((etb * BS))+512
verdict extent 1 meta "extent block" "$frag_ino"
jb=$(debugfs -R "bmap <8> 10" "$img" 2>/dev/null)
blame journal "$img" --bytes $((jb * BS))+$BS
verdict journal 1 meta journal 8

# the whole device: the free space left over is exactly what dumpe2fs calls free (every block in
# use is claimed by the layout, an inode's map, the journal or a reserved inode)
blame whole "$img" --bytes 0+$(stat -c %s "$img")
got=$(python3 - "$img" "$T/whole.json" <<'PY'
import json, re, subprocess, sys
img, j = sys.argv[1], json.load(open(sys.argv[2]))
out = subprocess.run(["dumpe2fs", img], capture_output=True, text=True).stdout
bs = int(re.search(r"Block size:\s+(\d+)", out).group(1))
free = []
for m in re.finditer(r"^\s+Free blocks: (.*)$", out, re.M):
    for part in filter(None, (p.strip() for p in m.group(1).split(","))):
        a, _, b = part.partition("-")
        a, b = int(a), int(b or a)
        if free and free[-1][0] + free[-1][1] == a * bs:
            free[-1][1] += (b - a + 1) * bs
        else:
            free.append([a * bs, (b - a + 1) * bs])
print("ok" if free == j["free"] and free else "free %s, dumpe2fs %s" % (j["free"][:4], free[:4]))
PY
)
if [ "$(cat "$T/whole.rc")" = 1 ] && [ "$got" = ok ]; then pass blame_whole_free_is_dumpe2fs_free; else fail blame_whole_free_is_dumpe2fs_free "exit $(cat "$T/whole.rc"): $got"; fi

# a hand-written ddrescue mapfile: a bad sector in /data/small, a non-tried area in free space
b=$(bmap /data/small 1)
cat >"$T/map" <<MAP
# Mapfile. Created by GNU ddrescue version 1.27
# current_pos  current_status  current_pass
0x00000000     +               1
#      pos        size  status
0x00000000  0x$(printf '%08x' $((b * BS + 512)))  +
0x$(printf '%08x' $((b * BS + 512)))  0x00000200  -
0x$(printf '%08x' $((b * BS + 1024)))  0x$(printf '%08x' $(((fb - b) * BS - 1024)))  +
0x$(printf '%08x' $((fb * BS)))  0x00000400  ?
0x$(printf '%08x' $(((fb + 1) * BS)))  0x$(printf '%08x' $(($(stat -c %s "$img") - (fb + 1) * BS)))  +
MAP
blame map "$img" --map "$T/map"
why=$(python3 - "$T/map.json" $((b * BS + 512)) $((fb * BS)) $((BS + 512)) $BS <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
bad, free, lost, bs = (int(x) for x in sys.argv[2:])
areas = [(a["offset"], a["length"], a["kind"]) for a in j["bad_areas"]]
if areas != [(bad, 512, "map"), (free, bs, "map")]:
    print("bad areas %s" % areas)
elif [(f["paths"], f["lost"]) for f in j["files"]] != [(["/data/small"], [[lost, 512]])]:
    print("files %s" % j["files"])
elif j["free"] != [[free, bs]] or j["metadata"]:
    print("free %s metadata %s" % (j["free"], j["metadata"]))
else:
    print("ok")
PY
)
if [ "$(cat "$T/map.rc")" = 1 ] && [ "$why" = ok ]; then pass blame_map; else fail blame_map "exit $(cat "$T/map.rc"): $why"; fi

# --sectors and --bytes for the same area give the same answer
b=$(bmap /data/big 7)
blame sec "$img" --sectors $((b * BS / 512))-$((b * BS / 512 + 1))
blame byt "$img" --bytes $((b * BS))+$BS
if cmp -s "$T/sec.json" "$T/byt.json" && grep -q '"lost":\[\[7168,1024\]\]' "$T/sec.json"; then
	pass blame_sectors_equal_bytes
else
	fail blame_sectors_equal_bytes "$(head -c 300 "$T/sec.json")"
fi

# the filesystem inside a bigger SOURCE: --offset, SOURCE offsets in and out
off=1048576
{ head -c $off /dev/zero; cat "$img"; } >"$T/disk.img"
b=$(bmap /data/big 5)
blame offset "$T/disk.img" --offset $off --bytes 100+200,$((off + b * BS + 100))+200
why=$(python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
ok = [(f['paths'], f['lost']) for f in j['files']] == [(['/data/big'], [[5 * $BS + 100, 200]])] and j['outside'] == [[100, 200]]
print('ok' if ok else 'files %s outside %s' % (j['files'], j['outside']))" "$T/offset.json")
if [ "$(cat "$T/offset.rc")" = 1 ] && [ "$why" = ok ]; then pass blame_offset; else fail blame_offset "exit $(cat "$T/offset.rc"): $why"; fi

# human output: one line per name, the summary
b=$(bmap /hard1 0)
"$SALVAGE" blame "$img" --bytes $((b * BS))+10 >"$T/text" 2>&1
rc=$?
if [ $rc = 1 ] && grep -qx "damaged: /hard1 (inode [0-9]*, 20000 bytes): lost bytes 0-9" "$T/text" &&
	grep -qx "damaged: /d2/hard2 (inode [0-9]*, 20000 bytes): lost bytes 0-9" "$T/text" &&
	grep -q "^summary: 1 bad area (10 B): 1 file and 0 directories hit (10 B lost)" "$T/text"; then
	pass blame_text
else
	fail blame_text "exit $rc: $(tr '\n' '|' <"$T/text")"
fi

# usage errors: exit 2 with a message
for bad in "--sectors 5-3" "--sectors abc" "--sectors 1,,2" "--sectors=" "--bytes 10" "--bytes 10+0" "--bytes x+1" \
	"--bytes 1+1," "--sectors 99999999" ""; do
	"$SALVAGE" blame "$img" $bad >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc = 2 ] && [ -s "$T/err" ] && [ ! -s "$T/out" ]; then
		pass "blame_usage ${bad:-none}"
	else
		fail "blame_usage ${bad:-none}" "exit $rc: $(head -1 "$T/err")"
	fi
done

# the source is never written
if [ "$(cksum <"$img")" = "$sum0" ]; then pass blame_source_unchanged; else fail blame_source_unchanged "the image changed"; fi

# hostile images kept from fuzzing (a self-looping triple indirect block, crafted names): blame over
# the whole image ends, within seconds, with an answer (exit 1) and no sanitizer report
for f in "$HERE"/../fuzz/regress/fs/known-blockmap-tind-self-loop "$HERE"/../fuzz/regress/check/known-qsort-null-blocks-c-400; do
	[ -f "$f" ] || continue
	n=blame_hostile_$(basename "$f")
	timeout 60 "$SALVAGE" blame "$f" --bytes 0+$(stat -c %s "$f") >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc = 1 ] && grep -q '^summary:' "$T/out" && ! grep -q -i 'sanitizer\|runtime error' "$T/err"; then
		pass "$n"
	else
		fail "$n" "exit $rc: $(grep -m1 -i 'sanitizer\|runtime error' "$T/err")"
	fi
done
