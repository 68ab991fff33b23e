"""Challenge standings and posts on a real store (SQLite and PostgreSQL) and the fake RA, with
an in-memory channel standing in for Discord and explicit times standing in for the clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.formatting.progress import Links
from bot.models.challenges import Challenge
from bot.models.members import LinkedMember
from bot.models.ra import EarnedAchievement
from bot.models.schedule_times import Cadence
from bot.ra.client import RAClient
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.services.challenges import ChallengePoster, Challenges, tally
from bot.services.posting import LEASE, ChannelGone
from bot.services.ra import RAService
from bot.store import Store
from bot.store.challenges import ChallengeExists, ChallengeStore
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA, fake_ulid
from tests.services.test_scheduler import Crash, FakeChannel, FakePublisher

GUILD, CHANNEL = 1000, 2000
START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)  # December 2026, 31st included
EARNED = "API_GetAchievementsEarnedBetween"


def unlock(aid: int, game: int, points: int, hardcore: bool) -> EarnedAchievement:
    return EarnedAchievement(aid, game, points, hardcore, START)


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


@dataclass
class World:
    store: Store
    ra: FakeRA
    channel: FakeChannel
    challenges: ChallengeStore
    service: Callable[..., Challenges]
    make: Callable[..., ChallengePoster]

    async def add(self, **overrides: Any) -> Challenge:
        values: dict[str, Any] = {
            "guild_id": GUILD,
            "name": "December",
            "game_ids": [1, 228],
            "set_name": None,
            "starts_at": START,
            "ends_at": END,
            "channel_id": CHANNEL,
            "cadence": Cadence.WEEKLY,
            "next_run": datetime(2026, 12, 7, tzinfo=UTC),
            "created_by": 1,
        }
        values.update(overrides)
        return await self.challenges.create(**values)


@pytest_asyncio.fixture
async def world(store: Store, fake_ra: FakeRA) -> AsyncIterator[World]:
    channel = FakeChannel()
    for n, ra_name in enumerate(["MaxMilyin", "Scott", "TestUser"]):
        link = await store.links.set_link(n + 1, fake_ulid(ra_name), ra_name)
        channel.members.append(LinkedMember(n + 1, link, f"member{n + 1}"))
    # December: Scott 30 hardcore on 228, Max 10 softcore on 1; TestUser only outside it.
    fake_ra.add_unlock("Scott", 228, 101, points=20, at=START + timedelta(days=2))
    fake_ra.add_unlock("Scott", 228, 102, points=10, at=START + timedelta(days=9))
    fake_ra.add_unlock("MaxMilyin", 1, 201, points=10, at=START + timedelta(days=3), hardcore=False)
    fake_ra.add_unlock("MaxMilyin", 14402, 301, points=50, at=START + timedelta(days=3))
    fake_ra.add_unlock("TestUser", 1, 202, points=5, at=START - timedelta(seconds=1))
    async with aiohttp.ClientSession() as session:
        client = RAClient(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=1.0,
            retry_budget=0.2,
            rng=random.Random(1),
        )

        def service(ttl: float = 0) -> Challenges:
            return Challenges(RAService(client, progress_ttl=ttl))

        def make(owner: str = "process-a", **kw: Any) -> ChallengePoster:
            return ChallengePoster(
                store.challenges,
                service(),
                FakePublisher(channel),
                owner=owner,
                links=Links(),
                spread_seconds=0,
                **kw,
            )

        yield World(store, fake_ra, channel, store.challenges, service, make)


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


async def test_posts_on_the_cadence_with_deltas_then_the_final_once_and_nothing_after(
    world: World,
) -> None:
    challenge = await world.add()
    poster = world.make()
    assert await poster.run_due(START + timedelta(days=5, hours=23)) == []
    (first,) = await poster.run_due(datetime(2026, 12, 7, tzinfo=UTC))
    assert first.outcome == "posted"
    embed = world.channel.posts[0].embed
    assert embed.title == "Challenge · December"
    assert embed.footer.text == f"Challenge #{challenge.id} · 2026-12-07 00:00 UTC"
    assert "🥇 **member2** (Scott) · 20 pts" in (embed.description or "")
    assert "Not started: member3" in (embed.description or "")

    (second,) = await poster.run_due(datetime(2026, 12, 14, 0, 0, 5, tzinfo=UTC))
    assert second.outcome == "posted"
    assert "🥇 **member2** (Scott) · 30 pts · 2 HC · 30 SC pts · +10 pts" in (
        world.channel.posts[1].embed.description or ""
    )
    # Down from the 15th to 3 January: the missed weeks are covered by the final post alone.
    (final,) = await poster.run_due(END + timedelta(days=2))
    assert (final.outcome, final.period) == ("final", END)
    embed = world.channel.posts[-1].embed
    assert embed.title == "Final standings · December"
    assert embed.footer.text == f"Challenge #{challenge.id} · final standings"
    assert (embed.description or "").splitlines()[1] == (
        "🏆 🥇 **member2** 30 pts · 🥈 **member1** 10 SC pts"
    )
    assert len(world.channel.posts) == 3
    assert await world.make("process-b").run_due(END + timedelta(days=30)) == []
    stored = await world.challenges.get(challenge.id)
    assert stored is not None and stored.run_at is None and stored.next_run is None
    assert stored.last_result == "final standings posted"


async def test_the_final_post_is_made_once_across_a_crash_between_the_end_and_the_post(
    world: World,
) -> None:
    challenge = await world.add(cadence=None, next_run=END)
    world.channel.crash_after_send = True
    with pytest.raises(Crash):
        await world.make("process-a").run_due(END + timedelta(minutes=1))
    assert len(world.channel.posts) == 1
    world.channel.crash_after_send = False
    (busy,) = await world.make("process-b").run_due(END + timedelta(minutes=1, seconds=30))
    assert busy.outcome == "busy"
    (result,) = await world.make("process-b").run_due(END + LEASE * 3)
    assert result.outcome == "recovered"
    assert len(world.channel.posts) == 1
    assert await world.make("process-c").run_due(END + timedelta(days=1)) == []
    assert await world.challenges.posts(challenge.id) == [(END, "posted")]


async def test_a_process_that_read_the_challenge_before_another_posted_it_skips_it(
    world: World,
) -> None:
    challenge = await world.add(cadence=None, next_run=END)
    (first,) = await world.make("process-a").run_due(END + timedelta(minutes=1))
    assert first.outcome == "final"
    # Process b had read the challenge before a posted: the claim says "posted", it moves on.
    late = await world.make("process-b").run_one(challenge, END + timedelta(minutes=2))
    assert late is not None and late.outcome == "skipped"
    assert len(world.channel.posts) == 1
    stored = await world.challenges.get(challenge.id)
    assert stored is not None and stored.run_at is None and stored.next_run is None


async def test_a_restart_after_the_end_before_the_post_posts_it_once(world: World) -> None:
    await world.add(cadence=None, next_run=END)
    world.channel.crash_before_send = True
    with pytest.raises(Crash):
        await world.make("process-a").run_due(END)
    world.channel.crash_before_send = False
    assert world.channel.posts == []
    (result,) = await world.make("process-b").run_due(END + LEASE * 2)
    assert result.outcome == "final" and len(world.channel.posts) == 1
    assert await world.make("process-b").run_due(END + LEASE * 3) == []


async def test_ra_down_at_the_end_retries_the_final_post(world: World) -> None:
    challenge = await world.add(cadence=None, next_run=END)
    world.ra.fail_always(FakeFault("status", status=503), endpoint=EARNED)
    (result,) = await world.make().run_due(END)
    assert result.outcome == "retry" and world.channel.posts == []
    stored = await world.challenges.get(challenge.id)
    assert stored is not None and stored.run_at == END + timedelta(minutes=5)
    assert "RetroAchievements unavailable" in (stored.last_result or "")
    world.ra.fail_always(None, endpoint=EARNED)
    (result,) = await world.make().run_due(END + timedelta(minutes=5))
    assert result.outcome == "final" and len(world.channel.posts) == 1


async def test_a_deleted_channel_pauses_the_posts_with_the_reason(world: World) -> None:
    challenge = await world.add()
    world.channel.fail = ChannelGone("the channel was deleted")
    (result,) = await world.make().run_due(datetime(2026, 12, 7, tzinfo=UTC))
    assert result.outcome == "paused"
    stored = await world.challenges.get(challenge.id)
    assert stored is not None and stored.paused_reason == "the channel was deleted"
    assert await world.make().run_due(END + timedelta(days=1)) == []


async def test_deleting_a_challenge_removes_its_posts_schedule(world: World) -> None:
    challenge = await world.add()
    await world.make().run_due(datetime(2026, 12, 7, tzinfo=UTC))
    assert (await world.challenges.delete(GUILD, "DECEMBER")) is not None
    assert await world.challenges.get(challenge.id) is None
    assert await world.challenges.next_run_at() is None
    assert await world.make().run_due(END + timedelta(days=1)) == []
    assert len(world.channel.posts) == 1


async def test_scheduled_standings_wait_behind_commands(world: World) -> None:
    """Posts ask RA at the scheduled priority (the limiter serves people first)."""
    seen: list[Priority] = []
    service = world.service()
    original = service.ra.client.get_achievements_earned_between

    async def spy(user: str, start: int, end: int, *, priority: Priority) -> Any:
        seen.append(priority)
        return await original(user, start, end, priority=priority)

    service.ra.client.get_achievements_earned_between = spy  # type: ignore[method-assign]
    poster = world.make()
    poster.challenges = service
    await world.add()
    await poster.run_due(datetime(2026, 12, 7, tzinfo=UTC))
    assert seen == [Priority.SCHEDULED] * 3


async def test_the_final_standings_do_not_reuse_figures_from_before_the_end(world: World) -> None:
    challenge = await world.add()
    service = world.service(ttl=120)
    members = world.channel.members[1:2]
    await service.standings(challenge, members, END - timedelta(minutes=1))
    await service.standings(challenge, members, END - timedelta(seconds=30))  # cached
    assert len(world.ra.calls(EARNED)) == 1
    world.ra.add_unlock("Scott", 228, 103, points=7, at=END - timedelta(seconds=10))
    final = await service.standings(challenge, members, END)
    (scott,) = final.board.standings
    assert scott.hardcore_points == 37 and len(world.ra.calls(EARNED)) == 2
    await service.standings(challenge, members, END + timedelta(hours=1))  # closed: cached
    assert len(world.ra.calls(EARNED)) == 2


async def test_a_process_posts_only_the_challenges_of_its_own_shards(world: World) -> None:
    on_shard = {0: 4 << 22 | 123, 1: 5 << 22 | 456}  # (guild_id >> 22) % 2 is the shard
    mine = {
        shard: await world.add(guild_id=gid, cadence=None, next_run=END)
        for shard, gid in on_shard.items()
    }
    zero, one = world.make("process-a", shards=(2, (0,))), world.make("process-b", shards=(2, (1,)))
    (ran,) = await zero.run_due(END)
    assert (ran.schedule_id, ran.outcome) == (mine[0].id, "final")
    # Shard 1's challenge is left to its own process, and shard 0 has nothing more to wake for.
    assert await zero.run_due(END + timedelta(minutes=1)) == []
    assert await zero.store.next_run_at(shards=(2, (0,))) is None
    assert await one.store.next_run_at(shards=(2, (1,))) == END
    assert len(world.channel.posts) == 1
    (ran,) = await one.run_due(END + timedelta(minutes=1))
    assert (ran.schedule_id, ran.outcome) == (mine[1].id, "final")
    assert len(world.channel.posts) == 2
    # A process running every shard (no SHARD_IDS) sees them all.
    await world.add(guild_id=on_shard[1], name="January", cadence=None, next_run=END)
    assert len(await world.challenges.due(END)) == 1
    assert len(await world.challenges.due(END, shards=(2, (0,)))) == 0
