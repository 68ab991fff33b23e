"""API_GetAchievementsEarnedBetween: the client reads the real shape, the fake answers like RA."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.models.ra import EarnedAchievement
from bot.ra.client import RAClient
from bot.ra.errors import RABadResponse, RARequestRejected
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA

EARNED = "API_GetAchievementsEarnedBetween"
DAY = datetime(2026, 12, 1, tzinfo=UTC)


def ts(at: datetime) -> int:
    return int(at.timestamp())


@pytest.fixture
async def client(fake_ra: FakeRA) -> AsyncIterator[RAClient]:
    async with aiohttp.ClientSession() as session:
        yield RAClient(RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=2.0,
            retry_budget=0.5,
            backoff_base=0.01,
            rng=random.Random(1),
        ))


async def test_unlocks_in_the_window_both_ends_included_oldest_first(
    fake_ra: FakeRA, client: RAClient
) -> None:
    fake_ra.add_unlock("Scott", 228, 11, points=10, at=DAY + timedelta(hours=2))
    fake_ra.add_unlock("Scott", 228, 12, points=5, at=DAY, hardcore=False)
    fake_ra.add_unlock("Scott", 1, 13, points=25, at=DAY + timedelta(days=1))
    fake_ra.add_unlock("Scott", 1, 14, points=50, at=DAY - timedelta(seconds=1))
    fake_ra.add_unlock("Scott", 1, 15, points=50, at=DAY + timedelta(days=1, seconds=1))

    earned = await client.get_achievements_earned_between(
        "Scott", ts(DAY), ts(DAY + timedelta(days=1))
    )
    assert earned == [
        EarnedAchievement(12, 228, 5, False, DAY),
        EarnedAchievement(11, 228, 10, True, DAY + timedelta(hours=2)),
        EarnedAchievement(13, 1, 25, True, DAY + timedelta(days=1)),
    ]
    (call,) = fake_ra.calls(EARNED)
    assert call.params["u"] == "Scott"
    assert (call.params["f"], call.params["t"]) == (str(ts(DAY)), str(ts(DAY) + 86400))


async def test_numbers_as_strings_and_old_double_rows_are_read(
    fake_ra: FakeRA, client: RAClient
) -> None:
    fake_ra.numbers_as_strings = True
    fake_ra.hardcore_listed_twice = True
    fake_ra.add_unlock("Scott", 228, 11, points=10, at=DAY)
    earned = await client.get_achievements_earned_between("Scott", ts(DAY), ts(DAY) + 60)
    assert earned == [
        EarnedAchievement(11, 228, 10, True, DAY),
        EarnedAchievement(11, 228, 10, False, DAY),
    ]


async def test_an_unknown_user_earned_nothing_and_a_bad_name_is_refused(
    fake_ra: FakeRA, client: RAClient
) -> None:
    assert await client.get_achievements_earned_between("NoSuchUser", 0, ts(DAY)) == []
    with pytest.raises(RARequestRejected):
        await client.get_achievements_earned_between("not a name!", 0, ts(DAY))


@pytest.mark.parametrize(
    "body",
    ['{"Date": "2026-12-01 00:00:00"}', '[{"Date": "yesterday", "GameID": 1}]', "[1]"],
)
async def test_a_shape_it_cannot_read_is_a_bad_response(
    fake_ra: FakeRA, client: RAClient, body: str
) -> None:
    fake_ra.fail_next(FakeFault("status", status=200, body=body), endpoint=EARNED)
    with pytest.raises(RABadResponse):
        await client.get_achievements_earned_between("Scott", 0, ts(DAY))
