"""craft_blame.py: reference answers for tests/t_blame.sh, from e2fsprogs' own tools.

  python3 craft_blame.py layout IMAGE
      the filesystem's metadata as dumpe2fs lists it, one line "KIND GROUP BLOCK COUNT"
      (the format of `test_ext_layout --layout`), sorted
  python3 craft_blame.py meta IMAGE INO...
      the extent tree / indirect blocks of each inode as debugfs's `stat` lists them
      ("(ETB0):123", "(IND):45", "(DIND):..."), one line "INO KIND BLOCK 1", sorted
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


if __name__ == "__main__":
    if sys.argv[1] == "layout":
        print("\n".join(layout(sys.argv[2])))
    elif sys.argv[1] == "meta":
        print("\n".join(meta(sys.argv[2], sys.argv[3:])))
