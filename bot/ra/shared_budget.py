"""The RA budget shared by every process of the bot through Redis, with a fallback share.

Several processes (each running some gateway shards) use one RA key, so the rate, the requests in
flight and the cool-down after a 429 must hold for all of them together. Each process keeps its
own priority queue (bot.ra.limiter); only the head of that queue, once it may start locally, asks
this budget:

- rate: GCRA over Redis's own clock (`TIME`), in one Lua script, so clocks of the machines never
  matter and two processes can never take the same start (spaced `SPARE` wider than 1/rate, so
  each process's own delay between grant and send never shows RA more than the rate a second);
- requests in flight: leases in a sorted set scored by their expiry, so a process that crashed
  with requests in flight frees its slots when the leases expire (`lease_seconds`, longer than
  any request may take);
- the cool-down after a 429 is one key every process checks;
- priority across processes: an interactive head that has to wait marks itself (a key with a
  short expiry), and scheduled heads of every process wait while that mark is there.

When Redis goes away each process keeps to its share of the budget (the rate and the requests in
flight times its shards / SHARD_COUNT), says so once in the log, and checks Redis again every
`RECHECK` seconds. A process that finds Redis back goes on keeping to its share for
`PROBATION` seconds while already counting in Redis, so the processes not yet back (on their
share) and those back (in Redis) never add up to more than the setting; then it uses Redis alone.

The per-guild command budgets stay in each process: a guild's interactions all arrive on one
shard, so on one process.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from bot.ra.limiter import Priority
from bot.redis_link import LinkState, RedisLink

log = logging.getLogger(__name__)

POLL = 0.05  # seconds between asks while every slot is taken (another process frees it)
FULL_WAIT = 1.0  # local wait while this process's share is in flight (a release wakes it)
# Starts are spaced 3% wider than 1/rate: between a grant and its request reaching RA each
# process has its own delay (a few ms, tens under load); over a second's worth of starts the
# spare adds up to 30 ms, which absorbs that much difference between the delays, so RA does
# not see more than the rate in one second. A longer stall of one process's event loop
# can bring its request closer to the next one (tests allow 0.25 s: tests/ra/test_shared_budget).
SPARE = 0.03


# KEYS: tat, leases, cool-down, urgent. ARGV: interval ms, max in flight, lease ms, member,
# priority (0 interactive), poll ms. Returns 0 (granted, lease taken) or the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local priority = tonumber(ARGV[5])
local poll = tonumber(ARGV[6])
local cool = tonumber(redis.call('GET', KEYS[3]) or '0')
if cool > now then
  return math.ceil(cool - now)
end
if priority > 0 then
  local urgent = redis.call('PTTL', KEYS[4])
  if urgent > 0 then
    return urgent
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local wait = 0
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if redis.call('ZCARD', KEYS[2]) >= cap then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  wait = math.max(1, math.min(tonumber(first[2]) - now, poll))
elseif tat > now then
  wait = tat - now
end
if wait > 0 then
  if priority == 0 then
    redis.call('SET', KEYS[4], '1', 'PX', math.ceil(wait) + 250)
  end
  return math.max(1, math.ceil(wait))
end
tat = math.max(tat, now) + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(interval) + 60000)
redis.call('ZADD', KEYS[2], string.format('%.3f', now + lease), ARGV[4])
redis.call('PEXPIRE', KEYS[2], lease * 2)
return 0
"""

# KEYS: cool-down. ARGV: ms. Extends the cool-down to now + ms (never shortens it).
_BACK_OFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ = now + tonumber(ARGV[1])
local cool = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > cool then
  redis.call('SET', KEYS[1], string.format('%.3f', until_), 'PX', math.ceil(tonumber(ARGV[1])))
end
return 0
"""

# KEYS: leases. ARGV: expiry ms from now, members... (leases taken while Redis was away)
_ADOPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], string.format('%.3f', now + tonumber(ARGV[1])), ARGV[i])
end
return 0
"""


class SharedBudget:
    """The RA budget of every process using the same Redis (and key prefix)."""

    def __init__(
        self,
        link: RedisLink,
        *,
        rate_per_second: float,
        max_in_flight: int,
        share: float = 1.0,
        lease_seconds: float = 30.0,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0 or max_in_flight < 1 or not 0 < share <= 1:
            raise ValueError("rate_per_second > 0, max_in_flight >= 1 and 0 < share <= 1")
        self.link = link
        self.interval_ms = 1000.0 / rate_per_second * (1 + SPARE)
        self.max_in_flight = max_in_flight
        self.lease_ms = int(lease_seconds * 1000)
        # The fallback share: rate x share, and as many requests in flight (at least one).
        self.share_interval = (1 + SPARE) / (rate_per_second * share)
        self.share_in_flight = max(1, math.floor(max_in_flight * share))
        self._clock = clock
        self._name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._ids = itertools.count()
        self._held: list[str | None] = []  # lease members held (None: taken while Redis away)
        self._local_next = 0.0
        self._was_local = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keys = [link.key("ra", k) for k in ("tat", "leases", "cooldown", "urgent")]
        self._acquire = link.client.register_script(_ACQUIRE)
        self._back_off = link.client.register_script(_BACK_OFF)
        self._adopt = link.client.register_script(_ADOPT)
        link.on_back.append(self._adopt_local_leases)

    @property
    def held(self) -> int:
        """Requests of this process in flight (granted, not yet released)."""
        return len(self._held)

    @property
    def on_share(self) -> bool:
        """Whether this process is keeping to its share (Redis away, or just back)."""
        return self.link.state is not LinkState.UP

    async def acquire(self, priority: Priority) -> float:
        if self._tasks:  # our own releases first, so their slots count as free
            await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            use_redis = await self.link.usable()
        except Exception:  # never leave the queue's head hanging
            log.exception("shared budget: checking Redis failed")
            use_redis = False
        local = self.link.state is not LinkState.UP
        if local:
            wait = self._local_wait()
            if wait > 0:
                return wait
        elif self._was_local:
            self._was_local = False
        if use_redis:
            member = f"{self._name}:{next(self._ids)}"
            try:
                wait_ms = await self._acquire(
                    keys=self._keys,
                    args=[
                        f"{self.interval_ms:.3f}",
                        self.max_in_flight,
                        self.lease_ms,
                        member,
                        int(priority),
                        int(POLL * 1000),
                    ],
                )
            except self.link.errors as exc:
                self.link.failed(exc)
                return self.acquire_locally()
            except Exception:
                log.exception("shared budget: the acquire script failed")
                return self.acquire_locally()
            if int(wait_ms) > 0:
                return int(wait_ms) / 1000
            self._held.append(member)
            if local:
                self._local_next = max(self._clock(), self._local_next) + self.share_interval
            return 0.0
        return self.acquire_locally()

    def _local_wait(self) -> float:
        if not self._was_local:
            # Just left Redis: another process may have started a request a moment ago.
            self._was_local = True
            self._local_next = max(self._local_next, self._clock() + self.share_interval)
        if len(self._held) >= self.share_in_flight:
            return FULL_WAIT
        return max(0.0, self._local_next - self._clock())

    def acquire_locally(self) -> float:
        """The fallback: this process's share of the rate and of the requests in flight."""
        wait = self._local_wait()
        if wait > 0:
            return wait
        self._local_next = max(self._clock(), self._local_next) + self.share_interval
        self._held.append(None)
        return 0.0

    def release(self) -> None:
        if not self._held:
            return
        # Leases taken while Redis was away first: they count nowhere else.
        member = self._held.pop(self._held.index(None)) if None in self._held else self._held.pop()
        if member is not None and self.link.state is not LinkState.DOWN:
            self._spawn(self._release(member))

    async def _release(self, member: str) -> None:
        try:
            await self.link.client.zrem(self._keys[1], member)
        except self.link.errors as exc:
            self.link.failed(exc)  # the lease expires by itself

    def back_off(self, seconds: float) -> None:
        if self.link.state is LinkState.DOWN:
            return
        self._spawn(self._shared_back_off(seconds))

    async def _shared_back_off(self, seconds: float) -> None:
        try:
            await self._back_off(keys=[self._keys[2]], args=[max(1, int(seconds * 1000))])
        except self.link.errors as exc:
            self.link.failed(exc)

    def _adopt_local_leases(self) -> None:
        """Redis is back: requests started meanwhile are counted there too."""
        count = self._held.count(None)
        if not count:
            return
        members = [f"{self._name}:{next(self._ids)}" for _ in range(count)]
        held: list[str | None] = [m for m in self._held if m is not None]
        held.extend(members)
        self._held = held
        self._spawn(self._adopt_leases(members))

    async def _adopt_leases(self, members: list[str]) -> None:
        try:
            await self._adopt(keys=[self._keys[1]], args=[self.lease_ms, *members])
        except self.link.errors as exc:
            self.link.failed(exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for pending releases (shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
