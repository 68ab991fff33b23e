"""Counters behind /status: RA requests and errors in the last hour, cache hit rate.

Filled by the RA client (each HTTP attempt) and the RA service (each cache look-up); read by the
status cog. Nothing here knows about Discord.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class StatsSnapshot:
    ra_requests: int
    ra_errors: int
    cache_hits: int
    cache_misses: int

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
        self.total_requests = 0

    def ra_request(self, ok: bool) -> None:
        now = self._clock()
        self.total_requests += 1
        self._requests.append(now)
        if not ok:
            self._errors.append(now)

    def cache(self, hit: bool) -> None:
        (self._hits if hit else self._misses).append(self._clock())

    def snapshot(self) -> StatsSnapshot:
        cutoff = self._clock() - WINDOW_SECONDS
        counts = []
        for series in (self._requests, self._errors, self._hits, self._misses):
            while series and series[0] < cutoff:
                series.popleft()
            counts.append(len(series))
        return StatsSnapshot(*counts)
