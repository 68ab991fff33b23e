"""Estimating what a schedule just made costs (bot.models.schedule_cost), with the players its
guild links today, and telling the operator when the schedules need more than the key spares."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.models.schedule_cost import Estimate, Planned, estimate
from bot.models.schedules import Schedule
from bot.store.links import LinkStore
from bot.store.schedules import ScheduleStore

log = logging.getLogger(__name__)


async def plans_of(links: LinkStore, schedules: Iterable[Schedule]) -> list[Planned]:
    """The schedules with their servers' linked players (one query a server)."""
    players: dict[int, frozenset[str]] = {}
    plans = []
    for schedule in schedules:
        if schedule.guild_id not in players:
            rows = await links.linked_members(schedule.guild_id)
            players[schedule.guild_id] = frozenset(link.ra_ulid for link, _seen in rows)
        plans.append(
            Planned(schedule.cadence, schedule.hour, schedule.minute, players[schedule.guild_id])
        )
    return plans


def log_if_over(found: Estimate, schedule_id: int, guild_id: int) -> None:
    """Tell the operator when the schedules need more than the key can spare."""
    if found.over_day:
        log.warning(
            "scheduled boards need about %.0f RA calls a day, more than the %.0f the key can "
            "spare for them (schedule #%s in %s added %.0f): posts will be late; raise "
            "RA_REQUESTS_PER_SECOND only if RA allows it",
            found.all_per_day, found.budget_per_day, schedule_id, guild_id, found.per_day,
        )
    if found.over_slot:
        log.warning(
            "the boards due with schedule #%s in %s need %d RA calls, more than the %.0f the "
            "key can spare in their period: some will be posted late",
            schedule_id, guild_id, found.slot_calls, found.slot_budget,
        )


async def estimate_schedule(
    links: LinkStore, schedules: ScheduleStore, schedule: Schedule, rate_per_second: float
) -> Estimate:
    """The estimate for a schedule just made, beside every other active one; logged if over."""
    others = [s for s in await schedules.active() if s.id != schedule.id]
    (new,) = await plans_of(links, [schedule])
    found = estimate(new, await plans_of(links, others), rate_per_second)
    log_if_over(found, schedule.id, schedule.guild_id)
    return found
