#!/usr/bin/env python3
"""mktrees.py large|small DIR

Builds one deterministic benchmark source tree (seeded; same arguments give the
same names, contents, modes and mtimes) and prints, on stdout, the numbers
bench/run.sh needs to size the image:

    files=N dirs=N data_bytes=N image_bytes=N inodes=N

  large  about 1 GiB of data in ~600 files of mixed sizes (a few bytes to
         tens of MiB) in ~25 directories, 8 of them sparse (large logical size,
         a few data extents, a hole at the end of some).
  small  100,000 small files (0 B - 128 KiB, mean ~4 KiB) in 2,000 directories:
         two of them hold 20,000 files each, the other 60,000 are spread over
         1,998 nested directories.

Contents come from one seeded 32 MiB random pool (slices at per-file offsets),
so nothing is all zeros (mke2fs -d would turn zero blocks into holes).
"""
import os
import random
import sys

BLOCK = 4096
MiB = 1 << 20
MTIME_BASE = 1600000000  # whole seconds: mke2fs -d stores them exactly
POOL_SIZE = 32 * MiB

_pool = None


def pool():
    global _pool
    if _pool is None:
        r = random.Random(0x5A17A6E)
        _pool = r.randbytes(POOL_SIZE)
        _pool = _pool + _pool[:4 * MiB]  # so any slice <= 4 MiB can wrap-free
    return _pool


def write_data(f, size, off):
    """Write size bytes from the pool starting at pool offset off."""
    p = pool()
    off %= POOL_SIZE
    while size > 0:
        n = min(size, 4 * MiB)
        f.write(memoryview(p)[off:off + n])
        size -= n
        off = (off + n) % POOL_SIZE


def blocks(n):
    return (n + BLOCK - 1) // BLOCK * BLOCK


NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
EXTS = ["", "", ".c", ".h", ".txt", ".py", ".o", ".json", ".md", ".html", ".png", ".so", ".log"]


def rname(r, lo, hi, ext=True):
    s = "".join(r.choice(NAME_CHARS) for _ in range(r.randint(lo, hi)))
    return s + (r.choice(EXTS) if ext else "")


def finish_times(top, entries, dirs):
    """Set deterministic mtimes/atimes: files first, then directories deepest first."""
    for i, path in enumerate(entries):
        t = MTIME_BASE + i * 7
        os.utime(path, (t, t), follow_symlinks=False)
    for i, path in enumerate(sorted(dirs, key=lambda d: -d.count(os.sep))):
        t = MTIME_BASE + 3 + i * 11
        os.utime(path, (t, t))


def make_large(top):
    r = random.Random(1)
    ndirs = 25
    dirs = [top]
    for i in range(ndirs - 1):
        parent = r.choice(dirs)
        d = os.path.join(parent, "dir%02d_%s" % (i, rname(r, 3, 10, ext=False)))
        os.mkdir(d)
        dirs.append(d)

    # sizes of regular files: (size, kind)
    specs = []
    for _ in range(440):                      # small: 0 .. 256 KiB
        specs.append(int(r.paretovariate(1.1) * 600) % (256 * 1024))
    for _ in range(120):                      # medium: 256 KiB .. 6 MiB
        specs.append(r.randint(256 * 1024, 6 * MiB))
    nlarge = 32
    large = [r.uniform(1.0, 4.0) for _ in range(nlarge)]
    nsparse = 8
    sparse = []
    for _ in range(nsparse):                  # (logical size, [(offset, len)])
        logical = r.randint(64, 768) * MiB
        exts = []
        for _ in range(r.randint(2, 6)):
            ln = r.randint(16, 1024) * 16 * 1024         # 256 KiB .. 16 MiB
            off = r.randrange(0, logical - ln) // BLOCK * BLOCK
            exts.append((off, ln))
        if r.random() < 0.5:                  # some end in data, some in a hole
            ln = r.randint(1, 64) * BLOCK
            exts.append((logical - ln, ln))
        sparse.append((logical, sorted(exts)))

    # scale the large files so that the data adds up to ~1 GiB
    target = 1024 * MiB
    fixed = sum(specs)
    for logical, exts in sparse:
        fixed += sum(ln for _, ln in exts)  # overlaps make this a slight overestimate
    rest = max(target - fixed, nlarge * 4 * MiB)
    scale = rest / sum(large)
    specs += [int(x * scale) for x in large]

    kinds = ["reg"] * len(specs) + ["sparse"] * nsparse
    order = list(range(len(kinds)))
    r.shuffle(order)

    entries = []
    data = 0
    dblocks = 0
    names = set()
    for n, idx in enumerate(order):
        d = r.choice(dirs)
        while True:
            name = "%s_%03d%s" % (rname(r, 2, 24, ext=False), n, r.choice(EXTS))
            path = os.path.join(d, name)
            if path not in names:
                names.add(path)
                break
        if kinds[idx] == "reg":
            size = specs[idx]
            with open(path, "wb") as f:
                write_data(f, size, r.randrange(POOL_SIZE))
            data += size
            dblocks += blocks(size)
        else:
            logical, exts = sparse[idx - len(specs)]
            with open(path, "wb") as f:
                for off, ln in exts:
                    f.seek(off)
                    write_data(f, ln, r.randrange(POOL_SIZE))
                f.truncate(logical)
            st = os.stat(path)
            data += st.st_blocks * 512
            dblocks += st.st_blocks * 512
        os.chmod(path, 0o755 if r.random() < 0.1 else 0o644)
        entries.append(path)
    finish_times(top, entries, dirs)
    return len(entries), len(dirs), data, dblocks


def make_small(top):
    r = random.Random(2)
    dirs = [top]
    depth = {top: 0}
    big = []
    for name in ("big_a", "big_b"):
        d = os.path.join(top, name)
        os.mkdir(d)
        dirs.append(d)
        depth[d] = 1
        big.append(d)
    tree = [top]
    while len(dirs) < 2000:
        parent = r.choice(tree)
        while True:
            d = os.path.join(parent, rname(r, 2, 16, ext=False))
            if d not in depth:
                break
        os.mkdir(d)
        dirs.append(d)
        tree.append(d)
        depth[d] = depth[parent] + 1
        if depth[d] >= 8:
            tree.remove(d)   # no deeper than 8 levels

    def size():
        x = r.random()
        if x < 0.05:
            return 0
        if x < 0.60:
            return r.randint(1, 2048)
        if x < 0.92:
            return r.randint(2049, 8192)
        if x < 0.995:
            return r.randint(8193, 32768)
        return r.randint(32769, 131072)

    placements = []
    for d in big:
        placements += [d] * 20000
    ordinary = [d for d in dirs if d not in big]
    for _ in range(100000 - len(placements)):
        placements.append(r.choice(ordinary))

    entries = []
    data = 0
    dblocks = 0
    seen = set()
    for n, d in enumerate(placements):
        while True:
            if d in big:
                name = "f%05d_%s%s" % (n % 20000, rname(r, 0, 12, ext=False), r.choice(EXTS))
            else:
                name = rname(r, 1, 28)
            path = os.path.join(d, name)
            if path not in seen and path not in depth:
                seen.add(path)
                break
        sz = size()
        with open(path, "wb") as f:
            write_data(f, sz, r.randrange(POOL_SIZE))
        if r.random() < 0.08:
            os.chmod(path, 0o755)
        elif r.random() < 0.02:
            os.chmod(path, 0o600)
        entries.append(path)
        data += sz
        dblocks += blocks(sz)
    finish_times(top, entries, dirs)
    return len(entries), len(dirs), data, dblocks


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("large", "small"):
        sys.stderr.write("usage: mktrees.py large|small DIR\n")
        return 2
    kind, top = sys.argv[1], sys.argv[2]
    os.umask(0o022)
    if os.path.exists(top):
        sys.stderr.write("mktrees.py: %s exists; remove it first\n" % top)
        return 2
    os.makedirs(top)
    if kind == "large":
        files, ndirs, data, dblocks = make_large(top)
    else:
        files, ndirs, data, dblocks = make_small(top)
    inodes = (files + ndirs) * 5 // 4 + 1024
    # data blocks + directory blocks (~32 B per entry) + extent/index blocks
    # + inode tables + journal and group metadata + 10 % slack
    meta = (files + ndirs) * 32 + ndirs * BLOCK + files * 64 + inodes * 256
    image = int((dblocks + meta) * 1.10) + 192 * MiB
    image = (image + MiB - 1) // MiB * MiB
    print("files=%d dirs=%d data_bytes=%d image_bytes=%d inodes=%d"
          % (files, ndirs, data, image, inodes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
