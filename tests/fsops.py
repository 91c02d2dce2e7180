#!/usr/bin/env python3
"""fsops.py DIR SEED [NOPS] [--small] -- seeded random filesystem churn.

Runs NOPS (default 3000) random operations in DIR, a freshly mounted
filesystem: create/append/overwrite/truncate/delete files (with holes),
rename files and directories, mkdir/rmdir, set/remove xattrs, symlinks
(short and long), hard links, fifos, chmod/chown, and utimes with
nanoseconds, before 1970 and after 2038.  Several files grow in interleaved
fsync'ed chunks and a big directory is filled and half emptied, so extents,
block maps and directories fragment the way they do on used disks.
--small keeps xattr values and symlinks small enough for 1 KiB blocks and
leaves out times past 2038 (for filesystems that cannot store them).
Same DIR contents for the same SEED and NOPS.
"""
import os, random, sys

top = sys.argv[1]
rng = random.Random(int(sys.argv[2]))
nops = int(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 3000
small = "--small" in sys.argv
NS = 10 ** 9
files, dirs, links = [], [""], []
counter = [0]


def newname(d):
    counter[0] += 1
    style = rng.random()
    if style < 0.05:
        base = "long_" + "n" * rng.randint(100, 240)
    elif style < 0.1:
        base = "sp ace-é-%d" % counter[0]
    else:
        base = "f%d" % counter[0]
    return os.path.join(d, "%s_%d" % (base[:240], counter[0]))


def P(rel):
    return os.path.join(top, rel)


def payload(n):
    return rng.randbytes(n)


def op_create():
    d = rng.choice(dirs)
    f = newname(d)
    with open(P(f), "wb") as fh:
        size = rng.choice([0, 1, rng.randint(1, 5000), rng.randint(5000, 300000)])
        fh.write(payload(size))
        if rng.random() < 0.2:  # hole then data
            fh.seek(rng.randint(1, 3) * 1048576, 1)
            fh.write(payload(rng.randint(1, 9000)))
    files.append(f)


def op_append():
    if files:
        f = rng.choice(files)
        with open(P(f), "ab") as fh:
            fh.write(payload(rng.randint(1, 70000)))


def op_overwrite():
    if files:
        f = rng.choice(files)
        size = os.path.getsize(P(f))
        with open(P(f), "r+b") as fh:
            fh.seek(rng.randint(0, size + 100000))
            fh.write(payload(rng.randint(1, 20000)))


def op_truncate():
    if files:
        f = rng.choice(files)
        size = os.path.getsize(P(f))
        os.truncate(P(f), rng.choice([0, size // 2, size + rng.randint(1, 2000000), rng.randint(0, size + 1)]))


def op_delete():
    if files:
        f = files.pop(rng.randrange(len(files)))
        os.unlink(P(f))


def op_rename():
    if files and rng.random() < 0.7:
        i = rng.randrange(len(files))
        new = newname(rng.choice(dirs))
        os.rename(P(files[i]), P(new))
        files[i] = new
    elif len(dirs) > 1:
        i = rng.randrange(1, len(dirs))
        old = dirs[i]
        parent = rng.choice([d for d in dirs if not (d + "/").startswith(old + "/") and d != old])
        new = newname(parent)
        os.rename(P(old), P(new))
        fix = lambda p: new + p[len(old):] if p == old or p.startswith(old + "/") else p
        dirs[:] = [fix(d) for d in dirs]
        files[:] = [fix(f) for f in files]
        links[:] = [fix(f) for f in links]


def op_mkdir():
    d = newname(rng.choice(dirs))
    os.mkdir(P(d))
    dirs.append(d)


def op_rmdir():
    empty = [d for d in dirs[1:] if not os.listdir(P(d))]
    if empty:
        d = rng.choice(empty)
        os.rmdir(P(d))
        dirs.remove(d)


def op_xattr():
    targets = files + dirs
    t = P(rng.choice(targets))
    names = os.listxattr(t)
    if names and rng.random() < 0.3:
        os.removexattr(t, rng.choice(names))
        return
    n = rng.choice([1, 10, 100, 200] if small else [1, 10, 100, 200, 1000, 3000])
    try:
        os.setxattr(t, "user.x%d" % rng.randint(0, 5), payload(n))
    except OSError:
        pass  # ENOSPC: no room for this value next to the others


def op_symlink():
    n = rng.choice([1, 20, 59, 60, 61, 300, 900] if small else [1, 20, 59, 60, 61, 300, 900, 3000])
    f = newname(rng.choice(dirs))
    os.symlink(("t%d/" % n + "s" * n)[:n], P(f))
    links.append(f)


def op_hardlink():
    if files:
        f = newname(rng.choice(dirs))
        os.link(P(rng.choice(files)), P(f))
        files.append(f)


def op_fifo():
    f = newname(rng.choice(dirs))
    os.mkfifo(P(f))
    links.append(f)


def op_chmod():
    t = rng.choice(files + dirs[1:] or [""])
    if t:
        mode = rng.choice([0o644, 0o600, 0o4755, 0o2750, 0o1777, 0o000, 0o777, 0o751])
        if t in dirs:
            mode |= 0o700  # keep directories traversable for later ops
        os.chmod(P(t), mode)
        if rng.random() < 0.5:
            os.chown(P(t), rng.choice([0, 1000, 65536, 100000, 4294967294]), rng.choice([0, 100, 70000]))


def op_utime():
    t = rng.choice(files + links + dirs)
    hi = 2 ** 31 - 1 if small else 4102444800
    def one():
        return rng.choice([rng.randint(-2 ** 31, hi), rng.randint(0, 2 ** 31 - 1)]) * NS + rng.randint(0, NS - 1)
    os.utime(P(t), ns=(one(), one()), follow_symlinks=False)


def op_interleave():
    """grow a few files in alternating fsync'ed chunks -> fragmented extents"""
    fs = [newname(rng.choice(dirs)) for _ in range(3)]
    hs = [open(P(f), "wb") for f in fs]
    for _ in range(rng.randint(5, 20)):
        for h in hs:
            h.write(payload(rng.randint(1000, 40000)))
            h.flush()
            os.fsync(h.fileno())
    for h in hs:
        h.close()
    files.extend(fs)


def op_bigdir():
    d = newname(rng.choice(dirs))
    os.mkdir(P(d))
    dirs.append(d)
    made = []
    for i in range(rng.randint(500, 2500)):
        f = os.path.join(d, "e%05d_%s" % (i, "x" * rng.randint(0, 60)))
        open(P(f), "wb").close()
        made.append(f)
    rng.shuffle(made)
    for f in made[: len(made) // 2]:
        os.unlink(P(f))
    files.extend(made[len(made) // 2:])


OPS = [(op_create, 20), (op_append, 8), (op_overwrite, 6), (op_truncate, 5), (op_delete, 8),
       (op_rename, 8), (op_mkdir, 6), (op_rmdir, 3), (op_xattr, 6), (op_symlink, 5),
       (op_hardlink, 4), (op_fifo, 1), (op_chmod, 4), (op_utime, 6), (op_interleave, 1),
       (op_bigdir, 0.15)]
funcs = [f for f, _ in OPS]
weights = [w for _, w in OPS]
for _ in range(nops):
    f = rng.choices(funcs, weights)[0]
    try:
        f()
    except OSError as e:
        if e.errno == 28:  # ENOSPC: free some space and go on
            for _ in range(10):
                op_delete()
        else:
            raise
# final pass: utimes on a sample so times are not all "now"
for t in rng.sample(files + links + dirs, min(200, len(files + links + dirs))):
    op_utime()
