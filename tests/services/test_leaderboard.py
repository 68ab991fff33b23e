"""Boards: the ranking rule, the fan-out through the limiter, snapshots and what changed."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest_asyncio

from bot.formatting.leaderboard import change_notes
from bot.models.boards import (
    Board,
    Change,
    Standing,
    board_from_snapshot,
    changes_since,
    rank_key,
    snapshot_of,
)
from bot.models.members import Link, LinkedMember
from bot.models.ra import GameInfo, GameProgress
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.services.leaderboard import Leaderboards
from bot.services.ra import RAService
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA, fake_ulid

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def member(uid: int, name: str) -> LinkedMember:
    return LinkedMember(uid, Link(uid, fake_ulid(name), name, NOW), name)


def standing(uid: int, name: str, *, hc_pts: int, hc: int, sc_pts: int) -> Standing:
    progress = GameProgress(1, 50, 500, hc + 5, sc_pts, hc, hc_pts)
    return Standing(member(uid, name), {1: progress})


def test_ranking_rule_hardcore_points_then_unlocks_then_softcore_then_name() -> None:
    standings = [
        standing(1, "zed", hc_pts=100, hc=10, sc_pts=100),
        standing(2, "amy", hc_pts=100, hc=10, sc_pts=100),  # ties zed until the name
        standing(3, "bob", hc_pts=100, hc=10, sc_pts=300),  # more softcore points
        standing(4, "cat", hc_pts=100, hc=12, sc_pts=0),  # more hardcore unlocks
        standing(5, "dan", hc_pts=150, hc=1, sc_pts=0),  # most hardcore points
        standing(6, "Abe", hc_pts=100, hc=10, sc_pts=100),  # names compare case-insensitively
    ]
    ranked = sorted(standings, key=rank_key)
    assert [s.name for s in ranked] == ["dan", "cat", "bob", "Abe", "amy", "zed"]


@pytest_asyncio.fixture
async def service(fake_ra: FakeRA) -> AsyncIterator[tuple[RAService, UpstreamLimiter]]:
    limiter = UpstreamLimiter(40.0, 3)
    async with aiohttp.ClientSession() as session:
        client = RAClient(RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=limiter,
            base_url=fake_ra.base_url,
            timeout=2.0,
            retry_budget=0.3,  # far less than the fan-out takes at the limiter's rate
            rng=random.Random(1),
        ))
        yield RAService(client), limiter


async def test_a_board_larger_than_the_retry_budget_waits_its_turn(
    fake_ra: FakeRA, service: tuple[RAService, UpstreamLimiter]
) -> None:
    ra, limiter = service
    members = []
    for n in range(30):
        fake_ra.add_user(f"Fan{n:02}")
        fake_ra.set_progress(f"Fan{n:02}", 1, achieved=n % 23, score=n, achieved_hardcore=0,
                             score_hardcore=0)
        members.append(member(100 + n, f"Fan{n:02}"))
    start = time.monotonic()
    board = await Leaderboards(ra).build(members, [1, 228])
    elapsed = time.monotonic() - start
    assert elapsed > 0.5  # 32 calls at 40/s: well past the 0.3 s budget...
    assert len(board.standings) == 30 and board.missing == []  # ...yet nobody failed
    assert len(fake_ra.calls("API_GetUserProgress")) == 30  # one call a member
    assert board.standings[0].name == "Fan29"
    assert limiter.in_flight == 0


async def test_an_account_ra_no_longer_knows_is_listed_apart(
    fake_ra: FakeRA, service: tuple[RAService, UpstreamLimiter]
) -> None:
    ra, _ = service
    board = await Leaderboards(ra).build(
        [member(1, "MaxMilyin"), member(2, "Deleted")], [1]
    )
    assert [s.name for s in board.standings] == ["MaxMilyin"]
    assert [m.display_name for m in board.missing] == ["Deleted"]


def board_of(*standings: Standing, games: dict[int, GameInfo | None] | None = None) -> Board:
    ranked = sorted(standings, key=rank_key)
    return Board([1], games or {1: GameInfo(1, "Sonic", "Genesis", "")}, ranked, [], NOW)


def test_snapshot_round_trip_keeps_the_ranking() -> None:
    board = board_of(
        standing(1, "amy", hc_pts=10, hc=1, sc_pts=10),
        standing(2, "bob", hc_pts=20, hc=2, sc_pts=20),
    )
    again = board_from_snapshot(snapshot_of(board), board.games, NOW)
    assert [(s.name, s.hardcore_points) for s in again.standings] == [("bob", 20), ("amy", 10)]
    assert again.standings[0].member.link.ra_ulid == fake_ulid("bob")


def test_changes_since_the_previous_post() -> None:
    before = board_of(
        standing(1, "amy", hc_pts=10, hc=1, sc_pts=10),
        standing(2, "bob", hc_pts=20, hc=2, sc_pts=20),
    )
    mastered = Standing(member(1, "amy"), {1: GameProgress(1, 50, 500, 50, 500, 50, 500)})
    after = board_of(
        mastered,
        standing(2, "bob", hc_pts=20, hc=2, sc_pts=20),
        standing(3, "cat", hc_pts=1, hc=1, sc_pts=1),
    )
    changes = changes_since(snapshot_of(before), after)
    assert changes == {
        1: Change(move=1, gained=490, mastered=(1,)),
        2: Change(move=-1, gained=0),
        3: Change(move=None, gained=0),
    }
    assert change_notes(changes, after) == {1: "▲1 · +490 pts · 👑 Sonic", 2: "▼1", 3: "🆕"}
    assert changes_since(None, after) == {}
