"""Counters behind /status: RA requests and errors in the last hour, cache hit rate, and how
the RA budget went: interactive vs scheduled requests, requests that waited for their turn
(delayed) or got none in time (refused).

Filled by the RA client (each HTTP attempt, each turn) and the RA service (each cache look-up);
read by the status cog. Nothing here knows about Discord.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 3600.0
# A request that waited at least this long for its turn counts as delayed.
DELAYED_SECONDS = 1.0


@dataclass(frozen=True)
class StatsSnapshot:
    ra_requests: int
    ra_errors: int
    cache_hits: int
    cache_misses: int
    ra_scheduled: int = 0  # of ra_requests, those of scheduled work
    ra_delayed: int = 0  # turns that came DELAYED_SECONDS or more after asking
    ra_refused: int = 0  # requests that got no turn within their time

    @property
    def ra_interactive(self) -> int:
        return self.ra_requests - self.ra_scheduled

    @property
    def cache_hit_rate(self) -> float | None:
        total = self.cache_hits + self.cache_misses
        return self.cache_hits / total if total else None


class Stats:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._requests: deque[float] = deque()
        self._errors: deque[float] = deque()
        self._hits: deque[float] = deque()
        self._misses: deque[float] = deque()
        self._scheduled: deque[float] = deque()
        self._delayed: deque[float] = deque()
        self._refused: deque[float] = deque()
        self.total_requests = 0

    def ra_request(self, ok: bool, scheduled: bool = False) -> None:
        now = self._clock()
        self.total_requests += 1
        self._requests.append(now)
        if not ok:
            self._errors.append(now)
        if scheduled:
            self._scheduled.append(now)

    def ra_turn(self, waited: float) -> None:
        """A request got its turn after `waited` seconds."""
        if waited >= DELAYED_SECONDS:
            self._delayed.append(self._clock())

    def ra_refused(self) -> None:
        """A request got no turn within the time it had."""
        self._refused.append(self._clock())

    def cache(self, hit: bool) -> None:
        (self._hits if hit else self._misses).append(self._clock())

    def snapshot(self) -> StatsSnapshot:
        cutoff = self._clock() - WINDOW_SECONDS
        counts = []
        for series in (
            self._requests,
            self._errors,
            self._hits,
            self._misses,
            self._scheduled,
            self._delayed,
            self._refused,
        ):
            while series and series[0] < cutoff:
                series.popleft()
            counts.append(len(series))
        return StatsSnapshot(*counts)
