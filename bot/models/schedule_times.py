"""When scheduled boards are due. Pure functions of UTC datetimes: no clock, no I/O.

A schedule's periods are consecutive slots: every hour at :MM, every day at HH:MM, every Monday
at HH:MM (UTC). A period runs from its slot to the next slot; each period gets one post.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.errors import BadInput

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class Cadence(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def length(self) -> timedelta:
        return {
            Cadence.HOURLY: timedelta(hours=1),
            Cadence.DAILY: timedelta(days=1),
            Cadence.WEEKLY: timedelta(weeks=1),
        }[self]


def parse_time(text: str | None) -> tuple[int, int]:
    """`HH:MM` (UTC) as (hour, minute); midnight when not given."""
    if text is None or not text.strip():
        return 0, 0
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise BadInput("Give the time as `HH:MM` in UTC, e.g. `18:30`.")
    return int(match.group(1)), int(match.group(2))


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: schedule times are UTC-aware")
    return at.astimezone(UTC)


def period_start(cadence: Cadence, hour: int, minute: int, at: datetime) -> datetime:
    """The slot of the period that contains `at` (the latest slot at or before it)."""
    at = _utc(at)
    if cadence is Cadence.HOURLY:
        slot = at.replace(minute=minute, second=0, microsecond=0)
    else:
        slot = at.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if cadence is Cadence.WEEKLY:
            slot -= timedelta(days=slot.weekday())  # back to Monday
    while slot > at:
        slot -= cadence.length
    return slot


def next_slot(cadence: Cadence, hour: int, minute: int, after: datetime) -> datetime:
    """The first slot strictly after `after`."""
    return period_start(cadence, hour, minute, after) + cadence.length


def describe(cadence: Cadence, hour: int, minute: int) -> str:
    if cadence is Cadence.HOURLY:
        return f"hourly at :{minute:02}"
    if cadence is Cadence.DAILY:
        return f"daily at {hour:02}:{minute:02} UTC"
    return f"weekly on Mondays at {hour:02}:{minute:02} UTC"
