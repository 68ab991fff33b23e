"""Turning what users type into values the bot can send to RA, or a clear BadInput.

Pure functions: no I/O, no Discord.
"""

from __future__ import annotations

import re

from bot.errors import BadInput
from bot.ra.client import is_valid_ra_user

MAX_GAME_ID = 10**9
_SEPARATORS = re.compile(r"[\s,;]+")
# What Discord reads as a mention: a zero-width space after the @ makes it text.
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9])")
_GAME_URL = re.compile(
    r"<?https?://(?:www\.)?retroachievements\.org/game/([0-9]+)(?:[/?#][^\s>]*)?>?", re.IGNORECASE
)


def _shown(token: str, limit: int = 40) -> str:
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


def parse_game_ids(text: str, max_games: int = 50) -> list[int]:
    """Game ids from ids and RA game URLs separated by commas and/or spaces.

    Duplicates collapse and order is kept. Raises BadInput naming the first token it cannot read.
    """
    ids: list[int] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if token.isascii() and token.isdigit():
            number = _game_id(token)
        elif match := _GAME_URL.fullmatch(token):
            number = _game_id(match.group(1))
        else:
            raise BadInput(
                f"{_shown(token)} is not a game id or a RetroAchievements game link: "
                "give ids like `1, 14402` or links like https://retroachievements.org/game/14402."
            )
        if not 0 < number <= MAX_GAME_ID:
            raise BadInput(f"{_shown(token)} is not a valid game id: ids are whole numbers from 1.")
        if number not in ids:
            ids.append(number)
        if len(ids) > max_games:
            raise BadInput(
                f"That is more than {max_games} games: ask for {max_games} or fewer at a time."
            )
    if not ids:
        raise BadInput(
            "Give at least one game: ids like `1, 14402` or RetroAchievements game links."
        )
    return ids


def parse_ra_username(text: str) -> str:
    """An RA user name or ULID as RA accepts it, or BadInput before any call is made."""
    name = text.strip()
    if name.startswith("@"):
        name = name[1:]
    if not is_valid_ra_user(name):
        raise BadInput(
            f"{_shown(name)} cannot be a RetroAchievements user name: names are 2 to 20 letters "
            "or digits."
        )
    return name
