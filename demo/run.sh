#!/bin/sh
# run.sh: `make demo`: unpack the shipped demo image and show probe, ls and cp on it.
set -eu
salvage=${1:-./salvage}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/salvage-demo.XXXXXX")
gzip -dc "$here/demo.img.gz" > "$work/demo.img"
run() { printf '\n$ %s\n' "$*"; "$@"; }
run "$salvage" probe "$work/demo.img"
run "$salvage" ls -l "$work/demo.img:/home/alice"
run "$salvage" du "$work/demo.img:/"
run "$salvage" cp "$work/demo.img:/home/alice" "$work/rescued"
run ls -lR "$work/rescued"
printf '\nThe copy is in %s/rescued (the image was only read).\n' "$work"
