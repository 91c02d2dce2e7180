#!/usr/bin/env python3
"""craft_audit.py -- images of the second hostile-image audit (issue 7), for tests/t_hostile_audit.sh.

Usage: craft_audit.py SCENARIO IMAGE ARGS...  (each scenario is one function below; see SCENARIOS)
The image is edited in place; it is built on craft_ext.Img (superblock geometry, inodes, dirents).
Checksums are not fixed: salvage reports them and reads on.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft_ext import Img, ino_of, blocks_of, free_blocks, le16, le32  # noqa: E402


def sb_put(im, off, fmt, v):
    struct.pack_into(fmt, im.b, 1024 + off, v)



def iraw(im, ino):
    o = im.inode_off(ino)
    return o, im.b[o:o + im.isize]


def iput(im, ino, off, fmt, *v):
    struct.pack_into(fmt, im.b, im.inode_off(ino) + off, *v)


def iget(im, ino, off, fmt):
    return struct.unpack_from(fmt, im.b, im.inode_off(ino) + off)[0]


def feature(im, off, bit):
    sb_put(im, off, "<I", le32(im.b, 1024 + off) | bit)


# ---- scenarios ----
def flex_claim(img, bpg):
    """Tiny groups (bpg blocks each) claimed far past the device, flex_bg with 2^16 groups a flex
    group: the groups kept are rounded up to a whole flex group."""
    im = Img(img)
    bpg = int(bpg)
    sb_put(im, 0x20, "<I", bpg)
    sb_put(im, 0x24, "<I", bpg)
    sb_put(im, 0x60, "<I", le32(im.b, 1024 + 0x60) | 0x200)   # flex_bg
    im.b[1024 + 0x174] = 16
    ngroups = 1 << 20
    im.set_blocks_count(ngroups * bpg + im.first_data_block)
    sb_put(im, 0x28, "<I", 16)
    sb_put(im, 0x0, "<I", 16 * 64)
    im.save()


def htree_deep(img, dirpath, levels):
    """The htree root of DIRPATH claims LEVELS indirect levels (large_dir set), with every root entry
    and every entry of the index nodes leading to block 1, which is made an index node too."""
    im = Img(img)
    levels = int(levels)
    feature(im, 0x60, 0x4000)       # large_dir
    blks = blocks_of(img, dirpath)
    root = blks[0]
    im.b[root * im.bsize + 0x1E] = levels
    limit = le16(im.b, root * im.bsize + 0x20)
    off = root * im.bsize + 0x20
    struct.pack_into("<HHI", im.b, off, limit, limit, 1)
    for i in range(1, limit):
        struct.pack_into("<II", im.b, off + 8 * i, i * 16, 1)
    node = blks[1] * im.bsize
    im.b[node:node + im.bsize] = bytes(im.bsize)
    struct.pack_into("<IH", im.b, node, 0, im.bsize)
    nl = (im.bsize - 8) // 8
    struct.pack_into("<HHI", im.b, node + 8, nl, nl, 1)
    for i in range(1, nl):
        struct.pack_into("<II", im.b, node + 8 + 8 * i, i * 16, 1)
    im.save()


def ea_inum(img, path, vino, vsize):
    """PATH gets an in-inode xattr user.x whose value lives in inode VINO (e_value_inum), of VSIZE
    bytes; VINO is flagged EA_INODE."""
    im = Img(img)
    ino = ino_of(img, path)
    vino, vsize = int(vino), int(vsize)
    o = im.inode_off(ino)
    extra = le16(im.b, o + 0x80)
    a = o + 128 + extra
    ent = struct.pack("<BBHIII", 1, 1, 0, vino, vsize, 0) + b"x"
    area = struct.pack("<I", 0xEA020000) + ent.ljust(20, b"\0") + b"\0" * 4
    im.b[a:a + len(area)] = area
    vo = im.inode_off(vino)
    struct.pack_into("<I", im.b, vo + 0x20, le32(im.b, vo + 0x20) | 0x200000)
    im.save()
    print(ino)


def set_mode(img, ino, mode):
    im = Img(img)
    iput(im, int(ino), 0, "<H", int(mode, 0))
    im.save()


def set_size(img, path, size):
    im = Img(img)
    ino = ino_of(img, path) if path.startswith("/") else int(path)
    im.set_size(ino, int(size, 0))
    im.save()
    print(ino)


def rename_raw(img, dirpath, name, newname):
    """Rewrite an entry's name bytes in place (same length): newname is a Python bytes literal."""
    from craft_ext import find_entry
    im = Img(img)
    nb = eval(newname)
    blk, pos, ino, rec = find_entry(im, img, dirpath, name)
    assert len(nb) == len(name)
    im.put(blk, pos + 8, nb)
    im.save()


def patch(img, off, hexbytes):
    """Raw bytes at a byte offset."""
    im = Img(img)
    b = bytes.fromhex(hexbytes)
    off = int(off, 0)
    im.b[off:off + len(b)] = b
    im.save()


def sbfield(img, off, fmt, val):
    im = Img(img)
    sb_put(im, int(off, 0), fmt, int(val, 0))
    im.save()


def jr_replace(img, what, arg="0"):
    """A journal of one transaction replaying a crafted copy of a metadata block:
    'super': the superblock with s_log_block_size = ARG (and a huge block count);
    'jinode': the inode table block holding the journal inode, whose i_block becomes a block map
    whose triple indirect block lists itself; 'gdt': the first descriptor block with every
    inode table pointing at block ARG; 'self': ARG journal blocks of the log itself rewritten."""
    import craft_journal as cj
    im = cj.Image(img)
    jm = cj.journal_map(img)
    log = cj.Log(im, jm)
    bs = im.bs
    arg = int(arg, 0)
    if what == "super":
        blk = 0 if bs > 1024 else 1
        data = bytearray(im.block(blk))
        o = 1024 if bs > 1024 else 0
        struct.pack_into("<I", data, o + 0x18, arg)
        struct.pack_into("<I", data, o + 0x4, 0xFFFFFFF0)
        tx = [(blk, bytes(data), False)]
    elif what == "jinode":
        off = im.inode_off(8)
        blk = off // bs
        data = bytearray(im.block(blk))
        io = off % bs
        tind = jm[-1]
        struct.pack_into("<15I", data, io + 0x28, *([tind] * 15))
        struct.pack_into("<I", data, io + 0x20, 0)          # block map, no extents
        struct.pack_into("<II", data, io + 0x4, 0xFFFFF000, 0)
        tx = [(blk, bytes(data), False), (tind, struct.pack("<I", tind) * (bs // 4), False)]
    elif what == "gdt":
        blk = im.first_data_block + 1
        data = bytearray(im.block(blk))
        for g in range(bs // im.desc_size):
            struct.pack_into("<I", data, g * im.desc_size + 8, arg)
        tx = [(blk, bytes(data), False)]
    elif what == "self":
        tx = [(jm[log.first + i], bytes([0x41 + i % 26]) * bs, False) for i in range(arg)]
    else:
        sys.exit("jr-replace: unknown " + what)
    log.transaction(tx)
    log.finish()
    im.close()


def jr_tags(img, how):
    """Descriptor blocks with hostile tags: 'huge' (64bit: a block number of 2^63), 'nolast' (no
    LAST_TAG flag: tags run to the block's end), 'revoke' (a revoke block whose r_count claims far
    more than the block), 'seqwrap' (sequence numbers from 0xFFFFFFFE across the wrap)."""
    import craft_journal as cj
    im = cj.Image(img)
    jm = cj.journal_map(img)
    bs = im.bs
    log = cj.Log(im, jm)
    if how == "seqwrap":
        log.seq = log.start_seq = 0xFFFFFFFE
        for i in range(4):
            log.transaction([(jm[-1 - i], b"W" * bs, False)])
            log.seq &= 0xFFFFFFFF
        log.finish()
        im.close()
        return
    if how == "huge":
        struct.pack_into(">I", log.jsb, 0x28, struct.unpack_from(">I", log.jsb, 0x28)[0] | 2)
        log.tag_bytes = 12
        log.transaction([(1 << 63, b"H" * bs, False), ((1 << 32) + 5, b"I" * bs, False)])
    elif how == "nolast":
        d = bytearray(cj.hdr(cj.DESCRIPTOR, log.seq))
        while len(d) + 8 <= bs:
            d += struct.pack(">IHH", jm[-1], 0, cj.FLAG_SAME_UUID)
        log._put(bytes(d.ljust(bs, b"\0")))
        for _ in range((bs - 12) // 8):
            if log.room() < 3:
                break
            log._put(b"N" * bs)
        log._put(cj.hdr(cj.COMMIT, log.seq).ljust(bs, b"\0"))
        log.seq += 1
    elif how == "revoke":
        body = cj.hdr(cj.REVOKE, log.seq) + struct.pack(">I", 0x7FFFFFFF) + struct.pack(">I", 5) * ((bs - 16) // 4)
        log._put(body[:bs])
        log.transaction([(jm[-1], b"R" * bs, False)])
    log.finish()
    im.close()


def crosslink(img, src, dirpath, kind="file"):
    """Every file (KIND 'dir': every directory) in DIRPATH gets the map and size of SRC: distinct
    inodes sharing one set of blocks (a cross-linked image). Prints how many inodes were changed."""
    im = Img(img)
    sino = ino_of(img, src)
    so = im.inode_off(sino)
    from craft_ext import debugfs
    n = 0
    for line in debugfs(img, "ls -l " + dirpath).splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].isdigit() or f[-1] in (".", ".."):
            continue
        ino = int(f[0])
        if ino == sino:
            continue
        o = im.inode_off(ino)
        if le16(im.b, o) & 0xF000 != (0x4000 if kind == "dir" else 0x8000):
            continue
        im.b[o + 0x04:o + 0x08] = im.b[so + 0x04:so + 0x08]
        im.b[o + 0x1C:o + 0x64] = im.b[so + 0x1C:so + 0x64]   # i_blocks, flags, osd1, i_block
        im.b[o + 0x6C:o + 0x70] = im.b[so + 0x6C:so + 0x70]
        n += 1
    im.save()
    print(n)


def same_target(img, dirpath, target):
    """Every entry of DIRPATH (but . and ..) names the inode of TARGET."""
    im = Img(img)
    t = ino_of(img, target)
    for blk in blocks_of(img, dirpath):
        for (pos, ino, rec, nl16, nm) in im.dirents(blk):
            if ino and nm not in (b".", b".."):
                im.put(blk, pos, struct.pack("<I", t))
    im.save()
    print(t)


def ea_all(img, dirpath, vpath, vsize):
    """Every file of DIRPATH gets an in-inode xattr user.x whose value is the VSIZE bytes of the
    file VPATH (an ea_inode value, e_value_inum): one value referenced by every inode."""
    im = Img(img)
    vino, vsize = ino_of(img, vpath), int(vsize)
    from craft_ext import debugfs
    n = 0
    ent = struct.pack("<BBHIII", 1, 1, 0, vino, vsize, 0) + b"x"
    area = struct.pack("<I", 0xEA020000) + ent.ljust(20, b"\0") + b"\0" * 4
    for line in debugfs(img, "ls -l " + dirpath).splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].isdigit() or f[-1] in (".", ".."):
            continue
        o = im.inode_off(int(f[0]))
        a = o + 128 + le16(im.b, o + 0x80)
        im.b[a:a + len(area)] = area
        n += 1
    vo = im.inode_off(vino)
    struct.pack_into("<I", im.b, vo + 0x20, le32(im.b, vo + 0x20) | 0x200000)
    sb_put(im, 0x60, "<I", le32(im.b, 1024 + 0x60) | 0x400)      # ea_inode
    im.save()
    print(n)


SCENARIOS = {
    "flex-claim": flex_claim, "htree-deep": htree_deep, "ea-inum": ea_inum, "set-mode": set_mode,
    "set-size": set_size, "rename-raw": rename_raw, "patch": patch, "sbfield": sbfield,
    "jr-replace": jr_replace, "jr-tags": jr_tags, "crosslink": crosslink, "same-target": same_target, "ea-all": ea_all,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: craft_audit.py {%s} IMAGE ARGS..." % ",".join(SCENARIOS))
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
