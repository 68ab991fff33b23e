"""A scheduled leaderboard as stored: which games, where, how often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models.schedule_times import Cadence


@dataclass(frozen=True)
class Schedule:
    id: int
    guild_id: int
    channel_id: int
    games: str
    cadence: Cadence
    hour: int
    minute: int
    edit_in_place: bool
    message_id: int | None
    next_run: datetime
    run_at: datetime
    paused_reason: str | None
    last_result: str | None
    created_by: int
    created_at: datetime
