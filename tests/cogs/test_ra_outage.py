"""RA down (every call 503, or hanging): the bot stays responsive, refuses commands early with
"not answering" instead of queueing them, keeps its queue empty, and recovers by itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.ra.circuit import CircuitBreaker
from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import FakeFault

NOT_ANSWERING = "RetroAchievements is not answering right now: try again in a few minutes."
# Long enough that the burst below meets the circuit open, not yet asking RA again.
OPEN_SECONDS, MAX_OPEN_SECONDS = 3.0, 6.0


def fields(answer: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in answer["embeds"][0]["fields"]}


@pytest.mark.parametrize("fault", [FakeFault("status", 503), FakeFault("hang")])
async def test_ra_down_refuses_early_and_recovers(start_bot: Any, fault: FakeFault) -> None:
    harness: Harness = await start_bot(
        guild_commands_per_minute=1000, guild_commands_per_minute_max=1000
    )
    circuit = CircuitBreaker(
        failures=3, open_seconds=OPEN_SECONDS, max_open_seconds=MAX_OPEN_SECONDS
    )
    harness.bot.ra.client.transport.circuit = circuit
    ra = harness.ra
    ra.add_user("Scott")
    assert (await harness.answer("progress", games="1", user="MaxMilyin"))["embeds"]

    ra.fail_always(fault)
    # The first commands meet RA down (each within its retry budget) and open the circuit.
    first = await asyncio.gather(
        *(harness.answer("progress", games=str(g), user="Scott") for g in (2, 3, 4))
    )
    assert all(a["ephemeral"] and a["content"] == NOT_ANSWERING for a in first), first
    # A command is answered at its first failed request; its others may still be failing.
    await harness.bot.ra.wait_idle()
    assert circuit.is_open
    asked = len(ra.requests)

    # A burst meanwhile: every command answered at once, none queued, RA not asked.
    start = time.monotonic()
    burst = await asyncio.gather(
        *(harness.answer("progress", games=str(g), user="Scott") for g in range(10, 50))
    )
    took = time.monotonic() - start
    assert all(a["ephemeral"] and a["content"] == NOT_ANSWERING for a in burst)
    assert took < 3.0, took  # well under one retry budget (1.5 s) per command in a row
    assert len(ra.requests) - asked <= 2  # at most a probe or two
    assert harness.bot.ra.client.limiter.waiting == 0
    status = await harness.answer("status")
    assert fields(status)["RetroAchievements"].startswith("⚠️ not answering since <t:")

    # RA is back: a command gets through within the longest pause (plus a probe).
    ra.fail_always(None)
    back = time.monotonic()
    while True:
        answer = await harness.answer("progress", games="5", user="MaxMilyin")
        if answer.get("embeds"):
            break
        assert answer["content"] == NOT_ANSWERING
        assert time.monotonic() - back < MAX_OPEN_SECONDS + 2.0, "did not recover"
        await asyncio.sleep(0.25)
    assert not circuit.is_open
    assert fields(await harness.answer("status"))["RetroAchievements"] == "ok"
