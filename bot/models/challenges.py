"""A challenge (a named window over games) and its standings: what members earned inside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models.boards import Board
from bot.models.challenge_times import State
from bot.models.members import LinkedMember
from bot.models.schedule_times import Cadence


@dataclass(frozen=True)
class Challenge:
    id: int
    guild_id: int
    name: str
    game_ids: list[int]
    set_name: str | None
    starts_at: datetime
    ends_at: datetime  # exclusive: 00:00 UTC the day after the end date
    channel_id: int | None
    cadence: Cadence | None
    next_run: datetime | None
    run_at: datetime | None
    paused_reason: str | None
    last_result: str | None
    created_by: int
    created_at: datetime


@dataclass(frozen=True)
class ChallengeBoard:
    """A challenge's standings: `board` ranks the members who earned something."""

    challenge: Challenge
    board: Board
    not_started: list[LinkedMember]
    state: State
    until: datetime | None  # the last second counted (None: not started yet)

    @property
    def final(self) -> bool:
        return self.state is State.FINISHED
