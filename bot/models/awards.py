"""The site's moments the feed announces: game awards (mastered, completed, beaten) and the
Achievement of the Week, as RA's feed endpoints report them (API_GetRecentGameAwards,
API_GetAchievementOfTheWeek), parsed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AwardKind(StrEnum):
    """RA's `AwardKind`: mastered = every achievement in hardcore, completed = every one in
    softcore; beaten = the game's win condition, in either mode."""

    MASTERED = "mastered"
    COMPLETED = "completed"
    BEATEN_HARDCORE = "beaten-hardcore"
    BEATEN_SOFTCORE = "beaten-softcore"

    @property
    def hardcore(self) -> bool:
        return self in (AwardKind.MASTERED, AwardKind.BEATEN_HARDCORE)

    @property
    def beaten(self) -> bool:
        return self in (AwardKind.BEATEN_HARDCORE, AwardKind.BEATEN_SOFTCORE)


@dataclass(frozen=True, slots=True)
class GameAward:
    """One award of the site's feed, newest first in RA's pages."""

    user: str  # the display name when RA reported it
    ulid: str  # the account's stable key ("" if RA sent none)
    kind: AwardKind
    at: datetime  # UTC
    game_id: int
    game_title: str | None  # None: the game was deleted
    console_id: int
    console: str

    @property
    def key(self) -> str:
        """What makes this award itself: the same award is never announced twice."""
        who = self.ulid or self.user.casefold()
        return f"{who}:{self.game_id}:{self.kind.value}:{int(self.at.timestamp())}"


@dataclass(frozen=True, slots=True)
class AwardsPage:
    total: int  # RA's count of every award it holds (the offsets shift as new ones arrive)
    awards: list[GameAward]


@dataclass(frozen=True, slots=True)
class WeekUnlock:
    """Someone who earned the Achievement of the Week."""

    user: str
    ulid: str  # "" from older servers: match those by name, ignoring case
    hardcore: bool
    at: datetime  # UTC


@dataclass(frozen=True)
class AchievementOfTheWeek:
    achievement_id: int
    title: str
    description: str
    points: int
    badge_url: str  # a path under RA_MEDIA_BASE_URL, or a whole URL
    game_id: int
    game_title: str
    console_id: int
    console: str
    starts_at: datetime | None  # when the week began (UTC)
    unlocks: list[WeekUnlock]  # at most 500 earners since starts_at
    unlocks_count: int
    unlocks_hardcore_count: int
    total_players: int

    @property
    def key(self) -> str:
        """This week's AOTW (an achievement may come back another week)."""
        started = int(self.starts_at.timestamp()) if self.starts_at else 0
        return f"aotw:{self.achievement_id}:{started}"
