"""Two real bot processes (`python -m bot`), one shard each, on one fake Discord with two shards,
one PostgreSQL database and one Redis: they behave as one bot.

Each interaction is answered once, by the process that owns its guild's shard (the process's
DEBUG log shows every gateway event it received); commands are synced once; RA never sees more
requests in a second than RA_REQUESTS_PER_SECOND across both; an RA request both processes need
at once is made once; each schedule's period is posted once, by its shard's process.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import pytest_asyncio

from bot.redis_link import RECHECK
from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import FakeRA
from tests.fakes.redis_server import PrivateRedis, free_port
from tests.ra.test_shared_budget import max_in_any_second

pytestmark = pytest.mark.e2e

RATE = 4


@pytest_asyncio.fixture
async def fake_discord() -> Any:
    async with FakeDiscord(guilds=4, shards=2) as fake:
        yield fake


def opt(name: str, value: Any, kind: int | None = None) -> dict[str, Any]:
    option = {"name": name, "value": value}
    if kind is not None:
        option["type"] = kind
    return option


def callbacks(fake: FakeDiscord, it: Interaction) -> int:
    prefix = f"/interactions/{it.id}/"
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.startswith(prefix))


async def test_two_processes_with_a_shard_each_behave_as_one_bot(
    spawn_bot: Any,
    fake_discord: FakeDiscord,
    fake_ra: FakeRA,
    pg_database: str,
    shared_redis: str,
    redis_prefix: str,
) -> None:
    shard_of = {g: (g >> 22) % 2 for g in fake_discord.guild_ids}
    guild = {s: next(g for g, owner in shard_of.items() if owner == s) for s in (0, 1)}
    for n in range(8):
        fake_ra.add_user(f"Player{n}")
        fake_ra.set_progress(f"Player{n}", 1, achieved=n, score=10 * n)
    settings = {
        "DATABASE_URL": pg_database,
        "REDIS_URL": shared_redis,
        "REDIS_KEY_PREFIX": redis_prefix,
        "SHARD_COUNT": "2",
        "RA_REQUESTS_PER_SECOND": str(RATE),
        "RA_MAX_IN_FLIGHT": "3",
        "RA_TIMEOUT_SECONDS": "3",
        "RA_RETRY_BUDGET_SECONDS": "30",
        "SCHEDULE_SPREAD_SECONDS": "0",
    }
    bots: list[BotProcess] = [
        await spawn_bot(wait_ready=False, SHARD_IDS=str(s), **settings) for s in (0, 1)
    ]
    await fake_discord.wait_ready(timeout=60)

    # The same RA request needed by both processes at once is made once.
    fake_ra.response_delay = 0.3
    same = [
        await fake_discord.send_interaction(
            "progress", [opt("games", "228"), opt("user", "Scott")], guild_id=guild[s]
        )
        for s in (0, 1)
    ]
    answers = [await it.wait_final(timeout=30) for it in same]
    assert all("Super Mario World" in str(a["embeds"]) for a in answers), answers
    assert len([c for c in fake_ra.calls("API_GetUserProgress") if c.params["u"] == "Scott"]) == 1
    assert len([c for c in fake_ra.calls("API_GetUserProfile") if c.params["u"] == "Scott"]) == 1
    assert len(fake_ra.calls("API_GetGame")) == 1
    fake_ra.response_delay = 0.0

    # A burst over both shards: RA's rate holds for both processes together.
    burst_from = len(fake_ra.request_times)
    burst = [
        await fake_discord.send_interaction(
            "progress",
            [opt("games", "1"), opt("user", f"Player{n}")],
            guild_id=fake_discord.guild_ids[n % len(fake_discord.guild_ids)],
        )
        for n in range(8)
    ]
    finals = await asyncio.gather(*(it.wait_final(timeout=60) for it in burst))
    assert all(f.get("embeds") for f in finals), finals
    times = fake_ra.request_times[burst_from:]
    assert len(times) >= 16  # a progress call and a profile per player
    assert max_in_any_second(times) <= RATE

    # Each schedule's period is posted once, by the process of its guild's shard.
    minute = (datetime.now(UTC) - timedelta(minutes=2)).minute
    for s in (0, 1):
        answer = await (
            await fake_discord.send_interaction(
                "leaderboard schedule",
                [
                    opt("channel", fake_discord.channel_ids[guild[s]], 7),
                    opt("games", "1"),
                    opt("every", "hourly"),
                    opt("time", f"00:{minute:02}"),
                ],
                guild_id=guild[s],
            )
        ).wait_final(timeout=30)
        assert answer["content"].startswith("Schedule #"), answer
    await back_date_every_schedule(pg_database)
    for s in (0, 1):  # another schedule wakes each process's scheduler
        await (
            await fake_discord.send_interaction(
                "leaderboard schedule",
                [
                    opt("channel", fake_discord.channel_ids[guild[s]], 7),
                    opt("games", "228"),
                    opt("every", "weekly"),
                ],
                guild_id=guild[s],
            )
        ).wait_final(timeout=30)
    for s in (0, 1):
        await fake_discord.wait_channel_messages(fake_discord.channel_ids[guild[s]], 1, timeout=30)
    # A post reaches the channel just before its process marks it posted: give the mark a moment.
    for _ in range(100):
        posted = await posted_periods(pg_database)
        if len(posted) >= 2:
            break
        await asyncio.sleep(0.1)
    assert sorted(posted.values()) == [1, 1], posted

    everything = [*same, *burst]
    for bot in bots:
        assert await bot.terminate() == 0
    logs = [bot.log for bot in bots]
    for it in everything:
        assert callbacks(fake_discord, it) == 1  # answered once
        owner = shard_of[it.guild_id]
        assert str(it.id) in logs[owner] and str(it.id) not in logs[1 - owner]
    for s in (0, 1):
        channel = fake_discord.channel_ids[guild[s]]
        posts = [r for r in fake_discord.requests
                 if r.method == "POST" and r.path == f"/channels/{channel}/messages"]
        assert len(posts) == 1
    syncs = [r for r in fake_discord.requests if r.method == "PUT" and "/commands" in r.path]
    assert len(syncs) == 1
    assert "commands are synced by the process running shard 0" in logs[1]
    assert max_in_any_second(fake_ra.request_times) <= RATE


async def back_date_every_schedule(url: str) -> None:
    """Pretend each schedule's slot of this hour has come: due now, in this period."""
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        for row in await conn.fetch("SELECT id, minute FROM schedules"):
            slot = now.replace(minute=row["minute"], second=0, microsecond=0)
            if slot > now:
                slot -= timedelta(hours=1)
            await conn.execute(
                "UPDATE schedules SET next_run = $1, run_at = $1 WHERE id = $2", slot, row["id"]
            )
    finally:
        await conn.close()


async def posted_periods(url: str) -> dict[int, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT schedule_id, count(*) AS n FROM schedule_posts WHERE status = 'posted'"
            " GROUP BY schedule_id"
        )
    finally:
        await conn.close()
    return {row["schedule_id"]: row["n"] for row in rows}


async def test_when_redis_goes_away_both_processes_keep_answering_and_return(
    spawn_bot: Any,
    fake_discord: FakeDiscord,
    fake_ra: FakeRA,
    pg_database: str,
    private_redis: PrivateRedis,
    redis_prefix: str,
) -> None:
    for n in range(6):
        fake_ra.add_user(f"Player{n}")
    settings = {
        "DATABASE_URL": pg_database,
        "REDIS_URL": private_redis.url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "SHARD_COUNT": "2",
        "RA_REQUESTS_PER_SECOND": str(RATE),
        "RA_RETRY_BUDGET_SECONDS": "30",
    }
    bots: list[BotProcess] = [
        await spawn_bot(wait_ready=False, SHARD_IDS=str(s), **settings) for s in (0, 1)
    ]
    await fake_discord.wait_ready(timeout=60)

    async def progress(players: range) -> list[Any]:
        sent = [
            await fake_discord.send_interaction(
                "progress",
                [opt("games", "1"), opt("user", f"Player{n}")],
                guild_id=fake_discord.guild_ids[n % len(fake_discord.guild_ids)],
            )
            for n in players
        ]
        return list(await asyncio.gather(*(it.wait_final(timeout=60) for it in sent)))

    assert all(f.get("embeds") for f in await progress(range(0, 2)))
    private_redis.stop()
    away_from = len(fake_ra.request_times)
    assert all(f.get("embeds") for f in await progress(range(2, 4)))  # nothing lost
    assert max_in_any_second(fake_ra.request_times[away_from:]) <= RATE
    await private_redis.start()
    # A process looks at a Redis that went away again RECHECK seconds after its last try: a
    # time the bot waits by design, so there is no event to await.
    await asyncio.sleep(RECHECK)
    assert all(f.get("embeds") for f in await progress(range(4, 6)))
    for bot in bots:
        assert await bot.terminate() == 0
    for bot in bots:
        assert bot.log.count("Redis unreachable") == 1, bot.log[-3000:]
    assert any("Redis answers again" in bot.log for bot in bots)
    assert max_in_any_second(fake_ra.request_times) <= RATE


async def test_a_bot_whose_redis_is_not_there_starts_on_its_share(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Any
) -> None:
    bots = [
        await spawn_bot(
            wait_ready=False,
            SHARD_COUNT="2",
            SHARD_IDS=str(s),
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            DATABASE_URL=f"sqlite:///{tmp_path}/bot{s}.sqlite3",
        )
        for s in (0, 1)
    ]
    await fake_discord.wait_ready(timeout=60)
    it = await fake_discord.send_interaction(
        "progress", [opt("games", "1"), opt("user", "MaxMilyin")]
    )
    final = await it.wait_final(timeout=30)
    assert "Sonic the Hedgehog" in str(final["embeds"])
    for bot in bots:
        assert await bot.terminate() == 0
        assert bot.log.count("Redis unreachable") == 1
