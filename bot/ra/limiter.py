"""The one gate every RA request passes: a request rate, a cap on requests in flight, priorities.

RA publishes no limit and answers bursts with 429, and the bot has a single key for every guild, so
the whole process shares one limiter. Requests start at least `1 / rate` seconds apart (no bursts),
at most `max_in_flight` run at once, and a waiting interactive request always goes before waiting
scheduled work. When RA says 429, `back_off()` holds everyone, not just the request that got it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.ra.shared_budget import Budget


class Priority(IntEnum):
    """Lower goes first."""

    INTERACTIVE = 0
    SCHEDULED = 1


_SEQ = itertools.count()
# The ticket of the command a request belongs to: among requests of one priority, those of an
# earlier command go first, so a burst completes commands one by one instead of starting all of
# them and finishing none within their time budget.
command_order: ContextVar[int | None] = ContextVar("ra_command_order", default=None)


def new_ticket() -> int:
    """A place in the queue for a new command (set it in `command_order`)."""
    return next(_SEQ)


class UpstreamLimiter:
    def __init__(
        self,
        rate_per_second: float,
        max_in_flight: int,
        *,
        clock: Callable[[], float] | None = None,
        budget: Budget | None = None,
    ) -> None:
        if rate_per_second <= 0 or max_in_flight < 1:
            raise ValueError("rate_per_second must be > 0 and max_in_flight >= 1")
        self.interval = 1.0 / rate_per_second
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._next_start = 0.0
        self._in_flight = 0
        self._waiters: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        # Seam for a budget shared with other processes (bot.ra.shared_budget): the queue stays
        # here; only its head, once ready locally, asks the budget for a start (one ask at once).
        self.budget = budget
        self._asking: asyncio.Task[None] | None = None

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for *_, fut in self._waiters if not fut.done())

    @asynccontextmanager
    async def slot(self, priority: Priority = Priority.INTERACTIVE) -> AsyncIterator[None]:
        """Wait for a turn, hold it while the request runs, free it after."""
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: Priority = Priority.INTERACTIVE) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        seq = next(_SEQ)
        order = command_order.get()
        heapq.heappush(
            self._waiters, (int(priority), order if order is not None else seq, seq, future)
        )
        self._pump()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Granted just as we were cancelled: give the turn back.
                self.release()
            raise

    def release(self) -> None:
        self._in_flight -= 1
        if self.budget is not None:
            self.budget.release()
        self._pump()

    def next_start_in(self) -> float:
        """Seconds until the limiter may start a request (0: now)."""
        return max(0.0, self._next_start - self._now())

    def back_off(self, seconds: float) -> None:
        """Start nothing for `seconds` (RA said 429, perhaps with Retry-After)."""
        self._next_start = max(self._next_start, self._now() + seconds)
        if self.budget is not None:
            self.budget.back_off(seconds)
        self._pump()

    def _pump(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiters and self._in_flight < self.max_in_flight:
            *_, future = self._waiters[0]
            if future.done():  # cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            now = self._now()
            if now < self._next_start:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self._next_start - now, self._pump)
                return
            if self.budget is not None:
                if self._asking is None:
                    self._asking = asyncio.ensure_future(self._ask(Priority(self._waiters[0][0])))
                return
            heapq.heappop(self._waiters)
            self._in_flight += 1
            self._next_start = max(now, self._next_start) + self.interval
            future.set_result(None)

    async def _ask(self, priority: Priority) -> None:
        """The head is ready here: ask the shared budget, then start the head or wait."""
        assert self.budget is not None
        try:
            wait = await self.budget.acquire(priority)
        except BaseException:
            self._asking = None
            raise
        self._asking = None
        if wait > 0:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(wait, self._pump)
            return
        # A start was granted: it goes to whoever heads the queue now.
        while self._waiters and self._waiters[0][-1].done():
            heapq.heappop(self._waiters)
        if not self._waiters or self._in_flight >= self.max_in_flight:
            self.budget.release()  # nobody left to use it
            self._pump()
            return
        future = heapq.heappop(self._waiters)[-1]
        self._in_flight += 1
        self._next_start = max(self._now(), self._next_start) + self.interval
        future.set_result(None)
        self._pump()
