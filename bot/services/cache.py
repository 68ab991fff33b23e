"""A TTL cache and single-flight coalescing: the two ways the bot avoids asking RA twice."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


ENTRY_OVERHEAD = 200  # bytes an entry costs beyond its key and value (dict node, tuple, float)


def approx_size(obj: object) -> int:
    """Roughly the bytes `obj` holds: itself and what it refers to (shared objects counted
    each time, so an upper bound). For cache entries: small values, dataclasses, tuples."""
    size = sys.getsizeof(obj)
    if obj is None or isinstance(obj, str | bytes | int | float | bool):
        return size
    if isinstance(obj, tuple | list | set | frozenset):
        return size + sum(approx_size(item) for item in obj)
    if isinstance(obj, dict):
        return size + sum(approx_size(k) + approx_size(v) for k, v in obj.items())
    slots = getattr(type(obj), "__slots__", ())
    if slots:
        return size + sum(approx_size(getattr(obj, name, None)) for name in slots)
    if hasattr(obj, "__dict__"):
        return size + approx_size(vars(obj))
    return size


class TTLCache(Generic[K, V]):
    """Entries expire `ttl` seconds after they were set; past `max_entries`, or past `max_cost`
    bytes (approx_size of key and value, plus ENTRY_OVERHEAD), the oldest go.

    Expired entries at the old end are dropped as new ones come, so a cache whose entries
    expire holds only what is live, not `max_entries` dead ones.
    """

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_cost: int | None = None,
        cost: Callable[[K, V], int] | None = None,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_cost = max_cost
        self._cost = cost or (lambda key, value: approx_size(key) + approx_size(value))
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V, int]] = OrderedDict()
        self.total_cost = 0  # bytes, as estimated, of the entries held

    def get(self, key: K) -> V | None:
        """The live value for `key`, or None."""
        item = self._data.get(key)
        if item is None:
            return None
        expires, value, _ = item
        if expires <= self._clock():
            self.pop(key)
            return None
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def set(self, key: K, value: V, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        self.pop(key)
        if ttl <= 0:
            return  # not stored: an older value must not answer instead
        now = self._clock()
        cost = (self._cost(key, value) + ENTRY_OVERHEAD) if self.max_cost is not None else 0
        self._data[key] = (now + ttl, value, cost)
        self.total_cost += cost
        data = self._data
        while data:
            oldest_key = next(iter(data))
            expires, _, oldest_cost = data[oldest_key]
            over = len(data) > self.max_entries or (
                self.max_cost is not None and self.total_cost > self.max_cost
            )
            if not over and expires > now:
                break
            del data[oldest_key]
            self.total_cost -= oldest_cost

    def values(self) -> list[V]:
        """Every live value (expired ones are skipped, not removed)."""
        now = self._clock()
        return [value for expires, value, _ in self._data.values() if expires > now]

    def pop(self, key: K) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self.total_cost -= item[2]

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
