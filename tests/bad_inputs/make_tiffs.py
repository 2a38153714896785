#!/usr/bin/env python3
"""Writes the hand-made TIFFs of the bad-input corpus (run once; the files
are committed). Each is a few hundred bytes: a header that lies, a page chain
that loops, a float movie with a NaN pixel."""
import struct, sys, math

def ifd(entries, next_off):
    # entries: list of (tag, type, count, value) with the value fitting in 4 bytes
    out = struct.pack('<H', len(entries))
    for tag, typ, count, value in sorted(entries):
        if typ == 3 and count == 1:
            out += struct.pack('<HHIHH', tag, typ, count, value, 0)
        else:
            out += struct.pack('<HHII', tag, typ, count, value)
    return out + struct.pack('<I', next_off)

def page_entries(w, h, bits, fmt, data_off, nbytes, with_counts=True):
    e = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, bits), (259, 3, 1, 1), (262, 3, 1, 1),
         (273, 4, 1, data_off), (277, 3, 1, 1), (278, 4, 1, h), (339, 3, 1, fmt)]
    if with_counts:
        e.append((279, 4, 1, nbytes))
    return e

def simple(path, w, h, bits=16, fmt=1, nbytes=16, with_counts=True):
    """One page whose header declares w x h pixels over nbytes of data."""
    head = b'II*\x00' + struct.pack('<I', 8)
    n = len(page_entries(w, h, bits, fmt, 0, nbytes, with_counts))
    data_off = 8 + 2 + 12 * n + 4
    body = ifd(page_entries(w, h, bits, fmt, data_off, nbytes, with_counts), 0)
    open(path, 'wb').write(head + body + b'\x00' * nbytes)

def pages(path, frames, w, h, bits, fmt, pack, loop_to=None):
    """frames: list of flat pixel lists. loop_to: the last page's next-IFD
    offset points back at page loop_to (a page chain that loops)."""
    out = bytearray(b'II*\x00' + b'\x00\x00\x00\x00')
    offsets = []
    n = len(page_entries(w, h, bits, fmt, 0, 0))
    ifd_size = 2 + 12 * n + 4
    pos = 8
    for px in frames:
        data = struct.pack('<%d%s' % (len(px), pack), *px)
        offsets.append((pos, pos + ifd_size, data))
        pos += ifd_size + len(data)
    struct.pack_into('<I', out, 4, 8)
    for i, (ifd_off, data_off, data) in enumerate(offsets):
        nxt = offsets[i + 1][0] if i + 1 < len(offsets) else (offsets[loop_to][0] if loop_to is not None else 0)
        out += ifd(page_entries(w, h, bits, fmt, data_off, len(data)), nxt) + data
    open(path, 'wb').write(bytes(out))

if __name__ == '__main__':
    simple('huge_dimensions.tif', 100000, 100000, nbytes=200)
    simple('huge_dimensions_no_counts.tif', 100000, 100000, nbytes=200, with_counts=False)
    simple('wide_2g.tif', 2**31 - 1, 1, nbytes=64)
    px = [float(i % 7) for i in range(8 * 8)]
    pages('page_loop.tif', [px, px, px], 8, 8, 32, 3, 'f', loop_to=0)
    nan = list(px); nan[27] = math.nan
    pages('nan_pixel.tif', [px, nan, px], 8, 8, 32, 3, 'f')
    pages('good_small.tif', [[10] * 64, [10] * 64], 8, 8, 16, 1, 'H')
