#!/bin/bash
# t_hostile_walk.sh: crafted trees against the walkers of ls -R, du, cp and tar (issue 7):
#   hardlinked-dirs  two names for one directory at every level (2^24 paths): each directory once
#   dupname          a symlink "zz" -> outside, then a directory "zz": nothing lands outside
#   source-safe      cp --force never replaces the source image (DEST is it, or holds it)
#   links-rss        1000 levels of 250-byte names, 4000 files whose other link never turns up
#   deep             5000 levels of 200-byte names: ls -R, du, cp to the full depth, tar round trip
#   repeated-file    one inode under 61 names with a link count of 1: its content is written once
#   empty-name       an entry with an empty name is saved under a made-up name, with a report
# Images are built with mke2fs -d and edited by tests/craft_walk.py. Prints PASS/FAIL/SKIP lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SALVAGE=${SALVAGE:-$HERE/../salvage}
CRAFT="$HERE/craft_walk.py"
PATH=$PATH:/sbin:/usr/sbin

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

for tool in mke2fs debugfs python3 tar; do
	command -v $tool >/dev/null 2>&1 || { skip hostile_walk "$tool not installed"; exit 0; }
done
[ -x "$SALVAGE" ] || { fail hostile_walk "no salvage binary at $SALVAGE (run make)"; exit 0; }
# deep trees are built and removed many times faster in memory: /dev/shm when TMPDIR is not set
SCRATCH=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && SCRATCH=/dev/shm
T=$(mktemp -d "$SCRATCH/t_hostile_walk.XXXXXX")
trap 'rm -rf "$T"' EXIT
# sanitizer builds are slower and reserve memory of their own: longer limits, no RSS checks
SAN=0; case "$SALVAGE" in *build-san*) SAN=1 ;; esac
LIM=20; [ $SAN = 1 ] && LIM=90
MKFS="mke2fs -q -F -t ext4 -O ^metadata_csum"

# rss_run OUT ERR CMD...: run CMD with stdout to OUT and stderr to ERR; prints "STATUS MAXRSS_KB"
rss_run() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    try:
        rc = subprocess.run(cmd, stdout=o, stderr=e, timeout=int(__import__("os").environ.get("LIM", "20"))).returncode
    except subprocess.TimeoutExpired:
        rc = 124
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
export LIM

# ---- hardlinked-dirs: /a/a/.../a (24 levels), each level also named b in its parent ----
python3 - "$T/hl" <<'PY'
import os, sys
p = sys.argv[1]
os.mkdir(p)
for i in range(24):
    p += "/a"
    os.mkdir(p)
open(p + "/f", "w").write("deep\n")
PY
python3 -c '
p = ""
for k in range(24):
    print("ln %s/a %s/b" % (p, p or "/")); p += "/a"' > "$T/hl.cmds"
if $MKFS -d "$T/hl" "$T/hl.img" 8M >/dev/null 2>&1 && debugfs -w -f "$T/hl.cmds" "$T/hl.img" >/dev/null 2>&1 &&
	debugfs -R "ls /a" "$T/hl.img" 2>/dev/null | grep -q ' b '; then
	read rc _ < <(rss_run "$T/hl.ls" "$T/hl.ls.err" "$SALVAGE" ls -R "$T/hl.img:/")
	n=$(grep -c ':$' "$T/hl.ls")
	if [ "$rc" = 1 ] && [ "$n" = 26 ] && grep -q "second name" "$T/hl.ls.err"; then pass hardlinked-dirs-ls
	else fail hardlinked-dirs-ls "exit $rc, $n directories listed (want 26): $(head -c 200 "$T/hl.ls.err")"; fi
	read rc _ < <(rss_run "$T/hl.du" "$T/hl.du.err" "$SALVAGE" du --json -d 0 "$T/hl.img:/")
	if [ "$rc" = 1 ] && grep -q '"files":1,"dirs":26}' "$T/hl.du"; then pass hardlinked-dirs-du
	else fail hardlinked-dirs-du "exit $rc: $(head -c 200 "$T/hl.du") $(head -c 200 "$T/hl.du.err")"; fi
	read rc _ < <(rss_run /dev/null "$T/hl.cp.err" "$SALVAGE" cp "$T/hl.img:/" "$T/hl.cp")
	dirs=$(find "$T/hl.cp" -type d 2>/dev/null | wc -l)
	files=$(find "$T/hl.cp" -type f 2>/dev/null | wc -l)
	bempty=$(find "$T/hl.cp" -type d -name b -empty 2>/dev/null | wc -l)
	# the root, lost+found, 24 levels of a, and 24 empty b
	if [ "$rc" = 1 ] && [ "$dirs" = 50 ] && [ "$files" = 1 ] && [ "$bempty" = 24 ] &&
		grep -q "second name" "$T/hl.cp.err"; then pass hardlinked-dirs-cp
	else fail hardlinked-dirs-cp "exit $rc, $dirs dirs, $files files, $bempty empty b: $(head -c 200 "$T/hl.cp.err")"; fi
	read rc _ < <(rss_run "$T/hl.tar" "$T/hl.tar.err" "$SALVAGE" tar "$T/hl.img:/")
	members=$(tar -tf "$T/hl.tar" 2>/dev/null | wc -l)
	nf=$(tar -tf "$T/hl.tar" 2>/dev/null | grep -c '/f$')
	if [ "$rc" = 1 ] && [ "$members" = 51 ] && [ "$nf" = 1 ]; then pass hardlinked-dirs-tar
	else fail hardlinked-dirs-tar "exit $rc, $members members (want 51), $nf files f"; fi
else
	skip hardlinked-dirs "could not build the image"
fi

# ---- dupname: /d holds a symlink zz -> $T/outside, then a directory zz with a file ----
mkdir -p "$T/dn/d/zy" "$T/outside"
ln -s "$T/outside" "$T/dn/d/zz"
echo pwned >"$T/dn/d/zy/pwned"
if $MKFS -d "$T/dn" "$T/dn.img" 8M >/dev/null 2>&1 && python3 "$CRAFT" dupname "$T/dn.img" zz zy; then
	"$SALVAGE" tar "$T/dn.img:/" >"$T/dn.tar" 2>"$T/dn.tar.err"
	rc=$?
	mkdir "$T/x-py"
	python3 "$CRAFT" extract "$T/dn.tar" "$T/x-py" 2>/dev/null
	out=$(ls -A "$T/outside")
	if [ "$rc" = 1 ] && [ -z "$out" ] && [ -f "$T/x-py/d/__salvage_dupname_"*/pwned ] && [ -L "$T/x-py/d/zz" ] &&
		grep -q 'second entry named "zz"' "$T/dn.tar.err"; then pass dupname-tar-python
	else fail dupname-tar-python "exit $rc, outside holds '$out': $(head -c 200 "$T/dn.tar.err")"; fi
	for x in tar bsdtar; do
		if ! command -v $x >/dev/null 2>&1; then skip dupname-tar-$x "$x not installed"; continue; fi
		rm -rf "${T:?}/outside/"* "$T/x-$x"
		mkdir "$T/x-$x"
		(cd "$T/x-$x" && $x -xf "$T/dn.tar") 2>/dev/null
		out=$(ls -A "$T/outside")
		if [ -z "$out" ] && [ -f "$T/x-$x/d/__salvage_dupname_"*/pwned ]; then pass dupname-tar-$x
		else fail dupname-tar-$x "outside holds '$out'"; fi
	done
	rm -rf "${T:?}/outside/"*
	"$SALVAGE" cp "$T/dn.img:/" "$T/dn.cp" 2>"$T/dn.cp.err"
	rc=$?
	out=$(ls -A "$T/outside")
	if [ "$rc" = 1 ] && [ -z "$out" ] && [ -L "$T/dn.cp/d/zz" ] && [ -f "$T/dn.cp/d/__salvage_dupname_"*/pwned ]; then
		pass dupname-cp
	else fail dupname-cp "exit $rc, outside holds '$out': $(head -c 200 "$T/dn.cp.err")"; fi
	"$SALVAGE" ls "$T/dn.img:/d" >"$T/dn.ls" 2>"$T/dn.ls.err"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(grep -c '^zz$' "$T/dn.ls")" = 1 ] && grep -q '^__salvage_dupname_' "$T/dn.ls"; then
		pass dupname-ls
	else fail dupname-ls "exit $rc: $(tr '\n' ' ' <"$T/dn.ls")"; fi
else
	skip dupname "could not build the image"
fi

# ---- source-safe: cp --force never replaces the image it reads ----
mkdir -p "$T/ss/tree" "$T/ss/dest"
echo "a file named like the image" >"$T/ss/tree/src.img"
echo other >"$T/ss/tree/f"
if $MKFS -d "$T/ss/tree" "$T/ss/dest/src.img" 4M >/dev/null 2>&1; then
	want=$(sha256sum <"$T/ss/dest/src.img")
	# DEST is the image itself
	"$SALVAGE" cp --force "$T/ss/dest/src.img:/f" "$T/ss/dest/src.img" 2>"$T/ss.err1"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(sha256sum <"$T/ss/dest/src.img")" = "$want" ] && grep -q "is the source" "$T/ss.err1"; then
		pass source-safe-dest-is-image
	else fail source-safe-dest-is-image "exit $rc: $(head -c 200 "$T/ss.err1")"; fi
	# the image sits in DEST and the filesystem holds an entry of the same name
	"$SALVAGE" cp --force "$T/ss/dest/src.img:/" "$T/ss/dest" 2>"$T/ss.err2"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(sha256sum <"$T/ss/dest/src.img")" = "$want" ] && grep -q "is the source" "$T/ss.err2" &&
		[ "$(cat "$T/ss/dest/f")" = other ]; then
		pass source-safe-image-in-dest
	else fail source-safe-image-in-dest "exit $rc: $(head -c 200 "$T/ss.err2")"; fi
else
	skip source-safe "could not build the image"
fi

# ---- links-rss: 1000 levels of 250-byte names, 4 files per level claiming a second link ----
if python3 "$CRAFT" deep "$T/lk" 1000 250 4 &&
	$MKFS -b 1024 -N 6000 -O ^has_journal -d "$T/lk" "$T/lk.img" 16M >/dev/null 2>&1 &&
	[ "$(python3 "$CRAFT" links "$T/lk.img" 2)" = 4001 ]; then
	read rc rss < <(rss_run /dev/null "$T/lk.cp.err" "$SALVAGE" cp "$T/lk.img:/" "$T/lk.cp")
	read depth content < <(python3 "$CRAFT" depth "$T/lk.cp")
	if [ "$rc" = 0 ] && [ "$depth" = 1000 ] && [ "$content" = "bottom of the chain" ] &&
		{ [ $SAN = 1 ] || [ "$rss" -lt 65536 ]; }; then pass links-rss-cp
	else fail links-rss-cp "exit $rc, depth $depth, peak RSS $rss KiB: $(head -c 200 "$T/lk.cp.err")"; fi
	read rc rss < <(rss_run /dev/null "$T/lk.tar.err" "$SALVAGE" tar "$T/lk.img:/")
	if [ "$rc" = 0 ] && { [ $SAN = 1 ] || [ "$rss" -lt 65536 ]; }; then pass links-rss-tar
	else fail links-rss-tar "exit $rc, peak RSS $rss KiB: $(head -c 200 "$T/lk.tar.err")"; fi
else
	skip links-rss "could not build the image"
fi

# ---- deep: 5000 levels of 200-byte names, and a hard link from the top to the bottom ----
if python3 "$CRAFT" deep "$T/dp" 5000 200 1 && python3 - "$T/dp" <<'PY' &&
import os, sys
# link level 0's file from the bottom: one of the two copies has a path far over PATH_MAX
fd = os.open(sys.argv[1], os.O_RDONLY)
top = fd
while True:
    subs = [e for e in os.listdir(fd) if os.path.isdir("/proc/self/fd/%d/%s" % (fd, e))]
    if not subs:
        break
    n = os.open(subs[0], os.O_RDONLY, dir_fd=fd)
    if fd != top:
        os.close(fd)
    fd = n
os.link("f0", "hardlink", src_dir_fd=top, dst_dir_fd=fd)
PY
	$MKFS -b 1024 -N 12000 -O ^has_journal -d "$T/dp" "$T/dp.img" 32M >/dev/null 2>&1; then
	# ls -R prints every directory's whole path: 2.5 GB here, counted on the fly
	n=$({ timeout $LIM "$SALVAGE" ls -R "$T/dp.img:/" 2>"$T/dp.ls.err"; echo $? >"$T/dp.ls.rc"; } | grep -c ':$')
	rc=$(cat "$T/dp.ls.rc")
	if [ "$rc" = 0 ] && [ "$n" = 5002 ]; then pass deep-ls
	else fail deep-ls "exit $rc, $n directories listed (want 5002): $(head -c 200 "$T/dp.ls.err")"; fi
	read rc _ < <(rss_run "$T/dp.du" "$T/dp.du.err" "$SALVAGE" du --json -d 0 "$T/dp.img:/")
	if [ "$rc" = 0 ] && grep -q '"files":5001,"dirs":5002}' "$T/dp.du"; then pass deep-du
	else fail deep-du "exit $rc: $(head -c 300 "$T/dp.du") $(head -c 200 "$T/dp.du.err")"; fi
	read rc _ < <(rss_run /dev/null "$T/dp.cp.err" "$SALVAGE" cp "$T/dp.img:/" "$T/dp.cp")
	read depth content < <(python3 "$CRAFT" depth "$T/dp.cp")
	same=$(python3 "$CRAFT" chaincmp "$T/dp" "$T/dp.cp")
	linked=$(python3 "$CRAFT" linked "$T/dp.cp")
	if [ "$rc" = 0 ] && [ "$depth" = 5000 ] && [ "$content" = "bottom of the chain" ] && [ "$same" = "5000 same" ] &&
		[ "$linked" = linked ]; then
		pass deep-cp
	else fail deep-cp "exit $rc, depth $depth, '$content', chain: $same, $linked: $(head -c 200 "$T/dp.cp.err")"; fi
	rm -rf "$T/dp.cp"
else
	skip deep "could not build the image"
fi
# tar: member names hold the whole path, so the round trip uses 8-byte names (mke2fs -d fails on
# shorter ones this deep); 45 KB paths are far past PATH_MAX, so the archive is read back with
# Python's tarfile, not extracted
if python3 "$CRAFT" deep "$T/dt" 5000 8 && $MKFS -b 1024 -N 6000 -O ^has_journal -d "$T/dt" "$T/dt.img" 16M >/dev/null 2>&1
then
	read rc _ < <(rss_run "$T/dt.tar" "$T/dt.tar.err" "$SALVAGE" tar "$T/dt.img:/")
	got=$(python3 - "$T/dt.tar" <<'PY'
import sys, tarfile
dirs, bottom = 0, None
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        if m.isdir() and m.name.startswith("./00000"):
            dirs += 1
            want = "./" + "/".join(("%05dddd" % k) for k in range(dirs))
            if m.name.rstrip("/") != want:
                print("bad member", m.name[:80]); sys.exit()
        elif m.isfile() and m.name.endswith("/bottom"):
            bottom = (m.name.count("/"), t.extractfile(m).read())
print(dirs, bottom)
PY
)
	if [ "$rc" = 0 ] && [ "$got" = "5000 (5001, b'bottom of the chain\\n')" ]; then pass deep-tar
	else fail deep-tar "exit $rc: $got $(head -c 200 "$T/dt.tar.err")"; fi
	rm -f "$T/dt.tar"
else
	skip deep-tar "could not build the image"
fi

# ---- repeated-file: 60 more names for a 1 MiB file whose link count says 1 ----
mkdir -p "$T/rf"
head -c 1048576 /dev/urandom >"$T/rf/big"
for i in $(seq 1 60); do echo "ln /big /l$i"; done >"$T/rf.cmds"
if $MKFS -d "$T/rf" "$T/rf.img" 8M >/dev/null 2>&1 && debugfs -w -f "$T/rf.cmds" "$T/rf.img" >/dev/null 2>&1 &&
	debugfs -R "ls /" "$T/rf.img" 2>/dev/null | grep -q ' l60 '; then
	"$SALVAGE" cp "$T/rf.img:/" "$T/rf.cp" 2>"$T/rf.cp.err"
	rc=$?
	kb=$(du -sk "$T/rf.cp" | cut -f1)
	n=$(grep -c "already saved under another name" "$T/rf.cp.err")
	if [ "$rc" = 1 ] && [ "$kb" -lt 2048 ] && [ "$n" = 60 ] && cmp -s "$T/rf/big" "$T/rf.cp/big"; then pass repeated-file-cp
	else fail repeated-file-cp "exit $rc, $kb KiB written, $n reports"; fi
	bytes=$("$SALVAGE" tar "$T/rf.img:/" 2>/dev/null | wc -c)
	if [ "$bytes" -lt 2097152 ]; then pass repeated-file-tar
	else fail repeated-file-tar "a $bytes-byte archive of an 8 MiB image"; fi
else
	skip repeated-file "could not build the image"
fi

# ---- empty-name: an entry whose name length is 0 (needs the reader to pass it on: src/ext/dir.c) ----
mkdir -p "$T/en"
echo secret >"$T/en/EMPTYNAME"
echo keep >"$T/en/other"
if $MKFS -d "$T/en" "$T/en.img" 4M >/dev/null 2>&1 && ino=$(python3 "$CRAFT" emptyname "$T/en.img" EMPTYNAME); then
	name=__salvage_badname_$ino
	"$SALVAGE" ls "$T/en.img:/" >"$T/en.ls" 2>"$T/en.ls.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -qx "$name" "$T/en.ls" && grep -q "$name" "$T/en.ls.err"; then pass empty-name-ls
	else fail empty-name-ls "exit $rc: $(tr '\n' ' ' <"$T/en.ls") $(head -c 200 "$T/en.ls.err")"; fi
	"$SALVAGE" cp "$T/en.img:/" "$T/en.cp" 2>"$T/en.cp.err"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(cat "$T/en.cp/$name" 2>/dev/null)" = secret ]; then pass empty-name-cp
	else fail empty-name-cp "exit $rc: $(ls "$T/en.cp" | tr '\n' ' ') $(head -c 200 "$T/en.cp.err")"; fi
	if "$SALVAGE" tar "$T/en.img:/" 2>/dev/null | tar -tf - | grep -qx "./$name"; then pass empty-name-tar
	else fail empty-name-tar "no member ./$name"; fi
else
	skip empty-name "could not build the image"
fi
exit 0
