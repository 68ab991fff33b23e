"""Gateway trouble with commands in flight: drops (1006, 4000), INVALID_SESSION (op 9) and a
storm of reconnects. Every command still gets its answer, and a scheduled post due meanwhile is
made exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.fake_discord import Interaction
from tests.fakes.bot_harness import Harness

USERS = ["MaxMilyin", "Scott", "TestUser"]


async def test_reconnect_storm_with_commands_in_flight(start_bot: Any) -> None:
    harness: Harness = await start_bot(
        guild_commands_per_minute=60, schedule_spread_seconds=0, ra_retry_budget_seconds=5.0
    )
    fake, ra = harness.discord, harness.ra
    for name in USERS[1:]:
        ra.add_user(name)
    guild = fake.guild_ids[0]
    channel = fake.channel_ids[guild]
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
    await harness.answer("link", username="MaxMilyin")

    ra.response_delay = 0.3  # every command is still waiting on RA when the gateway goes
    in_flight: list[Interaction] = []

    async def burst(n: int) -> None:
        for i in range(n):
            user = USERS[(len(in_flight) + i) % len(USERS)]
            in_flight.append(
                await fake.send_interaction(
                    "progress",
                    [{"name": "games", "value": str(1 + len(in_flight) % 3)},
                     {"name": "user", "value": user}],
                )
            )

    await burst(6)
    await asyncio.gather(*(it.wait_response() for it in in_flight))  # acked, not answered yet
    # The period came due: the scheduler runs it in the middle of the storm.
    slot = started.replace(second=0, microsecond=0)
    await harness.bot.store.schedules.reschedule(1, next_run=slot, run_at=datetime.now(UTC))
    harness.bot.scheduler.wake()

    resumes, identifies = fake.resume_count, fake.identify_count
    for code in (1006, 4000, 1006, 4000):
        await fake.drop_gateway(code)
        await burst(3)  # sent while the bot is away: delivered when it comes back
        resumes += 1
        await fake.wait_resume_count(resumes)
        await fake.wait_ready()
    # op 9: the session cannot be resumed; the bot identifies anew.
    await fake.drop_gateway(4000, resumable=False)
    await burst(3)
    await fake.wait_identify_count(identifies + 1, timeout=30)
    await fake.wait_ready()
    await burst(3)

    finals = await asyncio.gather(*(it.wait_final(timeout=30) for it in in_flight))
    assert len(finals) == 6 + 4 * 3 + 3 + 3
    for final in finals:
        assert not final["ephemeral"], final
        assert final["embeds"] and "Progress on 1 game" == final["embeds"][0]["title"]
    for it in in_flight:
        assert len(it.callbacks) == 1  # acknowledged once, never twice

    (post,) = await fake.wait_channel_messages(channel, 1, timeout=20)
    assert post["embeds"][0]["footer"]["text"].startswith("Schedule #1 · ")
    listing = await harness.answer("leaderboard schedules")
    assert "Last: posted " in listing["embeds"][0]["fields"][0]["value"]
    assert len(fake.channel_messages[channel]) == 1
    assert harness.bot.is_ready() and not harness.bot.is_closed()
