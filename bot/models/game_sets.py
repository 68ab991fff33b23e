"""Game sets: named game lists of a guild, and the rules of their names (checked before any
I/O, so a cog can answer bad input at once). Every refusal is a BadInput with one sentence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from bot.errors import BadInput


@dataclass(frozen=True)
class GameSet:
    guild_id: int
    name: str
    game_ids: list[int]
    created_by: int
    updated_at: datetime


MAX_SET_NAME = 32
MAX_SET_NAME_KEY = 64  # the stored, case-folded name's column size
MAX_SETS_PER_GUILD = 50
_SET_NAME = re.compile(r"[^\W_][\w '\-.!?+&]*", re.UNICODE)
ALLOWED_MARKS = "- ' . ! ? + &"


@dataclass(frozen=True)
class SetChange:
    """The result of /gameset add or remove: the set as stored now, and what moved."""

    game_set: GameSet
    changed: list[int]  # added, or removed
    unchanged: list[int]  # already in the set (add), or not in it (remove)


def normalize_name(text: str) -> str:
    """How a name is compared: NFC, trimmed, single-spaced (case is folded by the store)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def parse_set_name(text: str) -> str:
    """A set name as stored: trimmed, single-spaced, 1–32 letters, digits and simple marks.

    A name is never only digits and spaces (as "2024" or "1 2" would be): a `games` option then
    reads as ids or as a set name, never as both.
    """
    name = normalize_name(text)
    if not name:
        raise BadInput("Give the set a name.")
    if len(name) > MAX_SET_NAME or len(name.casefold()) > MAX_SET_NAME_KEY:
        raise BadInput(f"Set names are at most {MAX_SET_NAME} characters: pick a shorter one.")
    if not _SET_NAME.fullmatch(name):
        raise BadInput(
            f"Set names use letters, digits, spaces and {ALLOWED_MARKS} only, and start with a "
            "letter or digit: pick another name."
        )
    if all(c.isdigit() or c == " " for c in name):
        raise BadInput(
            "A set name cannot be just numbers: it would read as game ids, so add a word."
        )
    return name


def parse_lookup_name(text: str) -> str:
    """The name of an existing set, as typed (any text: a name that cannot exist is not found)."""
    name = normalize_name(text)
    if not name:
        raise BadInput("Give the set's name: `/gameset list` shows them.")
    return name
