#!/bin/bash
# t_hostile_audit.sh: images from the second hostile-image audit of issue 7 (made with mke2fs -d
# and edited by tests/craft_audit.py). Each case made the code before it hang, blow up memory or
# write far more than the image holds; each asserts the bytes or sizes that come out, the exit
# status and the report, under a time limit.
# env: SALVAGE (the binary), BUILD (scratch space parent). Prints PASS/FAIL/SKIP lines.
set -u
S=${SALVAGE:-$(cd "$(dirname "$0")/.." && pwd)/salvage}
HERE=$(cd "$(dirname "$0")" && pwd)
CRAFT="python3 $HERE/craft_audit.py"
W=$(mktemp -d "${BUILD:-/tmp}/t_hostile_audit.XXXXXX")
trap 'rm -rf "$W"' EXIT
pass() { echo "PASS hostile-audit $1"; }
fail() { echo "FAIL hostile-audit $1: $2"; sed 's/^/    /' "$W/err" 2>/dev/null | head -5; }
skip() { echo "SKIP hostile-audit $1: $2"; }
for t in mke2fs debugfs python3; do
	command -v $t >/dev/null || { skip all "$t not installed"; exit 0; }
done
case $S in *build-san*) SAN=1 ;; *) SAN=0 ;; esac

# sv ARGS...: salvage under a time limit; stdout in $W/out, stderr in $W/err, status in $rc
sv() {
	timeout 30 "$S" "$@" > "$W/out" 2> "$W/err"
	rc=$?
}
size() { stat -c %s "$1"; }
newtree() { rm -rf "$W/t"; mkdir -p "$W/t"; }

# ---- flex_bg with 2^16 groups a flex group, tiny groups claimed far past the device: the groups
# kept were rounded up to a whole flex group (65536 descriptors from a 2 MiB image; `info -g`
# printed 6.7 MB). Groups past the end are kept only as far as the device can hold their tables.
newtree
mkdir -p "$W/t/d"
head -c 5000 /dev/urandom > "$W/t/a"
img="$W/flex.img"
if mke2fs -q -F -t ext2 -b 1024 -d "$W/t" "$img" 4M > /dev/null 2>&1; then
	$CRAFT flex-claim "$img" 8
	truncate -s 2100K "$img"
	sv info -g "$img"
	out=$(size "$W/out")
	if [ $rc -ne 1 ] || [ "$out" -gt $((2 * $(size "$img"))) ] || ! grep -q "block groups but only" "$W/err"; then
		fail flex-groups "info -g: status $rc, $out bytes of output from a $(size "$img")-byte image"
	elif sv cat "$img:/a" && [ $rc -ne 1 ] || ! head -c 5000 "$W/t/a" | cmp -s - "$W/out"; then
		fail flex-groups "cat /a: status $rc, $(size "$W/out") bytes"
	else
		pass flex-groups
	fi
else
	skip flex-groups "mke2fs failed"
fi
