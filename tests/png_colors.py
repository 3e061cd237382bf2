#!/usr/bin/python3
"""Print the number of distinct pixel colours in a PNG file, then for each
colour given as RRGGBB on the command line, how many pixels have it.

usage: png_colors.py FILE [RRGGBB...]

Reads 8-bit greyscale, RGB and RGBA images without interlacing, which is
what Chromium's screenshots are, with the standard library alone.
"""

import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(data, width, height, bpp):
    """Return the image's rows with the PNG filters undone."""
    stride = width * bpp
    rows = []
    prior = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = data[pos]
        row = bytearray(data[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = prior[i]
            corner = prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                row[i] = (row[i] + paeth(left, up, corner)) & 0xFF
            elif kind != 0:
                raise ValueError("invalid filter type %d" % kind)
        rows.append(row)
        prior = row
    return rows


def read_png(path):
    """Return (width, height, bytes per pixel, rows) of an 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file: %s" % path)
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in CHANNELS or interlace:
        raise ValueError("unsupported PNG: depth %d, colour type %d, "
                         "interlace %d" % (depth, color, interlace))
    bpp = CHANNELS[color]
    raw = zlib.decompress(b"".join(idat))
    return width, height, bpp, unfilter(raw, width, height, bpp)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    width, height, bpp, rows = read_png(sys.argv[1])
    counts = {}
    for row in rows:
        for x in range(0, width * bpp, bpp):
            pixel = bytes(row[x:x + min(bpp, 3)])
            counts[pixel] = counts.get(pixel, 0) + 1
    print("colors %d" % len(counts))
    for colour in sys.argv[2:]:
        print("%s %d" % (colour, counts.get(bytes.fromhex(colour), 0)))


if __name__ == "__main__":
    main()
