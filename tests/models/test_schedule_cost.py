"""The schedule cost estimate: players counted once per slot, the day's and the period's share."""

from __future__ import annotations

import pytest

from bot.models.schedule_cost import DAY, SCHEDULED_SHARE, Planned, estimate
from bot.models.schedule_times import Cadence


def plan(cadence: Cadence, players: str, hour: int = 18, minute: int = 0) -> Planned:
    return Planned(cadence, hour, minute, frozenset(players))


def test_a_lone_board_costs_its_players_times_its_cadence() -> None:
    found = estimate(plan(Cadence.HOURLY, "abc"), [], rate_per_second=3)
    assert (found.per_post, found.shared, found.slot_calls) == (3, 0, 3)
    assert found.per_day == found.all_per_day == 72
    assert found.budget_per_day == 3 * DAY * SCHEDULED_SHARE
    assert found.slot_budget == 3 * 3600 * SCHEDULED_SHARE
    assert not found.over


def test_players_shared_with_boards_due_at_the_same_time_are_counted_once() -> None:
    others = [
        plan(Cadence.DAILY, "abcd"),  # same slot: shares a, b
        plan(Cadence.DAILY, "ab", hour=19),  # another time: shares nothing
        plan(Cadence.HOURLY, "ab", hour=5),  # hourly at :00 (the hour does not matter)
    ]
    found = estimate(plan(Cadence.DAILY, "abxy"), others, rate_per_second=3)
    assert (found.per_post, found.shared) == (4, 2)
    assert found.per_day == 2  # x and y
    assert found.slot_calls == 6  # a, b, c, d, x, y once each
    assert found.all_per_day == 6 + 2 + 2 * 24


def test_weekly_boards_cost_a_seventh_a_day() -> None:
    found = estimate(plan(Cadence.WEEKLY, "abcdefg"), [], rate_per_second=3)
    assert found.per_day == pytest.approx(1.0)


def test_over_the_day_and_over_the_period() -> None:
    # 0.01 requests/s: 432 calls a day to spare, 18 an hour.
    busy = [plan(Cadence.HOURLY, "abcdefghijklmnopq", minute=m) for m in range(2)]
    found = estimate(plan(Cadence.HOURLY, "r", minute=2), busy, rate_per_second=0.01)
    assert found.all_per_day == 35 * 24 and found.over_day and not found.over_slot
    crowded = estimate(plan(Cadence.HOURLY, "rstu"), busy, rate_per_second=0.01)
    assert crowded.slot_calls == 21 and crowded.over_slot
