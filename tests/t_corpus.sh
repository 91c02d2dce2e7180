#!/bin/bash
# t_corpus.sh -- robustness on the e2fsprogs regression images (many damaged).
#
# For every folder of $(dirname REPO)/shared/corpus/e2fsprogs that holds an
# image (image, image.gz, image.bz2, or the files of image.tar.bz2), the image
# is decompressed once into $WORK/corpus/ and salvage runs probe, info,
# ls -l -R and cp IMG:/ OUT on it, each under `timeout 20`, with
# $SALVAGE_SAN (ASan/UBSan build) when set, else $SALVAGE.
# Failure: a hang (timeout twice in a row, status 124), death by a signal (status >= 128),
# a status above 3, or a sanitizer report in stderr.  Statuses 0-3 are the
# documented outcomes (ok / damage reported / usage / unreadable).
# One PASS/FAIL line per image, then a summary line.
set -u
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
: "${SALVAGE:=$REPO/salvage}"
: "${WORK:=$TESTS/work}"
CORPUS=${CORPUS:-"$(dirname "$REPO")/shared/corpus/e2fsprogs"}
BIN=${SALVAGE_SAN:-$SALVAGE}
T=${CORPUS_TIMEOUT:-20}

if [ ! -d "$CORPUS" ]; then
	echo "SKIP corpus: $CORPUS not present"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "SKIP corpus: no salvage binary at $BIN"
	exit 0
fi
C="$WORK/corpus"
mkdir -p "$C"
S="$WORK/corpus-scratch.$$"
mkdir -p "$S"
trap 'rm -rf "$S"' EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# list the image files of one corpus folder (decompressing into $C/NAME/)
images() {
	d=$1 n=$(basename "$1") o="$C/$(basename "$1")"
	mkdir -p "$o"
	if [ -f "$d/image.tar.bz2" ]; then
		[ -f "$o/.done" ] || { tar -xjf "$d/image.tar.bz2" -C "$o" && touch "$o/.done"; }
		find "$o" -type f ! -name .done | sort
		return
	fi
	for f in image image.gz image.bz2; do
		[ -f "$d/$f" ] || continue
		if [ ! -f "$o/image" ]; then
			case $f in
			image) cp "$d/$f" "$o/image.tmp" ;;
			image.gz) gzip -dc "$d/$f" > "$o/image.tmp" ;;
			image.bz2) bzip2 -dc "$d/$f" > "$o/image.tmp" ;;
			esac && mv "$o/image.tmp" "$o/image"
		fi
		echo "$o/image"
		return
	done
}

total=0 full=0 damaged=0 unreadable=0 failed=0
for d in "$CORPUS"/*/; do
	d=${d%/}
	for img in $(images "$d"); do
		[ -f "$img" ] || continue
		total=$((total + 1))
		name=${img#"$C"/}
		problems=""
		cprc=""
		for cmd in probe info ls cp; do
			rm -rf "$S/out"
			case $cmd in
			ls) args=(ls -l -R "$img") ;;
			cp) args=(cp "$img:/" "$S/out") ;;
			*) args=("$cmd" "$img") ;;
			esac
			timeout "$T" "$BIN" "${args[@]}" > /dev/null 2> "$S/err"
			rc=$?
			if [ $rc -eq 124 ]; then
				# once more, in case the machine was just busy
				rm -rf "$S/out"
				timeout "$T" "$BIN" "${args[@]}" > /dev/null 2> "$S/err"
				rc=$?
			fi
			[ $cmd = cp ] && cprc=$rc
			if [ $rc -eq 124 ]; then
				problems="$problems; $cmd hung (> ${T}s)"
			elif [ $rc -ge 128 ]; then
				problems="$problems; $cmd killed by signal $((rc - 128))"
			elif [ $rc -gt 3 ]; then
				problems="$problems; $cmd exited $rc"
			fi
			if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$S/err"; then
				problems="$problems; $cmd: $(grep -m1 -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$S/err" | cut -c1-200)"
			fi
		done
		case $cprc in
		0) full=$((full + 1)) ;;
		1) damaged=$((damaged + 1)) ;;
		*) unreadable=$((unreadable + 1)) ;;
		esac
		if [ -n "$problems" ]; then
			failed=$((failed + 1))
			echo "FAIL corpus/$name:${problems#;}"
		else
			echo "PASS corpus/$name (cp exit $cprc)"
		fi
	done
done
rm -rf "$S/out"
echo "corpus: $total images, $full read fully (exit 0 on cp), $damaged with reported damage, $unreadable unreadable, $failed failed"
exit 0
