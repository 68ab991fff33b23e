"""A challenge's window and its posts' times. Pure functions of UTC datetimes: no clock, no I/O.

A window runs from `starts_at` (00:00 UTC of the start date, or the moment of creation for
`now`) to `ends_at`, 00:00 UTC of the day after the end date: the end date is inclusive. RA's
API_GetAchievementsEarnedBetween takes both bounds inclusive, to the second, so the last second
asked for is `ends_at - 1 s`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from bot.errors import BadInput
from bot.models.schedule_times import Cadence, next_slot

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class State(StrEnum):
    UPCOMING = "upcoming"
    RUNNING = "running"
    FINISHED = "finished"


def _shown(text: str) -> str:
    text = text.strip().replace("`", "'")
    return f"`{text[:20]}{'…' if len(text) > 20 else ''}`"


def parse_day(text: str, what: str) -> date:
    """`YYYY-MM-DD` as a date, or BadInput naming the option (`what`: "start" or "end")."""
    match = _DAY.fullmatch(text.strip())
    if match is not None:
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            day = None
        if day is not None and 2000 <= day.year <= 2999:
            return day
    allowed = "`YYYY-MM-DD` (UTC) or `now`" if what == "start" else "`YYYY-MM-DD` (UTC)"
    raise BadInput(
        f"{_shown(text)} is not a date: give the {what} as {allowed}, e.g. `2026-12-31`."
    )


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_window(start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    """(starts_at, ends_at) of `start` (a date or `now`) to `end` (inclusive), or BadInput."""
    if start.strip().casefold() == "now":
        starts_at = now.astimezone(UTC).replace(microsecond=0)
    else:
        starts_at = midnight(parse_day(start, "start"))
    ends_at = midnight(parse_day(end, "end")) + timedelta(days=1)
    if ends_at <= starts_at:
        raise BadInput(
            "The challenge would end before it starts: give an end date on or after the start."
        )
    if ends_at > a_year_after(starts_at):
        raise BadInput(
            "A challenge lasts at most a year: give an end date within a year of the start."
        )
    return starts_at, ends_at


def a_year_after(at: datetime) -> datetime:
    """The same moment a calendar year later (29 February: 1 March): a window's longest end."""
    try:
        return at.replace(year=at.year + 1)
    except ValueError:
        return at.replace(year=at.year + 1, month=3, day=1)


def last_day(ends_at: datetime) -> date:
    """The inclusive end date, as the moderator gave it."""
    return (ends_at - timedelta(days=1)).date()


def state(starts_at: datetime, ends_at: datetime, now: datetime) -> State:
    if now < starts_at:
        return State.UPCOMING
    return State.RUNNING if now < ends_at else State.FINISHED


def query_bounds(starts_at: datetime, ends_at: datetime, now: datetime) -> tuple[int, int] | None:
    """The `f` and `t` to ask RA (epoch seconds, both included): start → min(now, end).

    None before the start: nothing can have been earned yet.
    """
    if now < starts_at:
        return None
    until = min(int(now.timestamp()), int(ends_at.timestamp()) - 1)
    return int(starts_at.timestamp()), until


def next_post(
    cadence: Cadence | None, starts_at: datetime, ends_at: datetime, after: datetime
) -> datetime | None:
    """The next post's slot strictly after `after`: a cadence slot (daily at 00:00 UTC, weekly
    on Mondays at 00:00 UTC) inside the window, else the final post at `ends_at`; None when
    even that is past."""
    if after >= ends_at:
        return None
    if cadence is not None:
        slot = next_slot(cadence, 0, 0, max(after, starts_at))
        if slot < ends_at:
            return slot
    return ends_at
