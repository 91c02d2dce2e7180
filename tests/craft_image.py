#!/usr/bin/env python3
"""craft_image.py -- helpers for tests/t_image.sh (salvage image): reading GNU ddrescue mapfiles
and checking an image against its source and its map.

  verify SRC IMG MAP     every '+' area of MAP holds SRC's bytes in IMG; every other area of IMG is
                         zero; the map covers [0, size of SRC) without gaps. Prints the bytes per
                         status ("+ N", "- N", ...); exit 1 with a reason on any mismatch.
  areas MAP STATUS       the areas with that status, merged, one "OFF+LEN" per line
  round SPEC SECTOR      an --inject-faults SPEC rounded out to whole sectors, merged, as above
  status MAP OFF LEN     the statuses found in [OFF, OFF+LEN), sorted, as one word ("+", "?-")
  nodata IMG OFF LEN     exit 0 when [OFF, OFF+LEN) of IMG holds no data (a hole, SEEK_DATA)
"""
import os
import sys


def load(path):
    """(current line, [(pos, size, status)]) of a mapfile."""
    cur, ents = None, []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        f = line.split()
        if cur is None:
            cur = f
            continue
        ents.append((int(f[0], 0), int(f[1], 0), f[2]))
    return cur, ents


def merged(ranges):
    out = []
    for off, ln in sorted(ranges):
        if out and off <= out[-1][0] + out[-1][1]:
            end = max(out[-1][0] + out[-1][1], off + ln)
            out[-1] = (out[-1][0], end - out[-1][0])
        else:
            out.append((off, ln))
    return out


def parse_count(s):
    mul = 1
    if s[-1] in 'KkMmGg':
        mul = {'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}[s[-1].lower()]
        s = s[:-1]
    return int(s, 0) * mul


def verify(src, img, mapf):
    _, ents = load(mapf)
    size = os.path.getsize(src)
    if os.path.getsize(img) != size:
        return 'image is %d bytes, source %d' % (os.path.getsize(img), size)
    at, total = 0, {}
    with open(src, 'rb') as s, open(img, 'rb') as i:
        for pos, ln, st in ents:
            if pos != at:
                return 'map has a gap or overlap at %d' % at
            at = pos + ln
            total[st] = total.get(st, 0) + ln
            for off in range(pos, pos + ln, 1 << 20):
                n = min(1 << 20, pos + ln - off)
                i.seek(off)
                got = i.read(n)
                if st == '+':
                    s.seek(off)
                    if got != s.read(n):
                        return "bytes %d-%d are '+' but differ from the source" % (off, off + n - 1)
                elif got.count(0) != n:
                    return "bytes %d-%d are '%s' but the image holds data there" % (off, off + n - 1, st)
    if at != size:
        return 'map ends at %d, source has %d bytes' % (at, size)
    for st in sorted(total):
        print(st, total[st])
    return None


def main(argv):
    cmd = argv[1]
    if cmd == 'verify':
        err = verify(argv[2], argv[3], argv[4])
        if err:
            print(err)
            return 1
    elif cmd == 'areas':
        _, ents = load(argv[2])
        for off, ln in merged([(p, n) for p, n, st in ents if st == argv[3]]):
            print('%d+%d' % (off, ln))
    elif cmd == 'round':
        ss = int(argv[3])
        out = []
        for part in argv[2].split('/')[0].split(','):
            a, b = part.split('+')
            off, ln = parse_count(a), parse_count(b)
            lo, hi = off - off % ss, -(-(off + ln) // ss) * ss
            out.append((lo, hi - lo))
        for off, ln in merged(out):
            print('%d+%d' % (off, ln))
    elif cmd == 'status':
        _, ents = load(argv[2])
        off, ln = int(argv[3]), int(argv[4])
        print(''.join(sorted({st for p, n, st in ents if p < off + ln and off < p + n})))
    elif cmd == 'nodata':
        off, ln = int(argv[3]), int(argv[4])
        fd = os.open(argv[2], os.O_RDONLY)
        try:
            d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            d = os.path.getsize(argv[2])   # ENXIO: no data after off
        os.close(fd)
        return 0 if d >= off + ln else 1
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
