"""The process's one Redis connection (REDIS_URL) and what is known of its health.

Shared by the RA budget (bot/ra/shared_budget.py), the caches (bot/services/shared_cache.py) and
the identify lock (bot/gateway.py), so Redis going away is noticed, and logged, once. redis-py is
imported only when REDIS_URL is set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

RECHECK = 1.0  # seconds between looks at a Redis that went away
PROBATION = 2.5  # seconds a process back on Redis still keeps to its share (> RECHECK)


def redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


class LinkState(Enum):
    UP = "up"
    DOWN = "down"
    PROBATION = "probation"  # back, but still keeping to the share for a while


class RedisLink:
    """The process's one Redis client and what is known of its health (shared by the budget,
    the caches and the identify lock, so Redis going away is noticed and logged once)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "rabot",
        clock: Callable[[], float] = time.monotonic,
        client: Redis | None = None,
    ) -> None:
        if client is None:
            import redis.asyncio as redis  # imported only when REDIS_URL is set

            client = redis.Redis.from_url(
                url,
                socket_timeout=1.0,
                socket_connect_timeout=1.0,
                retry_on_timeout=False,
                decode_responses=False,
            )
        self.client: Redis = client
        self.prefix = prefix
        self.errors = redis_errors()
        self._clock = clock
        self.state = LinkState.UP
        self._retry_at = 0.0
        self._probation_until = 0.0
        self.downs = 0  # how many times Redis went away (tests, /status)
        self.on_back: list[Callable[[], Any]] = []

    def key(self, *parts: object) -> str:
        return ":".join((self.prefix, *map(str, parts)))

    def failed(self, exc: BaseException) -> None:
        """A Redis call failed: use the fallback until Redis answers again."""
        self._retry_at = self._clock() + RECHECK
        if self.state is not LinkState.DOWN:
            self.state = LinkState.DOWN
            self.downs += 1
            log.warning(
                "Redis unreachable (%s): each limit and cache now keeps to this process until"
                " it is back",
                type(exc).__name__,
            )

    async def usable(self) -> bool:
        """Whether to use Redis now (probing it again when it was down and RECHECK passed)."""
        if self.state is LinkState.PROBATION and self._clock() >= self._probation_until:
            self.state = LinkState.UP
            log.info("Redis is back: the RA budget is shared again")
        if self.state is not LinkState.DOWN:
            return True
        if self._clock() < self._retry_at:
            return False
        try:
            await self.client.ping()
        except self.errors as exc:
            self.failed(exc)
            return False
        self.state = LinkState.PROBATION
        self._probation_until = self._clock() + PROBATION
        log.info("Redis answers again; keeping to this process's share for %.1fs", PROBATION)
        for callback in self.on_back:
            callback()
        return True

    async def probe(self) -> bool:
        """Ask Redis now (start-up): whether it answers; if not, the fallback begins."""
        try:
            await self.client.ping()
        except self.errors as exc:
            self.failed(exc)
            return False
        return True

    async def close(self) -> None:
        try:
            await self.client.aclose()
        except self.errors:
            pass
