"""A challenge's window: UTC dates, an inclusive end, month and year boundaries, its posts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.errors import BadInput
from bot.models.challenge_times import (
    State,
    last_day,
    next_post,
    parse_day,
    parse_window,
    query_bounds,
    state,
)
from bot.models.schedule_times import Cadence

NOW = datetime(2026, 12, 1, 8, 42, 17, 123456, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_a_month_runs_from_its_first_midnight_to_the_midnight_after_its_last_day() -> None:
    starts_at, ends_at = parse_window("2026-12-01", "2026-12-31", NOW)
    assert (starts_at, ends_at) == (utc(2026, 12, 1), utc(2027, 1, 1))  # across the year's end
    assert last_day(ends_at) == date(2026, 12, 31)
    assert parse_window("2028-02-01", "2028-02-29", NOW)[1] == utc(2028, 3, 1)  # leap year
    assert parse_window("2026-11-01", "2026-11-30", NOW)[1] == utc(2026, 12, 1)


def test_now_starts_at_this_second_and_one_day_is_a_window() -> None:
    starts_at, ends_at = parse_window(" NOW ", "2026-12-01", NOW)
    assert starts_at == utc(2026, 12, 1, 8, 42, 17)
    assert ends_at == utc(2026, 12, 2)
    assert parse_window("2026-12-05", "2026-12-05", NOW) == (utc(2026, 12, 5), utc(2026, 12, 6))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-12-31", "2026-12-01", "The challenge would end before it starts"),
        ("now", "2026-11-30", "The challenge would end before it starts"),
        ("2026-01-01", "2027-01-01", "A challenge lasts at most a year"),
        ("2026-13-01", "2026-12-31", "`2026-13-01` is not a date: give the start as"),
        ("2026-02-30", "2026-12-31", "`2026-02-30` is not a date"),
        ("tomorrow", "2026-12-31", "`tomorrow` is not a date: give the start as `YYYY-MM-DD`"),
        ("2026-12-01", "31/12/2026", "`31/12/2026` is not a date: give the end as"),
        ("2026-12-01", "now", "`now` is not a date: give the end as `YYYY-MM-DD` (UTC), e.g."),
        ("2026-12-01", "9999-12-31", "`9999-12-31` is not a date"),
    ],
)
def test_bad_windows_are_refused_with_one_sentence(start: str, end: str, message: str) -> None:
    with pytest.raises(BadInput) as raised:
        parse_window(start, end, NOW)
    assert raised.value.message.startswith(message), raised.value.message
    assert raised.value.message.endswith(".")


def test_a_year_fits_even_a_leap_one() -> None:
    assert parse_window("2028-01-01", "2028-12-31", NOW)[1] == utc(2029, 1, 1)
    assert parse_window("2026-12-01", "2027-11-30", NOW)[1] == utc(2027, 12, 1)


def test_a_long_date_is_shown_shortened() -> None:
    with pytest.raises(BadInput) as raised:
        parse_day("x" * 500, "end")
    assert len(raised.value.message) < 200


def test_what_is_asked_of_ra_stops_at_now_then_at_the_last_second_of_the_end_day() -> None:
    starts_at, ends_at = utc(2026, 12, 1), utc(2027, 1, 1)
    f = int(starts_at.timestamp())
    assert query_bounds(starts_at, ends_at, starts_at - timedelta(seconds=1)) is None
    assert query_bounds(starts_at, ends_at, NOW) == (f, int(NOW.timestamp()))
    last = int(utc(2026, 12, 31, 23, 59, 59).timestamp())
    assert query_bounds(starts_at, ends_at, ends_at) == (f, last)
    assert query_bounds(starts_at, ends_at, ends_at + timedelta(days=40)) == (f, last)
    assert state(starts_at, ends_at, starts_at - timedelta(seconds=1)) is State.UPCOMING
    assert state(starts_at, ends_at, starts_at) is State.RUNNING
    assert state(starts_at, ends_at, ends_at - timedelta(microseconds=1)) is State.RUNNING
    assert state(starts_at, ends_at, ends_at) is State.FINISHED


def test_posts_come_on_the_cadence_inside_the_window_then_once_at_the_end() -> None:
    starts_at, ends_at = utc(2026, 12, 1, 8, 42), utc(2026, 12, 4)
    daily = [next_post(Cadence.DAILY, starts_at, ends_at, starts_at)]
    while daily[-1] is not None:
        daily.append(next_post(Cadence.DAILY, starts_at, ends_at, daily[-1]))
    assert daily == [utc(2026, 12, 2), utc(2026, 12, 3), utc(2026, 12, 4), None]
    # Weekly: Mondays at 00:00; December 2026 starts on a Tuesday.
    month_end = utc(2027, 1, 1)
    assert next_post(Cadence.WEEKLY, utc(2026, 12, 1), month_end, NOW) == utc(2026, 12, 7)
    assert next_post(Cadence.WEEKLY, utc(2026, 12, 1), month_end, utc(2026, 12, 28)) == month_end
    # Without a cadence only the final post; an upcoming challenge's first post is after start.
    assert next_post(None, utc(2026, 12, 1), month_end, NOW) == month_end
    assert next_post(Cadence.DAILY, utc(2027, 1, 10), utc(2027, 2, 1), NOW) == utc(2027, 1, 11)
    assert next_post(Cadence.DAILY, utc(2026, 11, 1), utc(2026, 12, 1), NOW) is None


def test_a_year_from_the_29th_of_february_ends_with_february() -> None:
    assert parse_window("2028-02-29", "2029-02-28", NOW)[1] == utc(2029, 3, 1)
    with pytest.raises(BadInput):
        parse_window("2028-02-29", "2029-03-01", NOW)
    with pytest.raises(BadInput):
        parse_window("now", "2027-12-01", NOW)
    assert parse_window("now", "2027-11-30", NOW)[1] == utc(2027, 12, 1)
