"""Font coverage from the cmap table, and hostile names made safe to draw."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from bot.formatting.board_image import BOLD, REGULAR
from bot.formatting.glyphs import MAX_MARKS, Coverage, clean, is_rtl, visible


def test_the_bundled_fonts_cover_latin_cyrillic_greek_arabic_hebrew_but_not_cjk() -> None:
    for path in (REGULAR, BOLD):
        coverage = Coverage.of_font(path)
        for char in "AzÉøŁЖжΩب▲▼✔…ש":
            assert char in coverage, (path.name, char)
        for char in "山田🔥\ue000":
            assert char not in coverage, (path.name, char)
        assert 2_000 < len(coverage) < 10_000


def test_an_unreadable_font_counts_as_ascii_only(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"\x00\x01\x00\x00" + b"\xff" * 10)
    for path in (junk, tmp_path / "missing.ttf"):
        coverage = Coverage.of_font(path)
        assert "A" in coverage and "~" in coverage
        assert "É" not in coverage and "\n" not in coverage


def test_coverage_merges_ranges_and_answers_single_characters_only() -> None:
    coverage = Coverage([(0x61, 0x63), (0x64, 0x66), (0x30, 0x30)])
    assert len(coverage) == 7
    assert all(c in coverage for c in "abcdef0")
    assert "g" not in coverage and "ab" not in coverage and 0x61 not in coverage


def test_clean_removes_what_could_break_a_row() -> None:
    assert clean("  Max\n\tMilyin  ") == "Max Milyin"
    assert clean("a\u202eb\u2066c\u200bd\ufeffe\x00f") == "abcdef"  # bidi, zero-width, NUL
    assert clean("\u0301\u0301leading marks") == "leading marks"
    zalgo = clean("Z" + "\u0336\u0322\u0327\u031b" * 20 + "a")
    assert zalgo.startswith("Z") and zalgo.endswith("a")
    assert sum(unicodedata.category(c) == "Mn" for c in zalgo) == MAX_MARKS
    assert clean("محمد\u200dالعربي") == "محمد\u200dالعربي"  # joiners stay: they shape Arabic
    assert len(clean("x" * 200)) == 80
    assert len(clean("x" * 500, 300)) == 300
    assert clean("\u200b\u200b") == ""


def test_visible_and_rtl() -> None:
    assert visible("a b\u0301\u200d") == ["a", "b"]
    assert is_rtl("abc محمد") and is_rtl("שלום") and not is_rtl("Владимир")
