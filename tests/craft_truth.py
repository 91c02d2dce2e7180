#!/usr/bin/env python3
"""craft_truth.py: trees and checks for tests/t_truth.sh (per-file truth: lost ranges, damage
reports, manifests).

Subcommands:
  pattern FILE SIZE              a file whose every 512-byte sector differs from every other (its
                                 index in each of its 128 words, xor a seed): a stale buffer or a
                                 shifted copy can never look right, and no sector is all zeros
  zeros_only ORIG COPY OFF LEN   "ok" when COPY has ORIG's size and bytes everywhere except
                                 [OFF, OFF+LEN), which is all zeros (and was not zeros in ORIG);
                                 else what differs
  manifest MAN ROOT              check a --manifest: header line, then per line the SHA-256 and size
                                 of ROOT + path (the file as written) match; prints "N lines ok" or
                                 the first mismatch
  status MAN PATH                the status field of PATH's line in MAN
  json REPORT EXPR               evaluate EXPR (Python) with d = the JSON report; print the result
  sparse_frag FILE N BS          a file of N one-block data pieces (block size BS), each followed by a
                                 hole: N extents, so a depth-1 extent tree once N > 4
  many DIR N SIZE                N files DIR/fNNN of SIZE bytes, each of one non-zero byte value
"""
import hashlib
import json
import os
import sys


def pattern(path, size):
    out = bytearray()
    for s in range((size + 511) // 512):
        word = ((s * 2654435761) ^ 0x5A5A5A5A) & 0xFFFFFFFF
        out += word.to_bytes(4, "little") * 128
    with open(path, "wb") as f:
        f.write(out[:size])


def zeros_only(orig, copy, off, length):
    a = open(orig, "rb").read()
    b = open(copy, "rb").read()
    if len(a) != len(b):
        return "size %d, want %d" % (len(b), len(a))
    if b[off:off + length] != bytes(length):
        return "bytes %d-%d are not all zeros" % (off, off + length - 1)
    if a[off:off + length] == bytes(length):
        return "the original is zeros there too (the test proves nothing)"
    diff = [i for i in range(len(a)) if a[i] != b[i] and not off <= i < off + length]
    if diff:
        return "%d other bytes differ, first at %d" % (len(diff), diff[0])
    return "ok"


def unescape(p):
    out = bytearray()
    i = 0
    b = p.encode("utf-8", "surrogateescape")
    while i < len(b):
        if b[i] == 0x5C and i + 1 < len(b):
            c = b[i + 1]
            if c == ord("t"):
                out.append(9)
                i += 2
                continue
            if c == ord("n"):
                out.append(10)
                i += 2
                continue
            if c == 0x5C:
                out.append(0x5C)
                i += 2
                continue
            if c == ord("x"):
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
        out.append(b[i])
        i += 1
    return bytes(out)


def check_manifest(man, root):
    lines = open(man, "rb").read().decode("utf-8", "surrogateescape").split("\n")
    if lines[0] != "# salvage manifest 1: sha256 size status path":
        return "bad header %r" % lines[0]
    n = 0
    for ln in lines[1:]:
        if not ln:
            continue
        f = ln.split("\t")
        if len(f) != 4:
            return "not 4 fields: %r" % ln
        h, size, status, path = f
        rel = unescape(path).lstrip(b"/")
        full = os.path.join(os.fsencode(root), rel)
        try:
            data = open(full, "rb").read()
        except OSError as e:
            return "%s: %s" % (path, e)
        if hashlib.sha256(data).hexdigest() != h:
            return "%s: sha256 %s, the file has %s" % (path, h, hashlib.sha256(data).hexdigest())
        if int(size) != len(data):
            return "%s: size %s, the file has %d" % (path, size, len(data))
        if status != "intact" and not status.startswith("damaged:"):
            return "%s: status %r" % (path, status)
        n += 1
    return "%d lines ok" % n


def status(man, want):
    for ln in open(man, "rb").read().decode("utf-8", "surrogateescape").split("\n")[1:]:
        f = ln.split("\t")
        if len(f) == 4 and f[3] == want:
            return f[2]
    return "(no line)"


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "pattern":
        pattern(a[0], int(a[1]))
    elif cmd == "zeros_only":
        print(zeros_only(a[0], a[1], int(a[2]), int(a[3])))
    elif cmd == "manifest":
        print(check_manifest(a[0], a[1]))
    elif cmd == "status":
        print(status(a[0], a[1]))
    elif cmd == "json":
        d = json.load(open(a[0]))
        print(eval(a[1], {"d": d}))
    elif cmd == "sparse_frag":
        n, bs = int(a[1]), int(a[2])
        with open(a[0], "wb") as f:
            for i in range(n):
                f.seek(2 * i * bs)
                f.write(bytes([i % 255 + 1]) * bs)
    elif cmd == "many":
        os.makedirs(a[0], exist_ok=True)
        for i in range(int(a[1])):
            with open(os.path.join(a[0], "f%03d" % i), "wb") as f:
                f.write(bytes([i % 255 + 1]) * int(a[2]))
    else:
        sys.exit("unknown subcommand " + cmd)


if __name__ == "__main__":
    main()
