"""The one gate every RA request passes: a request rate, a cap on requests in flight, fair turns.

RA publishes no limit and answers bursts with 429, and the bot has a single key for every guild, so
the whole process shares one limiter. Requests start at least `1 / rate` seconds apart (no bursts),
at most `max_in_flight` run at once, and a waiting interactive request always goes before waiting
scheduled work. When RA says 429, `back_off()` holds everyone, not just the request that got it.

Turns between commands (a command is the work of one interaction or one scheduled board: the
ticket in `command_order`). Within a priority, each command's requests are ranked by how much of
the budget the command has had so far, in quanta of `QUANTUM` requests, then by ticket:

- a small command (a `/progress`: three requests) is still in its first quantum, so it goes
  before a board's fan-out that has had its first quantum already: it does not wait behind all
  of it;
- commands in the same quantum go in ticket order, so a burst completes commands one by one
  instead of starting all of them and finishing none within their time budget;
- big commands take turns a quantum at a time (two boards progress side by side);
- no starvation: while the commands ahead keep coming, one turn in `SHARE` still goes to the
  command that has had more, so a big board finishes under a steady stream of small commands.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol


class Priority(IntEnum):
    """Lower goes first."""

    INTERACTIVE = 0
    SCHEDULED = 1


# A command's requests count as "small" for this many turns; past it the command takes turns.
QUANTUM = 12
# Under contention, one turn in SHARE goes to the waiting command that has had more.
SHARE = 4

_SEQ = itertools.count()
# The ticket of the command a request belongs to: see the module's docstring.
command_order: ContextVar[int | None] = ContextVar("ra_command_order", default=None)


def new_ticket() -> int:
    """A place in the queue for a new command (set it in `command_order`)."""
    return next(_SEQ)


class Budget(Protocol):
    """What UpstreamLimiter's head asks before it starts, when several processes share the key
    (bot/ra/shared_budget.py answers through Redis)."""

    async def acquire(self, priority: Priority) -> float:
        """0: a start is granted (and a slot held until `release`); else seconds to wait."""

    def release(self) -> None:
        """One request granted by `acquire` has ended."""

    def back_off(self, seconds: float) -> None:
        """RA said 429: nobody starts for `seconds`."""


@dataclass
class _Command:
    """One command's waiting requests and the turns it had, at one priority."""

    ticket: int
    served: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def key(self) -> tuple[int, int]:
        return (self.served // QUANTUM, self.ticket)

    def prune(self) -> bool:
        """Drop requests cancelled while waiting; False when none is left."""
        while self.waiters and self.waiters[0].done():
            self.waiters.popleft()
        return bool(self.waiters)


class _Queue:
    """The waiting requests of one priority, by command."""

    def __init__(self) -> None:
        self.commands: dict[int, _Command] = {}
        self.live = 0  # waiting requests not cancelled
        self.streak = 0  # turns in a row given to a command ahead while one behind waited

    def push(self, ticket: int, future: asyncio.Future[None]) -> None:
        command = self.commands.get(ticket)
        if command is None:
            command = self.commands[ticket] = _Command(ticket)
        command.waiters.append(future)
        self.live += 1

    def pop(self) -> asyncio.Future[None] | None:
        """The next request to start, by the rules of the module's docstring; None if empty."""
        for ticket in [t for t, c in self.commands.items() if not c.prune()]:
            del self.commands[ticket]
        if not self.commands:
            return None
        ranked = sorted(self.commands.values(), key=_Command.key)
        chosen = ranked[0]
        behind = [c for c in ranked[1:] if c.served // QUANTUM > chosen.served // QUANTUM]
        if behind and self.streak >= SHARE - 1:
            chosen = behind[0]
            self.streak = 0
        elif behind:
            self.streak += 1
        else:
            self.streak = 0
        chosen.served += 1
        self.live -= 1
        future = chosen.waiters.popleft()
        if not chosen.waiters:
            del self.commands[chosen.ticket]
        return future


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
        self._queues = {priority: _Queue() for priority in Priority}
        self._timer: asyncio.TimerHandle | None = None
        # When each waiting request asked: the queue's current wait, for /status.
        self._enqueued: dict[asyncio.Future[None], float] = {}
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
        return sum(queue.live for queue in self._queues.values())

    def queue_wait(self) -> float:
        """Seconds the longest-waiting request has waited so far (0: nobody waits)."""
        now = self._now()
        return max((now - at for f, at in self._enqueued.items() if not f.done()), default=0.0)

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
        order = command_order.get()
        queue = self._queues[priority]
        queue.push(order if order is not None else next(_SEQ), future)
        self._pump()
        if future.done():
            return
        self._enqueued[future] = self._now()
        try:
            await future
        except asyncio.CancelledError:
            if future.cancelled():
                queue.live -= 1  # still in the queue: skipped when its turn comes
            elif future.done():
                # Granted just as we were cancelled: give the turn back.
                self.release()
            raise
        finally:
            self._enqueued.pop(future, None)

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

    def _head(self) -> tuple[Priority, _Queue | None]:
        """The queue whose turn it is: the first priority with someone waiting."""
        for priority, queue in self._queues.items():
            if queue.live > 0:
                return priority, queue
        return Priority.INTERACTIVE, None

    def _local_delay(self) -> float | None:
        """May a request start now, as far as this process goes? 0.0: yes; > 0: in that many
        seconds; None: not before a request in flight ends. The one place that decides (with
        the shared budget, when there is one, asked after it)."""
        if self._in_flight >= self.max_in_flight:
            return None
        now = self._now()
        if now < self._next_start:
            return self._next_start - now
        return 0.0

    def _count_start(self) -> None:
        self._in_flight += 1
        self._next_start = max(self._now(), self._next_start) + self.interval

    def _pump(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while True:
            priority, queue = self._head()
            if queue is None:
                return
            delay = self._local_delay()
            if delay is None:
                return
            if delay > 0:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(delay, self._pump)
                return
            if self.budget is not None:
                # Ready here: only now ask the budget shared with the other processes.
                if self._asking is None:
                    self._asking = asyncio.ensure_future(self._ask(priority))
                return
            self._count_start()
            future = queue.pop()
            if future is None:  # cannot happen while `live` is right; never spin on it
                self._in_flight -= 1
                queue.live = 0
                continue
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
        _, queue = self._head()
        future = None
        if queue is not None and self._in_flight < self.max_in_flight:
            future = queue.pop()
            if future is None:  # cannot happen while `live` is right
                queue.live = 0
        if future is None:
            self.budget.release()  # nobody left to use it
            self._pump()
            return
        self._count_start()
        future.set_result(None)
        self._pump()
