"""Challenge posts (bot.posting.challenges) on a real store (SQLite and PostgreSQL) and the fake
RA, with an in-memory channel standing in for Discord and explicit times standing in for the
clock: on the cadence, the final post once across crashes and processes, pauses and shards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.posting.once import LEASE, ChannelGone
from bot.ra.limiter import Priority
from bot.store import Store
from tests.fakes.challenge_world import (
    EARNED,
    END,
    GUILD,
    START,
    World,
    challenge_world,
)
from tests.fakes.fake_ra import FakeFault, FakeRA
from tests.fakes.publisher import Crash


@pytest_asyncio.fixture
async def world(store: Store, fake_ra: FakeRA) -> AsyncIterator[World]:
    async with challenge_world(store, fake_ra) as made:
        yield made


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
