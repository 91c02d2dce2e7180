#!/usr/bin/env python3
"""craft_ext.py -- small byte-level edits of ext2/3/4 images for the hostile-image tests.

Usage: craft_ext.py SCENARIO IMAGE ARGS...  (each scenario is one function below; see SCENARIOS)
The image is edited in place. Inode numbers and block lists come from debugfs; everything else
is decoded here from the bytes (superblock, group descriptors, inodes, directory entries).
Checksums are not fixed: salvage reports them and reads on, which the tests allow for.
"""
import re
import struct
import subprocess
import sys


def le16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def le32(b, o):
    return struct.unpack_from("<I", b, o)[0]


class Img:
    """An image in memory with the geometry of its primary superblock."""

    def __init__(self, path):
        self.path = path
        self.b = bytearray(open(path, "rb").read())
        sb = self.b[1024:2048]
        self.inodes_count = le32(sb, 0x0)
        self.first_data_block = le32(sb, 0x14)
        self.bsize = 1024 << le32(sb, 0x18)
        self.bpg = le32(sb, 0x20)
        self.ipg = le32(sb, 0x28)
        self.isize = le16(sb, 0x58) if le32(sb, 0x4C) else 128
        self.incompat = le32(sb, 0x60)
        self.is64 = bool(self.incompat & 0x80)
        self.desc_size = le16(sb, 0xFE) if self.is64 else 32

    def save(self):
        open(self.path, "wb").write(self.b)

    # ---- superblock ----
    def set_blocks_count(self, n):
        struct.pack_into("<I", self.b, 1024 + 0x4, n & 0xFFFFFFFF)
        if self.is64:
            struct.pack_into("<I", self.b, 1024 + 0x150, n >> 32)

    # ---- blocks ----
    def block(self, blk):
        return self.b[blk * self.bsize:(blk + 1) * self.bsize]

    def put(self, blk, off, data):
        o = blk * self.bsize + off
        self.b[o:o + len(data)] = data

    # ---- inodes ----
    def inode_off(self, ino):
        g, i = divmod(ino - 1, self.ipg)
        d = (self.first_data_block + 1) * self.bsize + g * self.desc_size
        itable = le32(self.b, d + 8)
        if self.desc_size >= 64:
            itable |= le32(self.b, d + 0x28) << 32
        return itable * self.bsize + i * self.isize

    def set_size(self, ino, size):
        o = self.inode_off(ino)
        struct.pack_into("<II", self.b, o + 0x4, size & 0xFFFFFFFF, 0)
        struct.pack_into("<I", self.b, o + 0x6C, size >> 32)

    def i_block(self, ino):
        o = self.inode_off(ino) + 0x28
        return self.b[o:o + 60]

    def set_i_block(self, ino, data):
        o = self.inode_off(ino) + 0x28
        self.b[o:o + 60] = data.ljust(60, b"\0")

    def flags(self, ino):
        return le32(self.b, self.inode_off(ino) + 0x20)

    # ---- directory entries ----
    def dirents(self, blk):
        """(offset, inode, rec_len, name_len_16, name) of each entry of one directory block."""
        data, pos, out = self.block(blk), 0, []
        while pos + 8 <= len(data):
            ino, rec, nl16 = struct.unpack_from("<IHH", data, pos)
            if rec < 8:
                break
            out.append((pos, ino, rec, nl16, bytes(data[pos + 8:pos + 8 + (nl16 & 0xFF)])))
            pos += rec
        return out


# ---- debugfs helpers ----
def debugfs(img, req):
    r = subprocess.run(["debugfs", "-R", req, img], capture_output=True, text=True)
    return r.stdout


def ino_of(img, path):
    m = re.search(r"Inode: (\d+)", debugfs(img, "stat " + path))
    if not m:
        sys.exit("craft_ext: %s not found in %s" % (path, img))
    return int(m.group(1))


def blocks_of(img, path):
    return [int(x) for x in debugfs(img, "blocks " + path).split()]


def free_blocks(img, n, start):
    out = debugfs(img, "ffb %d %d" % (n, start))
    m = re.search(r"Free blocks found: (.*)", out)
    return [int(x) for x in m.group(1).split()][:n]


def find_entry(im, img, dirpath, name):
    for blk in blocks_of(img, dirpath):
        for (pos, ino, rec, nl16, nm) in im.dirents(blk):
            if ino and nm == name.encode():
                return blk, pos, ino, rec
    sys.exit("craft_ext: entry %s not in %s" % (name, dirpath))


# ---- scenarios ----
def namelen(img, dirpath, name, newlen):
    """Write a 16-bit name_len (the byte after name_len too, as ext2 without filetype reads it)."""
    im = Img(img)
    blk, pos, ino, rec = find_entry(im, img, dirpath, name)
    newlen = int(newlen)
    if newlen + 8 > rec:
        sys.exit("craft_ext: rec_len %d too small for name_len %d" % (rec, newlen))
    im.put(blk, pos + 6, struct.pack("<H", newlen))
    im.save()
    print(ino)


def emptyname(img, dirpath, name):
    im = Img(img)
    blk, pos, ino, rec = find_entry(im, img, dirpath, name)
    im.put(blk, pos + 6, b"\0")
    im.save()
    print(ino)


def bm_loop(img, path, size):
    """Block map: the double indirect block lists itself in every slot (each slot then reads as a
    single indirect block, itself again) and is also the triple indirect block."""
    im = Img(img)
    ino = ino_of(img, path)
    ib = bytearray(im.i_block(ino))
    d = le32(ib, 13 * 4)
    if not d:
        d = free_blocks(img, 1, 100)[0]
        struct.pack_into("<I", ib, 13 * 4, d)
    struct.pack_into("<I", ib, 14 * 4, d)
    im.set_i_block(ino, bytes(ib))
    im.put(d, 0, struct.pack("<I", d) * (im.bsize // 4))
    im.set_size(ino, int(size))
    im.save()
    print(ino)


def ext_loop(img, path, size):
    """Extent tree of depth 2: 4 root entries all lead to one index block whose 340 (or as many as
    fit) entries all lead to one leaf, whose extents all map the file's first run again. The
    logical ranges are sorted and consistent, so only the repeats are wrong: 4 * 340 * 340
    extents over the same blocks."""
    im = Img(img)
    ino = ino_of(img, path)
    data = blocks_of(img, path)
    first, run = data[0], 1
    while run < len(data) and data[run] == first + run and run < 32768:
        run += 1
    idx, leaf = free_blocks(img, 2, 100)
    per = (im.bsize - 12) // 12
    root = struct.pack("<HHHHI", 0xF30A, 4, 4, 2, 0)
    for i in range(4):
        root += struct.pack("<IIHH", i * per * per * run, idx, 0, 0)
    im.set_i_block(ino, root)
    node = struct.pack("<HHHHI", 0xF30A, per, per, 1, 0)
    for i in range(per):
        node += struct.pack("<IIHH", i * per * run, leaf, 0, 0)
    im.put(idx, 0, node)
    node = struct.pack("<HHHHI", 0xF30A, per, per, 0, 0)
    for i in range(per):
        node += struct.pack("<IHHI", i * run, run, first >> 32, first & 0xFFFFFFFF)
    im.put(leaf, 0, node)
    im.set_size(ino, int(size))
    im.save()
    print(ino)


def dir_repeat(img, dirpath):
    """A directory whose block map lists its first block everywhere: 12 direct pointers, a single
    indirect block full of it, a double indirect block full of that single indirect block."""
    im = Img(img)
    ino = ino_of(img, dirpath)
    b0 = blocks_of(img, dirpath)[0]
    s, d = free_blocks(img, 2, 100)
    per = im.bsize // 4
    im.put(s, 0, struct.pack("<I", b0) * per)
    im.put(d, 0, struct.pack("<I", s) * per)
    im.set_i_block(ino, struct.pack("<I", b0) * 12 + struct.pack("<III", s, d, 0))
    im.set_size(ino, (12 + per + per * per) * im.bsize)
    im.save()
    print(ino)


def bigsize(img, path, size):
    im = Img(img)
    ino = ino_of(img, path)
    im.set_size(ino, int(size, 0))
    im.save()
    print(ino)


def claim_blocks(img, n):
    im = Img(img)
    im.set_blocks_count(int(n, 0))
    im.save()


SCENARIOS = {
    "namelen": namelen, "emptyname": emptyname, "bm-loop": bm_loop, "ext-loop": ext_loop,
    "dir-repeat": dir_repeat, "bigsize": bigsize, "claim-blocks": claim_blocks,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: craft_ext.py {%s} IMAGE ARGS..." % ",".join(SCENARIOS))
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
