#!/usr/bin/env python3
"""craft_check.py: small helpers to craft hostile ext2/3/4 images for tests/t_hostile_check.sh.

Superblock fields (Documentation/filesystems/ext4/super.rst) are read and patched by name; the
superblock checksum is recomputed when metadata_csum is on, so the reader does not fall back to a
backup. Used as a module or from the shell:

    craft_check.py sb IMG field=value ...      patch superblock fields (decimal or 0x..)
    craft_check.py sbget IMG field             print a superblock field
    craft_check.py inode IMG INO off=hexbytes  patch raw bytes of an inode (offsets in the inode)
    craft_check.py iblock IMG INO IDX value    set i_block[IDX] (32-bit word) of an inode
    craft_check.py copydesc0 IMG NGROUPS       every descriptor a copy of group 0's
    craft_check.py bmloop IMG INO BLK          triple-indirect block BLK pointing at itself
    craft_check.py extshare IMG INO N DATA NODE...  N inodes from INO share one extent tree
"""
import struct
import sys

# name: (offset, struct format)
SB_FIELDS = {
    "s_inodes_count": (0x00, "<I"),
    "s_blocks_count_lo": (0x04, "<I"),
    "s_free_blocks_count_lo": (0x0C, "<I"),
    "s_free_inodes_count": (0x10, "<I"),
    "s_first_data_block": (0x14, "<I"),
    "s_log_block_size": (0x18, "<I"),
    "s_blocks_per_group": (0x20, "<I"),
    "s_clusters_per_group": (0x24, "<I"),
    "s_inodes_per_group": (0x28, "<I"),
    "s_state": (0x3A, "<H"),
    "s_first_ino": (0x54, "<I"),
    "s_inode_size": (0x58, "<H"),
    "s_feature_compat": (0x5C, "<I"),
    "s_feature_incompat": (0x60, "<I"),
    "s_feature_ro_compat": (0x64, "<I"),
    "s_reserved_gdt_blocks": (0xCE, "<H"),
    "s_desc_size": (0xFE, "<H"),
    "s_blocks_count_hi": (0x150, "<I"),
}
RO_METADATA_CSUM = 0x400


def crc32c(data, crc=0xFFFFFFFF):
    """Plain bitwise CRC32C (Castagnoli) without the final inversion, as ext4 uses it."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


class Image:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "r+b")
        self.sb = bytearray(self.read(1024, 1024))

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def write(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def get(self, name):
        off, fmt = SB_FIELDS[name]
        return struct.unpack_from(fmt, self.sb, off)[0]

    def set(self, name, value):
        off, fmt = SB_FIELDS[name]
        struct.pack_into(fmt, self.sb, off, value)

    @property
    def bsize(self):
        return 1024 << self.get("s_log_block_size")

    def flush_sb(self):
        if self.get("s_feature_ro_compat") & RO_METADATA_CSUM:
            struct.pack_into("<I", self.sb, 0x3FC, crc32c(bytes(self.sb[:0x3FC])))
        self.write(1024, bytes(self.sb))

    def desc(self, g):
        """(block_bitmap, inode_bitmap, inode_table) of group g from the primary descriptor table."""
        is64 = self.get("s_feature_incompat") & 0x80
        dsz = self.get("s_desc_size") if is64 else 32
        gdt = (self.get("s_first_data_block") + 1) * self.bsize
        d = self.read(gdt + g * dsz, dsz)
        lo = struct.unpack_from("<III", d, 0)
        if dsz >= 64:
            hi = struct.unpack_from("<III", d, 0x20)
            return tuple(l | (h << 32) for l, h in zip(lo, hi))
        return lo

    def inode_off(self, ino):
        ipg = self.get("s_inodes_per_group")
        isz = self.get("s_inode_size")
        g, i = divmod(ino - 1, ipg)
        return self.desc(g)[2] * self.bsize + i * isz

    def patch_inode(self, ino, off, data):
        """Raw bytes into an inode; the inode checksum is left as is (check reports it)."""
        self.write(self.inode_off(ino) + off, data)

    def set_iblock(self, ino, idx, value):
        self.patch_inode(ino, 0x28 + 4 * idx, struct.pack("<I", value))

    def close(self):
        self.f.close()


def copy_desc0(img, ngroups):
    """Every one of ngroups descriptors becomes a copy of group 0's, marked initialised: a claimed
    group count backed by descriptors that all point at one inode table."""
    is64 = img.get("s_feature_incompat") & 0x80
    dsz = img.get("s_desc_size") if is64 else 32
    gdt = (img.get("s_first_data_block") + 1) * img.bsize
    d0 = bytearray(img.read(gdt, dsz))
    struct.pack_into("<H", d0, 0x12, 0)        # bg_flags: inodes and blocks initialised
    img.write(gdt, bytes(d0) * ngroups)


def blockmap_self_loop(img, ino, blk):
    """The inode's triple-indirect pointer names blk, whose every entry names blk again: a map of
    (bsize/4)^3 pointers through one block."""
    per = img.bsize // 4
    img.write(blk * img.bsize, struct.pack("<I", blk) * per)
    img.set_iblock(ino, 14, blk)


def _ext_header(entries, maxe, depth):
    return struct.pack("<HHHHI", 0xF30A, entries, maxe, depth, 0)


def extent_shared_tree(img, inos, nodes, data_blk):
    """A tree of depth len(nodes): each index node's entries all lead to the next node, whose leaf
    maps every entry to data_blk. Every inode in inos gets the same root (one entry to nodes[0]):
    without a visited set each inode walks (bsize/12)^depth paths."""
    per = (img.bsize - 12) // 12
    depth = len(nodes)
    for level, blk in enumerate(nodes):
        d = depth - 1 - level                  # depth of this node
        body = bytearray(_ext_header(per, per, d))
        for i in range(per):
            if d == 0:
                body += struct.pack("<IHHI", i, 1, 0, data_blk)
            else:
                body += struct.pack("<IIHH", i * 1000, nodes[level + 1], 0, 0)
        body += b"\0" * (img.bsize - len(body))
        img.write(blk * img.bsize, bytes(body))
    root = _ext_header(1, 4, depth) + struct.pack("<IIHH", 0, nodes[0], 0, 0)
    root += b"\0" * (60 - len(root))
    for ino in inos:
        flags = struct.unpack("<I", img.read(img.inode_off(ino) + 0x20, 4))[0]
        img.patch_inode(ino, 0x20, struct.pack("<I", flags | 0x80000))
        img.patch_inode(ino, 0x28, root)


def _num(s):
    return int(s, 0)


def main(argv):
    cmd, img = argv[1], Image(argv[2])
    if cmd == "sb":
        for kv in argv[3:]:
            k, v = kv.split("=", 1)
            img.set(k, _num(v))
        img.flush_sb()
    elif cmd == "sbget":
        print(img.get(argv[3]))
    elif cmd == "inode":
        ino = _num(argv[3])
        for kv in argv[4:]:
            k, v = kv.split("=", 1)
            img.patch_inode(ino, _num(k), bytes.fromhex(v))
    elif cmd == "iblock":
        img.set_iblock(_num(argv[3]), _num(argv[4]), _num(argv[5]))
    elif cmd == "copydesc0":
        copy_desc0(img, _num(argv[3]))
    elif cmd == "bmloop":
        blockmap_self_loop(img, _num(argv[3]), _num(argv[4]))
    elif cmd == "extshare":
        # extshare IMG FIRST_INO COUNT DATA_BLK NODE_BLK...
        first, count = _num(argv[3]), _num(argv[4])
        extent_shared_tree(img, range(first, first + count), [_num(a) for a in argv[6:]], _num(argv[5]))
    else:
        sys.exit("unknown command " + cmd)
    img.close()


if __name__ == "__main__":
    main(sys.argv)
