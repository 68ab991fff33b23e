"""Turning what users type into values the bot can send to RA, or a clear BadInput.

Pure functions: no I/O, no Discord.
"""

from __future__ import annotations

import re

from bot.errors import BadInput
from bot.ra.client import is_valid_ra_user

MAX_GAME_ID = 10**9
# What Discord reads as a mention: a zero-width space after the @ makes it text.
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9])")
_GAME_URL = re.compile(
    r"<?https?://(?:www\.)?retroachievements\.org/game/([0-9]+)(?:[/?#][^\s>]*)?>?", re.IGNORECASE
)


def shown_input(token: str, limit: int = 40) -> str:
    """A user's token, safe to quote back: one line, shortened, in a code span with no
    backticks, and no mention in it (allowed mentions are off too: this holds even if a reply
    forgot them)."""
    token = " ".join(token.split())
    token = _MENTION.sub("@\u200b\\1", token.replace("`", "'"))
    if len(token) > limit:
        token = token[: limit - 1] + "…"
    return f"`{token}`"


def _game_id(digits: str) -> int:
    """ASCII digits as a number, without int() on thousands of digits (Python refuses those)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 12 else MAX_GAME_ID + 1


def _number_of(token: str) -> int | None:
    """The game id a token names (an id or an RA game link), None if it names none."""
    if token.isascii() and token.isdigit():
        return _game_id(token)
    if match := _GAME_URL.fullmatch(token):
        return _game_id(match.group(1))
    return None


def ids_in_part(part: str) -> list[int] | None:
    """The ids of one comma-separated part made only of ids and links; None if it holds
    anything else (a title or a set name). BadInput for an id out of range."""
    tokens = part.split()
    numbers = [_number_of(token) for token in tokens]
    if not tokens or any(n is None for n in numbers):
        return None
    for token, number in zip(tokens, numbers, strict=True):
        if number is None or not 0 < number <= MAX_GAME_ID:
            raise BadInput(
                f"{shown_input(token)} is not a valid game id: ids are whole numbers from 1."
            )
    return [n for n in numbers if n is not None]


def split_parts(text: str) -> list[str]:
    """A `games` option cut at commas and semicolons, each part trimmed, empty ones dropped.

    Titles may hold commas themselves; the resolver joins neighbouring parts back when together
    they make a title.
    """
    return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]


def parse_ra_username(text: str) -> str:
    """An RA user name or ULID as RA accepts it, or BadInput before any call is made."""
    name = text.strip()
    if name.startswith("@"):
        name = name[1:]
    if not is_valid_ra_user(name):
        raise BadInput(
            f"{shown_input(name)} cannot be a RetroAchievements user name: names are 2 to 20 "
            "letters or digits."
        )
    return name
