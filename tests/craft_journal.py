#!/usr/bin/env python3
"""craft_journal.py -- hostile journals and orphan lists for tests/t_hostile_journal.sh.

Small helpers over an ext2/3/4 image (no metadata_csum: nothing here recomputes checksums):
superblock and group descriptor fields, raw inodes, the journal superblock (big-endian) and a
log writer that fills the journal area with descriptor/data/commit blocks. The journal's block
map comes from `debugfs -R "blocks <8>"`.

Scenarios (python3 craft_journal.py SCENARIO IMG ...): see the functions named scen_*.
"""
import struct
import subprocess
import sys

JBD2_MAGIC = 0xC03B3998
DESCRIPTOR, COMMIT, SB_V2, REVOKE = 1, 2, 4, 5
FLAG_ESCAPE, FLAG_SAME_UUID, FLAG_LAST_TAG = 1, 2, 8
INCOMPAT_RECOVER = 0x4
INCOMPAT_64BIT_JBD = 0x2


class Image:
    """An image opened read-write, with its superblock decoded."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, 'r+b')
        self.sb = bytearray(self.read(1024, 1024))
        assert struct.unpack_from('<H', self.sb, 0x38)[0] == 0xEF53, 'not an ext image'
        self.bs = 1024 << self.u32(0x18)
        self.inodes_per_group = self.u32(0x28)
        self.inode_size = struct.unpack_from('<H', self.sb, 0x58)[0]
        self.first_data_block = self.u32(0x14)
        incompat = self.u32(0x60)
        self.desc_size = struct.unpack_from('<H', self.sb, 0xFE)[0] if incompat & 0x80 else 32
        if self.desc_size < 32:
            self.desc_size = 32

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def write(self, off, data):
        self.f.seek(off)
        self.f.write(data)

    def u32(self, off):
        return struct.unpack_from('<I', self.sb, off)[0]

    def set_u32(self, off, v):
        struct.pack_into('<I', self.sb, off, v)
        self.write(1024, bytes(self.sb))

    def block(self, b):
        return self.read(b * self.bs, self.bs)

    def put_block(self, b, data):
        assert len(data) == self.bs
        self.write(b * self.bs, data)

    def inode_off(self, ino):
        g, idx = divmod(ino - 1, self.inodes_per_group)
        gdt = (self.first_data_block + 1) * self.bs
        desc = self.read(gdt + g * self.desc_size, self.desc_size)
        table = struct.unpack_from('<I', desc, 8)[0]
        if self.desc_size >= 64:
            table |= struct.unpack_from('<I', desc, 0x28)[0] << 32
        return table * self.bs + idx * self.inode_size

    def inode(self, ino):
        return bytearray(self.read(self.inode_off(ino), self.inode_size))

    def put_inode(self, ino, raw):
        self.write(self.inode_off(ino), bytes(raw))

    def set_needs_recovery(self):
        self.set_u32(0x60, self.u32(0x60) | INCOMPAT_RECOVER)

    def close(self):
        self.f.close()


def file_blocks(path, name):
    """Device blocks of a file's logical blocks 0.. in order, from `debugfs stat` (its EXTENTS or
    BLOCKS line; extent-tree and indirect blocks are left out; holes are not expected)."""
    out = subprocess.run(['debugfs', '-R', 'stat ' + name, path], capture_output=True, text=True).stdout
    text = out.split('EXTENTS:' if 'EXTENTS:' in out else 'BLOCKS:', 1)[1]
    got = []
    for tok in text.replace('\n', ' ').split(','):
        tok = tok.strip()
        if not tok.startswith('(') or '):' not in tok:
            continue
        lrange, prange = tok[1:].split('):', 1)
        if not lrange[0].isdigit():
            continue                                  # (ETB0), (IND), (DIND), (TIND)
        la, _, lb = lrange.partition('-')
        pa, _, pb = prange.split()[0].partition('-')
        assert int(la) == len(got), 'hole in ' + name
        got.extend(range(int(pa), int(pb or pa) + 1))
        assert len(got) == int(lb or la) + 1
    return got


def journal_map(path):
    """Device blocks of journal blocks 0.. (the journal is inode 8)."""
    return file_blocks(path, '<8>')


def hdr(btype, seq):
    return struct.pack('>III', JBD2_MAGIC, btype, seq)


class Log:
    """Writes transactions into the journal area from s_first on, then points s_start at them."""

    def __init__(self, img, jmap):
        self.img, self.jmap = img, jmap
        self.jsb = bytearray(img.block(jmap[0])[:1024])
        assert struct.unpack_from('>I', self.jsb, 0)[0] == JBD2_MAGIC
        self.maxlen, self.first = struct.unpack_from('>II', self.jsb, 0x10)
        self.seq = struct.unpack_from('>I', self.jsb, 0x18)[0] or 1
        incompat = struct.unpack_from('>I', self.jsb, 0x28)[0]
        assert incompat & ~INCOMPAT_64BIT_JBD == 0, 'journal checksums are not crafted here'
        self.tag_bytes = 12 if incompat & INCOMPAT_64BIT_JBD else 8
        self.start_seq = self.seq
        self.pos = self.first

    def room(self):
        return self.maxlen - self.pos

    def tags_per_descriptor(self):
        return (self.img.bs - 12) // self.tag_bytes

    def _put(self, data):
        self.img.put_block(self.jmap[self.pos], data)
        self.pos += 1

    def transaction(self, blocks, revokes=()):
        """blocks: list of (fs block, data, escaped); revokes: fs blocks revoked by this one."""
        bs = self.img.bs
        if revokes:
            rec = b''.join(struct.pack('>Q' if self.tag_bytes == 12 else '>I', b) for b in revokes)
            body = hdr(REVOKE, self.seq) + struct.pack('>I', 16 + len(rec)) + rec
            self._put(body.ljust(bs, b'\0'))
        per = self.tags_per_descriptor()
        for i in range(0, len(blocks), per):
            chunk = blocks[i:i + per]
            d = bytearray(hdr(DESCRIPTOR, self.seq))
            for k, (fsb, _, esc) in enumerate(chunk):
                flags = FLAG_SAME_UUID | (FLAG_ESCAPE if esc else 0) | (FLAG_LAST_TAG if k == len(chunk) - 1 else 0)
                d += struct.pack('>IHH', fsb & 0xffffffff, 0, flags)
                if self.tag_bytes == 12:
                    d += struct.pack('>I', fsb >> 32)
            self._put(bytes(d.ljust(bs, b'\0')))
            for fsb, data, esc in chunk:
                if esc:
                    data = b'\0\0\0\0' + data[4:]
                self._put(data)
        self._put(hdr(COMMIT, self.seq).ljust(bs, b'\0'))
        self.seq += 1

    def finish(self):
        """Point the journal superblock at the log; the fs superblock asks for recovery."""
        if self.pos < self.maxlen:       # the block after the log must not continue it
            self._put(b'\0' * self.img.bs)
        struct.pack_into('>II', self.jsb, 0x18, self.start_seq, self.first)
        blk0 = bytearray(self.img.block(self.jmap[0]))
        blk0[:1024] = self.jsb
        self.img.put_block(self.jmap[0], bytes(blk0))
        self.img.set_needs_recovery()


def free_blocks(path, want, above=0):
    """want free block numbers (from dumpe2fs), all >= above."""
    out = subprocess.run(['dumpe2fs', path], capture_output=True, text=True).stdout
    got = []
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith('Free blocks: '):
            continue
        for r in line[len('Free blocks: '):].split(','):
            r = r.strip()
            if not r:
                continue
            a, _, b = r.partition('-')
            a, b = int(a), int(b or a)
            for x in range(max(a, above), b + 1):
                got.append(x)
                if len(got) == want:
                    return got
    return got


def scen_big(path, fill_char):
    """A journal full of transactions replacing many distinct blocks (all of file /h, then free
    blocks) with fill_char, plus /f (block 0 logged twice: the later copy wins), /g (escaped:
    starts with the magic) and /r (logged, then revoked by a later transaction: keeps its content).
    Prints the log's length and the number of bulk blocks."""
    img = Image(path)
    jmap = journal_map(path)
    log = Log(img, jmap)
    bs = img.bs
    f, g, r = file_blocks(path, 'f'), file_blocks(path, 'g'), file_blocks(path, 'r')
    first = log.first
    log.transaction([(f[0], b'A' * bs, False), (r[0], b'R' * bs, False)])
    log.transaction([(g[0], struct.pack('>I', JBD2_MAGIC) + b'G' * (bs - 4), True)], revokes=[r[0]])
    per = log.tags_per_descriptor()
    # the rest of the log: full transactions of distinct free blocks, leaving room for the last one
    n_tx = (log.room() - 8) // (per + 2)
    targets = file_blocks(path, 'h')                               # a file read back whole
    targets += free_blocks(path, n_tx * per - len(targets), above=jmap[-1] + 1)
    if len(targets) < n_tx * per:
        targets += free_blocks(path, n_tx * per - len(targets))
    data = (fill_char * bs).encode()
    for t in range(n_tx):
        chunk = targets[t * per:(t + 1) * per]
        if not chunk:
            break
        log.transaction([(b, data, False) for b in chunk])
    log.transaction([(f[0], b'B' * bs, False)])
    log.finish()
    img.close()
    print(log.pos - first, len(targets))


def scen_maxlen(path, how):
    """s_maxlen beyond the journal inode: 'claim' sets only s_maxlen (and s_start) far beyond
    i_size; 'loop' also makes i_size huge and gives the (block-mapped) journal inode a triple
    indirect block whose tree maps millions of journal blocks onto the same few device blocks."""
    img = Image(path)
    jmap = journal_map(path)
    log = Log(img, jmap)
    bs = img.bs
    jsb = log.jsb
    struct.pack_into('>I', jsb, 0x10, 0xFFFFFFF0)                 # s_maxlen
    if how == 'loop':
        ino = img.inode(8)
        per = bs // 4
        tind, dind, ind = free_blocks(path, 3, above=jmap[-1] + 1)
        a, c = jmap[1], jmap[3]                                    # alternate: runs never merge
        img.put_block(ind, struct.pack('<%dI' % per, *([a, c] * (per // 2))))
        img.put_block(dind, struct.pack('<%dI' % per, *([ind] * per)))
        img.put_block(tind, struct.pack('<%dI' % per, *([dind] * per)))
        struct.pack_into('<I', ino, 0x28 + 14 * 4, tind)           # i_block[14]: triple indirect
        size = 0xFFFFFFFF * bs
        struct.pack_into('<I', ino, 0x04, size & 0xffffffff)       # i_size_lo
        struct.pack_into('<I', ino, 0x6C, size >> 32)              # i_size_high
        img.put_inode(8, ino)
    blk0 = bytearray(img.block(jmap[0]))
    blk0[:1024] = jsb
    img.put_block(jmap[0], bytes(blk0))
    img.set_needs_recovery()
    img.close()


def scen_orphan_loop(path, a, b):
    """The orphan chain s_last_orphan -> a -> b -> a ... (next orphan in i_dtime)."""
    img = Image(path)
    for ino, nxt in ((a, b), (b, a)):
        raw = img.inode(ino)
        struct.pack_into('<I', raw, 0x14, nxt)
        struct.pack_into('<H', raw, 0x1A, 0)                        # links_count 0: deleted while open
        img.put_inode(ino, raw)
    img.set_u32(0xE8, a)
    img.close()


def scen_orphan_file(path, name, ino_listed):
    """Turn file NAME into the orphan file: every block lists inode ino_listed in every slot."""
    img = Image(path)
    bs = img.bs
    out = subprocess.run(['debugfs', '-R', 'stat ' + name, path], capture_output=True, text=True).stdout
    oino = int(out.split('Inode:')[1].split()[0])
    per = (bs - 8) // 4
    blk = struct.pack('<%dI' % per, *([ino_listed] * per)) + struct.pack('<II', 0x0b10ca04, 0)
    for b in file_blocks(path, name):
        img.put_block(b, blk)
    img.set_u32(0x5C, img.u32(0x5C) | 0x1000)                      # COMPAT_ORPHAN_FILE
    img.set_u32(0x280, oino)                                       # s_orphan_file_inum
    img.close()


if __name__ == '__main__':
    scen = globals()['scen_' + sys.argv[1]]
    args = [int(x) if x.isdigit() else x for x in sys.argv[2:]]
    scen(*args)
