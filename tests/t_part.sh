#!/bin/sh
# t_part.sh: partition tables made by sfdisk/fdisk (util-linux) must decode, through
# "test_part --dump", to the same indices, starts, sizes, types and names the tools report.
BUILD=${BUILD:-build}
T=$BUILD/tests/test_part
fails=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
skip() { echo "SKIP $1: $2"; }

CASES="part_mbr_sfdisk part_gpt_sfdisk part_gpt_backup_sfdisk part_gpt_4096_fdisk"
if [ ! -x "$T" ]; then
	for c in $CASES; do skip "$c" "$T not built (make units)"; done
	exit 0
fi
T=$(cd "$(dirname "$T")" && pwd)/test_part
if ! command -v sfdisk >/dev/null 2>&1; then
	for c in $CASES; do skip "$c" "sfdisk not installed (Debian package fdisk)"; done
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/t_part.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
cd "$TMP" || exit 1

# sfdisk -d lines -> "part INDEX START SIZE TYPE" in bytes, and "name INDEX NAME".
sfdisk_view() {
	sfdisk -d "$1" | awk -v ss=512 '
		/^sector-size:/ { ss = $2 }
		/ : start=/ {
			dev = $1; sub(/.*img/, "", dev)
			match($0, /start= *[0-9]+/); s = substr($0, RSTART, RLENGTH); sub(/start= */, "", s)
			match($0, /size= *[0-9]+/); z = substr($0, RSTART, RLENGTH); sub(/size= */, "", z)
			match($0, /type=[0-9A-Fa-f-]+/); t = substr($0, RSTART + 5, RLENGTH - 5)
			printf "part %d %.0f %.0f %s\n", dev, s * ss, z * ss, t
			if (match($0, /name="[^"]*"/)) printf "name %d %s\n", dev, substr($0, RSTART + 6, RLENGTH - 7)
		}'
}

# Compare our dump (minus the scheme/problems lines) with the tool's view.
compare() { # name image view-file expected-scheme-line
	if ! "$T" --dump "$2" >ours.txt 2>ours.err; then
		fail "$1" "test_part --dump failed: $(cat ours.err)"
		return
	fi
	grep -v -e '^scheme ' -e '^problems ' ours.txt >ours.parts
	if ! diff "$3" ours.parts >diff.txt; then
		fail "$1" "differs from the tool: $(tr '\n' ' ' <diff.txt)"
	elif ! grep -qx "$4" ours.txt; then
		fail "$1" "expected '$4', got '$(grep '^scheme' ours.txt)'"
	elif ! grep -qx 'problems 0' ours.txt && [ "$1" != part_gpt_backup_sfdisk ]; then
		fail "$1" "unexpected problems reported"
	else
		pass "$1"
	fi
}

# MBR: two primaries, an extended partition holding two logicals (numbered 5 and 6).
truncate -s 64M mbr.img
printf '%s\n' 'label: dos' \
	'mbr.img1 : start=2048, size=8192, type=83' \
	'mbr.img2 : start=10240, size=4096, type=82' \
	'mbr.img3 : start=16384, size=40960, type=5' \
	'mbr.img5 : start=18432, size=8192, type=83' \
	'mbr.img6 : start=28672, size=8192, type=8e' | sfdisk -q mbr.img >sfdisk.log 2>&1
if [ $? -ne 0 ]; then
	fail part_mbr_sfdisk "sfdisk could not write the table: $(cat sfdisk.log)"
else
	sfdisk_view mbr.img >view.txt
	if [ "$(grep -c '^part' view.txt)" -ne 5 ]; then
		fail part_mbr_sfdisk "sfdisk shows $(grep -c '^part' view.txt) partitions, want 5"
	else
		compare part_mbr_sfdisk mbr.img view.txt 'scheme MBR 512 0'
	fi
fi

# GPT: three partitions with names (one with a space), default 128-entry arrays.
truncate -s 64M gpt.img
printf '%s\n' 'label: gpt' \
	'size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"' \
	'size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root fs"' \
	'size=8192, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F' | sfdisk -q gpt.img >sfdisk.log 2>&1
if [ $? -ne 0 ]; then
	fail part_gpt_sfdisk "sfdisk could not write the table: $(cat sfdisk.log)"
	fail part_gpt_backup_sfdisk "no GPT image"
else
	sfdisk_view gpt.img >gview.txt
	compare part_gpt_sfdisk gpt.img gview.txt 'scheme GPT 512 0'
	# Wipe the primary header (LBA 1): the backup at the last LBA must give the same table.
	cp gpt.img gptb.img
	dd if=/dev/zero of=gptb.img bs=512 seek=1 count=1 conv=notrunc 2>/dev/null
	compare part_gpt_backup_sfdisk gptb.img gview.txt 'scheme GPT 512 1'
fi

# GPT with 4096-byte sectors in an image file (which reads as 512): fdisk -b 4096 writes it.
if ! command -v fdisk >/dev/null 2>&1; then
	skip part_gpt_4096_fdisk "fdisk not installed"
else
	truncate -s 64M gpt4.img
	printf 'g\nn\n\n\n+4M\nn\n\n\n+8M\nw\n' | fdisk -b 4096 gpt4.img >fdisk.log 2>&1
	fdisk -b 4096 -l -o Device,Start,Sectors,Type-UUID gpt4.img 2>/dev/null |
		awk '/^gpt4.img[0-9]/ { d = $1; sub(/.*img/, "", d); printf "part %d %.0f %.0f %s\n", d, $2 * 4096, $3 * 4096, $4 }' >v4.txt
	if [ "$(grep -c '^part' v4.txt)" -ne 2 ]; then
		fail part_gpt_4096_fdisk "fdisk -b 4096 did not create 2 partitions: $(tail -3 fdisk.log | tr '\n' ' ')"
	else
		compare part_gpt_4096_fdisk gpt4.img v4.txt 'scheme GPT 4096 0'
	fi
fi

[ "$fails" -eq 0 ]
