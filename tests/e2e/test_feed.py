"""The news feed through the real bot process: an award is announced once, across a crash and
across two processes with a shard each; a channel the bot cannot post in is refused or kept.

FEED_POLL_SECONDS is 5 (the least), so rounds come every few seconds. The feed's first poll only
sets its cursor (it starts from the site's newest award), so the fake RA always holds a few older
awards of strangers, as RA does, and a test's awards arrive after that first poll.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import discord
import pytest
import pytest_asyncio

from bot.store import Store
from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA, fake_ulid

pytestmark = pytest.mark.e2e

FEED = {"FEED_POLL_SECONDS": "5"}
POLL = 5.0
AWARDS = "API_GetRecentGameAwards"
AOTW = "API_GetAchievementOfTheWeek"  # the last RA request of every poll


@pytest_asyncio.fixture
async def fake_discord(request: pytest.FixtureRequest) -> Any:
    """Three guilds on one shard; `indirect` parametrization gives (guilds, shards)."""
    guilds, shards = getattr(request, "param", (3, 1))
    async with FakeDiscord(guilds=guilds, shards=shards) as fake:
        yield fake


def opt(name: str, value: Any, kind: int | None = None) -> dict[str, Any]:
    option = {"name": name, "value": value}
    if kind is not None:
        option["type"] = kind
    return option


async def command(
    fake: FakeDiscord, name: str, *options: dict[str, Any], guild_id: int | None = None
) -> dict[str, Any]:
    interaction = await fake.send_interaction(name, list(options), guild_id=guild_id)
    return await interaction.wait_final(timeout=30)


async def seed(url: str, fake: FakeDiscord, owners: dict[int, str], feeds: Iterable[int]) -> None:
    """Before the bot starts: each guild's owner linked to an RA account and known there; a
    feed in `feeds`' guilds (in their own channel, everything announced)."""
    store = await Store.open(url)
    try:
        for guild, ra_name in owners.items():
            uid = fake.member_id(guild, 0)
            await store.links.set_link(uid, fake_ulid(ra_name), ra_name)
            await store.links.mark_seen(guild, [uid])
        for guild in feeds:
            await store.feeds.set(
                guild,
                channel_id=fake.channel_ids[guild],
                masteries=True,
                beaten=True,
                aotw=True,
                hardcore_only=False,
                games=None,
                created_by=fake.member_id(guild, 0),
                now=datetime.now(UTC),
            )
    finally:
        await store.close()


def older_site_awards(fake_ra: FakeRA) -> None:
    """Strangers' awards from before the test: where the feed's first poll starts from."""
    fake_ra.add_site_awards(3, datetime.now(UTC) - timedelta(hours=2))


async def polls(fake_ra: FakeRA, n: int, timeout: float = 30) -> None:
    """Until the n-th poll has asked RA for the AOTW (its awards page is read by then)."""
    async with asyncio.timeout(timeout):
        await fake_ra.wait_for_calls(n, AOTW)


def posts_in(fake: FakeDiscord, channels: Iterable[int]) -> list[dict[str, Any]]:
    return [m for c in channels for m in fake.channel_messages.get(c, [])]


def is_post(request: Any, channel: int | None = None) -> bool:
    path = re.fullmatch(r"/channels/(\d+)/messages", request.path)
    return bool(request.method == "POST" and path) and (channel is None or path[1] == str(channel))


async def test_an_award_is_announced_once_in_the_feeds_channel(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    older_site_awards(fake_ra)
    channel = fake_discord.channel_ids[fake_discord.guild_ids[0]]
    bot: BotProcess = await spawn_bot(**FEED)
    await command(fake_discord, "link", opt("username", "MaxMilyin"))
    answer = await command(fake_discord, "feed set", opt("channel", channel, 7))
    assert answer["ephemeral"] and f"announced in <#{channel}>" in answer["content"], answer

    await polls(fake_ra, 1)
    fake_ra.add_award("MaxMilyin", 1, "mastered")
    (post,) = await fake_discord.wait_channel_messages(channel, 1, timeout=30)
    embed = post["embeds"][0]
    assert embed["title"] == "👑 Mastered in hardcore"
    assert "**owner0** ([MaxMilyin](" in embed["description"]
    assert "[Sonic the Hedgehog](" in embed["description"]
    assert not post.get("content") and post["allowed_mentions"] == {"parse": []}

    await polls(fake_ra, len(fake_ra.calls(AOTW)) + 2)  # two more rounds, posters included
    assert len(fake_discord.channel_messages[channel]) == 1
    # Not even sent again (the fake, as Discord for a while, would return the same message for
    # the same nonce).
    assert len([r for r in fake_discord.requests if is_post(r, channel)]) == 1
    assert await bot.terminate() == 0


def expire_leases(database: Path) -> int:
    """Pretend the dead process's leases (its claims' 90 s, the poller's 30 s) have run out, as
    after waiting: the next process polls and takes its claims over now (looking in the channel
    before it posts again). The claims taken over, if any."""
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as db:
        db.execute("UPDATE feed_state SET lease_until = ?", (past,))
        return db.execute(
            "UPDATE feed_posts SET claimed_at = ? WHERE status = 'sending'", (past,)
        ).rowcount


def feed_rows(database: Path) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT award_key, status, message_id FROM feed_posts").fetchall()


async def test_a_burst_cut_by_a_crash_is_announced_once_in_all(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    owners = dict(zip(fake_discord.guild_ids, ("MaxMilyin", "Scott", "TestUser"), strict=True))
    await seed(f"sqlite:///{database}", fake_discord, owners, owners)
    older_site_awards(fake_ra)
    # 6, 6 and 13 awards: separate posts in the first two guilds, one summary in the third.
    earners = ["MaxMilyin"] * 6 + ["Scott"] * 6 + ["TestUser"] * 13
    for n in range(len(earners)):
        fake_ra.add_game(1000 + n, f"Quest {n:02}")
    channels = list(fake_discord.channel_ids.values())
    bot: BotProcess = await spawn_bot(**FEED)
    await polls(fake_ra, 1)

    for n, who in enumerate(earners):
        fake_ra.add_award(who, 1000 + n, "beaten-hardcore")
    await fake_discord.wait_for_request(is_post, timeout=30)
    await bot.kill()
    before = len(posts_in(fake_discord, channels))
    taken_over = expire_leases(database)
    bot = await spawn_bot(**FEED)

    for _ in range(300):  # each award posted once the restarted process's first round is done
        statuses = sorted(status for _, status, _ in feed_rows(database))
        if statuses == ["posted"] * 25:
            break
        await asyncio.sleep(0.2)
    # The next poll starts from the cursor saved before the crash: it queues nothing again.
    await polls(fake_ra, len(fake_ra.calls(AOTW)) + 1)
    assert await bot.terminate() == 0

    posts = posts_in(fake_discord, channels)
    text = "\n".join(e.get("description") or "" for p in posts for e in p["embeds"])
    assert [text.count(f"[Quest {n:02}](") for n in range(25)] == [1] * 25, (before, text)
    rows = feed_rows(database)
    assert len({key for key, _, _ in rows}) == 25
    assert {message for _, _, message in rows} == {int(p["id"]) for p in posts}
    assert len(posts) == 6 + 6 + 1, (before, taken_over, [p["embeds"][0]["title"] for p in posts])


async def claims(url: str) -> tuple[dict[str, str], list[str]]:
    """Each posted award's claimant ("host:pid"), by its key; the feeds' problems."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT award_key, claimed_by FROM feed_posts WHERE status = 'posted'"
        )
        problems = await conn.fetch("SELECT problem FROM feeds WHERE problem IS NOT NULL")
    finally:
        await conn.close()
    return {row["award_key"]: row["claimed_by"] for row in rows}, [p["problem"] for p in problems]


async def call_times(fake_ra: FakeRA, endpoint: str, count: int, timeout: float) -> list[float]:
    """When each of the next `count` requests to `endpoint` arrives."""
    times = []
    async with asyncio.timeout(timeout):
        while len(times) < count:
            await fake_ra.wait_for_calls(len(fake_ra.calls(endpoint)) + 1, endpoint)
            times.append(time.monotonic())
    return times


@pytest.mark.parametrize("fake_discord", [(4, 2)], indirect=True)
async def test_two_processes_poll_one_at_a_time_and_post_their_own_guilds(
    spawn_bot: Any,
    fake_discord: FakeDiscord,
    fake_ra: FakeRA,
    pg_database: str,
    shared_redis: str,
    redis_prefix: str,
) -> None:
    shard_of = {g: (g >> 22) % 2 for g in fake_discord.guild_ids}
    guild = {s: next(g for g, owner in shard_of.items() if owner == s) for s in (0, 1)}
    await seed(
        pg_database, fake_discord, {guild[0]: "MaxMilyin", guild[1]: "Scott"}, guild.values()
    )
    older_site_awards(fake_ra)
    settings = {
        "DATABASE_URL": pg_database,
        "REDIS_URL": shared_redis,
        "REDIS_KEY_PREFIX": redis_prefix,
        "SHARD_COUNT": "2",
        **FEED,
    }
    bots: list[BotProcess] = [
        await spawn_bot(wait_ready=False, SHARD_IDS=str(s), **settings) for s in (0, 1)
    ]
    await fake_discord.wait_ready(timeout=60)
    await polls(fake_ra, 1)

    mine = {
        0: fake_ra.add_award("MaxMilyin", 1, "mastered"),
        1: fake_ra.add_award("Scott", 228, "beaten-softcore"),
    }
    channels = [fake_discord.channel_ids[guild[s]] for s in (0, 1)]
    for channel in channels:
        await fake_discord.wait_channel_messages(channel, 1, timeout=30)
    # One poll a round, whoever holds the lease: the awards are asked for every 5 s, not twice.
    times = await call_times(fake_ra, AWARDS, 3, timeout=30)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) > 0.8 * POLL, gaps
    for bot in bots:
        assert await bot.terminate() == 0

    assert [len(fake_discord.channel_messages[c]) for c in channels] == [1, 1]
    claimant, problems = await claims(pg_database)
    assert problems == []
    for s in (0, 1):
        key = f"{mine[s].ulid}:{mine[s].game_id}:{mine[s].kind}:{int(mine[s].at.timestamp())}"
        assert claimant[key].endswith(f":{bots[s].process.pid}"), (s, claimant)


async def test_a_channel_the_bot_cannot_post_in_is_refused_or_kept_as_the_feeds_problem(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    first, other = fake_discord.guild_ids[:2]
    await seed(
        f"sqlite:///{tmp_path}/bot.sqlite3",
        fake_discord,
        {first: "MaxMilyin", other: "Scott"},
        [other],
    )
    older_site_awards(fake_ra)
    bot: BotProcess = await spawn_bot(**FEED)
    locked = await fake_discord.add_channel(
        first, "locked", deny_bot=discord.Permissions(send_messages=True).value
    )
    answer = await command(fake_discord, "feed set", opt("channel", locked, 7), guild_id=first)
    assert answer["ephemeral"], answer
    assert answer["content"] == (
        f"The bot cannot post embeds in <#{locked}>: give it View Channel, Send Messages and "
        "Embed Links there, then try again."
    )
    shown = await command(fake_discord, "feed show", guild_id=first)
    assert shown["content"].startswith("This server has no feed"), shown

    # Set in a channel that is then deleted: its post waits, the other guild's goes out.
    channel = fake_discord.channel_ids[first]
    await command(fake_discord, "feed set", opt("channel", channel, 7), guild_id=first)
    fake_discord.fail_channel(channel, 404)
    await polls(fake_ra, 1)
    fake_ra.add_award("MaxMilyin", 1, "mastered")
    fake_ra.add_award("Scott", 228, "completed")
    await fake_discord.wait_channel_messages(fake_discord.channel_ids[other], 1, timeout=30)
    await fake_discord.wait_for_request(lambda r: is_post(r, channel) and r.status == 404)
    fields: dict[str, str] = {}
    for _ in range(50):  # the refusal is recorded just after Discord answers
        shown = await command(fake_discord, "feed show", guild_id=first)
        fields = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
        if "Last problem posting" in fields:
            break
    assert fields["Last problem posting"].startswith("the channel was deleted"), fields
    assert fields["Queue"] == "1 waiting", fields
    assert channel not in fake_discord.channel_messages
    assert len(fake_discord.channel_messages[fake_discord.channel_ids[other]]) == 1
    assert await bot.terminate() == 0
