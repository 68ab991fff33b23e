"""Due times of scheduled boards: pure functions of UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import BadInput
from bot.models.schedule_times import (
    Cadence,
    describe,
    next_slot,
    parse_time,
    period_start,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("cadence", "hour", "minute", "now", "expected"),
    [
        # hourly: the minute counts, the hour does not
        (Cadence.HOURLY, 7, 15, "2026-11-29 10:14:59", "2026-11-29 10:15"),
        (Cadence.HOURLY, 7, 15, "2026-11-29 10:15:00", "2026-11-29 11:15"),
        (Cadence.HOURLY, 0, 59, "2026-12-31 23:59:30", "2027-01-01 00:59"),
        (Cadence.HOURLY, 0, 0, "2026-12-31 23:30", "2027-01-01 00:00"),
        # daily
        (Cadence.DAILY, 18, 30, "2026-11-29 18:29", "2026-11-29 18:30"),
        (Cadence.DAILY, 18, 30, "2026-11-29 18:30", "2026-11-30 18:30"),
        (Cadence.DAILY, 0, 0, "2026-11-30 23:59", "2026-12-01 00:00"),  # month boundary
        (Cadence.DAILY, 0, 0, "2026-12-31 12:00", "2027-01-01 00:00"),  # year boundary
        (Cadence.DAILY, 12, 0, "2028-02-28 13:00", "2028-02-29 12:00"),  # leap day
        # weekly: Mondays
        (Cadence.WEEKLY, 9, 0, "2026-11-29 10:00", "2026-11-30 09:00"),  # Sunday -> Monday
        (Cadence.WEEKLY, 9, 0, "2026-11-30 08:59", "2026-11-30 09:00"),
        (Cadence.WEEKLY, 9, 0, "2026-11-30 09:00", "2026-12-07 09:00"),
        (Cadence.WEEKLY, 0, 0, "2026-12-30 00:00", "2027-01-04 00:00"),  # across the year
    ],
)
def test_next_slot(cadence: Cadence, hour: int, minute: int, now: str, expected: str) -> None:
    assert next_slot(cadence, hour, minute, at(now)) == at(expected)


@pytest.mark.parametrize(
    ("cadence", "now", "expected"),
    [
        (Cadence.HOURLY, "2027-01-01 00:10", "2026-12-31 23:30"),
        (Cadence.DAILY, "2027-01-01 12:00", "2026-12-31 23:30"),
        (Cadence.DAILY, "2027-01-01 23:30", "2027-01-01 23:30"),
        (Cadence.WEEKLY, "2027-01-03 23:00", "2026-12-28 23:30"),  # Sunday: last Monday's
    ],
)
def test_period_start(cadence: Cadence, now: str, expected: str) -> None:
    assert period_start(cadence, 23, 30, at(now)) == at(expected)


def test_periods_are_consecutive_and_a_slot_starts_its_own_period() -> None:
    slot = at("2026-11-30 09:00")
    for cadence in Cadence:
        start = period_start(cadence, 9, 0, slot)
        assert start == slot
        assert next_slot(cadence, 9, 0, start) == start + cadence.length


def test_times_are_utc_aware_only() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_slot(Cadence.DAILY, 0, 0, datetime(2026, 1, 1))


@pytest.mark.parametrize(("text", "expected"), [(None, (0, 0)), ("", (0, 0)), ("7:05", (7, 5)),
                                                ("23:59", (23, 59)), (" 00:00 ", (0, 0))])
def test_parse_time(text: str | None, expected: tuple[int, int]) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "noon", "12", "12:5", "1:00pm", "-1:00"])
def test_parse_time_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInput, match="HH:MM"):
        parse_time(text)


def test_describe() -> None:
    assert describe(Cadence.HOURLY, 5, 7) == "hourly at :07"
    assert describe(Cadence.DAILY, 5, 7) == "daily at 05:07 UTC"
    assert describe(Cadence.WEEKLY, 18, 0) == "weekly on Mondays at 18:00 UTC"
