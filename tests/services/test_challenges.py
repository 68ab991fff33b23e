"""Challenge standings on a real store (SQLite and PostgreSQL) and the fake RA, with
an in-memory channel standing in for Discord and explicit times standing in for the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.models.members import LinkedMember
from bot.services.challenges import tally
from bot.store import Store
from bot.store.challenges import ChallengeExists
from tests.fakes.challenge_world import (
    EARNED,
    END,
    GUILD,
    START,
    World,
    challenge_world,
    unlock,
)
from tests.fakes.fake_ra import FakeRA, fake_ulid


def test_a_hardcore_unlock_counts_once_for_each_mode_and_other_games_not_at_all() -> None:
    listed = [
        unlock(1, 228, 10, True),
        unlock(1, 228, 10, False),  # the same unlock listed again for softcore (old servers)
        unlock(2, 228, 5, False),  # softcore only
        unlock(3, 1, 25, True),
        unlock(3, 1, 25, True),  # listed twice in hardcore: still once
        unlock(4, 999, 100, True),  # not a game of the challenge
    ]
    per_game = tally(listed, [228, 1, 14402])
    assert [
        (p.achieved, p.score, p.achieved_hardcore, p.score_hardcore) for p in per_game.values()
    ] == [
        (2, 15, 1, 10),
        (1, 25, 1, 25),
        (0, 0, 0, 0),
    ]


@pytest_asyncio.fixture
async def world(store: Store, fake_ra: FakeRA) -> AsyncIterator[World]:
    async with challenge_world(store, fake_ra) as made:
        yield made


async def test_standings_rank_what_was_earned_in_the_window_on_its_games(world: World) -> None:
    challenge = await world.add()
    board = await world.service().standings(
        challenge, world.channel.members, START + timedelta(days=10)
    )
    assert [
        (s.name, s.hardcore_points, s.hardcore_unlocks, s.softcore_points)
        for s in board.board.standings
    ] == [("member2", 30, 2, 30), ("member1", 0, 0, 10)]
    assert [m.display_name for m in board.not_started] == ["member3"]
    assert board.until == START + timedelta(days=10)


async def test_a_refresh_for_n_members_costs_n_calls_and_a_second_one_none(
    world: World,
) -> None:
    for n in range(4, 41):  # 40 members in all
        link = await world.store.links.set_link(n, fake_ulid(f"user{n}"), f"user{n}")
        world.ra.add_user(f"user{n}")
        world.channel.members.append(LinkedMember(n, link, f"member{n}"))
    challenge = await world.add(game_ids=[1, 228, 14402, 5, 6, 7, 8, 9])
    service = world.service(ttl=120)
    before = len(world.ra.requests)
    await service.standings(challenge, world.channel.members, START + timedelta(days=10))
    made = world.ra.requests[before:]
    assert len([r for r in made if r.endpoint == EARNED]) == 40  # one per member, not x 8 games
    assert {r.endpoint for r in made} == {EARNED, "API_GetGame"}
    assert len(made) == 40 + 8  # and each game's title once
    await service.standings(challenge, world.channel.members, START + timedelta(days=10, hours=1))
    assert len(world.ra.requests) == before + 48  # cached like progress


async def test_standings_stay_as_at_the_end_but_a_late_unlock_dated_inside_counts(
    world: World,
) -> None:
    challenge = await world.add()
    after = END + timedelta(days=5)
    board = await world.service().standings(challenge, world.channel.members, after)
    assert board.final and board.until == END - timedelta(seconds=1)
    (call, *_) = world.ra.calls(EARNED)
    assert call.params["t"] == str(int(END.timestamp()) - 1)
    # Synced late, dated on the 31st at 23:59:59: counts. Unlocked on 1 January: does not.
    world.ra.add_unlock("TestUser", 228, 401, points=3, at=END - timedelta(seconds=1))
    world.ra.add_unlock("TestUser", 228, 402, points=100, at=END)
    board = await world.service().standings(challenge, world.channel.members, after)
    ranked = {s.name: s.hardcore_points for s in board.board.standings}
    assert ranked == {"member2": 30, "member3": 3, "member1": 0}


async def test_before_the_start_nothing_is_asked(world: World) -> None:
    challenge = await world.add(starts_at=END, ends_at=END + timedelta(days=7))
    board = await world.service().standings(challenge, world.channel.members, START)
    assert board.board.standings == [] and len(board.not_started) == 3
    assert world.ra.calls(EARNED) == [] and board.until is None


async def test_more_than_500_unlocks_are_read_on_and_counted_once(world: World) -> None:
    for n in range(600):
        world.ra.add_unlock("Scott", 1, 10_000 + n, points=1, at=START + timedelta(minutes=n // 3))
    challenge = await world.add()
    board = await world.service().standings(
        challenge, world.channel.members[1:2], START + timedelta(days=20)
    )
    (scott,) = board.board.standings
    assert scott.hardcore_unlocks == 602 and scott.hardcore_points == 630
    assert len(world.ra.calls(EARNED)) == 2  # 500, then the rest from the 500th's second


async def test_a_name_is_once_per_guild_whatever_its_case(world: World) -> None:
    await world.add()
    with pytest.raises(ChallengeExists):
        await world.add(name="DECEMBER")
    await world.add(guild_id=GUILD + 1)
    assert (await world.challenges.named(GUILD, "december")) is not None
    assert await world.challenges.count_for_guild(GUILD) == 1
