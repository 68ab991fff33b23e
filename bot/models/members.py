"""Members and their links: a Discord user linked to an RA account (by its ULID, which a
rename keeps), and a linked member as a guild shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Link:
    discord_user_id: int
    ra_ulid: str
    ra_name: str
    linked_at: datetime


@dataclass(frozen=True)
class LinkedMember:
    """A guild member with a linked RA account."""

    user_id: int
    link: Link
    display_name: str  # their name in the guild (the RA name if Discord could not be asked)
