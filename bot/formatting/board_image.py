"""Boards as PNG pictures. Pure: a `BoardPicture` in, PNG bytes out (no Discord, no HTTP).

Any ranked board can fill a `BoardPicture` (a leaderboard, a challenge's standings): a header
(title, lines such as the games or the period, an optional warning), ranked rows (rank, name,
points, unlocks of possible, masteries, the change since the previous post) and a footer. Rows
go in two columns past `ONE_COLUMN_ROWS`, so a 20-row board is a landscape card that Discord's
preview shows large. The card has its own dark background, legible on dark and light themes.

Pillow is imported on the first render, not with this module: a bot with pictures turned off
never loads it. Rendering is CPU work: callers run it in a worker thread (see
bot/services/pictures.py), one at a time (Pillow font objects are not shared across threads).

Names are hostile: `glyphs.clean` makes them one safe line; each is drawn with the first font
that has every one of its characters (the bundled DejaVu Sans, then system fonts such as Noto
CJK when installed), characters no font has are left out, and a name that would lose most of
itself is replaced by its `fallback_name` (the RA user name). Everything is cut to its column
with an ellipsis. Right-to-left names are laid out by libraqm when Pillow has it.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.formatting.glyphs import Coverage, clean, is_rtl, visible

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

FILENAME = "leaderboard.png"
FONT_DIR = Path(__file__).parent / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
# Fonts for what DejaVu lacks (CJK above all), used when the machine has them; none is needed.
SYSTEM_FALLBACKS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"),
)

ONE_COLUMN_ROWS = 5
PALETTE = 128
MAX_ROWS = 30
PAD = 24
COLUMN = 620
GAP = 16
TITLE_SIZE = 32
LINE_SIZE = 20
NAME_SIZE = 24
SMALL_SIZE = 17
FOOTER_SIZE = 16
ROW = 64
ROW_GAP = 6

BACKGROUND = (23, 25, 30)
ROW_EVEN = (33, 36, 44)
ROW_ODD = (28, 31, 38)
BORDER = (52, 57, 70)
TEXT = (242, 243, 245)
MUTED = (160, 166, 179)
TRACK = (52, 57, 70)
BAR = (88, 145, 240)
BAR_MASTERED = (230, 180, 40)
BAR_SOFTCORE = (120, 132, 156)
UP = (67, 181, 107)
DOWN = (237, 85, 88)
NEW = (120, 140, 255)
WARN = (250, 190, 60)
MEDALS = ((240, 190, 40), (196, 203, 212), (205, 127, 50))
ON_MEDAL = (30, 30, 30)
ELLIPSIS = "…"


@dataclass(frozen=True)
class PictureRow:
    """One ranked member. `move`: places gained (negative: lost) since the previous post, None
    when there is nothing to compare with; `new`: not on the previous post; `softcore`: the
    points and unlocks are softcore ones (the member has nothing in hardcore)."""

    rank: int
    name: str
    points: int
    unlocks: int
    possible: int = 0
    mastered: int = 0
    completed: int = 0
    fallback_name: str = ""
    move: int | None = None
    gained: int = 0
    new: bool = False
    softcore: bool = False


@dataclass(frozen=True)
class BoardPicture:
    title: str
    rows: tuple[PictureRow, ...] = ()
    lines: tuple[str, ...] = ()  # under the title: the games, the period
    footer: str = ""
    note: str = ""  # a warning under the header (figures from cache, say)
    empty: str = "Nobody on this board yet."
    points_unit: str = "pts"


@dataclass(frozen=True)
class _Face:
    font: Font
    coverage: Coverage


class _Fonts:
    """Every font the renderer draws with, loaded once per process and size."""

    def __init__(self) -> None:
        from PIL import ImageFont, features

        self._image_font = ImageFont
        self.raqm = bool(features.check_feature("raqm"))
        self._coverage: dict[Path, Coverage] = {}
        self._faces: dict[tuple[Path, int], _Face | None] = {}
        self.fallbacks = [p for p in SYSTEM_FALLBACKS if p.is_file()]

    def _face(self, path: Path, size: int) -> _Face | None:
        key = (path, size)
        if key not in self._faces:
            try:
                font = self._image_font.truetype(str(path), size)
            except OSError:
                self._faces[key] = None
            else:
                if path not in self._coverage:
                    self._coverage[path] = Coverage.of_font(path)
                self._faces[key] = _Face(font, self._coverage[path])
        return self._faces[key]

    def get(self, size: int, *, bold: bool = False) -> _Face:
        """The bundled font; Pillow's own default font if the bundled one is missing."""
        face = self._face(BOLD if bold else REGULAR, size) or self._face(REGULAR, size)
        if face is None:
            key = (Path("<default>"), size)
            face = self._faces.get(key)
            if face is None:
                face = _Face(self._image_font.load_default(size), Coverage.ascii())
                self._faces[key] = face
        return face

    def chain(self, size: int, *, bold: bool = False) -> Iterator[_Face]:
        """The bundled font, then the system's fallbacks (each loaded when first needed)."""
        yield self.get(size, bold=bold)
        for path in self.fallbacks:
            face = self._face(path, size)
            if face is not None:
                yield face


_fonts: _Fonts | None = None
_fonts_lock = threading.Lock()


def _get_fonts() -> _Fonts:
    global _fonts
    with _fonts_lock:
        if _fonts is None:
            _fonts = _Fonts()
        return _fonts


Run = tuple[str, _Face]  # a piece of text and the face it is drawn with


def drawable(text: str, faces: Iterable[_Face]) -> tuple[list[Run], bool]:
    """`text` cleaned, as runs each drawn with the first face that has its characters (one run
    in the first face when it has them all, so right-to-left text keeps its bidi layout);
    characters no face has are left out. The flag says whether most of the text survived."""
    text = clean(text)
    chars = visible(text)
    chain = iter(faces)
    first = next(chain)
    if all(c in first.coverage for c in chars):
        return ([(text, first)] if text else []), bool(chars)
    candidates = [first, *chain]
    runs: list[list[Any]] = []
    dropping = False
    kept = 0
    for char in text:
        if visible(char):
            face = next((f for f in candidates if char in f.coverage), None)
            dropping = face is None
            if face is None:
                continue
            kept += 1
            if runs and runs[-1][1] is face:
                runs[-1][0] += char
            else:
                runs.append([char, face])
        elif runs and not (dropping and unicodedata.category(char) in ("Mn", "Me")):
            runs[-1][0] += char  # spaces, joiners and marks stay with the run before them
    out = [(str(t), f) for t, f in runs]
    if out:
        out[-1] = (out[-1][0].rstrip(), out[-1][1])
    return out, kept >= max(1, (len(chars) + 1) // 2)


def fit(font: Font, text: str, width: float) -> str:
    """`text`, cut with an ellipsis to `width` pixels."""
    if font.getlength(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(_cut(text, mid)) <= width:
            low = mid
        else:
            high = mid - 1
    return _cut(text, low)


def wrap(font: Font, text: str, width: float) -> list[str]:
    """`text` in lines of at most `width` pixels, broken at spaces."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _cut(text: str, n: int) -> str:
    head = text[:n]
    while head and not visible(head[-1]):  # no dangling mark, joiner or space before "…"
        head = head[:-1]
    return head + ELLIPSIS


class _Canvas:
    def __init__(self, fonts: _Fonts, draw: ImageDraw.ImageDraw) -> None:
        self.fonts = fonts
        self.draw = draw

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        face: _Face,
        fill: tuple[int, int, int],
        *,
        width: float | None = None,
        anchor: str = "la",
    ) -> float:
        """Draw one line (cut to `width`); returns its width."""
        if width is not None:
            text = fit(face.font, text, width)
        if is_rtl(text) and not self.fonts.raqm:
            text = text[::-1]  # no bidi layout: at least right to left, letters unjoined
        if not text:
            return 0.0
        self.draw.text(xy, text, font=face.font, fill=fill, anchor=anchor)
        return float(face.font.getlength(text))

    def name(self, xy: tuple[float, float], row: PictureRow, width: float, size: int) -> None:
        """The row's name (baseline at `xy`), or its fallback when the fonts lack most of it."""
        runs, enough = drawable(row.name, self.fonts.chain(size, bold=True))
        if not enough and row.fallback_name:
            alt, alt_enough = drawable(row.fallback_name, self.fonts.chain(size, bold=True))
            if alt_enough:
                runs = alt
        if not runs:
            runs = [("?", self.fonts.get(size, bold=True))]
        self._runs(xy, runs, width, TEXT)

    def line(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: tuple[int, int, int],
        *,
        width: float,
        bold: bool = False,
    ) -> None:
        """A header or footer line (its top left at `xy`) with the fallback fonts, as names
        are: a set or challenge name, or a game's title, may be in any script."""
        runs, _ = drawable(text, self.fonts.chain(size, bold=bold))
        metrics = getattr(self.fonts.get(size, bold=bold).font, "getmetrics", None)
        ascent = metrics()[0] if metrics is not None else size  # Pillow's bitmap font: none
        self._runs((xy[0], xy[1] + ascent), runs, width, fill)

    def _runs(
        self, xy: tuple[float, float], runs: list[Run], width: float, fill: tuple[int, int, int]
    ) -> None:
        """Runs one after the other from the baseline at `xy`, the one that overflows `width`
        cut with an ellipsis."""
        x, y = xy
        for text, face in runs:
            run_width = float(face.font.getlength(text))
            if run_width > width:
                self.text((x, y), text, face, fill, width=width, anchor="ls")
                break
            x += self.text((x, y), text, face, fill, anchor="ls")
            width -= run_width


def _columns(rows: int) -> int:
    return 1 if rows <= ONE_COLUMN_ROWS else 2


def layout(picture: BoardPicture) -> tuple[int, int, int, int]:
    """(width, height, columns, rows per column) of the picture."""
    rows = min(len(picture.rows), MAX_ROWS)
    columns = _columns(rows)
    per_column = max(1, -(-rows // columns))
    header = _header_height(picture)
    body = per_column * (ROW + ROW_GAP) - ROW_GAP
    width = PAD * 2 + columns * COLUMN + (columns - 1) * GAP
    height = header + body + 16 + (28 if picture.footer else 0) + PAD
    return width, height, columns, per_column


def _header_height(picture: BoardPicture) -> int:
    return PAD + 44 + 28 * len(picture.lines[:3]) + (28 if picture.note else 0) + 12


def render_png(picture: BoardPicture) -> bytes:
    """The picture as PNG bytes (blocking: run it in a worker thread)."""
    from PIL import Image, ImageDraw

    fonts = _get_fonts()
    width, height, _, per_column = layout(picture)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    canvas = _Canvas(fonts, draw)
    draw.rectangle((0, 0, width - 1, height - 1), outline=BORDER, width=2)

    inner = width - 2 * PAD
    y = PAD
    long = 300  # characters of a title or line looked at
    canvas.line((PAD, y), clean(picture.title, long), TITLE_SIZE, TEXT, width=inner, bold=True)
    y += 44
    for line in picture.lines[:3]:
        canvas.line((PAD, y), clean(line, long), LINE_SIZE, MUTED, width=inner)
        y += 28
    if picture.note:
        canvas.line((PAD, y), clean(picture.note, long), LINE_SIZE, WARN, width=inner)
        y += 28
    y += 12

    rows = picture.rows[:MAX_ROWS]
    if not rows:
        face = fonts.get(LINE_SIZE)
        lines = wrap(face.font, clean(picture.empty, long), COLUMN - 32)[:2]
        for n, line in enumerate(lines):
            canvas.text((PAD + 16, y + ROW // 2 + (n - (len(lines) - 1) / 2) * 28), line, face,
                        MUTED, anchor="lm", width=COLUMN - 32)
    for index, row in enumerate(rows):
        column, slot = divmod(index, per_column)
        x0 = PAD + column * (COLUMN + GAP)
        y0 = y + slot * (ROW + ROW_GAP)
        _row(canvas, row, x0, y0, odd=bool(slot % 2), points_unit=clean(picture.points_unit))
    if picture.footer:
        canvas.line((PAD, height - PAD - FOOTER_SIZE), clean(picture.footer, long),
                    FOOTER_SIZE, MUTED, width=inner)

    # A 128-colour palette looks the same (flat colours, anti-aliased text), makes the PNG half
    # the size and is faster to compress.
    palette = image.quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, "PNG", compress_level=3)  # 6 is 4x slower for 20 % less
    return out.getvalue()


def _row(
    canvas: _Canvas, row: PictureRow, x0: int, y0: int, *, odd: bool, points_unit: str
) -> None:
    draw, fonts = canvas.draw, canvas.fonts
    right = x0 + COLUMN - 14
    draw.rounded_rectangle((x0, y0, x0 + COLUMN, y0 + ROW), radius=10,
                           fill=ROW_ODD if odd else ROW_EVEN)

    # Rank: medals for the podium, then the number.
    cx, cy = x0 + 31, y0 + ROW // 2
    label = str(row.rank)
    size = {1: 22, 2: 22, 3: 17, 4: 12}.get(len(label), 10)
    r = 20
    if 1 <= row.rank <= len(MEDALS):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=MEDALS[row.rank - 1])
        canvas.text((cx, cy), label, fonts.get(size, bold=True), ON_MEDAL, anchor="mm")
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=BORDER, width=2)
        canvas.text((cx, cy), label, fonts.get(size, bold=True), MUTED, anchor="mm",
                    width=2 * r - 2)

    # First line: the name, then the points at the right.
    top = y0 + 30  # first line's baseline
    small = fonts.get(SMALL_SIZE)
    unit = f" SC {points_unit}" if row.softcore else f" {points_unit}"
    unit_width = canvas.text((right, top), unit, small, MUTED, anchor="rs")
    points = fonts.get(NAME_SIZE, bold=True)
    points_width = canvas.text((right - unit_width, top), f"{row.points:,}", points, TEXT,
                               anchor="rs")
    left = x0 + 64
    canvas.name((left, top), row, right - unit_width - points_width - 14 - left, NAME_SIZE)

    # Second line: unlocks (a bar of the possible), marks, and the change at the right.
    x = float(left)
    base = y0 + 54
    if row.possible > 0:
        bar = 170
        draw.rounded_rectangle((x, base - 11, x + bar, base - 2), radius=4, fill=TRACK)
        share = min(1.0, row.unlocks / row.possible)
        filled = round(bar * share)
        if row.unlocks > 0:
            filled = max(filled, 8)
        if filled:
            colour = BAR_SOFTCORE if row.softcore else BAR
            if row.unlocks >= row.possible and not row.softcore:
                colour = BAR_MASTERED
            draw.rounded_rectangle((x, base - 11, x + filled, base - 2), radius=4, fill=colour)
        x += bar + 10
        x += canvas.text((x, base), f"{row.unlocks:,}/{row.possible:,}"
                         + (" SC" if row.softcore else ""), small, MUTED, anchor="ls")
    else:
        x += canvas.text((x, base), f"{row.unlocks:,} {'SC ' if row.softcore else ''}unlocks",
                         small, MUTED, anchor="ls")
    if row.mastered:
        x += 12
        _crown(draw, x, base - 14)
        x += 20
        if row.mastered > 1:
            x += canvas.text((x, base), f"{row.mastered}", small, BAR_MASTERED, anchor="ls")
    if row.completed:
        x += 10
        x += canvas.text((x, base), "✔", small, UP, anchor="ls")
        if row.completed > 1:
            x += canvas.text((x, base), f"{row.completed}", small, UP, anchor="ls")

    parts: list[tuple[str, tuple[int, int, int]]] = []
    if row.new:
        parts.append(("new", NEW))
    elif row.move:
        parts.append((f"▲{row.move}" if row.move > 0 else f"▼{-row.move}",
                      UP if row.move > 0 else DOWN))
    if row.gained > 0:
        parts.append((f"+{row.gained:,}", UP))
    end = float(right)
    for text, colour in reversed(parts):
        if end - small.font.getlength(text) < x + 8:
            break
        end -= canvas.text((end, base), text, small, colour, anchor="rs") + 8


def _crown(draw: ImageDraw.ImageDraw, x: float, y: float) -> None:
    """A small crown (👑 needs a colour emoji font): 16 x 12 pixels from (x, y)."""
    points = [(x, y + 12), (x, y + 2), (x + 4, y + 6), (x + 8, y), (x + 12, y + 6),
              (x + 16, y + 2), (x + 16, y + 12)]
    draw.polygon(points, fill=BAR_MASTERED)
