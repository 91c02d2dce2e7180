#!/bin/bash
# check.sh: `salvage check` against `e2fsck -fn` on a 1 GiB ext4 image holding ~100k small files
# made by mke2fs -d: wall time (median of 3) and peak RSS (/usr/bin/time -v).
# usage: bench/check.sh [SALVAGE]   (env: BENCH_DIR for the scratch image, NFILES)
SALVAGE=${1:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
D=${BENCH_DIR:-/tmp/salvage-bench-check}
N=${NFILES:-100000}
mkdir -p "$D"
img=$D/check-1g.img
if [ ! -f "$img" ]; then
	rm -rf "$D/tree"; mkdir -p "$D/tree"
	for ((i = 0; i < N; i++)); do
		dir=$D/tree/d$((i / 1000)); [ -d "$dir" ] || mkdir -p "$dir"
		printf 'file %d\n' $i >"$dir/f$i"
	done
	mke2fs -q -F -t ext4 -N $((N + 20000)) -d "$D/tree" "$img" 1G || exit 1
	rm -rf "$D/tree"
fi
[ -x /usr/bin/time ] || { echo "install the 'time' package for /usr/bin/time"; exit 1; }
measure() {  # prints "seconds maxrss_kb" for one run
	/usr/bin/time -v "$@" >/dev/null 2>"$D/time.txt"
	awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=(n==3)?a[1]*3600+a[2]*60+a[3]:a[1]*60+a[2]} /Maximum resident/{r=$2} END{print s, r}' "$D/time.txt"
}
for tool in salvage e2fsck; do
	ts=(); rs=0
	for k in 1 2 3; do
		if [ $tool = salvage ]; then out=$(measure "$SALVAGE" check "$img"); else out=$(measure e2fsck -fn "$img"); fi
		ts+=("${out% *}"); rs=${out#* }
	done
	med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)
	printf '%-8s median wall %6ss  peak RSS %8s KiB\n' $tool "$med" "$rs"
done
