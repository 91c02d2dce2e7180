#!/bin/bash
# check_corpus.sh: `salvage check` against e2fsck's verdict on the e2fsprogs test images.
# For every image with an expect.1, e2fsck's verdict is "clean" when expect.1 ends with
# "Exit status is 0", else "problems"; salvage's is its exit status (0 clean, 1 problems,
# 3 unreadable, which counts as "problems"). Prints the disagreements and "agree N / M".
# usage: check_corpus.sh [SALVAGE] [CORPUS]   (env: SALVAGE, CORPUS, KEEP=1 keeps outputs)
SALVAGE=${1:-${SALVAGE:-$(dirname "$0")/../salvage}}
CORPUS=${2:-${CORPUS:-$(dirname "$0")/../../shared/corpus/e2fsprogs}}
if [ ! -d "$CORPUS" ]; then
	echo "no corpus at $CORPUS" >&2
	exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT=${OUTDIR:-$TMP/out}
mkdir -p "$OUT"
agree=0
total=0
printf '%-40s %-9s %-9s %s\n' "image" "e2fsck" "salvage" "salvage's first error"
for d in "$CORPUS"/*/; do
	t=$(basename "$d")
	[ -f "$d/expect.1" ] || continue
	img=$TMP/image
	rm -f "$img"
	if [ -f "$d/image.gz" ]; then
		gzip -dc "$d/image.gz" >"$img" 2>/dev/null
	elif [ -f "$d/image.bz2" ]; then
		bzip2 -dc "$d/image.bz2" >"$img" 2>/dev/null
	elif [ -f "$d/image.tar.bz2" ]; then
		mkdir -p "$TMP/x" && tar -xjf "$d/image.tar.bz2" -C "$TMP/x" 2>/dev/null
		f=$(find "$TMP/x" -type f | head -1)
		[ -n "$f" ] && mv "$f" "$img"
		rm -rf "$TMP/x"
	fi
	[ -s "$img" ] || continue
	st=$(grep -o 'Exit status is [0-9]*' "$d/expect.1" | tail -1 | awk '{print $4}')
	[ -n "$st" ] || continue
	total=$((total + 1))
	want=problems
	[ "$st" = 0 ] && want=clean
	opts=
	[ -f "$d/journal.gz" ] || true
	timeout 60 "$SALVAGE" check $opts "$img" >"$OUT/$t.out" 2>"$OUT/$t.err"
	rc=$?
	got=problems
	[ $rc = 0 ] && got=clean
	[ $rc -ge 4 ] && got="crash($rc)"
	if [ "$got" = "$want" ]; then
		agree=$((agree + 1))
	else
		why=$(grep -m1 '^  error' "$OUT/$t.out" | cut -c1-110)
		[ -z "$why" ] && why=$(head -c 110 "$OUT/$t.err" | head -1)
		printf '%-40s %-9s %-9s %s\n' "$t" "$want" "$got" "$why"
	fi
done
echo "agree $agree / $total"
