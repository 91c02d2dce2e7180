#!/bin/sh
# bench/run.sh /abs/path/to/salvage          (what `make bench` runs)
#
# Builds two ext4 images with `mke2fs -t ext4 -d TREE` from deterministic trees
# (bench/mktrees.py, seeded):
#   A  about 1 GiB in ~600 files of mixed sizes, 8 of them sparse
#   B  100,000 small files in 2,000 directories, two of them with 20,000 entries
# and times, warm cache (one untimed warm-up run of each command, nothing dropped
# from the page cache), the median of BENCH_RUNS runs (default 3):
#   copy:  salvage cp IMG:/ OUT  against  cp -a TREE OUT (the reference: the cost
#          of writing the files), the kernel (loop mount ro + cp -a), debugfs
#          rdump, tsk_recover -a and 7zz x
#   read:  salvage tar IMG:/ | cat >/dev/null  against  tar -cf - . | cat >/dev/null
#          on the kernel's mount and cat IMAGE >/dev/null (and, not a target,
#          cat IMAGE | cat >/dev/null: what the pipe alone costs)
# and the peak RSS of each (/usr/bin/time -f %M).  Copies go to bench/work/out
# (same filesystem as the trees), removed and synced between runs, untimed.
# Trees and images are cached in bench/work/data-KEY (KEY: DATA_VERSION plus a
# hash of mktrees.py and this script's image parameters), so re-runs skip them.
# Results: printed, and the summary table also goes to bench/work/results.txt.
#
# Environment: BENCH_RUNS (3), BENCH_ONLY (A, B or AB: which images; default AB),
#              BENCH_NO_INSTALL=1 (never apt-get), BENCH_NO_CHECK=1 (skip check.sh),
#              BENCH_NO_PEERS=1 (time salvage and the references only, not debugfs/tsk/7zz).
# Optional tools are installed with apt-get when running as root and apt-get
# exists; a peer that is unavailable is reported as "skipped: why".
set -u
LC_ALL=C; export LC_ALL

SALVAGE=${1:-}
[ -n "$SALVAGE" ] || { echo "usage: sh bench/run.sh /abs/path/to/salvage" >&2; exit 2; }
case $SALVAGE in /*) ;; *) SALVAGE=$(pwd)/$SALVAGE ;; esac
[ -x "$SALVAGE" ] || { echo "run.sh: $SALVAGE is not an executable; run 'make' first" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$HERE/work
# run a private copy, so a rebuild of ./salvage during the run changes nothing
SALVAGE_ORIG=$SALVAGE
mkdir -p "$WORK" || exit 1
cp "$SALVAGE" "$WORK/salvage.bin" || exit 1
SALVAGE=$WORK/salvage.bin
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-AB}
DATA_VERSION=1
UUID_A=5a17a6e0-0000-4000-8000-00000000000a
UUID_B=5a17a6e0-0000-4000-8000-00000000000b
HASH_SEED=5a17a6e0-0000-4000-8000-000000000000
MNT=$WORK/mnt
OUT=$WORK/out
RAW=$WORK/results.raw
RESULTS=$WORK/results.txt
LOG=$WORK/log
T0=$(date +%s)

mkdir -p "$WORK" "$LOG" || exit 1
: >"$RAW"

say() { printf '%s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- tools
ISROOT=0; [ "$(id -u)" = 0 ] && ISROOT=1
CAN_APT=0
if [ "$ISROOT" = 1 ] && have apt-get && [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then CAN_APT=1; fi
APT_UPDATED=0
apt_install() {  # apt_install PACKAGE...: quietly; one apt-get update on the first failure
	[ "$CAN_APT" = 1 ] || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$LOG/apt.log" 2>&1 && return 0
	if [ "$APT_UPDATED" = 0 ]; then
		APT_UPDATED=1
		apt-get update -q >>"$LOG/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$LOG/apt.log" 2>&1 && return 0
	fi
	return 1
}
need() {  # need COMMAND PACKAGE: install the package if the command is missing
	have "$1" && return 0
	apt_install "$2" && have "$1"
}

need python3 python3 || { echo "run.sh: python3 is needed to build the trees" >&2; exit 2; }
need mke2fs e2fsprogs || { echo "run.sh: mke2fs (e2fsprogs) is needed to build the images" >&2; exit 2; }
[ -x /usr/bin/time ] || apt_install time
TIMEB=; [ -x /usr/bin/time ] && TIMEB=/usr/bin/time
need hyperfine hyperfine
need debugfs e2fsprogs
need tsk_recover sleuthkit
SEVENZ=
for z in 7zz 7z; do have $z && { SEVENZ=$z; break; }; done
if [ -z "$SEVENZ" ]; then
	apt_install 7zip || apt_install p7zip-full
	for z in 7zz 7z; do have $z && { SEVENZ=$z; break; }; done
fi
# 7z/7zz read ext only from 9.x/16.x on; check the format is there
if [ -n "$SEVENZ" ] && ! $SEVENZ i 2>/dev/null | grep -qi 'ext4'; then SEVENZ_WHY="$SEVENZ has no ext4 format"; SEVENZ=; fi

# ---------------------------------------------------------------- machine
say "== salvage benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "machine: $(uname -srm), $(nproc 2>/dev/null || echo '?') cores ($(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null)), memory $(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null)"
say "work dir: $WORK ($(df -T "$WORK" 2>/dev/null | awk 'NR==2{print $2" on "$1}'))"
say "salvage: $SALVAGE_ORIG (copied to $SALVAGE; repo at $(cd "$HERE/.." && git describe --always --dirty 2>/dev/null || echo 'no git'), binary built $(date -u -r "$SALVAGE_ORIG" '+%Y-%m-%d %H:%M UTC' 2>/dev/null))"
say "runs: warm-up + median of $RUNS; timing: $(have hyperfine && hyperfine --version || echo 'own loop (date +%s.%N)'); peak RSS: ${TIMEB:-unavailable (no /usr/bin/time)}"
say ""

# ---------------------------------------------------------------- trees and images
MKE2FS_VER=$(mke2fs -V 2>&1 | head -1)
KEY=$(printf 'v%s|%s|%s|%s|%s' "$DATA_VERSION" "$(cat "$HERE/mktrees.py")" "$MKE2FS_VER" "$UUID_A$UUID_B$HASH_SEED" "$(cat /etc/mke2fs.conf 2>/dev/null)" | cksum | awk '{print $1}')
DATA=$WORK/data-$DATA_VERSION-$KEY
for d in "$WORK"/data-*; do  # stale caches from another version
	[ -d "$d" ] && [ "$d" != "$DATA" ] && { say "removing stale cache $d"; rm -rf "$d"; }
done
mkdir -p "$DATA"

build() {  # build A|B
	n=$1; kind=large; [ "$n" = B ] && kind=small
	uuid=$UUID_A; [ "$n" = B ] && uuid=$UUID_B
	[ -f "$DATA/$n.done" ] && return 0
	say "building tree $n ($kind) and $n.img (cached afterwards) ..."
	t=$(date +%s)
	rm -rf "$DATA/$n" "$DATA/$n.img" "$DATA/$n.meta"
	python3 "$HERE/mktrees.py" "$kind" "$DATA/$n" >"$DATA/$n.meta" || { echo "run.sh: mktrees.py $kind failed" >&2; return 1; }
	size=$(sed -n 's/.*image_bytes=\([0-9]*\).*/\1/p' "$DATA/$n.meta")
	inodes=$(sed -n 's/.*inodes=\([0-9]*\).*/\1/p' "$DATA/$n.meta")
	tries=0
	while :; do
		rm -f "$DATA/$n.img"
		truncate -s "$size" "$DATA/$n.img" 2>/dev/null || dd if=/dev/zero of="$DATA/$n.img" bs=1 count=0 seek="$size" 2>/dev/null
		if mke2fs -q -F -t ext4 -N "$inodes" -U "$uuid" -E "hash_seed=$HASH_SEED,root_owner=0:0" \
			-d "$DATA/$n" "$DATA/$n.img" >"$LOG/mke2fs-$n.log" 2>&1; then break; fi
		tries=$((tries + 1))
		[ $tries -lt 3 ] || { echo "run.sh: mke2fs -d failed for $n (see $LOG/mke2fs-$n.log)" >&2; return 1; }
		size=$((size / 4 * 5))   # too small: grow by 25 % and retry
	done
	( cd "$DATA/$n" && find . | wc -l ) | tr -d ' ' >"$DATA/$n.entries"
	: >"$DATA/$n.done"
	say "  built in $(( $(date +%s) - t )) s"
}

IMAGES=
case $ONLY in *A*) IMAGES="$IMAGES A" ;; esac
case $ONLY in *B*) IMAGES="$IMAGES B" ;; esac
for n in $IMAGES; do build $n || exit 1; done
for n in $IMAGES; do
	meta=$(cat "$DATA/$n.meta")
	say "image $n: $(du -k --apparent-size "$DATA/$n.img" | awk '{printf "%.0f MiB", $1/1024}') ($(du -k "$DATA/$n.img" | awk '{printf "%.0f MiB", $1/1024}') allocated), $meta"
done
say ""

# ---------------------------------------------------------------- kernel mount
MOUNTED=
KERNEL_WHY=
umount_all() {
	[ -n "$MOUNTED" ] && umount "$MNT" 2>/dev/null
	MOUNTED=
}
trap 'umount_all; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM
mount_image() {  # mount_image IMG: read-only loop mount on $MNT, or set KERNEL_WHY
	umount_all
	KERNEL_WHY=
	if [ "$(uname -s)" != Linux ]; then KERNEL_WHY="not Linux"; return 1; fi
	if [ "$ISROOT" != 1 ]; then KERNEL_WHY="loop mounts need root"; return 1; fi
	mkdir -p "$MNT"
	if mount -t ext4 -o ro,loop "$1" "$MNT" 2>"$LOG/mount.log"; then MOUNTED=1; return 0; fi
	KERNEL_WHY="loop mount failed: $(head -1 "$LOG/mount.log")"
	return 1
}

# ---------------------------------------------------------------- timing
# record GROUP IMAGE TOOL MEDIAN RSS_MIB RC NOTE
record() { printf '%s|%s|%s|%s|%s|%s|%s\n' "$@" >>"$RAW"; }
skip() {  # skip GROUP IMAGE TOOL WHY
	say "  $(printf '%-22s' "$3") skipped: $4"
	record "$1" "$2" "$3" - - - "skipped: $4"
}

# prepare MODE: MODE "none" (read side), "new" (OUT absent), "dir" (OUT an empty dir)
prepare() {
	case $1 in
	none) sync ;;
	new) rm -rf "$OUT"; sync ;;
	dir) rm -rf "$OUT"; mkdir -p "$OUT"; sync ;;
	esac
}

median() { sort -n | awk '{v[NR]=$1} END{if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else printf "%.6f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# bench GROUP IMAGE TOOL PREP CMD [CHECKDIR]
# CMD is a sh command line; it may use $RSSF (file the peak RSS is appended to),
# $TIMEB (/usr/bin/time or empty) and $RCF (file for an inner exit status).
bench() {
	g=$1 im=$2 tool=$3 prep=$4 cmd=$5
	slug=$(printf '%s-%s-%s' "$g" "$im" "$tool" | tr -c 'A-Za-z0-9_.\n-' '_')
	RSSF=$LOG/$slug.rss RCF=$LOG/$slug.rc
	export RSSF RCF TIMEB OUT MNT SALVAGE
	: >"$RSSF"; : >"$RCF"
	# warm-up (untimed): also the exit status and a look at what was written
	prepare "$prep"
	sh -c "$cmd" >"$LOG/$slug.out" 2>"$LOG/$slug.err"
	rc=$?
	[ -s "$RCF" ] && rc=$(tail -1 "$RCF")
	note=
	if [ "$prep" != none ] && [ -n "${6:-}" ]; then
		got=$( (cd "$OUT" 2>/dev/null && find . | wc -l) | tr -d ' ')
		want=$(cat "$DATA/$6.entries")
		[ "$tool" = "cp -a (tree)" ] || want=$((want + 1))   # the image also has lost+found
		[ "$got" = "$want" ] || note="wrote $got entries of $want"
	fi
	if [ "$rc" != 0 ]; then
		note="${note:+$note; }exit $rc: $(grep -v '^$' "$LOG/$slug.err" | head -1 | cut -c1-80)"
	fi
	# timed runs
	times=
	if have hyperfine; then
		case $prep in
		none) set -- --prepare sync ;;
		new) set -- --prepare 'rm -rf "$OUT" && sync' ;;
		dir) set -- --prepare 'rm -rf "$OUT" && mkdir -p "$OUT" && sync' ;;
		esac
		hyperfine -i --style basic --runs "$RUNS" "$@" --export-json "$LOG/$slug.json" "$cmd" >"$LOG/$slug.hf" 2>&1
		times=$(python3 -c 'import json,sys; [print(t) for t in json.load(open(sys.argv[1]))["results"][0]["times"]]' "$LOG/$slug.json" 2>/dev/null)
	fi
	if [ -z "$times" ]; then
		i=0
		while [ $i -lt "$RUNS" ]; do
			prepare "$prep"
			a=$(date +%s.%N)
			sh -c "$cmd" >/dev/null 2>&1
			b=$(date +%s.%N)
			times="$times $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.6f", b-a}')"
			i=$((i + 1))
		done
	fi
	med=$(printf '%s\n' $times | median)
	rss=-
	[ -s "$RSSF" ] && rss=$(grep -E '^[0-9]+$' "$RSSF" | sort -n | tail -1 | awk '{printf "%.1f", $1/1024}')
	[ -n "$rss" ] || rss=-
	record "$g" "$im" "$tool" "$med" "$rss" "$rc" "$note"
	say "  $(printf '%-22s %9.2f s  (runs:%s)  peak RSS %s MiB%s' "$tool" "$med" "$(printf ' %.2f' $times)" "$rss" "${note:+  [$note]}")"
	[ "$prep" != none ] && rm -rf "$OUT"
}

T=${TIMEB:+\$TIMEB -a -o \$RSSF -f %M}   # prefix measuring the peak RSS of one command

for n in $IMAGES; do
	IMG=$DATA/$n.img TREE=$DATA/$n
	export IMG TREE
	say "== image $n: copy out (reference: cp -a from the tree)"
	bench copy $n "cp -a (tree)" new "$T cp -a \"\$TREE\" \"\$OUT\"" $n
	bench copy $n "salvage cp" new "$T \"\$SALVAGE\" cp -q \"\$IMG:/\" \"\$OUT\"" $n
	if mount_image "$IMG"; then
		bench copy $n "kernel cp -a" new "$T cp -a \"\$MNT\" \"\$OUT\"" $n
	else
		skip copy $n "kernel cp -a" "$KERNEL_WHY"
	fi
	if [ "${BENCH_NO_PEERS:-0}" = 1 ]; then
		:   # peers (debugfs, tsk_recover, 7zz) left out on request
	elif have debugfs; then
		bench copy $n "debugfs rdump" dir "$T debugfs -R \"rdump / \$OUT\" \"\$IMG\"" $n
	else
		skip copy $n "debugfs rdump" "debugfs not installed (e2fsprogs)"
	fi
	if [ "${BENCH_NO_PEERS:-0}" = 1 ]; then
		:
	elif have tsk_recover; then
		bench copy $n "tsk_recover -a" dir "$T tsk_recover -a \"\$IMG\" \"\$OUT\"" $n
	else
		skip copy $n "tsk_recover -a" "tsk_recover not installed (sleuthkit)"
	fi
	if [ "${BENCH_NO_PEERS:-0}" = 1 ]; then
		:
	elif [ -n "$SEVENZ" ]; then
		bench copy $n "$SEVENZ x" new "$T $SEVENZ x -y -bd '-x![SYS]' -o\"\$OUT\" \"\$IMG\"" $n
	else
		skip copy $n "7zz x" "${SEVENZ_WHY:-7zz/7z not installed (7zip)}"
	fi
	say "== image $n: read side (| cat > /dev/null)"
	bench read $n "salvage tar" none "{ $T \"\$SALVAGE\" tar -q \"\$IMG:/\"; echo \$? >\"\$RCF\"; } | cat >/dev/null"
	if [ -n "$MOUNTED" ]; then
		bench read $n "tar (kernel mount)" none "cd \"\$MNT\" && $T tar -cf - . | cat >/dev/null"
	else
		skip read $n "tar (kernel mount)" "$KERNEL_WHY"
	fi
	bench read $n "cat image" none "$T cat \"\$IMG\" >/dev/null"
	# not a target: the same pipe as the others, to show what the pipe alone costs
	bench read $n "cat image, piped" none "$T cat \"\$IMG\" | cat >/dev/null"
	# a look at the archive (untimed): member count against the tree
	members=$("$SALVAGE" tar -q "$IMG:/" 2>/dev/null | tar -tf - 2>/dev/null | wc -l | tr -d ' ')
	say "  (salvage tar: $members members; tree: $(cat "$DATA/$n.entries") entries, plus lost+found in the image)"
	umount_all
	say ""
done

# ---------------------------------------------------------------- summary
{
	say "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc 2>/dev/null) cores, $(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null); median of $RUNS warm runs)"
	say "ratio = median / reference median: copy -> cp -a (tree); read -> A: cat image, B: tar (kernel mount)"
	awk -F'|' '
	{ g[NR]=$1; im[NR]=$2; tool[NR]=$3; med[NR]=$4; rss[NR]=$5; rc[NR]=$6; note[NR]=$7
	  key[$1 "|" $2 "|" $3] = $4 }
	END {
	  printf "%-5s %-5s %-20s %10s %8s  %-18s %9s  %s\n", "group", "image", "tool", "median s", "ratio", "reference", "RSS MiB", "note"
	  for (i = 1; i <= NR; i++) {
	    if (g[i] == "copy") ref = "cp -a (tree)"
	    else if (im[i] == "B" && key["read|B|tar (kernel mount)"] != "-" && key["read|B|tar (kernel mount)"] != "") ref = "tar (kernel mount)"
	    else ref = "cat image"
	    r = key[g[i] "|" im[i] "|" ref]
	    ratio = (med[i] == "-" || r == "" || r == "-" || r + 0 == 0) ? "-" : sprintf("%.2fx", med[i] / r)
	    m = (med[i] == "-") ? "-" : sprintf("%.2f", med[i])
	    printf "%-5s %-5s %-20s %10s %8s  %-18s %9s  %s\n", g[i], im[i], tool[i], m, ratio, ref, rss[i], note[i]
	  }
	}' "$RAW"
	say ""
	say "targets:"
	awk -F'|' '
	{ key[$1 "|" $2 "|" $3] = $4; if ($3 ~ /^salvage/) { if ($5 != "-" && $5 + 0 > maxrss) maxrss = $5 + 0; nrss++ } }
	function ok(c) { return c ? "pass" : "MISS" }
	function v(k) { return (k in key) && key[k] != "-" && key[k] != "" }
	END {
	  for (n = 1; n <= 2; n++) {
	    im = (n == 1) ? "A" : "B"
	    if (v("copy|" im "|salvage cp") && v("copy|" im "|cp -a (tree)")) {
	      r = key["copy|" im "|salvage cp"] / key["copy|" im "|cp -a (tree)"]
	      printf "  %s  salvage cp within 1.2x of cp -a (tree) on %s: %.2fx (%.2f s vs %.2f s)\n", ok(r <= 1.2), im, r, key["copy|" im "|salvage cp"], key["copy|" im "|cp -a (tree)"]
	    }
	  }
	  if (v("read|B|salvage tar") && v("read|B|tar (kernel mount)")) {
	    r = key["read|B|tar (kernel mount)"] / key["read|B|salvage tar"]
	    printf "  %s  salvage tar at least 4x faster than the kernel tar on B: %.2fx faster (%.2f s vs %.2f s)\n", ok(r >= 4), r, key["read|B|salvage tar"], key["read|B|tar (kernel mount)"]
	  } else if (v("read|B|salvage tar")) printf "  n/a   salvage tar vs the kernel tar on B: kernel path skipped\n"
	  if (v("read|A|salvage tar") && v("read|A|cat image")) {
	    r = key["read|A|salvage tar"] / key["read|A|cat image"]
	    printf "  %s  salvage tar within 2x of cat IMAGE on A: %.2fx (%.2f s vs %.2f s)\n", ok(r <= 2), r, key["read|A|salvage tar"], key["read|A|cat image"]
	  }
	  if (nrss) printf "  %s  salvage peak RSS under 64 MiB everywhere: max %.1f MiB\n", ok(maxrss < 64), maxrss
	}' "$RAW"
} | tee "$RESULTS"
say "(written to $RESULTS; logs in $LOG)"
say "total time $(( $(date +%s) - T0 )) s"

# ---------------------------------------------------------------- check.sh
# bench/check.sh (salvage check against e2fsck -fn) builds its own image from
# its own tree and takes only [SALVAGE]; keep its scratch files in bench/work.
if [ -f "$HERE/check.sh" ] && [ "${BENCH_NO_CHECK:-0}" != 1 ]; then
	say ""
	say "== bench/check.sh (salvage check against e2fsck -fn)"
	if have bash; then
		BENCH_DIR=$WORK/check bash "$HERE/check.sh" "$SALVAGE"
		rm -rf "$WORK/check/tree"
	else
		say "skipped: bench/check.sh needs bash"
	fi
fi
exit 0
