"""Which characters a font can draw, and hostile text made drawable.

Pillow draws a missing glyph as an empty box and says nothing, so the picture renderer asks the
font itself: `Coverage` reads the font's character map (the OpenType `cmap` table, formats 4 and
12, in a .ttf/.otf or the first face of a .ttc) into sorted code point ranges. No Pillow here.

`clean` turns a name into something that cannot break a row: control and invisible formatting
characters (bidi overrides, zero-width spaces, BOMs) go, whitespace collapses, and a pile of
combining marks ("Zalgo") is cut to two per letter so it cannot climb into the next row.
"""

from __future__ import annotations

import struct
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path

MAX_MARKS = 2  # combining marks kept after one base character
KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ/ZWJ: they change how Arabic and Indic text joins
INPUT_LIMIT = 80  # characters of a name looked at


class Coverage:
    """The code points a font maps to a glyph, as merged [start, end] ranges."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [r[0] for r in merged]
        self._ends = [r[1] for r in merged]

    def __contains__(self, char: object) -> bool:
        if not isinstance(char, str) or len(char) != 1:
            return False
        cp = ord(char)
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]

    def __len__(self) -> int:
        return sum(e - s + 1 for s, e in zip(self._starts, self._ends, strict=True))

    @classmethod
    def ascii(cls) -> Coverage:
        """What any font is assumed to draw when its map cannot be read."""
        return cls([(0x20, 0x7E)])

    @classmethod
    def of_font(cls, path: Path, index: int = 0) -> Coverage:
        """Read the font file's character map; ASCII only if it cannot be read."""
        try:
            return cls(_cmap_ranges(path.read_bytes(), index))
        except (OSError, struct.error, ValueError):
            return cls.ascii()


def _cmap_ranges(data: bytes, index: int) -> list[tuple[int, int]]:
    offset = 0
    if data[:4] == b"ttcf":
        (offset,) = struct.unpack_from(">I", data, 12 + 4 * index)
    (tables,) = struct.unpack_from(">H", data, offset + 4)
    cmap = None
    for i in range(tables):
        tag, _checksum, table_offset, _length = struct.unpack_from(
            ">4sIII", data, offset + 12 + 16 * i
        )
        if tag == b"cmap":
            cmap = table_offset
    if cmap is None:
        raise ValueError("no cmap table")
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, sub = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables.setdefault((platform, encoding), cmap + sub)
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        if key not in subtables:
            continue
        at = subtables[key]
        (fmt,) = struct.unpack_from(">H", data, at)
        if fmt == 12:
            return _format12(data, at)
        if fmt == 4:
            return _format4(data, at)
    raise ValueError("no Unicode cmap of format 4 or 12")


def _format12(data: bytes, at: int) -> list[tuple[int, int]]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    out = []
    for i in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
        if glyph == 0:
            start += 1  # the first code point maps to .notdef
        if start <= end:
            out.append((start, end))
    return out


def _format4(data: bytes, at: int) -> list[tuple[int, int]]:
    (seg_x2,) = struct.unpack_from(">H", data, at + 6)
    segs = seg_x2 // 2
    ends_at = at + 14
    starts_at = ends_at + seg_x2 + 2
    deltas_at = starts_at + seg_x2
    offsets_at = deltas_at + seg_x2
    out: list[tuple[int, int]] = []
    for i in range(segs):
        (end,) = struct.unpack_from(">H", data, ends_at + 2 * i)
        (start,) = struct.unpack_from(">H", data, starts_at + 2 * i)
        (delta,) = struct.unpack_from(">h", data, deltas_at + 2 * i)
        (range_offset,) = struct.unpack_from(">H", data, offsets_at + 2 * i)
        if start == 0xFFFF:
            continue
        if range_offset == 0:
            notdef = -delta & 0xFFFF  # the one code point, if any, that lands on glyph 0
            if start <= notdef <= end:
                out.extend(r for r in ((start, notdef - 1), (notdef + 1, end)) if r[0] <= r[1])
            else:
                out.append((start, end))
            continue
        for cp in range(start, end + 1):
            glyph_at = offsets_at + 2 * i + range_offset + 2 * (cp - start)
            (glyph,) = struct.unpack_from(">H", data, glyph_at)
            if glyph:
                out.append((cp, cp))
    return out


def clean(text: str, limit: int = INPUT_LIMIT) -> str:
    """One line of text that cannot break a row (see the module's docstring), at most `limit`
    characters (a row never shows more)."""
    out: list[str] = []
    marks = 0
    for char in text[: limit * 4]:
        category = unicodedata.category(char)
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS or not out:
                continue
        else:
            marks = 0
        if char.isspace() or category in ("Zl", "Zp"):
            char = " "
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn") and char not in KEEP_FORMAT:
            continue
        if char == " " and (not out or out[-1] == " "):
            continue
        out.append(char)
        if len(out) >= limit:
            break
    return "".join(out).strip()


def visible(text: str) -> list[str]:
    """The characters that show something (no spaces, marks or joiners)."""
    return [c for c in text if not c.isspace() and unicodedata.category(c) not in _INVISIBLE]


_INVISIBLE = {"Mn", "Me", "Cf", "Cc"}


def is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)
