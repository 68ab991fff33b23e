"""Board pictures: golden properties, not golden pixels."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.formatting import board_image
from bot.formatting.board_image import (
    BACKGROUND,
    COLUMN,
    ELLIPSIS,
    GAP,
    PAD,
    BoardPicture,
    PictureRow,
    drawable,
    fit,
    layout,
    render_png,
    wrap,
)
from bot.formatting.glyphs import Coverage

HOSTILE = {
    "cjk": "山田太郎",
    "cyrillic": "Владимир Путешественник",
    "arabic": "محمد العربي",
    "hebrew": "שלום עליכם",
    "emoji": "🔥🔥Speedy🔥🔥",
    "emoji only": "🔥👑🎮",
    "zero width": "a\u200bb\u200cc\u200dd\ufeff",
    "bidi override": "\u202egnp.exe\u202c",
    "combining": "Z̷̢̧̛̛a̸̢̛l̵̡g̶o̶" + "\u0336" * 300,
    "200 characters": "W" * 200,
    "mixed": "Ωmega 山 محمد 🔥 Ж",
    "blank": " \u200b ",
    "markdown": "**@everyone** `x` [a](http://b)",
    "control": "tab\there\nnewline\x00nul",
}


def board(count: int, **kw: object) -> BoardPicture:
    rows = tuple(
        PictureRow(rank=i + 1, name=f"player{i:02}", fallback_name=f"P{i:02}",
                   points=10_000 - i * 300, unlocks=90 - i, possible=100,
                   mastered=int(i == 0), move=(-1) ** i, gained=i * 10)
        for i in range(count)
    )
    defaults: dict[str, object] = {
        "title": "Leaderboard · Monthly", "rows": rows, "lines": ("Super Metroid · SNES",),
        "footer": "Schedule #1 · 2026-12-01 08:00 UTC",
    }
    defaults.update(kw)
    return BoardPicture(**defaults)  # type: ignore[arg-type]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image.convert("RGB")


def rows_drawn(image: Image.Image, picture: BoardPicture) -> int:
    """Row cards found by walking down a pixel column left of each column's rank badge."""
    _, height, columns, _ = layout(picture)
    found = 0
    for column in range(columns):
        x = PAD + column * (COLUMN + GAP) + 5
        inside = False
        for y in range(board_image._header_height(picture), height - PAD - 28):
            pixel = image.getpixel((x, y))
            assert isinstance(pixel, tuple)
            card = sum(abs(a - b) for a, b in zip(pixel, BACKGROUND, strict=True)) > 6
            if card and not inside:
                found += 1
            inside = card
    return found


@pytest.mark.parametrize("count", [0, 1, 5, 6, 10, 13, 20])
def test_the_png_decodes_has_its_layout_size_and_one_card_per_row(count: int) -> None:
    picture = board(count)
    png = render_png(picture)
    image = decode(png)
    width, height, columns, per_column = layout(picture)
    assert image.size == (width, height)
    assert columns == (1 if count <= 5 else 2)
    assert per_column == max(1, -(-count // columns))
    assert rows_drawn(image, picture) == count
    assert len(png) <= 250_000


def test_a_twenty_row_board_is_a_landscape_card_discord_shows_large() -> None:
    width, height, columns, per_column = layout(board(20))
    assert (columns, per_column) == (2, 10)
    assert width > height and width <= 1400


def test_more_rows_than_fit_are_not_drawn() -> None:
    picture = board(board_image.MAX_ROWS + 12)
    assert rows_drawn(decode(render_png(picture)), picture) == board_image.MAX_ROWS


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_hostile_name_renders_within_its_row(name: str) -> None:
    rows = tuple(
        PictureRow(rank=i + 1, name=name, fallback_name="RAName", points=10**9 if i else 0,
                   unlocks=i, possible=3 * i, mastered=i, completed=i, move=-i, gained=10**9)
        for i in range(6)
    )
    picture = BoardPicture(title=name * 3, rows=rows, lines=(name * 5,), footer=name * 2,
                           note=name)
    image = decode(render_png(picture))
    assert rows_drawn(image, picture) == 6


def text_of(name: str, faces: list[board_image._Face]) -> tuple[str, bool]:
    runs, enough = drawable(name, faces)
    return "".join(text for text, _ in runs), enough


def test_each_name_is_drawn_with_fonts_that_have_it_or_its_fallback_is() -> None:
    fonts = board_image._get_fonts()
    bundled = [fonts.get(24, bold=True)]
    assert text_of("Владимир", bundled) == ("Владимир", True)
    assert text_of("🔥🔥Speedy🔥🔥", bundled) == ("Speedy", True)
    assert text_of("a\u202eb", bundled) == ("ab", True)
    assert text_of("Zoë\u0308\u0308 🔥\u0301x", bundled) == ("Zoë\u0308\u0308 x", True)
    # Most of it would be lost: the row shows the fallback (the RA name) instead.
    assert text_of("山田太郎", bundled)[1] is False
    assert text_of("🔥👑🎮", bundled)[1] is False
    assert text_of("", bundled) == ("", False)


def test_a_system_font_draws_what_the_bundled_one_lacks() -> None:
    fonts = board_image._get_fonts()
    if not any("山" in Coverage.of_font(path) for path in fonts.fallbacks):
        pytest.skip("no CJK system font here (apt-get install fonts-droid-fallback)")
    runs, enough = drawable("Ж 山田 Ж", fonts.chain(24, bold=True))
    assert enough and "".join(text for text, _ in runs) == "Ж 山田 Ж"
    bundled = fonts.get(24, bold=True)
    assert [face is bundled for _, face in runs] == [True, False, True]


def test_long_text_is_cut_to_its_width_with_an_ellipsis() -> None:
    font = board_image._get_fonts().get(24, bold=True).font
    for text in ("W" * 200, "محمد " * 40, "Ж" * 200, "Z̷̢̧" * 70):
        cut = fit(font, text, 300)
        assert cut.endswith(ELLIPSIS) and len(cut) < len(text)
        assert font.getlength(cut) <= 300
    assert fit(font, "Max", 300) == "Max"


def test_the_empty_boards_message_wraps_instead_of_being_cut() -> None:
    font = board_image._get_fonts().get(20).font
    text = "Nobody on this board yet: members join it by using /link here."
    lines = wrap(font, text, 588)
    assert len(lines) == 2 and " ".join(lines) == text
    assert all(font.getlength(line) <= 588 for line in lines)


def test_without_the_bundled_fonts_pillows_default_font_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(board_image, "REGULAR", Path("/nonexistent/Regular.ttf"))
    monkeypatch.setattr(board_image, "BOLD", Path("/nonexistent/Bold.ttf"))
    monkeypatch.setattr(board_image, "SYSTEM_FALLBACKS", ())
    monkeypatch.setattr(board_image, "_fonts", None)
    try:
        face = board_image._get_fonts().get(24, bold=True)
        assert "A" in face.coverage and "Ж" not in face.coverage  # ASCII assumed
        cyrillic = PictureRow(9, "Владимир", 1, 1, 2, fallback_name="V")
        picture = board(8, rows=(*board(8).rows, cyrillic))
        image = decode(render_png(picture))
        assert rows_drawn(image, picture) == 9
    finally:
        monkeypatch.setattr(board_image, "_fonts", None)  # later tests load the real fonts


def test_softcore_figures_are_drawn_as_softcore(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = board_image._Canvas.text

    def text(self: board_image._Canvas, xy: object, value: str, *args: object,
             **kwargs: object) -> float:
        drawn.append(value)
        return original(self, xy, value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(board_image._Canvas, "text", text)
    rows = (
        PictureRow(rank=1, name="Hard", points=400, unlocks=4, possible=10),
        PictureRow(rank=2, name="Casual", points=120, unlocks=12, possible=50, softcore=True),
    )
    picture = BoardPicture(title="Leaderboard", rows=rows)
    assert rows_drawn(decode(render_png(picture)), picture) == 2
    assert "400" in drawn and " pts" in drawn and "4/10" in drawn
    assert "120" in drawn and " SC pts" in drawn and "12/50 SC" in drawn


def test_header_and_footer_lines_use_the_fallback_fonts_as_names_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fonts = board_image._get_fonts()
    if not any("月" in Coverage.of_font(path) for path in fonts.fallbacks):
        pytest.skip("no CJK system font here (apt-get install fonts-droid-fallback)")
    drawn: list[tuple[str, board_image._Face]] = []
    original = board_image._Canvas.text

    def text(self: board_image._Canvas, xy: object, value: str, face: board_image._Face,
             *args: object, **kwargs: object) -> float:
        drawn.append((value, face))
        return original(self, xy, value, face, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(board_image._Canvas, "text", text)
    picture = BoardPicture(title="Challenge · 12月", lines=("ロックマン (NES)",),
                           footer="Schedule · 月", rows=())
    decode(render_png(picture))
    bundled = {id(fonts.get(size, bold=bold)) for size in (board_image.TITLE_SIZE,
               board_image.LINE_SIZE, board_image.FOOTER_SIZE) for bold in (True, False)}
    by_text = {value.strip(): id(face) for value, face in drawn}
    assert by_text["Challenge · 12"] in bundled
    for cjk in ("月", "ロックマン"):
        assert by_text[cjk] not in bundled, drawn
