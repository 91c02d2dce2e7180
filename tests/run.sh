#!/bin/sh
# tests/run.sh [NAME...] -- the harness behind `make check`.
#
# Runs every unit binary in $BUILD/tests/ and every tests/t_*.sh (with bash),
# passes their output through, and counts the lines that start with
# "PASS ", "FAIL " and "SKIP ".  A binary or script that exits non-zero
# without printing any FAIL line counts as one failure of its own.  Ends with
# exactly one line "N passed, N failed, N skipped"; exits 1 if anything
# failed.
#
# NAME arguments select a subset: a unit binary or script runs when its name
# (without .sh) equals or contains one of them, e.g. `sh tests/run.sh t_fixtures`.
#
# Environment: SALVAGE (binary, default ./salvage), BUILD (default build),
# SALVAGE_SAN (sanitizer binary for t_corpus), WORK (scratch, default
# tests/work).
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${BUILD:=$REPO/build}"
: "${WORK:=$TESTS/work}"
export SALVAGE BUILD WORK
mkdir -p "$WORK"
OUT="$WORK/run.$$.out"
: > "$OUT"
trap 'rm -f "$OUT" "$OUT.one" "$OUT.rc"' EXIT
trap 'exit 130' INT TERM

selected() {
	[ $# -eq 0 ] && return 0
	n=$NAME_
	for s in "$@"; do
		s=${s%.sh}
		s=${s##*/}
		case "$n" in *"$s"*) return 0 ;; esac
	done
	return 1
}

# run_one NAME COMMAND...: run, show output, record it
run_one() {
	name=$1
	shift
	{ "$@" < /dev/null 2>&1; echo $? > "$OUT.rc"; } | tee "$OUT.one"
	rc=$(cat "$OUT.rc")
	cat "$OUT.one" >> "$OUT"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$OUT.one"; then
		echo "FAIL $name: exited with status $rc without reporting a failure"
		echo "FAIL $name: exited with status $rc" >> "$OUT"
	fi
}

if [ -d "$BUILD/tests" ]; then
	for t in "$BUILD"/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		NAME_=$(basename "$t")
		selected "$@" || continue
		run_one "$NAME_" "$t"
	done
fi
for t in "$TESTS"/t_*.sh; do
	[ -f "$t" ] || continue
	NAME_=$(basename "$t" .sh)
	selected "$@" || continue
	run_one "$NAME_" bash "$t"
done

pass=$(grep -c '^PASS ' "$OUT")
fail=$(grep -c '^FAIL ' "$OUT")
skip=$(grep -c '^SKIP ' "$OUT")
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
