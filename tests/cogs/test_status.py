"""/status: figures come from the service layer's counters."""

from __future__ import annotations

from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import FakeFault


def fields(answer: dict[str, object]) -> dict[str, str]:
    (embed,) = answer["embeds"]  # type: ignore[misc]
    return {f["name"]: f["value"] for f in embed["fields"]}


async def test_status_counts_ra_requests_errors_and_cache_hits(harness: Harness) -> None:
    answer = await harness.answer("status")
    assert answer["ephemeral"]
    before = fields(answer)
    assert before["Servers"] == "2"
    assert before["RA requests (last hour)"] == "0"
    assert before["Cache hit rate (last hour)"] == "no look-ups yet"
    assert before["Gateway latency"].endswith("ms") or before["Gateway latency"] == "not connected"

    harness.ra.fail_next(FakeFault("status", 500))
    await harness.answer("progress", games="1", user="MaxMilyin")  # 3 requests + 1 retried
    await harness.answer("progress", games="1", user="MaxMilyin")  # all from cache

    after = fields(await harness.answer("status"))
    assert after["RA requests (last hour)"] == "4"
    assert after["RA errors (last hour)"] == "1"
    assert after["Cache hit rate (last hour)"] == "50%"
    assert len(harness.ra.requests) == 4


async def test_status_shows_the_budget_split_and_the_queue(harness: Harness) -> None:
    stats = harness.bot.stats
    stats.ra_request(True, scheduled=True)
    stats.ra_turn(0.2)  # a normal turn
    stats.ra_turn(2.5)  # a delayed one
    stats.ra_refused()
    await harness.answer("progress", games="1", user="MaxMilyin")  # 3 interactive requests
    values = fields(await harness.answer("status"))
    per_hour = f"{round(3600 * harness.bot.settings.ra_requests_per_second):,}"
    assert values["RA budget (last hour)"].startswith(f"4 of {per_hour} (")
    assert values["RA budget (last hour)"].endswith(": 3 interactive, 1 scheduled")
    assert values["Waited for a turn (last hour)"] == "1 delayed 1 s or more, 1 refused"
    assert values["RA queue now"] == "empty"
