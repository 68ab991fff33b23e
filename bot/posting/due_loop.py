"""The loop of a process's posters of due work (scheduled boards, challenges' standings).

Each pass runs what is due, then sleeps until the next run time, a wake-up (something changed),
or MAX_SLEEP at most (another process may have changed things). When the database is down, or a
pass failed, it looks again soon, backing off from 1 s to `retry_max`, so a period that came due
meanwhile is posted within seconds of the database's return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from bot.store.database import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_SLEEP = 300.0  # look again at least this often (schedules another process changed)
STORE_RETRY_MAX = 30.0  # seconds between looks at a database that is down (1, 2, 4... s)


class DueLoop:
    def __init__(self, name: str, clock: Callable[[], datetime]) -> None:
        self.name = name
        self.clock = clock
        self.retry_max = STORE_RETRY_MAX
        self.failed = False  # set by a pass that met a store error: look again soon
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something changed: look again now."""
        self._wake.set()

    async def run_each(
        self,
        items: Iterable[T],
        run_one: Callable[[T], Awaitable[R | None]],
        label: Callable[[T], str],
    ) -> list[R]:
        """Run each due item in turn; what each run returned (None: nothing to report). An item
        whose store calls fail is left for the next pass, which comes soon; the others still
        run."""
        results = []
        for item in items:
            try:
                result = await run_one(item)
            except StoreError as exc:
                log.warning("%s: %s: store unavailable (%s)", self.name, label(item), exc)
                self.failed = True
                continue
            if result is not None:
                results.append(result)
        return results

    async def run_forever(
        self,
        run_due: Callable[[datetime], Awaitable[Any]],
        next_run_at: Callable[[], Awaitable[datetime | None]],
    ) -> None:
        retry = 0.0
        while True:
            self._wake.clear()
            self.failed = False
            next_at: datetime | None = None
            try:
                await run_due(self.clock())
                next_at = await next_run_at()
            except StoreError as exc:
                log.warning("%s: store unavailable (%s); trying again soon", self.name, exc)
                self.failed = True
            except Exception:
                log.exception("%s: a run failed", self.name)
                self.failed = True  # look again soon too, not in MAX_SLEEP
            delay = MAX_SLEEP
            if next_at is not None:
                delay = min(MAX_SLEEP, max(0.0, (next_at - self.clock()).total_seconds()))
            if self.failed:
                retry = min(self.retry_max, max(1.0, retry * 2))
                delay = min(delay, retry)
            else:
                retry = 0.0
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
