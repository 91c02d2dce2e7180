#!/usr/bin/env python3
"""craft_walk.py: build hostile trees and images for the tree walkers (tests/t_hostile_walk.sh).

Subcommands (each small; the shell test strings them together):
  deep TREE DEPTH NAMELEN [FILES]   a chain of DEPTH directories with NAMELEN-byte names under TREE,
                                    built with dir fds so PATH_MAX never matters; the last holds a
                                    file "bottom" ("bottom of the chain\\n"); FILES extra files per level
  depth DIR                         print the number of directory levels below DIR (one subdirectory per
                                    level, followed with dir fds) and the bottom file's content
  chaincmp A B                      walk two such chains side by side: "N same" when every level has the
                                    same name, mode and mtime (seconds), else the first difference
  linked DIR                        "linked" when the top's f0 and the bottom's "hardlink" are one inode
  links IMG N                       set i_links_count = N on every regular-file inode whose count is 1
                                    (their other links never turn up: the walker keeps them all)
  dupname IMG A B                   two entries of one directory, A (a symlink) and B (a directory), both
                                    of length 2: the first in the block becomes the symlink named A, the
                                    second the directory, also named A
  emptyname IMG NAME                set the name length of the entry NAME to 0 (an empty name)
  extract TAR DEST                  python tarfile.extractall(DEST) with no filter (the naive extractor)
Images are ext2/3/4 without metadata_csum (so the edits need no checksum updates).
"""
import os
import struct
import sys
import tarfile


def build_deep(tree, depth, namelen, files=0):
    os.makedirs(tree, exist_ok=True)
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    for level in range(depth):
        name = ("%05d" % level + "d" * namelen)[:namelen]
        os.mkdir(name, dir_fd=fd)
        for k in range(files):
            f = os.open("f%d" % k, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(f, b"level %d file %d\n" % (level, k))
            os.close(f)
        nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    f = os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(f, b"bottom of the chain\n")
    os.close(f)
    os.close(fd)


def count_depth(top):
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    n = 0
    while True:
        subs = [e for e in os.listdir(fd) if e != "lost+found" and
                os.stat(e, dir_fd=fd, follow_symlinks=False).st_mode & 0o170000 == 0o040000]
        if len(subs) != 1:
            break
        nfd = os.open(subs[0], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = nfd
        n += 1
    content = b""
    try:
        f = os.open("bottom", os.O_RDONLY, dir_fd=fd)
        content = os.read(f, 4096)
        os.close(f)
    except OSError:
        pass
    os.close(fd)
    return n, content


def linked(top):
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    first = os.stat("f0", dir_fd=fd, follow_symlinks=False)
    while True:
        subs = [e for e in os.listdir(fd) if e != "lost+found" and
                os.stat(e, dir_fd=fd, follow_symlinks=False).st_mode & 0o170000 == 0o040000]
        if len(subs) != 1:
            break
        nfd = os.open(subs[0], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = nfd
    try:
        last = os.stat("hardlink", dir_fd=fd, follow_symlinks=False)
    except OSError:
        return "no hardlink at the bottom"
    finally:
        os.close(fd)
    return "linked" if (first.st_dev, first.st_ino) == (last.st_dev, last.st_ino) else "not linked"


def chain_cmp(a, b):
    fa = os.open(a, os.O_RDONLY | os.O_DIRECTORY)
    fb = os.open(b, os.O_RDONLY | os.O_DIRECTORY)
    n = 0
    while True:
        subs = sorted(e for e in os.listdir(fa) if e != "lost+found" and
                      os.stat(e, dir_fd=fa, follow_symlinks=False).st_mode & 0o170000 == 0o040000)
        if len(subs) != 1:
            break
        sa = os.stat(subs[0], dir_fd=fa, follow_symlinks=False)
        try:
            sb = os.stat(subs[0], dir_fd=fb, follow_symlinks=False)
        except OSError as e:
            return "level %d: %s" % (n + 1, e)
        # mke2fs -d keeps whole seconds only
        if (sa.st_mode, int(sa.st_mtime)) != (sb.st_mode, int(sb.st_mtime)):
            return "level %d: mode/mtime %o/%d, copy %o/%d" % (n + 1, sa.st_mode, sa.st_mtime, sb.st_mode, sb.st_mtime)
        na = os.open(subs[0], os.O_RDONLY | os.O_DIRECTORY, dir_fd=fa)
        nb = os.open(subs[0], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fb)
        os.close(fa)
        os.close(fb)
        fa, fb = na, nb
        n += 1
    os.close(fa)
    os.close(fb)
    return "%d same" % n


class Image:
    """Just enough of the on-disk format to find inodes (ext4 docs: super.rst, group_descr.rst)."""

    def __init__(self, path):
        self.path = path
        self.b = bytearray(open(path, "rb").read())
        sb = self.b[1024:2048]
        self.inodes_count, = struct.unpack_from("<I", sb, 0)
        self.first_data_block, = struct.unpack_from("<I", sb, 20)
        self.bsize = 1024 << struct.unpack_from("<I", sb, 24)[0]
        self.inodes_per_group, = struct.unpack_from("<I", sb, 40)
        rev, = struct.unpack_from("<I", sb, 76)
        self.inode_size = struct.unpack_from("<H", sb, 88)[0] if rev else 128
        incompat, = struct.unpack_from("<I", sb, 96)
        self.desc_size = struct.unpack_from("<H", sb, 0xFE)[0] if incompat & 0x80 else 32
        self.gdt = (self.first_data_block + 1) * self.bsize
        self.groups = (self.inodes_count + self.inodes_per_group - 1) // self.inodes_per_group

    def inode_off(self, ino):
        g, i = divmod(ino - 1, self.inodes_per_group)
        d = self.gdt + g * self.desc_size
        table = struct.unpack_from("<I", self.b, d + 8)[0]
        if self.desc_size >= 64:
            table |= struct.unpack_from("<I", self.b, d + 0x28)[0] << 32
        return table * self.bsize + i * self.inode_size

    def inodes(self):
        for ino in range(1, self.inodes_count + 1):
            yield ino, self.inode_off(ino)

    def save(self):
        open(self.path, "wb").write(self.b)


def set_links(img, n):
    im = Image(img)
    done = 0
    for ino, off in im.inodes():
        if ino < 11:
            continue  # reserved inodes (the resize inode is a regular file)
        mode, = struct.unpack_from("<H", im.b, off)
        links, = struct.unpack_from("<H", im.b, off + 26)
        if mode & 0o170000 == 0o100000 and links == 1:
            struct.pack_into("<H", im.b, off + 26, n)
            done += 1
    im.save()
    return done


def find_entries(b, name, types):
    """Offsets of directory entries (with the filetype feature) holding name with a type in types."""
    out = []
    i = b.find(name)
    while i >= 0:
        h = i - 8
        if h >= 0 and b[h + 6] == len(name) and b[h + 7] in types and struct.unpack_from("<I", b, h)[0]:
            out.append(h)
        i = b.find(name, i + 1)
    return out


def dupname(img, a, b_name):
    im = Image(img)
    a, b_name = a.encode(), b_name.encode()
    sl = find_entries(im.b, a, (7,))
    dr = find_entries(im.b, b_name, (2,))
    if len(sl) != 1 or len(dr) != 1:
        raise SystemExit("dupname: want one symlink %r and one directory %r, found %d and %d" % (a, b_name, len(sl), len(dr)))
    s, d = sl[0], dr[0]
    s_ino, d_ino = struct.unpack_from("<I", im.b, s)[0], struct.unpack_from("<I", im.b, d)[0]
    first, second = min(s, d), max(s, d)
    for off, ino, typ in ((first, s_ino, 7), (second, d_ino, 2)):
        struct.pack_into("<I", im.b, off, ino)
        im.b[off + 7] = typ
        im.b[off + 8:off + 8 + len(a)] = a
    im.save()


def emptyname(img, name):
    im = Image(img)
    name = name.encode()
    e = find_entries(im.b, name, (1,))
    if len(e) != 1:
        raise SystemExit("emptyname: %d entries named %r" % (len(e), name))
    im.b[e[0] + 6] = 0
    im.save()
    print(struct.unpack_from("<I", im.b, e[0])[0])


def main(argv):
    cmd = argv[1]
    if cmd == "deep":
        build_deep(argv[2], int(argv[3]), int(argv[4]), int(argv[5]) if len(argv) > 5 else 0)
    elif cmd == "depth":
        n, content = count_depth(argv[2])
        print(n, content.decode(errors="replace").strip())
    elif cmd == "linked":
        print(linked(argv[2]))
    elif cmd == "chaincmp":
        print(chain_cmp(argv[2], argv[3]))
    elif cmd == "links":
        print(set_links(argv[2], int(argv[3])))
    elif cmd == "dupname":
        dupname(argv[2], argv[3], argv[4])
    elif cmd == "emptyname":
        emptyname(argv[2], argv[3])
    elif cmd == "extract":
        with tarfile.open(argv[2]) as t:
            # the behaviour of every Python before 3.14: no filter at all
            if hasattr(tarfile, "fully_trusted_filter"):
                t.extractall(argv[3], filter="fully_trusted")
            else:
                t.extractall(argv[3])
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
