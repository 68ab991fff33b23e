"""What `/leaderboard schedule` says a schedule costs. Pure: an estimate in, a sentence out."""

from __future__ import annotations

from bot.models.schedule_cost import Estimate
from bot.models.schedule_times import Cadence

_POSTS = {Cadence.HOURLY: "each hour", Cadence.DAILY: "each day", Cadence.WEEKLY: "each week"}


def _calls(n: float) -> str:
    n = round(n)
    return f"{n:,} RA call{'' if n == 1 else 's'}"


def estimate_text(found: Estimate, cadence: Cadence) -> str:
    """One or two sentences: the cost, then a warning when the schedules do not fit."""
    if found.per_post == 0:
        text = (
            "Cost: nothing yet (nobody here has linked an RA account); one RA call per linked "
            f"member {_POSTS[cadence]} once they do."
        )
    else:
        shared = (
            f", {found.shared:,} of them shared with other boards due at the same time"
            if found.shared
            else ""
        )
        text = (
            f"Cost: about {_calls(found.per_post)} a post (one per linked member{shared}), "
            f"{_calls(found.per_day)} a day more for the bot; all scheduled boards together "
            f"need about {_calls(found.all_per_day)} of the {_calls(found.budget_per_day)} a "
            "day the bot can spare for them."
        )
    if found.over_slot:
        text += (
            f"\n⚠️ The boards due at this time need {_calls(found.slot_calls)}, more than the "
            f"bot can spare in one period ({_calls(found.slot_budget)}): some posts will come "
            "late (marked as such). A quieter time or a longer cadence helps."
        )
    if found.over_day:
        text += (
            "\n⚠️ That is more than the bot's RetroAchievements budget allows: posts will come "
            "late (marked as such). A longer cadence or fewer schedules helps; the bot's "
            "operator has been told."
        )
    return text
