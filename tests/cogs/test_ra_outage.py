"""RA down (every call 503, or hanging): the bot stays responsive, refuses commands early with
"not answering" instead of queueing them, keeps its queue empty, and recovers by itself."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from bot.ra.circuit import CircuitBreaker
from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import FakeFault

NOT_ANSWERING = "RetroAchievements is not answering right now: try again"
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
        min_failures=3, open_seconds=OPEN_SECONDS, max_open_seconds=MAX_OPEN_SECONDS
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
    assert all(a["ephemeral"] and a["content"].startswith(NOT_ANSWERING) for a in first), first
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
    assert all(a["ephemeral"] and a["content"].startswith(NOT_ANSWERING) for a in burst)
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
        assert answer["content"].startswith(NOT_ANSWERING)
        assert time.monotonic() - back < MAX_OPEN_SECONDS + 2.0, "did not recover"
        await asyncio.sleep(0.25)
    assert not circuit.is_open
    assert fields(await harness.answer("status"))["RetroAchievements"] == "ok"


async def test_a_blip_locks_nobody_out(harness: Harness) -> None:
    """One request meets RA failing until its retry budget runs out (503 after 503), then RA is
    healthy; a 429 and a reset come after: the circuit stays closed, every command after it is
    served."""
    harness.ra.fail_next(FakeFault("status", 503), times=3, endpoint="API_GetUserProgress")
    await harness.answer("progress", games="1", user="MaxMilyin")  # served by a retry, or not
    await harness.bot.ra.wait_idle()
    circuit = harness.bot.ra.client.circuit
    assert circuit is not None and not circuit.is_open
    harness.ra.fail_next(FakeFault("status", 429, headers={"Retry-After": "0"}),
                         endpoint="API_GetUserProgress")
    served = await harness.answer("progress", games="1", user="MaxMilyin")
    assert "Sonic" in str(served["embeds"])
    harness.ra.fail_next(FakeFault("reset"), endpoint="API_GetUserProgress")
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert answer["embeds"] and not circuit.is_open


async def test_a_refusal_says_when_to_try_again_as_a_true_discord_timestamp(
    start_bot: Any,
) -> None:
    harness: Harness = await start_bot()
    circuit = CircuitBreaker(min_failures=3, open_seconds=OPEN_SECONDS, max_open_seconds=30)
    harness.bot.ra.client.transport.circuit = circuit
    harness.ra.fail_always(FakeFault("status", 503))
    await harness.answer("progress", games="1", user="MaxMilyin")
    await harness.bot.ra.wait_idle()
    assert circuit.is_open
    answer = await harness.answer("progress", games="2", user="MaxMilyin")
    match = re.search(r"try again <t:(\d+):R>\.$", answer["content"])
    assert answer["ephemeral"] and match is not None, answer["content"]
    promised = int(match.group(1)) - time.time()
    assert 0 <= promised <= OPEN_SECONDS + 1.5
