"""craft_blame.py: reference answers for tests/t_blame.sh, from e2fsprogs' own tools.

  python3 craft_blame.py layout IMAGE
      the filesystem's metadata as dumpe2fs lists it, one line "KIND GROUP BLOCK COUNT"
      (the format of `test_ext_layout --layout`), sorted
  python3 craft_blame.py meta IMAGE INO...
      the extent tree / indirect blocks of each inode as debugfs's `stat` lists them
      ("(ETB0):123", "(IND):45", "(DIND):..."), one line "INO KIND BLOCK 1", sorted
  python3 craft_blame.py expect IMAGE JSON BLOCK_SIZE WHAT...
      check a `salvage blame --json` answer against debugfs icheck/ncheck (see expect())
"""
import re
import subprocess
import sys


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def rng(a, b):
    a = int(a)
    b = int(b) if b else a
    return a, b - a + 1


def layout(img):
    out = run("dumpe2fs", img)
    lines = []
    for m in re.finditer(r"^Group (\d+):.*?(?=^Group \d+:|\Z)", out, re.M | re.S):
        g = int(m.group(1))
        text = m.group(0)
        pats = [
            ("super", r"(?:Primary|Backup) superblock at (\d+)()"),
            ("gdt", r"Group descriptors? at (\d+)(?:-(\d+))?"),
            ("rsvgdt", r"Reserved GDT blocks at (\d+)(?:-(\d+))?"),
            ("bbitmap", r"Block bitmap at (\d+)()"),
            ("ibitmap", r"Inode bitmap at (\d+)()"),
            ("itable", r"Inode table at (\d+)(?:-(\d+))?"),
        ]
        for kind, pat in pats:
            for r in re.finditer(pat, text):
                blk, n = rng(r.group(1), r.group(2))
                lines.append("%s %d %d %d" % (kind, g, blk, n))
    return sorted(lines)


def meta(img, inos):
    lines = []
    for ino in inos:
        out = run("debugfs", "-R", "stat <%s>" % ino, img)
        for r in re.finditer(r"\((ETB\d+|IND|DIND|TIND)\):(\d+)", out):
            kind = "extent" if r.group(1).startswith("ETB") else "indirect"
            lines.append("%s %s %s 1" % (ino, kind, r.group(2)))
        r = re.search(r"File ACL: (\d+)", out)
        if r and int(r.group(1)):
            lines.append("%s xattr %s 1" % (ino, r.group(1)))
    return sorted(lines)


def icheck(img, blk):
    """The inode owning block blk (debugfs icheck), or None."""
    out = run("debugfs", "-R", "icheck %d" % blk, img)
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == str(blk):
            return int(parts[1]) if parts[1].isdigit() else None
    return None


def ncheck(img, ino):
    """Every path of inode ino (debugfs ncheck), sorted; debugfs writes "//x" for root entries."""
    out = run("debugfs", "-R", "ncheck %d" % ino, img)
    paths = []
    for line in out.splitlines()[1:]:
        parts = line.split("\t", 1)
        if len(parts) == 2 and parts[0].strip() == str(ino):
            paths.append(re.sub(r"/+", "/", parts[1]))
    return sorted(paths)


def expect(argv):
    """expect IMAGE JSON BLOCK_SIZE [file BLK LOST_OFF LOST_LEN] [dir BLK] [inode INO] [free]
    [meta WHAT [INO]]: compare one blame --json answer with debugfs's view; prints "ok" or why not."""
    import json
    img, jpath, bs = argv[0], argv[1], int(argv[2])
    j = json.load(open(jpath))
    args = argv[3:]
    kind = args[0]
    if kind in ("file", "dir"):
        blk = int(args[1])
        ino = icheck(img, blk)
        if ino is None:
            return "debugfs icheck: block %d has no owner" % blk
        names = ncheck(img, ino)
        hits = [f for f in j["files"] if f["ino"] == ino]
        if len(j["files"]) != 1 or not hits:
            return "want exactly inode %d (%s) in files, got %s" % (ino, names, [(f["ino"], f["paths"]) for f in j["files"]])
        f = hits[0]
        if sorted(f["paths"]) != names:
            return "paths %s, debugfs ncheck says %s" % (f["paths"], names)
        if f["type"] != kind:
            return "type %s, want %s" % (f["type"], kind)
        if kind == "file" and f["lost"] != [[int(args[2]), int(args[3])]]:
            return "lost %s, want [[%s,%s]]" % (f["lost"], args[2], args[3])
        if kind == "dir" and not any(m["what"] == "directory block" and m.get("ino") == ino and
                                     m["block"] <= blk < m["block"] + m["count"] for m in j["metadata"]):
            return "no directory block %d of inode %d in metadata: %s" % (blk, ino, j["metadata"])
        return "ok"
    if kind == "inode":
        ino = int(args[1])
        names = ncheck(img, ino)
        f = [f for f in j["files"] if f["ino"] == ino]
        if len(j["files"]) != 1 or not f or "inode" not in f[0]["hit"] or sorted(f[0]["paths"]) != names:
            return "want inode %d %s hit in its inode, got %s" % (ino, names, j["files"])
        if f[0]["lost"] != ([[0, f[0]["size"]]] if f[0]["size"] else []):
            return "lost %s, want all of it" % f[0]["lost"]
        m = [m for m in j["metadata"] if m["what"] == "inode table"]
        if len(m) != 1 or m[0]["inodes"] != [ino, ino]:
            return "want one inode table entry naming inodes [%d,%d], got %s" % (ino, ino, j["metadata"])
        return "ok"
    if kind == "free":
        if j["files"] or j["metadata"] or not j["free"]:
            return "want only free space, got files %s metadata %s free %s" % (j["files"], j["metadata"], j["free"])
        for off, ln in j["free"]:
            for b in range(off // bs, (off + ln - 1) // bs + 1):
                if icheck(img, b) is not None:
                    return "block %d is called free but debugfs icheck gives it an owner" % b
        return "ok"
    if kind == "meta":
        what = args[1]
        m = [m for m in j["metadata"] if m["what"] == what]
        if not m:
            return "no %s in metadata: %s" % (what, j["metadata"])
        if len(args) > 2 and args[2] and not any(x.get("ino") == int(args[2]) for x in m):
            return "%s entries %s do not name inode %s" % (what, m, args[2])
        if len(args) > 3 and not any(x.get("group") == int(args[3]) for x in m):
            return "%s entries %s are not of group %s" % (what, m, args[3])
        return "ok"
    return "unknown expectation " + kind


if __name__ == "__main__":
    if sys.argv[1] == "layout":
        print("\n".join(layout(sys.argv[2])))
    elif sys.argv[1] == "meta":
        print("\n".join(meta(sys.argv[2], sys.argv[3:])))
    elif sys.argv[1] == "expect":
        print(expect(sys.argv[2:]))
