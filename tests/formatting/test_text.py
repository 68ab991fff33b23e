"""escape / number / percent / progress_bar: the helpers every reply is built from."""

from __future__ import annotations

import re

import pytest

from bot.formatting.text import BAR_WIDTH, escape, number, percent, progress_bar

ZWSP = "\u200b"
USER_ID = "123456789012345678"


def unescaped(text: str, chars: str) -> list[str]:
    """Characters of `chars` in `text` not preceded by an odd run of backslashes (i.e. live)."""
    live = []
    for match in re.finditer(rf"(\\*)([{re.escape(chars)}])", text):
        if len(match.group(1)) % 2 == 0:
            live.append(match.group(2))
    return live


# -- escape: markdown ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "**bold**",
        "__underline__",
        "_italic_",
        "*italic*",
        "~~strike~~",
        "||spoiler||",
        "`code`",
        "```block```",
        "a * b _ c ~ d | e ` f",
    ],
)
def test_escape_neutralises_markdown(text: str) -> None:
    out = escape(text)
    assert unescaped(out, "*_~|`") == []
    # Removing the escapes gives the text back: nothing lost, nothing added.
    assert re.sub(r"\\(.)", r"\1", out) == text


@pytest.mark.parametrize("text", ["# Heading", "## Heading", "> quote", "- item"])
def test_escape_neutralises_line_start_markdown(text: str) -> None:
    assert escape(text).startswith("\\")


def test_escape_keeps_plain_text() -> None:
    assert escape("Sonic the Hedgehog 2") == "Sonic the Hedgehog 2"
    assert escape("Pokémon: Édition Rouge") == "Pokémon: Édition Rouge"


def test_escape_backslashes_so_they_cannot_escape_what_follows() -> None:
    out = escape("Title\\")
    # In "[Title\](url)" a lone trailing backslash would swallow the closing bracket.
    assert out.endswith("\\\\")
    assert re.sub(r"\\(.)", r"\1", out) == "Title\\"


# -- escape: link syntax -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[click](https://evil.example)",
        "[free nitro](<https://evil.example>)",
        "x [y] z",
        "]",
        "[",
        "a [b](c) d [e](f)",
        "a\\[b](c)",
        "a\\\\[b](c)",
    ],
)
def test_escape_brackets_are_always_escaped_exactly_once(text: str) -> None:
    out = escape(text)
    assert unescaped(out, "[]") == []
    # Exactly one escaping layer: unescaping once gives the original text back.
    assert re.sub(r"\\(.)", r"\1", out) == text


def test_escaped_title_inside_a_masked_link_keeps_the_link_intact() -> None:
    link = f"[{escape('[x](https://evil.example) ]')}](https://retroachievements.org/game/1)"
    # The only live brackets are the two of our own link.
    assert unescaped(link, "[]") == ["[", "]"]


# -- escape: mentions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("@everyone", "@everyone"),
        ("@here", "@here"),
        ("hi @everyone and @here", "@everyone"),
        (f"<@{USER_ID}>", f"<@{USER_ID}>"),
        (f"<@!{USER_ID}>", f"<@!{USER_ID}>"),
        (f"<@&{USER_ID}>", f"<@&{USER_ID}>"),
    ],
)
def test_escape_breaks_mentions(text: str, forbidden: str) -> None:
    out = escape(text)
    assert forbidden not in out
    assert ZWSP in out


def test_escape_breaks_every_mention_in_a_string() -> None:
    out = escape(f"@everyone @here <@{USER_ID}> <@&{USER_ID}> @everyone")
    assert not re.search(r"@(everyone|here|[!&]?[0-9]{17,20})", out)


# -- escape: one line, bounded -------------------------------------------------------------------


def test_escape_collapses_newlines_and_runs_of_whitespace() -> None:
    assert escape("a\nb\r\n\nc\t\td   e") == "a b c d e"
    assert escape("  padded  ") == "padded"
    assert "\n" not in escape("line\n# heading\n> quote")


def test_escape_truncates_with_ellipsis() -> None:
    out = escape("x" * 300, limit=50)
    assert out == "x" * 49 + "…"


def test_escape_at_limit_is_not_truncated() -> None:
    assert escape("x" * 50, limit=50) == "x" * 50


def test_escape_default_limit_is_200() -> None:
    assert len(escape("y" * 1000)) == 200


def test_escape_truncation_never_splits_an_escape() -> None:
    out = escape("*" * 300, limit=20)
    # 19 stars, each escaped, then the ellipsis; no dangling backslash before "…".
    assert out == "\\*" * 19 + "…"


# -- number --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0"), (7, "7"), (999, "999"), (1000, "1,000"), (1234567, "1,234,567")]
)
def test_number(n: int, text: str) -> None:
    assert number(n) == text


# -- percent -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("achieved", "possible", "expected"),
    [
        (0, 10, 0),
        (1, 3, 33),
        (2, 3, 66),  # rounded down, not 67
        (1, 1000, 0),
        (999, 1000, 99),  # not 100 until complete
        (199, 200, 99),
        (10, 10, 100),
        (5, 10, 50),
        (0, 0, 0),  # nothing possible: 0, no division by zero
        (3, 0, 0),
        (11, 10, 100),  # never above 100
    ],
)
def test_percent(achieved: int, possible: int, expected: int) -> None:
    assert percent(achieved, possible) == expected


def test_percent_is_100_only_when_complete() -> None:
    for possible in range(1, 300):
        for achieved in range(possible + 1):
            assert (percent(achieved, possible) == 100) == (achieved == possible)


# -- progress_bar --------------------------------------------------------------------------------


def cells(bar: str) -> tuple[int, int]:
    assert bar.startswith("`") and bar.endswith("`")
    inner = bar[1:-1]
    assert set(inner) <= {"█", "░"}
    return inner.count("█"), len(inner)


@pytest.mark.parametrize(
    ("achieved", "possible", "filled"),
    [(0, 10, 0), (5, 10, 5), (10, 10, 10), (1, 100, 1), (99, 100, 9), (0, 0, 0), (3, 7, 4)],
)
def test_progress_bar(achieved: int, possible: int, filled: int) -> None:
    assert cells(progress_bar(achieved, possible)) == (filled, BAR_WIDTH)


@pytest.mark.parametrize("width", [1, 5, 10, 20])
def test_progress_bar_width(width: int) -> None:
    for achieved in (0, 1, 3, 7):
        assert cells(progress_bar(achieved, 7, width))[1] == width


def test_progress_bar_invariants() -> None:
    for width in (2, 5, 10):
        for possible in range(1, 120):
            for achieved in range(possible + 1):
                filled, total = cells(progress_bar(achieved, possible, width))
                assert total == width
                assert (filled > 0) == (achieved > 0), (achieved, possible, width)
                assert (filled == width) == (achieved == possible), (achieved, possible, width)


def test_progress_bar_grows_monotonically() -> None:
    filled = [cells(progress_bar(a, 97))[0] for a in range(98)]
    assert filled == sorted(filled)


def test_progress_bar_over_possible_is_full_not_longer() -> None:
    assert cells(progress_bar(12, 10)) == (BAR_WIDTH, BAR_WIDTH)
