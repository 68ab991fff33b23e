"""A progress report: one RA user on a list of games."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models.ra import GameInfo, GameProgress, UserProfile


@dataclass(frozen=True)
class GameEntry:
    """One game of a report: progress plus what RA says the game is (None: unknown id)."""

    game_id: int
    progress: GameProgress
    info: GameInfo | None

    @property
    def unknown(self) -> bool:
        return self.info is None

    @property
    def no_achievements(self) -> bool:
        return self.info is not None and self.progress.possible == 0


@dataclass(frozen=True)
class ProgressReport:
    profile: UserProfile
    games: list[GameEntry]
    fetched_at: datetime  # when the oldest figure in the report came from RA
