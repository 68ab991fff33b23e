"""The scheduler on a real store (SQLite and PostgreSQL) and the fake RA, with an in-memory
channel standing in for Discord and explicit times standing in for the clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio

from bot.formatting.progress import Links
from bot.ra.circuit import CircuitBreaker
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.services.game_sets import GameSets
from bot.services.leaderboard import Leaderboards
from bot.services.members import LinkedMember
from bot.services.ra import RAService
from bot.services.schedule_times import Cadence
from bot.services.scheduler import LEASE, ChannelGone, PostFailed, Scheduler, spread_offset
from bot.store import Store
from bot.store.schedules import Schedule, ScheduleStore
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA, fake_ulid

GUILD, CHANNEL = 1000, 2000
SLOT = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday


class Crash(BaseException):
    """The process dies here (nothing in the scheduler catches it)."""


@dataclass
class Post:
    id: int
    embed: discord.Embed
    nonce: str


@dataclass
class FakeChannel:
    """Discord as the scheduler sees it: posts with nonce de-duplication, edits, failures."""

    members: list[LinkedMember] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    edits: list[int] = field(default_factory=list)
    fail: Exception | None = None
    crash_after_send: bool = False
    crash_before_send: bool = False
    history_readable: bool = True
    send_delay: float = 0.0
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 5000


class FakePublisher:
    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel

    async def members(self, guild_id: int) -> list[LinkedMember]:
        return list(self.channel.members)

    async def send(
        self, guild_id: int, channel_id: int, embed: discord.Embed, nonce: str, edit: int | None
    ) -> int:
        ch = self.channel
        if ch.crash_before_send:
            raise Crash
        if ch.fail is not None:
            raise ch.fail
        await asyncio.sleep(ch.send_delay)
        if edit is not None and any(p.id == edit for p in ch.posts):
            ch.edits.append(edit)
            return edit
        existing = next((p for p in ch.posts if p.nonce == nonce), None)
        if existing is None:
            ch._ids += 1
            existing = Post(ch._ids, embed, nonce)
            ch.posts.append(existing)
            ch.sent.set()
        if ch.crash_after_send:
            raise Crash
        return existing.id

    async def find_post(self, guild_id: int, channel_id: int, marker: str) -> int | None:
        if not self.channel.history_readable:
            raise PostFailed("403")
        for post in reversed(self.channel.posts):
            if post.embed.footer.text == marker:
                return post.id
        return None


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
        link = await store.set_link(n + 1, fake_ulid(ra_name), ra_name)
        channel.members.append(LinkedMember(n + 1, link, f"member{n + 1}"))
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

        def make(owner: str = "process-a", on: Store = store, **kw: Any) -> Scheduler:
            ra = RAService(client, progress_ttl=0)  # every run asks RA afresh
            return Scheduler(
                ScheduleStore(on),
                GameSets(on),
                Leaderboards(ra),
                FakePublisher(channel),
                owner=owner,
                links=Links(),
                spread_seconds=kw.pop("spread_seconds", 0),
                **kw,
            )

        yield World(store, fake_ra, channel, make, ScheduleStore(store))


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


async def test_ra_refused_by_the_open_circuit_posts_the_last_board_marked_stale(
    world: World,
) -> None:
    schedule = await world.add_schedule()
    scheduler = world.make()
    await scheduler.run_due(SLOT)  # a board to fall back on
    client = scheduler.leaderboards.ra.client
    client.circuit = CircuitBreaker(failures=1, open_seconds=3600, max_open_seconds=3600)
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
