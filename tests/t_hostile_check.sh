#!/bin/bash
# t_hostile_check.sh: crafted images and sources that once hung, crashed or blew up `salvage check`
# and source opening (issue 7, defects 7, 10 and 13, and the option parser):
#   - a 64 MiB image claiming 2^31 inodes, every descriptor pointing at one inode table;
#   - a 1 TiB sparse file holding a small filesystem that claims the whole size (and twice it);
#   - a block map whose triple-indirect block points at itself; an extent tree whose nodes are
#     shared by 2000 inodes (each node must be walked once per file, within a budget);
#   - the resize inode's map naming a bitmap block: duplicate-block pairs with no pair to sort
#     (qsort with zero elements, which UBSan reports);
#   - a FIFO as SOURCE and as --journal FILE; --partitionx and --offsetx;
#   - the binary's hardening (PIE, full RELRO) when it is a release build.
# Each check runs under a time limit; peak RSS is measured except under the sanitizer build.
# env: SALVAGE (the binary), BUILD (scratch space parent). Prints PASS/FAIL/SKIP lines.
SALVAGE=${SALVAGE:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
HERE=$(cd "$(dirname "$0")" && pwd)
CRAFT="python3 $HERE/craft_check.py"
T=$(mktemp -d "${BUILD:-/tmp}/t_hostile_check.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
case $SALVAGE in *build-san*) SAN=1 ;; *) SAN=0 ;; esac
RSS_MAX_KB=$((256 * 1024))

if ! command -v mke2fs >/dev/null || ! command -v debugfs >/dev/null || ! command -v python3 >/dev/null; then
	skip hostile_check "mke2fs, debugfs or python3 not installed"
	exit 0
fi

# measure SECONDS ARGS...: run salvage ARGS with a time limit; stdout to $T/out, stderr to $T/err;
# sets RC (124 on time-out), SECS (wall time) and RSS (peak KiB of the child)
measure() {
	local limit=$1
	shift
	read -r RC SECS RSS < <(python3 - "$limit" "$T/out" "$T/err" "$SALVAGE" "$@" <<'PY'
import resource, subprocess, sys, time
limit, out, err, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.time()
with open(out, "wb") as o, open(err, "wb") as e:
    p = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    try:
        rc = p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = 124
print(rc, "%.2f" % (time.time() - t0), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
}

# rss_ok NAME: true unless the peak RSS is over the limit (not judged under the sanitizer build)
rss_ok() {
	[ "$SAN" = 1 ] && return 0
	[ "$RSS" -le "$RSS_MAX_KB" ] && return 0
	fail "$1" "peak RSS $RSS KiB is over $RSS_MAX_KB KiB"
	return 1
}

sanitizer_clean() { ! grep -q -E "runtime error:|AddressSanitizer|LeakSanitizer" "$T/err"; }

# ---- defect 7: counts the superblock claims beyond what the source holds ----
img=$T/claims.img
mke2fs -q -F -t ext4 -b 1024 "$img" 64M >/dev/null 2>&1
# 2^31 blocks in groups of 8192 and 8192 inodes per group: 262144 groups, 2^31 inodes; the 16 MiB of
# descriptors fit in the image, and every one names group 0's inode table
$CRAFT sb "$img" s_blocks_count_lo=0x80000000 s_inodes_count=0x80000000 s_inodes_per_group=8192
$CRAFT copydesc0 "$img" 262144
measure 30 check "$img"
if [ "$RC" = 124 ]; then fail check_claimed_inodes "timed out after 30 s"
elif [ "$RC" != 1 ] || ! grep -q "claims 2147483648 inodes" "$T/out"; then
	fail check_claimed_inodes "exit $RC, want 1 and the inode claim reported: $(grep -m1 superblock "$T/out")"
elif ! grep -q "overlaps the inode table of an earlier group" "$T/out"; then
	fail check_claimed_inodes "the shared inode table was not reported"
elif rss_ok check_claimed_inodes && sanitizer_clean; then
	pass "check_claimed_inodes (${SECS} s, ${RSS} KiB)"
else
	sanitizer_clean || fail check_claimed_inodes "sanitizer report"
fi

# a 1 TiB sparse file holding a 64 MiB filesystem that claims the whole TiB, then twice it
big=$T/sparse-1t.img
if truncate -s 1T "$big" 2>/dev/null && mke2fs -q -F -t ext4 -b 4096 "$big" 64M >/dev/null 2>&1; then
	for claim in 268435456 536870912; do
		# blocks: the whole file (2^28 blocks), then twice it; inodes: 2^27 (16384 per group)
		$CRAFT sb "$big" s_blocks_count_lo=$claim s_inodes_count=$((claim / 2))
		measure 30 check "$big"
		name=check_sparse_1t_claim_$claim
		if [ "$RC" = 124 ]; then fail $name "timed out after 30 s"
		elif [ "$RC" != 1 ]; then fail $name "exit $RC, want 1"
		elif [ $claim -gt 268435456 ] && ! grep -q "it is truncated; groups 8192-16383 lie past its end" "$T/out"; then
			fail $name "the groups past the end were not reported: $(grep -m1 truncated "$T/out")"
		elif rss_ok $name && sanitizer_clean; then pass "$name (${SECS} s, ${RSS} KiB)"
		else sanitizer_clean || fail $name "sanitizer report"; fi
	done
else
	skip check_sparse_1t "cannot make a 1 TiB sparse file here"
fi
rm -f "$big"

# ---- defect 7: check's own walkers visit each tree node once, within a budget ----
tree=$T/tree
mkdir -p "$tree/many"
head -c 65536 /dev/urandom >"$tree/big"
head -c 8192 /dev/urandom >"$tree/small"
for i in $(seq 1 2000); do : >"$tree/many/f$i"; done
ino_of() { debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p'; }
blocks_of() { debugfs -R "blocks $2" "$1" 2>/dev/null; }

img=$T/bmloop.img
mke2fs -q -F -t ext2 -b 4096 -d "$tree" "$img" 32M >/dev/null 2>&1
set -- $(blocks_of "$img" /small)
$CRAFT bmloop "$img" "$(ino_of "$img" /small)" "$1"
measure 20 check "$img"
if [ "$RC" = 124 ]; then fail check_blockmap_self_loop "timed out after 20 s"
elif [ "$RC" != 1 ] || ! grep -q "refers to indirect block $1 more than once" "$T/out"; then
	fail check_blockmap_self_loop "exit $RC, want 1 and the loop reported"
elif rss_ok check_blockmap_self_loop && sanitizer_clean; then pass "check_blockmap_self_loop (${SECS} s, ${RSS} KiB)"
else sanitizer_clean || fail check_blockmap_self_loop "sanitizer report"; fi

img=$T/extshare.img
mke2fs -q -F -t ext4 -b 4096 -d "$tree" "$img" 32M >/dev/null 2>&1
set -- $(blocks_of "$img" /big)
# 2000 inodes share a depth-4 tree in /big's blocks 1-4, every leaf entry mapping its block 5
$CRAFT extshare "$img" "$(ino_of "$img" /many/f1)" 2000 "$5" "$1" "$2" "$3" "$4"
measure 20 check "$img"
if [ "$RC" = 124 ]; then fail check_extent_shared_nodes "timed out after 20 s"
elif [ "$RC" != 1 ] || ! grep -q "extent tree refers to block $2 more than once" "$T/out"; then
	fail check_extent_shared_nodes "exit $RC, want 1 and the shared nodes reported"
elif rss_ok check_extent_shared_nodes && sanitizer_clean; then pass "check_extent_shared_nodes (${SECS} s, ${RSS} KiB)"
else sanitizer_clean || fail check_extent_shared_nodes "sanitizer report"; fi

# ---- defect 13: duplicate blocks that make no pair (resize inode's map on a bitmap block) ----
img=$T/dupzero.img
mke2fs -q -F -t ext4 -b 4096 "$img" 32M >/dev/null 2>&1
bb=$(dumpe2fs "$img" 2>/dev/null | sed -n 's/^ *Block bitmap at \([0-9]*\).*/\1/p' | head -1)
$CRAFT iblock "$img" 7 13 "$bb"
measure 20 check "$img"
if [ "$RC" != 1 ]; then fail check_dup_no_pairs "exit $RC, want 1"
elif ! sanitizer_clean; then fail check_dup_no_pairs "$(grep -m1 -E 'runtime error|Sanitizer' "$T/err")"
else pass "check_dup_no_pairs$([ "$SAN" = 1 ] || echo ' (meaningful under the SANITIZE build)')"; fi

# ---- defect 10: a FIFO (or socket) is refused without blocking ----
mkfifo "$T/fifo"
measure 5 ls "$T/fifo"
if [ "$RC" = 3 ] && grep -q "is a FIFO; salvage reads image files and disks" "$T/err"; then pass "fifo_source (${SECS} s)"
else fail fifo_source "exit $RC (124: blocked), stderr: $(head -c 200 "$T/err")"; fi
measure 5 check "$T/fifo"
if [ "$RC" = 3 ] && grep -q "is a FIFO" "$T/err"; then pass fifo_source_check
else fail fifo_source_check "exit $RC: $(head -c 200 "$T/err")"; fi
# --journal FILE is opened when the journal needs recovery
img=$T/recover.img
mke2fs -q -F -t ext4 -b 4096 "$img" 32M >/dev/null 2>&1
$CRAFT sb "$img" s_feature_incompat=$(($($CRAFT sbget "$img" s_feature_incompat) | 4))
measure 5 ls --journal "$T/fifo" "$img"
if [ "$RC" = 3 ] && grep -q "journal: .*is a FIFO" "$T/err"; then pass fifo_journal
else fail fifo_journal "exit $RC (124: blocked): $(head -c 200 "$T/err")"; fi
measure 5 ls "$T"
if [ "$RC" = 3 ] && grep -q "is a directory; salvage reads image files and disks" "$T/err"; then pass directory_source
else fail directory_source "exit $RC: $(head -c 200 "$T/err")"; fi

# ---- option parser: an option that only starts like one is unknown ----
for opt in --partitionx --offsetx --journalx; do
	measure 5 ls "$opt" "$img"
	if [ "$RC" = 2 ] && grep -q "unknown option $opt" "$T/err"; then pass "option_prefix $opt"
	else fail "option_prefix $opt" "exit $RC, want 2 (usage)"; fi
done

# ---- hardening of release builds (Linux/ELF: PIE and full RELRO) ----
if [ "$SAN" = 1 ]; then
	skip hardening "the sanitizer build is not hardened"
elif ! command -v readelf >/dev/null || ! readelf -h "$SALVAGE" >/dev/null 2>&1; then
	skip hardening "readelf missing or not an ELF binary"
else
	d=$(readelf -d "$SALVAGE" 2>/dev/null)
	if readelf -lW "$SALVAGE" | grep -q GNU_RELRO && echo "$d" | grep -q BIND_NOW && echo "$d" | grep -q 'FLAGS_1.*PIE'; then
		pass hardening_pie_relro
	else
		fail hardening_pie_relro "want GNU_RELRO, BIND_NOW and PIE: $(echo "$d" | grep -i flags | tr -s ' ')"
	fi
fi
exit 0
