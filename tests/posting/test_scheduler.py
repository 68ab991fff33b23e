"""The scheduler on a real store (SQLite and PostgreSQL) and the fake RA, with an in-memory
channel standing in for Discord and explicit times standing in for the clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.formatting.urls import SiteUrls
from bot.models.members import LinkedMember
from bot.models.schedule_times import Cadence
from bot.models.schedules import Schedule
from bot.posting.once import LEASE, ChannelGone, PostFailed
from bot.posting.scheduler import Scheduler, spread_offset
from bot.ra.circuit import CircuitBreaker
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.services.catalogue import Catalogue
from bot.services.leaderboard import Leaderboards
from bot.services.ra import RAService
from bot.services.resolver import GameResolver
from bot.store import Store
from bot.store.schedules import ScheduleStore
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA, fake_ulid
from tests.fakes.publisher import Crash, FakeChannel, FakePublisher

GUILD, CHANNEL = 1000, 2000
SLOT = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday


@dataclass
class World:
    store: Store
    ra: FakeRA
    channel: FakeChannel
    make: Callable[..., Scheduler]
    schedules: ScheduleStore

    async def add_schedule(self, **overrides: Any) -> Schedule:
        values: dict[str, Any] = {
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "games": "1, 228",
            "cadence": Cadence.DAILY,
            "hour": 18,
            "minute": 0,
            "edit_in_place": False,
            "next_run": SLOT,
            "run_at": SLOT,
            "created_by": 1,
        }
        values.update(overrides)
        return await self.schedules.create(**values)


@pytest_asyncio.fixture
async def world(store: Store, fake_ra: FakeRA) -> AsyncIterator[World]:
    channel = FakeChannel()
    for n, ra_name in enumerate(["MaxMilyin", "Scott", "TestUser"]):
        link = await store.links.set_link(n + 1, fake_ulid(ra_name), ra_name)
        channel.members.append(LinkedMember(n + 1, link, f"member{n + 1}"))
    async with aiohttp.ClientSession() as session:
        client = RAClient(RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=1.0,
            retry_budget=0.2,
            rng=random.Random(1),
        ))

        def make(owner: str = "process-a", on: Store = store, **kw: Any) -> Scheduler:
            ra = RAService(client, progress_ttl=0, scheduled_max_age=0)  # every run asks RA afresh
            return Scheduler(
                on.schedules,
                GameResolver(Catalogue(on.catalogue, client, owner=owner), on.sets),
                Leaderboards(ra),
                FakePublisher(channel),
                owner=owner,
                urls=SiteUrls(),
                spread_seconds=kw.pop("spread_seconds", 0),
                **kw,
            )

        yield World(store, fake_ra, channel, make, store.schedules)


async def test_posts_once_per_period_and_moves_to_the_next(world: World) -> None:
    schedule = await world.add_schedule()
    scheduler = world.make()
    assert await scheduler.run_due(SLOT - timedelta(seconds=1)) == []

    (result,) = await scheduler.run_due(SLOT)
    assert (result.outcome, result.period) == ("posted", SLOT)
    (post,) = world.channel.posts
    assert post.embed.footer.text == f"Schedule #{schedule.id} · 2026-11-30 18:00 UTC"
    lines = (post.embed.description or "").splitlines()
    assert lines[0].startswith("🥇 **member1** (MaxMilyin) · 400 pts")

    assert await scheduler.run_due(SLOT + timedelta(hours=2)) == []  # nothing more this period
    stored = await world.schedules.get(schedule.id)
    assert stored is not None
    assert stored.next_run == stored.run_at == SLOT + timedelta(days=1)
    assert stored.last_result == "posted 2026-11-30 18:00 UTC"
    (result,) = await scheduler.run_due(SLOT + timedelta(days=1))
    assert result.outcome == "posted" and len(world.channel.posts) == 2


async def test_a_period_missed_while_down_is_posted_once_on_return(world: World) -> None:
    await world.add_schedule()
    back = SLOT + timedelta(days=3, hours=5)  # three periods missed; inside the fourth
    (result,) = await world.make().run_due(back)
    assert result.period == SLOT + timedelta(days=3)
    assert len(world.channel.posts) == 1
    assert await world.make().run_due(back + timedelta(minutes=1)) == []
    # Posted five hours after its time: it says so.
    (post,) = world.channel.posts
    assert (post.embed.description or "").startswith("⏱️ Posted 300 min late")


async def test_a_post_on_time_or_a_few_minutes_after_says_nothing_of_lateness(
    world: World,
) -> None:
    await world.add_schedule()
    (result,) = await world.make().run_due(SLOT + timedelta(minutes=4))
    assert result.outcome == "posted"
    (post,) = world.channel.posts
    assert "late" not in (post.embed.description or "")


async def test_a_crash_after_sending_does_not_double_the_post(world: World) -> None:
    await world.add_schedule()
    world.channel.crash_after_send = True
    with pytest.raises(Crash):
        await world.make("process-a").run_due(SLOT)
    assert len(world.channel.posts) == 1

    # The restarted process finds the claim still "sending": within the lease it waits...
    world.channel.crash_after_send = False
    (result,) = await world.make("process-b").run_due(SLOT + timedelta(seconds=30))
    assert result.outcome == "busy"
    # ...after it, takes over, finds the post in the channel and records it.
    (result,) = await world.make("process-b").run_due(SLOT + LEASE + timedelta(seconds=31))
    assert result.outcome == "recovered"
    assert len(world.channel.posts) == 1


async def test_a_process_that_read_the_schedule_before_another_posted_it_skips_it(
    world: World,
) -> None:
    schedule = await world.add_schedule()
    (first,) = await world.make("process-a").run_due(SLOT)
    assert first.outcome == "posted"
    # Process b had read the schedule before a posted it: the claim says "posted", it moves on.
    late = await world.make("process-b").run_one(schedule, SLOT + timedelta(seconds=5))
    assert late.outcome == "skipped"
    assert len(world.channel.posts) == 1
    after = await world.schedules.get(schedule.id)
    assert after is not None and after.next_run == SLOT + timedelta(days=1)


async def test_without_history_the_nonce_still_prevents_a_double(world: World) -> None:
    await world.add_schedule()
    world.channel.crash_after_send = True
    with pytest.raises(Crash):
        await world.make("process-a").run_due(SLOT)
    world.channel.crash_after_send = False
    world.channel.history_readable = False
    (result,) = await world.make("process-b").run_due(SLOT + LEASE * 2)
    assert result.outcome == "posted"
    assert len(world.channel.posts) == 1


async def test_a_crash_before_sending_does_not_lose_the_post(world: World) -> None:
    await world.add_schedule()
    world.channel.crash_before_send = True
    with pytest.raises(Crash):
        await world.make("process-a").run_due(SLOT)
    assert world.channel.posts == []
    world.channel.crash_before_send = False
    (result,) = await world.make("process-b").run_due(SLOT + LEASE * 2)
    assert result.outcome == "posted"
    assert len(world.channel.posts) == 1


async def test_two_schedulers_on_one_database_post_once(world: World, database_url: str) -> None:
    second = await Store.open(database_url)
    try:
        for _ in range(3):
            await world.add_schedule()
        world.channel.send_delay = 0.05  # both are mid-send at once
        a, b = world.make("process-a"), world.make("process-b", on=second)
        results = await asyncio.gather(a.run_due(SLOT), b.run_due(SLOT))
        outcomes = sorted(r.outcome for rs in results for r in rs)
        assert outcomes.count("posted") == 3
        assert len(world.channel.posts) == 3
        assert len({p.nonce for p in world.channel.posts}) == 3
    finally:
        await second.close()


async def test_each_process_runs_the_schedules_of_its_own_shards(
    world: World, database_url: str
) -> None:
    on_shard = {0: 4 << 22 | 123, 1: 5 << 22 | 456}  # (guild_id >> 22) % 2 is the shard
    mine = {shard: await world.add_schedule(guild_id=gid) for shard, gid in on_shard.items()}
    second = await Store.open(database_url)
    try:
        zero = world.make("process-a", shards=(2, (0,)))
        one = world.make("process-b", on=second, shards=(2, (1,)))
        assert await zero.schedules.next_run_at(shards=(2, (0,))) == SLOT
        (ran,) = await zero.run_due(SLOT)
        assert ran.schedule_id == mine[0].id
        # Shard 1's schedule is left to its own process; shard 0 has nothing due until tomorrow
        # (so its loop sleeps instead of waking again and again for another shard's schedule).
        assert await zero.run_due(SLOT + timedelta(minutes=1)) == []
        assert await zero.schedules.next_run_at(shards=(2, (0,))) == SLOT + timedelta(days=1)
        (ran,) = await one.run_due(SLOT + timedelta(minutes=1))
        assert ran.schedule_id == mine[1].id
        assert len(world.channel.posts) == 2
        # A process running every shard (no SHARD_IDS) runs them all.
        assert len(await world.schedules.due(SLOT + timedelta(days=1))) == 2
    finally:
        await second.close()


async def test_the_next_post_says_what_changed(world: World) -> None:
    await world.add_schedule(games="1, 228")
    scheduler = world.make()
    await scheduler.run_due(SLOT)
    # Scott overtakes MaxMilyin (masters Super Mario World); TestUser appears.
    world.ra.set_progress("Scott", 228, achieved=96, score=1000, achieved_hardcore=96,
                          score_hardcore=1000)
    world.ra.set_progress("TestUser", 1, achieved=1, score=5, achieved_hardcore=1,
                          score_hardcore=5)
    await scheduler.run_due(SLOT + timedelta(days=1))
    lines = (world.channel.posts[1].embed.description or "").splitlines()
    assert lines[0].startswith("🥇 **member2** (Scott)")
    assert lines[0].endswith("▲1 · +660 pts · 👑 Super Mario World")
    assert lines[1].endswith("▼1")
    assert lines[2].endswith("+5 pts")


async def test_edit_in_place_keeps_one_message(world: World) -> None:
    await world.add_schedule(edit_in_place=True)
    scheduler = world.make()
    await scheduler.run_due(SLOT)
    await scheduler.run_due(SLOT + timedelta(days=1))
    assert len(world.channel.posts) == 1
    assert world.channel.edits == [world.channel.posts[0].id]


@pytest.mark.parametrize(
    "reason", ["the channel was deleted", "the bot may no longer post embeds in #general"]
)
async def test_channel_gone_or_permission_lost_pauses_the_schedule(
    world: World, reason: str
) -> None:
    schedule = await world.add_schedule()
    world.channel.fail = ChannelGone(reason)
    (result,) = await world.make().run_due(SLOT)
    assert result.outcome == "paused"
    stored = await world.schedules.get(schedule.id)
    assert stored is not None and stored.paused_reason == reason
    world.channel.fail = None
    assert await world.make().run_due(SLOT + timedelta(days=2)) == []  # not retried forever
    assert world.channel.posts == []


async def test_a_deleted_game_set_pauses_the_schedule(world: World) -> None:
    schedule = await world.add_schedule(games="Monthly")
    (result,) = await world.make().run_due(SLOT)
    assert result.outcome == "paused"
    stored = await world.schedules.get(schedule.id)
    assert stored is not None and "Monthly" in (stored.paused_reason or "")


async def test_ra_down_retries_within_the_period_then_posts_the_last_board(world: World) -> None:
    schedule = await world.add_schedule()
    scheduler = world.make()
    await scheduler.run_due(SLOT)  # a board to fall back on

    world.ra.fail_always(FakeFault("status", 503))
    day2 = SLOT + timedelta(days=1)
    (result,) = await scheduler.run_due(day2)
    assert result.outcome == "retry"
    stored = await world.schedules.get(schedule.id)
    assert stored is not None and stored.run_at == day2 + timedelta(minutes=5)
    assert stored.next_run == day2 and "retrying" in (stored.last_result or "")
    assert len(world.channel.posts) == 1

    late = day2 + timedelta(hours=23, minutes=50)  # too late to retry again
    (result,) = await scheduler.run_due(late)
    assert result.outcome == "stale"
    stale = world.channel.posts[-1].embed
    assert (stale.description or "").startswith("⚠️ RetroAchievements could not be reached")
    assert "🥇 **member1** (MaxMilyin)" in (stale.description or "")
    stored = await world.schedules.get(schedule.id)
    assert stored is not None and stored.next_run == day2 + timedelta(days=1)


async def test_discord_errors_are_retried_later(world: World) -> None:
    await world.add_schedule()
    world.channel.fail = PostFailed("DiscordServerError")
    (result,) = await world.make().run_due(SLOT)
    assert result.outcome == "retry"
    world.channel.fail = None
    (result,) = await world.make().run_due(SLOT + timedelta(minutes=5))
    assert result.outcome == "posted"


async def test_schedules_due_at_the_same_minute_are_spread(world: World) -> None:
    offsets = {spread_offset(i, 120).total_seconds() for i in range(1, 11)}
    assert len(offsets) >= 8 and all(0 <= o < 120 for o in offsets)
    scheduler = world.make(spread_seconds=120)
    first = await world.add_schedule()
    assert scheduler.first_run(first.id, SLOT) == SLOT + spread_offset(first.id, 120)


async def test_the_loop_sleeps_until_woken_and_then_posts(world: World) -> None:
    now = SLOT
    scheduler = world.make(clock=lambda: now)
    task = asyncio.create_task(scheduler.run_forever())
    try:
        await world.add_schedule(next_run=SLOT, run_at=SLOT)
        scheduler.wake()  # without it the loop would sleep MAX_SLEEP (5 minutes)
        async with asyncio.timeout(5):
            await world.channel.sent.wait()
        assert len(world.channel.posts) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- one call per RA user across the boards due together ----------------------------------------


class GuildsPublisher(FakePublisher):
    """Several guilds, each with its own members, posting to one recorded channel."""

    def __init__(self, channel: FakeChannel, members: dict[int, list[LinkedMember]]) -> None:
        super().__init__(channel)
        self.by_guild = members

    async def members(self, guild_id: int) -> list[LinkedMember]:
        return list(self.by_guild[guild_id])


async def test_boards_due_together_cost_one_progress_call_per_user(
    store: Store, fake_ra: FakeRA
) -> None:
    names = ["Ann", "Bob", "Cid", "Dee"]
    for name in names:
        fake_ra.add_user(name)
    for game in (1, 228, 14402):
        for n, name in enumerate(names):
            fake_ra.set_progress(name, game, achieved=n, score=n * 5)
    links = {
        name: await store.links.set_link(n + 1, fake_ulid(name), name)
        for n, name in enumerate(names)
    }

    def members(*who: str) -> list[LinkedMember]:
        return [LinkedMember(links[w].discord_user_id, links[w], w) for w in who]

    boards = {  # guild: (members, games); users overlap, games overlap partly
        1: (members("Ann", "Bob", "Cid"), "1, 228"),
        2: (members("Bob", "Cid", "Dee"), "14402"),
        3: (members("Ann", "Dee"), "1, 14402"),
    }
    channel = FakeChannel()
    schedules = store.schedules
    async with aiohttp.ClientSession() as session:
        client = RAClient(RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 2),
            base_url=fake_ra.base_url,
            timeout=1.0,
            retry_budget=0.5,
            rng=random.Random(1),
        ))
        ra = RAService(client, progress_ttl=0, scheduled_max_age=300)
        scheduler = Scheduler(
            schedules,
            GameResolver(Catalogue(store.catalogue, client, owner="a"), store.sets),
            Leaderboards(ra),
            GuildsPublisher(channel, {g: m for g, (m, _) in boards.items()}),
            owner="a",
            urls=SiteUrls(),
            spread_seconds=60,
        )
        created = []
        for guild, (_, games) in boards.items():
            schedule = await schedules.create(
                guild_id=guild, channel_id=CHANNEL, games=games, cadence=Cadence.DAILY,
                hour=18, minute=0, edit_in_place=False, next_run=SLOT, run_at=SLOT,
                created_by=1,
            )
            run_at = scheduler.first_run(schedule.id, SLOT)
            await schedules.reschedule(schedule.id, run_at=run_at)
            created.append(run_at)
        # Each board runs at its own spread offset after the slot, as the scheduler's loop would.
        for run_at in sorted(created):
            await scheduler.run_due(run_at)
        await scheduler.gathered()

    calls = fake_ra.calls("API_GetUserProgress")
    asked = {
        fake_ra.find_user(c.params["u"]).username: set(c.params["i"].split(","))  # type: ignore[union-attr]
        for c in calls
    }
    assert len(calls) == len(names) == len(asked)  # one call per user, however many boards
    # Each call carries every game any board needs from that user (hot games may ride along).
    assert asked["Ann"] == asked["Bob"] == asked["Cid"] == {"1", "228", "14402"}
    assert asked["Dee"] >= {"1", "14402"}
    assert len(channel.posts) == 3
    # The games' titles were asked first: the first board, which needs them, was not kept
    # waiting behind every player's call.
    assert [r.endpoint for r in fake_ra.requests[:3]] == ["API_GetGame"] * 3


async def test_gathering_looks_only_as_far_ahead_as_answers_stay_usable(
    store: Store, fake_ra: FakeRA
) -> None:
    fake_ra.add_user("Ann")
    link = await store.links.set_link(1, fake_ulid("Ann"), "Ann")
    member = LinkedMember(1, link, "Ann")
    schedules = store.schedules
    async with aiohttp.ClientSession() as session:
        client = RAClient(RATransport(
            session, api_key=FAKE_RA_KEY, limiter=UpstreamLimiter(1000.0, 2),
            base_url=fake_ra.base_url, timeout=1.0, retry_budget=0.5, rng=random.Random(1),
        ))
        ra = RAService(client, scheduled_max_age=300)
        scheduler = Scheduler(
            schedules,
            GameResolver(Catalogue(store.catalogue, client, owner="a"), store.sets),
            Leaderboards(ra),
            GuildsPublisher(FakeChannel(), {1: [member], 2: [member]}),
            owner="a", urls=SiteUrls(),
        )
        assert scheduler.gather_horizon() == timedelta(seconds=150)
        for guild, games, at in ((1, "1", SLOT), (2, "228", SLOT + timedelta(seconds=151))):
            await schedules.create(
                guild_id=guild, channel_id=CHANNEL, games=games, cadence=Cadence.DAILY,
                hour=18, minute=0, edit_in_place=False, next_run=at, run_at=at, created_by=1,
            )
        assert await scheduler.gather(SLOT) == 1
        await scheduler.gathered()
    (call,) = fake_ra.calls("API_GetUserProgress")
    assert call.params["i"] == "1"  # 228's board is due too late to use this answer


async def test_ra_refused_by_the_open_circuit_posts_the_last_board_marked_stale(
    world: World,
) -> None:
    schedule = await world.add_schedule()
    scheduler = world.make()
    await scheduler.run_due(SLOT)  # a board to fall back on
    client = scheduler.leaderboards.ra.client
    client.transport.circuit = CircuitBreaker(
        min_failures=1, open_seconds=3600, max_open_seconds=3600
    )
    client.circuit.failed()  # RA has not answered for a while
    asked = len(world.ra.requests)

    late = SLOT + timedelta(days=1, hours=23, minutes=50)
    (result,) = await scheduler.run_due(late)
    assert result.outcome == "stale"
    assert len(world.ra.requests) == asked  # refused without asking RA
    stale = world.channel.posts[-1].embed
    assert (stale.description or "").startswith("⚠️ RetroAchievements could not be reached")
    stored = await world.schedules.get(schedule.id)
    assert stored is not None and "from cached figures" in (stored.last_result or "")
