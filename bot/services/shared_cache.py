"""RA answers shared by every process through Redis: a second cache level, and coalescing.

`SharedCacheClient` is the RA client with Redis in front of its three data calls, so RAService
(and its in-process caches and single-flight, the first level) is unchanged: a miss there asks
this client, which looks in Redis first. An answer not in Redis is fetched by one process only: it
takes a lock with an expiry (`lock:<key>`, longer than a request may take with its retries); the
others wait for the lock to go, then read what it stored. A process that died holding a lock
only delays the others until it expires; then one of them fetches.

Progress is stored per (user, game), so overlapping game lists share answers across processes as
they do within one. RAService reads them (`shared_progress`) before it batches, so its batches
stay open while they wait for their turn and only the missing games of a user go to RA, in one
call; one process at a time asks RA about a user.

When Redis is away (bot.redis_link.RedisLink) every call goes straight to RA, through the
in-process caches, and back to Redis once it answers again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bot.models.ra import GameInfo, GameProgress, UserProfile
from bot.ra.client import GameIds, RAClient
from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import Priority
from bot.ra.transport import RATransport
from bot.redis_link import RedisLink
from bot.services.ra import FetchedProgress

log = logging.getLogger(__name__)

NOT_FOUND_TTL = 60.0  # as RAService: a name that does not exist may be registered soon
WAIT_POLL = 0.025  # seconds between looks at another process's lock
ROUNDS = 3  # lock waits before fetching regardless (a lock holder that keeps failing)

# Deletes the lock only if it is still ours (it may have expired and been taken by another).
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SharedCacheClient(RAClient):
    """An RAClient whose answers are shared through Redis with the bot's other processes."""

    def __init__(
        self,
        transport: RATransport,
        *,
        link: RedisLink,
        progress_ttl: float = 120.0,
        game_ttl: float = 86400.0,
        profile_ttl: float = 3600.0,
    ) -> None:
        super().__init__(transport)
        self._link = link
        self._ttl = {"progress": progress_ttl, "game": game_ttl, "profile": profile_ttl}
        # Long enough for a request that waits for its turn and retries; a dead holder's lock
        # only delays the others this long.
        self._lock_ms = int((transport.retry_budget + transport.timeout + 5) * 1000)
        self._unlock = link.client.register_script(_UNLOCK)
        # Answers that missed RAService's own cache: found in Redis (fetched by another process,
        # or by this one before its own cache let them go), or fetched from RA here. Progress
        # counts (user, game) pairs.
        self.shared_hits = 0
        self.shared_misses = 0

    # -- the three data calls -----------------------------------------------------------------

    async def get_game(
        self, game_id: int, *, priority: Priority = Priority.INTERACTIVE
    ) -> GameInfo | None:
        async def fetch() -> tuple[Any, float]:
            info = await RAClient.get_game(self, game_id, priority=priority)
            if info is None:  # an unknown id may become a game: remember it briefly
                return None, self._ttl["progress"]
            return asdict(info), self._ttl["game"]

        data = await self._shared(self._link.key("ra", "game", int(game_id)), fetch)
        return GameInfo(**data) if data is not None else None

    async def get_user_profile(
        self, user: str, *, priority: Priority = Priority.INTERACTIVE
    ) -> UserProfile:
        async def fetch() -> tuple[Any, float]:
            try:
                profile = await RAClient.get_user_profile(self, user, priority=priority)
            except RAUserNotFound:
                return {"missing": True}, NOT_FOUND_TTL
            return asdict(profile), self._ttl["profile"]

        data = await self._shared(self._link.key("ra", "profile", user.lower()), fetch)
        if data.get("missing"):
            raise RAUserNotFound(user)
        return UserProfile(**data)

    async def get_user_progress(
        self, user: str, game_ids: GameIds, *, priority: Priority = Priority.INTERACTIVE
    ) -> dict[int, GameProgress]:
        """RAService asked Redis (`shared_progress`) before batching; this is the RA call for
        what was missing. One process at a time asks RA about a user: the others wait for it,
        take what it stored and ask only for the rest. `game_ids` stays lazy while this process
        holds the lock, so games that join the batch while it waits for its turn still ride."""
        if not await self._link.usable():
            return await RAClient.get_user_progress(self, user, game_ids, priority=priority)
        name = user.lower()
        unknown_key = self._link.key("ra", "progress-unknown", name)
        lock = self._link.key("lock", "progress", name)
        found: dict[int, GameProgress] = {}
        try:
            if await self._link.client.exists(unknown_key):
                self.shared_hits += 1
                return {}
            token = await self._lock(lock)
            if token is None:
                # Another process is asking RA about this user: the batch closes here.
                ids = list(dict.fromkeys(int(i) for i in _ids(game_ids) if int(i) > 0))
                await self._wait_unlocked(lock)
                if await self._link.client.exists(unknown_key):
                    self.shared_hits += 1
                    return {}
                found = {
                    gid: item.progress for gid, item in (await self._read(name, ids)).items()
                }
                self.shared_hits += len(found)
                game_ids = [gid for gid in ids if gid not in found]
                if not game_ids:
                    return found
                token = await self._lock(lock)
        except self._link.errors as exc:
            self._link.failed(exc)
            return await RAClient.get_user_progress(self, user, game_ids, priority=priority)
        try:
            answer = await RAClient.get_user_progress(self, user, game_ids, priority=priority)
            self.shared_misses += max(1, len(answer))
            await self._store_progress(name, answer, unknown_key)
        finally:
            if token is not None:
                await self._release(lock, token)
        if not answer:
            return {}
        return {**found, **answer}

    async def shared_progress(self, name: str, game_ids: list[int]) -> dict[int, FetchedProgress]:
        """What Redis holds of `name`'s progress on these games, with when it was fetched
        (RAService asks this before it batches RA calls)."""
        if not await self._link.usable():
            return {}
        try:
            found = await self._read(name, game_ids)
        except self._link.errors as exc:
            self._link.failed(exc)
            return {}
        self.shared_hits += len(found)
        return found

    async def _read(self, name: str, game_ids: list[int]) -> dict[int, FetchedProgress]:
        keys = [self._link.key("ra", "progress", name, gid) for gid in game_ids]
        values = await self._link.client.mget(keys)
        found: dict[int, FetchedProgress] = {}
        for gid, raw in zip(game_ids, values, strict=True):
            if raw is not None:
                data = json.loads(raw)
                found[gid] = FetchedProgress(
                    GameProgress(**data["progress"]), datetime.fromisoformat(data["at"])
                )
        return found

    # -- Redis ----------------------------------------------------------------------------------

    async def _store_progress(
        self, name: str, answer: dict[int, GameProgress], unknown_key: str
    ) -> None:
        ttl = self._ttl["progress"]
        try:
            if not answer:
                await self._link.client.set(unknown_key, b"1", px=int(NOT_FOUND_TTL * 1000))
                return
            if ttl <= 0:
                return
            at = datetime.now(UTC).isoformat()
            async with self._link.client.pipeline(transaction=False) as pipe:
                for gid, progress in answer.items():
                    pipe.set(
                        self._link.key("ra", "progress", name, gid),
                        json.dumps({"progress": asdict(progress), "at": at}),
                        px=int(ttl * 1000),
                    )
                await pipe.execute()
        except self._link.errors as exc:
            self._link.failed(exc)

    async def _shared(self, key: str, fetch: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        """The value stored at `key`, else fetched (by one process) and stored for its TTL."""
        if not await self._link.usable():
            return (await fetch())[0]
        lock = self._link.key("lock", key)
        token: str | None = None
        try:
            for _ in range(ROUNDS):
                raw = await self._link.client.get(key)
                if raw is not None:
                    self.shared_hits += 1
                    return json.loads(raw)
                token = await self._lock(lock)
                if token is not None:
                    break
                await self._wait_unlocked(lock)
        except self._link.errors as exc:
            self._link.failed(exc)
            return (await fetch())[0]
        self.shared_misses += 1
        try:
            value, ttl = await fetch()
            if ttl > 0:
                try:
                    await self._link.client.set(key, json.dumps(value), px=int(ttl * 1000))
                except self._link.errors as exc:
                    self._link.failed(exc)
            return value
        finally:
            if token is not None:
                await self._release(lock, token)

    async def _lock(self, lock: str) -> str | None:
        token = secrets.token_hex(8)
        taken = await self._link.client.set(lock, token, nx=True, px=self._lock_ms)
        return token if taken else None

    async def _wait_unlocked(self, lock: str) -> None:
        """Until another process's lock is gone (released after storing, or expired). Polled:
        the holder is another process, and the wait is short (one RA request)."""
        for _ in range(int(self._lock_ms / 1000 / WAIT_POLL) + 1):
            if not await self._link.client.exists(lock):
                return
            await asyncio.sleep(WAIT_POLL)

    async def _release(self, lock: str, token: str) -> None:
        try:
            await self._unlock(keys=[lock], args=[token])
        except self._link.errors as exc:
            self._link.failed(exc)  # it expires by itself


def _ids(game_ids: GameIds) -> Iterable[int]:
    return game_ids() if callable(game_ids) else game_ids
