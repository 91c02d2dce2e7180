#!/usr/bin/env python3
"""manifest.py [options] DIR -- print a sorted, comparable manifest of a tree.

One line per entry (the root itself is "."), fields separated by one space:

  PATH TYPE mode=OOOO uid=N gid=N size=N mtime=NS DATA link=GROUP xattr=LIST [atime=NS]

PATH   relative path; bytes outside 0x21..0x7e and the backslash are written
       as \\xHH, so a line never contains blanks or non-ASCII.
TYPE   reg dir lnk fifo sock chr blk
mode   permission bits incl. setuid/setgid/sticky (octal, 4 digits)
size   regular files only ("-" otherwise)
mtime  nanoseconds since the epoch (floored to seconds with --time-res s)
DATA   reg: sha=HEX  -- SHA-256 over the file's non-zero content: for every
              64 KiB chunk that is not all zeros, its offset (8 bytes LE)
              and the chunk.  Together with size this pins the exact
              content, but holes and zero runs cost nothing (SEEK_DATA), so
              a 4.5 GiB sparse file hashes in milliseconds.
       lnk: target=ESCAPED   chr/blk: rdev=MAJOR:MINOR   else "-"
link   for a non-directory with st_nlink > 1 that has two or more paths
       inside the tree: the first such path in sort order; else "-"
xattr  "name=sha256prefix/len,..." sorted by name ("-" when none); read with
       follow_symlinks=False

Options:
  --no-owner        omit uid/gid
  --no-xattrs       omit xattrs
  --no-mtime        omit mtime
  --atime           add atime (off by default: reading changes it)
  --time-res s      floor times to whole seconds
  --no-lostfound    leave out ./lost+found and everything under it
  --no-sockets      leave out sockets (cp and tar do not copy them)
  --exclude PATH    leave out PATH and everything under it (repeatable)
  --no-root-times   leave out mtime/atime of "." only
  --drop-xattr NAME leave out the xattr NAME everywhere (repeatable)
  --extra-xattrs F  add xattrs listed in F ("PATH NAME VALUEFILE" lines) to
                    the manifest (values the source filesystem cannot hold)
Files are opened with O_NOATIME where permitted, and every entry is lstat'ed
before it is read, so a manifest does not disturb the times it reports.
"""
import hashlib, os, stat, sys

CHUNK = 65536
ZERO = bytes(CHUNK)


def esc(b):
    out = []
    for c in b:
        if 0x21 <= c <= 0x7e and c != 0x5c:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def open_noatime(name, dir_fd, flags):
    try:
        return os.open(name, flags | os.O_NOATIME, dir_fd=dir_fd)
    except PermissionError:
        return os.open(name, flags, dir_fd=dir_fd)


def content_hash(fd, size):
    h = hashlib.sha256()
    off = 0
    while off < size:
        try:
            off = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break  # ENXIO: only a hole remains
        try:
            end = os.lseek(fd, off, os.SEEK_HOLE)
        except OSError:
            end = size
        off -= off % CHUNK
        while off < end:
            buf = os.pread(fd, CHUNK, off)
            if not buf:
                off = size
                break
            if buf != ZERO[:len(buf)]:
                h.update(off.to_bytes(8, "little"))
                h.update(buf)
            off += len(buf)
    return h.hexdigest()


def xattrs(name, dir_fd, drop=()):
    # os.listxattr has no dir_fd; use /proc/self/fd/N/name
    path = b"/proc/self/fd/%d/%s" % (dir_fd, name) if dir_fd is not None else name
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return "?"
    out = []
    for n in names:
        if n in drop:
            continue
        try:
            v = os.getxattr(path, n, follow_symlinks=False)
            out.append("%s=%s/%d" % (esc(n.encode()), hashlib.sha256(v).hexdigest()[:16], len(v)))
        except OSError as e:
            out.append("%s=error%d" % (esc(n.encode()), e.errno))
    return ",".join(out) if out else "-"


TYPES = [(stat.S_ISREG, "reg"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "lnk"),
         (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "sock"), (stat.S_ISCHR, "chr"),
         (stat.S_ISBLK, "blk")]


def main(argv):
    opts = {"owner": True, "xattrs": True, "mtime": True, "atime": False, "res": "ns",
            "lostfound": True, "roottimes": True, "sockets": True}
    excl = set()
    extra_file = None
    drop = set()
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--no-owner": opts["owner"] = False
        elif a == "--no-xattrs": opts["xattrs"] = False
        elif a == "--no-mtime": opts["mtime"] = False
        elif a == "--atime": opts["atime"] = True
        elif a == "--no-atime": opts["atime"] = False
        elif a == "--no-lostfound": opts["lostfound"] = False
        elif a == "--no-sockets": opts["sockets"] = False
        elif a == "--no-root-times": opts["roottimes"] = False
        elif a == "--time-res":
            i += 1; opts["res"] = argv[i]
        elif a == "--drop-xattr":
            i += 1; drop.add(argv[i])
        elif a == "--extra-xattrs":
            i += 1; extra_file = argv[i]
        elif a == "--exclude":
            i += 1; excl.add(os.fsencode(argv[i]).strip(b"/"))
        elif a in ("-h", "--help"):
            print(__doc__); return 0
        elif a.startswith("--"):
            print("manifest.py: unknown option %s" % a, file=sys.stderr); return 2
        else:
            args.append(a)
        i += 1
    if len(args) != 1:
        print("usage: manifest.py [options] DIR", file=sys.stderr); return 2
    if not opts["lostfound"]:
        excl.add(b"lost+found")

    entries = []  # (relpath, st, data, xattr)
    errors = 0

    def tm(ns):
        return str(ns // 10**9) if opts["res"] == "s" else str(ns)

    def visit(rel, name, dir_fd):
        nonlocal errors
        if rel in excl:
            return
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        m = st.st_mode
        if stat.S_ISSOCK(m) and not opts["sockets"]:
            return
        data = "-"
        fd = None
        if stat.S_ISREG(m):
            try:
                fd = open_noatime(name, dir_fd, os.O_RDONLY)
                data = "sha=" + content_hash(fd, st.st_size)
            except OSError as e:
                data = "error=%d" % e.errno; errors += 1
            finally:
                if fd is not None:
                    os.close(fd)
        elif stat.S_ISLNK(m):
            data = "target=" + esc(os.readlink(name, dir_fd=dir_fd))
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            data = "rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        xa = xattrs(name, dir_fd, drop) if opts["xattrs"] else None
        entries.append((rel, st, data, xa))
        if stat.S_ISDIR(m):
            dfd = open_noatime(name, dir_fd, os.O_RDONLY | os.O_DIRECTORY)
            try:
                with os.scandir(dfd) as it:
                    names = sorted(os.fsencode(e.name) for e in it)
                for n in names:
                    visit(rel + b"/" + n if rel != b"." else n, n, dfd)
            finally:
                os.close(dfd)

    top = os.fsencode(args[0])
    pfd = os.open(os.path.dirname(os.path.abspath(top)) or b"/", os.O_RDONLY | os.O_DIRECTORY)
    base = os.path.basename(os.path.abspath(top))
    if base == b"":
        base = b"."
    visit(b".", base, pfd)
    os.close(pfd)

    if extra_file and opts["xattrs"]:
        # "PATH NAME VALUEFILE" lines: xattrs the source tree's filesystem
        # could not hold but the image has (see fixtures/mktree.sh)
        add = {}
        for line in open(extra_file):
            p, n, vf = line.split()
            if n in drop:
                continue
            with open(vf, "rb") as f:
                v = f.read()
            add.setdefault(os.fsencode(p), []).append(
                "%s=%s/%d" % (esc(n.encode()), hashlib.sha256(v).hexdigest()[:16], len(v)))
        for k, (rel, st, data, xa) in enumerate(entries):
            if rel in add:
                items = [] if xa == "-" else xa.split(",")
                items = sorted(items + add[rel])
                entries[k] = (rel, st, data, ",".join(items))

    groups = {}
    for rel, st, _, _ in entries:
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
    out = []
    for rel, st, data, xa in entries:
        m = st.st_mode
        kind = next(n for f, n in TYPES if f(m))
        g = groups.get((st.st_dev, st.st_ino))
        link = esc(min(g)) if g and len(g) > 1 else "-"
        f = [esc(rel), kind, "mode=%04o" % stat.S_IMODE(m)]
        if opts["owner"]:
            f += ["uid=%d" % st.st_uid, "gid=%d" % st.st_gid]
        f.append("size=%d" % st.st_size if stat.S_ISREG(m) else "size=-")
        root_ok = opts["roottimes"] or rel != b"."
        if opts["mtime"]:
            f.append("mtime=" + (tm(st.st_mtime_ns) if root_ok else "-"))
        f += [data, "link=" + link]
        if xa is not None:
            f.append("xattr=" + xa)
        if opts["atime"]:
            f.append("atime=" + (tm(st.st_atime_ns) if root_ok else "-"))
        out.append((rel, " ".join(f)))
    out.sort()
    sys.stdout.write("".join(line + "\n" for _, line in out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
