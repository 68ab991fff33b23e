"""A TTL cache and single-flight coalescing: the two ways the bot avoids asking RA twice."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TTLCache(Generic[K, V]):
    """Entries expire `ttl` seconds after they were set; past `max_entries` the oldest go."""

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The live value for `key`, or None."""
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._data[key]
            return None
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def set(self, key: K, value: V, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        if ttl <= 0:
            self._data.pop(key, None)  # not stored: an older value must not answer instead
            return
        self._data[key] = (self._clock() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def values(self) -> list[V]:
        """Every live value (expired ones are skipped, not removed)."""
        now = self._clock()
        return [value for expires, value in self._data.values() if expires > now]

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class SingleFlight(Generic[K, V]):
    """Identical work in flight at once runs once; every caller gets its result or its error.

    The work runs in its own task, so a caller that gives up (its interaction expired, say) does
    not cancel it for the others.
    """

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def tasks(self) -> set[asyncio.Task[V]]:
        return set(self._tasks.values())

    def running(self, key: K) -> asyncio.Task[V] | None:
        return self._tasks.get(key)

    def start(self, key: K, factory: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        """The task for `key`, started now unless one is already running."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
            task.add_done_callback(lambda t, key=key: self._forget(key, t))  # type: ignore[misc]
        return task

    def share(self, key: K, task: asyncio.Task[V]) -> None:
        """Register an already running task under another key too."""
        if key not in self._tasks:
            self._tasks[key] = task
            task.add_done_callback(lambda t, key=key: self._forget(key, t))  # type: ignore[misc]

    async def run(self, key: K, factory: Callable[[], Awaitable[V]]) -> V:
        return await asyncio.shield(self.start(key, factory))

    def _forget(self, key: K, task: asyncio.Task[V]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved: nobody waiting must not mean a logged warning
