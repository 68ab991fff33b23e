"""What /leaderboard schedule says a schedule costs."""

from __future__ import annotations

from bot.formatting.schedule_cost import estimate_text
from bot.models.schedule_cost import Estimate
from bot.models.schedule_times import Cadence


def make(**kw: float) -> Estimate:
    values: dict[str, float] = dict(
        per_post=15, shared=5, per_day=10, all_per_day=1200, budget_per_day=129_600,
        slot_calls=60, slot_budget=5400,
    )
    values.update(kw)
    return Estimate(**values)  # type: ignore[arg-type]


def test_cost_sentence() -> None:
    assert estimate_text(make(), Cadence.DAILY) == (
        "Cost: about 15 RA calls a post (one per linked member, 5 of them shared with other "
        "boards due at the same time), 10 RA calls a day more for the bot; all scheduled boards "
        "together need about 1,200 RA calls of the 129,600 RA calls a day the bot can spare for "
        "them."
    )


def test_one_call_and_nothing_shared() -> None:
    text = estimate_text(make(per_post=1, shared=0, per_day=1), Cadence.DAILY)
    assert text.startswith("Cost: about 1 RA call a post (one per linked member), 1 RA call a day")


def test_warnings() -> None:
    text = estimate_text(make(all_per_day=200_000), Cadence.HOURLY)
    assert "\n⚠️ That is more than the bot's RetroAchievements budget allows" in text
    assert "The boards due at this time" not in text
    text = estimate_text(make(slot_calls=6000), Cadence.HOURLY)
    assert "\n⚠️ The boards due at this time need 6,000 RA calls" in text
