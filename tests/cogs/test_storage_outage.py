"""PostgreSQL restarting under the running bot: clear answers while it is down, nothing
acknowledged lost, reconnection without a restart, and the scheduler catching up.

The server is a private cluster of this test (tests/fakes/pg_cluster.py), stopped and started
again while the bot runs; the shared test server is never touched.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.database import NOT_ANSWERING
from tests.fakes.bot_harness import Harness
from tests.fakes.pg_cluster import PgCluster

OUTAGE_SECONDS = 4.0  # long enough for the scheduler to find it down a few times


def fields(answer: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in answer["embeds"][0]["fields"]}


async def test_postgresql_restart_while_the_bot_runs(start_bot: Any, pg_cluster: PgCluster) -> None:
    harness: Harness = await start_bot(database_url=pg_cluster.url, schedule_spread_seconds=0)
    harness.bot.scheduler.store_retry_max = 1.0
    fake = harness.discord
    guild = fake.guild_ids[0]
    channel = fake.channel_ids[guild]
    owner, member = fake.member_id(guild, 0), fake.member_id(guild, 1)
    harness.ra.add_user("Scott")

    # Before: acknowledged writes (a link, a schedule).
    assert (await harness.answer("link", username="MaxMilyin"))["embeds"]
    started = datetime.now(UTC) - timedelta(minutes=2)
    created = await fake.send_interaction(
        "leaderboard schedule",
        [
            {"name": "channel", "type": 7, "value": str(channel)},
            {"name": "games", "value": "1"},
            {"name": "every", "value": "daily"},
            {"name": "time", "value": f"{started:%H:%M}"},
        ],
    )
    assert (await created.wait_final())["content"].startswith("Schedule #1: ")
    # Today's period began two minutes ago; its post comes due while the database is down.
    slot = started.replace(second=0, microsecond=0)
    due = datetime.now(UTC) + timedelta(seconds=1)
    await harness.bot.store.schedules.reschedule(1, next_run=slot, run_at=due)

    pg_cluster.stop("fast")
    down_at = time.monotonic()
    harness.bot.scheduler.wake()

    # While it is down: one clear ephemeral sentence, at once, for whatever needs storage.
    for name, options in [
        ("link", {"username": "Scott", "user_id": member}),
        ("gameset create", {"name": "Classics", "games": "1, 2"}),
        ("leaderboard schedules", {}),
    ]:
        answer = await harness.answer(name, **options)
        assert answer["ephemeral"], name
        assert answer["content"] == NOT_ANSWERING, (name, answer)
    status = await harness.answer("status")
    assert fields(status)["Storage"].startswith("⚠️ not answering since <t:")
    assert fake.channel_messages.get(channel, []) == []

    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    pg_cluster.start()
    back_at = time.monotonic()

    # Back: the missed period is posted (once), the bot reconnected by itself.
    (post,) = await fake.wait_channel_messages(channel, 1, timeout=20)
    recovered_in = time.monotonic() - back_at
    assert post["embeds"][0]["footer"]["text"].startswith("Schedule #1 · ")
    assert recovered_in < 10, recovered_in
    answer = await harness.answer("link", username="Scott", user_id=member)
    assert answer["embeds"], answer
    assert fields(await harness.answer("status"))["Storage"] == "ok"

    # Nothing acknowledged was lost; the refused writes were not half-made.
    assert (await harness.bot.store.links.get_link(owner)).ra_name == "MaxMilyin"  # type: ignore[union-attr]
    assert (await harness.bot.store.links.get_link(member)).ra_name == "Scott"  # type: ignore[union-attr]
    assert await harness.bot.store.sets.for_guild(guild) == []
    (schedule,) = await harness.bot.store.schedules.for_guild(guild)
    assert schedule.next_run == slot + timedelta(days=1)
    assert len(fake.channel_messages[channel]) == 1
