"""Reading QR codes back for the tests: a PNG file or the terminal text the demo shows, decoded by zxing-cpp
(an independent decoder: what a phone camera or a window's scanner would read).

No image library here: a small PNG reader (greyscale or palette, 1 to 8 bits, not interlaced: what QR writers
produce) turns the file into the 8-bit grey pixels zxing-cpp takes as a buffer.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import zxingcpp


def png_grey(path: str | Path) -> tuple[int, int, bytes]:
    """(width, height, 8-bit grey pixels) of a PNG file."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, palette = 8, b"", None
    width = height = depth = colour = interlace = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = [body[i:i + 3] for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    assert colour in (0, 3) and depth in (1, 2, 4, 8) and not interlace, (colour, depth, interlace)
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    rows, prev, i = [], bytes(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        _unfilter(kind, line, prev, max(1, depth // 8))
        rows.append(bytes(line))
        prev = bytes(line)
    top = (1 << depth) - 1
    grey = bytearray()
    for line in rows:
        for x in range(width):
            bit = x * depth
            value = (line[bit // 8] >> (8 - depth - bit % 8)) & top
            if colour == 3:
                assert palette is not None
                r, g, b = palette[value]
                grey.append((r * 299 + g * 587 + b * 114) // 1000)
            else:
                grey.append(value * 255 // top)
    return width, height, bytes(grey)


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    for x in range(len(line)):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + a) & 0xFF
        elif kind == 2:
            line[x] = (line[x] + b) & 0xFF
        elif kind == 3:
            line[x] = (line[x] + (a + b) // 2) & 0xFF
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        else:
            assert kind == 0, f"PNG filter {kind}"


def terminal_grey(text: str, scale: int = 4) -> tuple[int, int, bytes]:
    """The pixels a terminal shows for half-block QR text (a block is a light area on a dark background)."""
    halves = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}
    lines = [line for line in text.splitlines() if line]
    width = max(len(line) for line in lines)
    rows: list[list[int]] = []
    for line in lines:
        top, bottom = [], []
        for ch in line.ljust(width):
            t, b = halves[ch]
            top.append(t)
            bottom.append(b)
        rows += [top, bottom]
    grey = bytearray()
    for row in rows:
        line = bytes(255 if light else 0 for light in row for _ in range(scale))
        grey += line * scale
    return width * scale, len(rows) * scale, bytes(grey)


def decode(width: int, height: int, grey: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in the pixels, as text."""
    view = memoryview(grey).cast("B", (height, width))
    return [b.text for b in zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode)]
