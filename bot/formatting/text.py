"""Small pure helpers shared by every formatter: escaping, numbers, bars."""

from __future__ import annotations

import re

import discord

BAR_WIDTH = 10
# A game RA reports no achievements for: none published yet, or taken down since it was listed.
NO_ACHIEVEMENTS = (
    "RetroAchievements lists no achievements for this game now (none published yet, or taken "
    "down)."
)
# Every character Discord's markdown gives a meaning anywhere in a line, escaped each time it
# occurs: a backslash before any punctuation renders as that character. (discord.py's
# escape_markdown leaves the inside of link-shaped text "[**x**](y)" live.) "<" too, so no
# mention, channel, emoji or timestamp syntax survives.
_ANYWHERE = re.compile(r"[\\*_~|`\[\]<]")
# Markdown that only counts at the start of a line: quotes, headings, lists, subtext.
_LINE_START = re.compile(r"^(?:[>#\-+]|(\d+)\.)")


def escape(text: str, limit: int = 200) -> str:
    """User or RA text made inert: no markdown, no mentions, no link syntax, one line, bounded."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _ANYWHERE.sub(r"\\\g<0>", text)
    text = _LINE_START.sub(lambda m: f"{m.group(1)}\\." if m.group(1) else "\\" + m.group(0), text)
    return discord.utils.escape_mentions(text)


def number(n: int) -> str:
    return f"{n:,}"


def percent(achieved: int, possible: int) -> int:
    """Whole percent, rounded down so that only a complete set shows 100."""
    if possible <= 0:
        return 0
    return min(100, achieved * 100 // possible)


def progress_bar(achieved: int, possible: int, width: int = BAR_WIDTH) -> str:
    """A text bar: full only when complete, at least one cell as soon as anything is unlocked."""
    if possible <= 0:
        filled = 0
    else:
        filled = achieved * width // possible
        if achieved > 0 and filled == 0:
            filled = 1
        if achieved < possible and filled == width:
            filled = width - 1
        filled = max(0, min(width, filled))
    return "`" + "█" * filled + "░" * (width - filled) + "`"
