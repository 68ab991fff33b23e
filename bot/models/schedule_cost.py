"""What scheduled boards cost of the one RA key, and whether they fit in it.

A board costs one progress call per RA player on it per post (game titles are cached for a day).
Boards due at the same time share their calls (the scheduler gathers them: one call per player),
so players are counted once per slot. Scheduled work is counted against `SCHEDULED_SHARE` of the
key's budget, the rest being left for people's commands, which always go first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.models.schedule_times import Cadence

SCHEDULED_SHARE = 0.5
DAY = 86400.0
RUNS_PER_DAY = {Cadence.HOURLY: 24.0, Cadence.DAILY: 1.0, Cadence.WEEKLY: 1 / 7}


@dataclass(frozen=True)
class Planned:
    """A schedule as the budget sees it: when it runs and whose progress it needs."""

    cadence: Cadence
    hour: int
    minute: int
    players: frozenset[str]

    @property
    def slot(self) -> tuple[Cadence, int, int]:
        """Boards with the same slot are due together (hourly ones: at the same minute)."""
        return (self.cadence, 0 if self.cadence is Cadence.HOURLY else self.hour, self.minute)


@dataclass(frozen=True)
class Estimate:
    per_post: int  # progress calls one post of this schedule needs (its players)
    shared: int  # of those, players another board due at the same time needs too
    per_day: float  # what this schedule adds to a day, shared calls counted once
    all_per_day: float  # every schedule together, shared calls counted once
    budget_per_day: float  # the scheduled share of a day of the key
    slot_calls: int  # calls of all the boards due with this one (one per player)
    slot_budget: float  # the scheduled share of this schedule's period

    @property
    def over_day(self) -> bool:
        return self.all_per_day > self.budget_per_day

    @property
    def over_slot(self) -> bool:
        """The boards due together cannot all be served within their period."""
        return self.slot_calls > self.slot_budget

    @property
    def over(self) -> bool:
        return self.over_day or self.over_slot


def _per_day(plans: Iterable[Planned]) -> float:
    players: dict[tuple[Cadence, int, int], set[str]] = {}
    for plan in plans:
        players.setdefault(plan.slot, set()).update(plan.players)
    return sum(len(users) * RUNS_PER_DAY[slot[0]] for slot, users in players.items())


def estimate(
    new: Planned,
    others: Sequence[Planned],
    rate_per_second: float,
    share: float = SCHEDULED_SHARE,
) -> Estimate:
    """The cost of `new` beside the `others` (every other active schedule, any server)."""
    together = [p for p in others if p.slot == new.slot]
    shared_players: set[str] = set().union(*(p.players for p in together))
    all_before = _per_day(others)
    all_after = _per_day([*others, new])
    return Estimate(
        per_post=len(new.players),
        shared=len(new.players & shared_players),
        per_day=all_after - all_before,
        all_per_day=all_after,
        budget_per_day=rate_per_second * DAY * share,
        slot_calls=len(new.players | shared_players),
        slot_budget=rate_per_second * new.cadence.length.total_seconds() * share,
    )
