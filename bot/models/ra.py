"""What the RA client returns: small immutable values with RA's numbers already parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class GameProgress:
    """One user's progress on one game (API_GetUserProgress). Softcore counts include hardcore."""

    game_id: int
    possible: int
    possible_score: int
    achieved: int
    score: int
    achieved_hardcore: int
    score_hardcore: int

    @property
    def is_blank(self) -> bool:
        """All six numbers 0: RA does not know the game, or it has no achievements yet."""
        return not (
            self.possible
            or self.possible_score
            or self.achieved
            or self.score
            or self.achieved_hardcore
            or self.score_hardcore
        )

    @property
    def mastered(self) -> bool:
        """Every achievement unlocked in hardcore."""
        return self.possible > 0 and self.achieved_hardcore >= self.possible

    @property
    def completed(self) -> bool:
        """Every achievement unlocked (softcore counts include hardcore)."""
        return self.possible > 0 and self.achieved >= self.possible


@dataclass(frozen=True, slots=True)
class GameInfo:
    """A game's title, console and icon (API_GetGame)."""

    game_id: int
    title: str
    console: str
    icon_path: str  # site-relative, e.g. "/Images/085573.png"


@dataclass(frozen=True, slots=True)
class UserProfile:
    """An RA account (API_GetUserProfile)."""

    display_name: str
    ulid: str
    user_pic_path: str  # site-relative, e.g. "/UserPic/MaxMilyin.png"
    total_points: int
    total_softcore_points: int


@dataclass(frozen=True, slots=True)
class Console:
    """A game system (API_GetConsoleIDs)."""

    console_id: int
    name: str


@dataclass(frozen=True, slots=True)
class CatalogueGame:
    """A game with achievements, as RA's game list names it (API_GetGameList).

    The catalogue keeps its games packed in columns (bot.services.titles) and makes one of these
    only for a game a lookup returns. The icon is kept as its number when it has RA's usual shape
    (`/Images/048245.png` is 48245, four bytes in a column): `icon_path` gives the path back.
    """

    game_id: int
    title: str
    console_id: int
    console: str
    icon: int | str  # see compact_icon
    achievements: int
    points: int

    @property
    def icon_path(self) -> str:
        return self.icon if isinstance(self.icon, str) else f"/Images/{self.icon:06d}.png"

    @property
    def info(self) -> GameInfo:
        return GameInfo(self.game_id, self.title, self.console, self.icon_path)


# A catalogue game as plain values, in CatalogueGame's field order: what the database's rows
# hold, so the catalogue can be packed as it is read, without one object per game.
CatalogueRow = tuple[int, str, int, str, int | str, int, int]


_ICON = re.compile(r"/Images/(\d{6})\.png")


def compact_icon(path: str) -> int | str:
    """RA's usual icon path as its number (round-trips through CatalogueGame.icon_path)."""
    match = _ICON.fullmatch(path)
    return int(match.group(1)) if match else path


@dataclass(frozen=True, slots=True)
class EarnedAchievement:
    """One unlock of API_GetAchievementsEarnedBetween: when, on which game, worth what.

    `date` is RA's effective unlock time (the hardcore one when there is one), in UTC.
    """

    achievement_id: int
    game_id: int
    points: int
    hardcore: bool
    date: datetime
