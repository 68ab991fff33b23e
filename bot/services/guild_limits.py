"""Per-guild command budget: a token bucket per guild (per user in DMs).

Only commands that reach RA take a token. A guild gets the operator's default rate; its admins may
lower it (never raise it past the operator's ceiling).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    per_minute: int
    tokens: float
    updated: float


class GuildRateLimited(Exception):
    """The guild's bucket is empty; a token comes back in `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after


class GuildRateLimits:
    def __init__(
        self,
        default_per_minute: int,
        ceiling_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default_per_minute = min(default_per_minute, ceiling_per_minute)
        self.ceiling_per_minute = ceiling_per_minute
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}
        self._overrides: dict[Hashable, int] = {}

    def limit_for(self, key: Hashable) -> int:
        return self._overrides.get(key, self.default_per_minute)

    def set_limit(self, key: Hashable, per_minute: int | None) -> int:
        """Set a guild's own rate (None: back to the default); returns the rate in force."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            # Settle the bucket at the old rate so that changing the rate never refills it.
            now = self._clock()
            bucket.tokens = min(
                float(bucket.per_minute),
                bucket.tokens + (now - bucket.updated) * bucket.per_minute / 60.0,
            )
            bucket.updated = now
        if per_minute is None:
            self._overrides.pop(key, None)
        else:
            self._overrides[key] = max(1, min(per_minute, self.ceiling_per_minute))
        limit = self.limit_for(key)
        if bucket is not None:
            bucket.per_minute = limit
            bucket.tokens = min(bucket.tokens, float(limit))
        return limit

    def take_command(self, guild_id: int | None, user_id: int) -> None:
        """Charge a command to its guild's bucket (to the user's own in direct messages)."""
        self.take(("guild", guild_id) if guild_id is not None else ("user", user_id))

    def set_guild_limit(self, guild_id: int, per_minute: int | None) -> int:
        """A guild's own rate (None: the default); returns the rate in force."""
        return self.set_limit(("guild", guild_id), per_minute)

    def take(self, key: Hashable) -> None:
        """Take one token or raise GuildRateLimited saying when the next one comes."""
        now = self._clock()
        per_minute = self.limit_for(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(per_minute, float(per_minute), now)
            self._prune(now)
        rate = per_minute / 60.0
        bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        raise GuildRateLimited((1.0 - bucket.tokens) / rate)

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely: they hold no information."""
        if len(self._buckets) < 10_000:
            return
        for key, bucket in list(self._buckets.items()):
            if (
                now - bucket.updated
            ) * bucket.per_minute / 60.0 + bucket.tokens >= bucket.per_minute:
                del self._buckets[key]
