"""Rationed access to RA for the cogs: caches, coalescing, and the one-call-per-user batch.

Cogs ask this service, never the RA client. Progress is cached per (user, game) for a short time,
so overlapping game lists share answers; all of a user's missing games go to RA in one
API_GetUserProgress call; a (user, game) already being fetched is awaited, not asked again.
Game titles/icons and profiles are cached for long.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.ra.client import RAClient
from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import Priority
from bot.ra.models import GameInfo, GameProgress, UserProfile
from bot.services.cache import SingleFlight, TTLCache
from bot.stats import Stats

NOT_FOUND_TTL = 60.0
# Games asked about lately (by anyone) ride along in every progress call for a user, up to
# this many: one call then also answers that user's next commands on the community's games.
HOT_GAMES = 20
MAX_BATCH = 60
# What each cache may hold, in bytes (as bot.services.cache.approx_size counts them): about
# 17,000 progress entries (a user's games, and the hot games riding along), 5,000 profiles,
# 15,000 games with their titles.
PROGRESS_CACHE_BYTES = 12 * 2**20
PROFILE_CACHE_BYTES = 3 * 2**20
GAME_CACHE_BYTES = 8 * 2**20


@dataclass(frozen=True)
class GameEntry:
    """One game of a report: progress plus what RA says the game is (None: unknown id)."""

    game_id: int
    progress: GameProgress
    info: GameInfo | None

    @property
    def unknown(self) -> bool:
        return self.info is None

    @property
    def no_achievements(self) -> bool:
        return self.info is not None and self.progress.possible == 0


@dataclass(frozen=True)
class ProgressReport:
    profile: UserProfile
    games: list[GameEntry]
    fetched_at: datetime  # when the oldest figure in the report came from RA


@dataclass(frozen=True, slots=True)
class FetchedProgress:
    progress: GameProgress
    at: datetime


class RAService:
    def __init__(
        self,
        client: RAClient,
        *,
        stats: Stats | None = None,
        progress_ttl: float = 120.0,
        game_ttl: float = 86400.0,
        profile_ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.stats = stats or Stats()
        # Bounded by what they hold (bytes, estimated), not only by count.
        self._progress: TTLCache[tuple[str, int], FetchedProgress] = TTLCache(
            progress_ttl, 200_000, clock, max_cost=PROGRESS_CACHE_BYTES
        )
        self._games: TTLCache[int, GameInfo | bool] = TTLCache(
            game_ttl, 50_000, clock, max_cost=GAME_CACHE_BYTES
        )
        self._profiles: TTLCache[str, UserProfile | bool] = TTLCache(
            profile_ttl, 50_000, clock, max_cost=PROFILE_CACHE_BYTES
        )
        self._progress_flights: SingleFlight[tuple[str, int], dict[int, FetchedProgress]] = (
            SingleFlight()
        )
        self._game_flights: SingleFlight[int, GameInfo | None] = SingleFlight()
        self._profile_flights: SingleFlight[str, UserProfile] = SingleFlight()
        self._progress_ttl = progress_ttl
        self._hot_games: OrderedDict[int, None] = OrderedDict()
        self._open: dict[str, tuple[list[int], asyncio.Task[dict[int, FetchedProgress]]]] = {}
        self._game_ttl = game_ttl

    async def wait_idle(self) -> None:
        """Wait until no RA work is in flight (shutdown, and tests that need a quiet service)."""
        while True:
            flights = (
                self._progress_flights.tasks()
                | self._game_flights.tasks()
                | self._profile_flights.tasks()
            )
            if not flights:
                return
            await asyncio.wait(flights)

    def _hit(self, hit: bool) -> None:
        self.stats.cache(hit)

    # -- profiles --------------------------------------------------------------------------------

    async def profile(self, user: str, priority: Priority = Priority.INTERACTIVE) -> UserProfile:
        """The RA account `user` (name or ULID); RAUserNotFound if none."""
        key = user.lower()
        cached = self._profiles.get(key)
        self._hit(cached is not None)
        if cached is False:
            raise RAUserNotFound(user)
        if isinstance(cached, UserProfile):
            return cached

        async def fetch() -> UserProfile:
            try:
                profile = await self.client.get_user_profile(user, priority=priority)
            except RAUserNotFound:
                self._profiles.set(key, False, NOT_FOUND_TTL)
                raise
            self._profiles.set(key, profile)
            return profile

        return await self._profile_flights.run(key, fetch)

    # -- progress --------------------------------------------------------------------------------

    async def progress(
        self, user: str, game_ids: Sequence[int], priority: Priority = Priority.INTERACTIVE
    ) -> dict[int, FetchedProgress]:
        """Progress of `user` on `game_ids`, from cache where fresh, else one RA call."""
        key = user.lower()
        if self._profiles.get(key) is False:
            # Known not to exist (profile 404 or progress `[]`, NOT_FOUND_TTL ago at most).
            raise RAUserNotFound(user)
        found: dict[int, FetchedProgress] = {}
        waiting: dict[int, asyncio.Task[dict[int, FetchedProgress]]] = {}
        to_fetch: list[int] = []
        for game_id in game_ids:
            cached = self._progress.get((key, game_id))
            self._hit(cached is not None)
            if cached is not None:
                found[game_id] = cached
            elif (task := self._progress_flights.running((key, game_id))) is not None:
                waiting[game_id] = task
            else:
                to_fetch.append(game_id)
        self._note_hot(game_ids)
        if to_fetch:
            open_batch = self._open.get(key)
            if open_batch is not None and len(open_batch[0]) + len(to_fetch) <= MAX_BATCH:
                # A call for this user is still waiting for its turn: ride in it.
                ids, task = open_batch
                ids.extend(to_fetch)
                for game_id in to_fetch:
                    self._progress_flights.share((key, game_id), task)
                    waiting[game_id] = task
            else:
                ids = list(to_fetch)
                holder: list[asyncio.Task[dict[int, FetchedProgress]]] = []

                def close() -> list[int]:
                    """The limiter gave the turn: the batch closes, hot games ride along."""
                    if (entry := self._open.get(key)) is not None and entry[0] is ids:
                        del self._open[key]
                    riders = self._riders(key, exclude=set(ids))
                    for game_id in riders:
                        self._progress_flights.share((key, game_id), holder[0])
                    return ids + riders

                async def fetch() -> dict[int, FetchedProgress]:
                    try:
                        answer = await self.client.get_user_progress(user, close, priority=priority)
                    finally:
                        if (entry := self._open.get(key)) is not None and entry[0] is ids:
                            del self._open[key]
                    if not answer:
                        self._profiles.set(key, False, NOT_FOUND_TTL)
                        raise RAUserNotFound(user)
                    now = datetime.now(UTC)
                    fetched = {gid: FetchedProgress(p, now) for gid, p in answer.items()}
                    for gid, item in fetched.items():
                        self._progress.set((key, gid), item)
                    return fetched

                task = self._progress_flights.start((key, ids[0]), fetch)
                holder.append(task)
                self._open[key] = (ids, task)
                for game_id in ids[1:]:
                    self._progress_flights.share((key, game_id), task)
                for game_id in ids:
                    waiting[game_id] = task
        for task in set(waiting.values()):
            result = await asyncio.shield(task)
            for game_id, t in waiting.items():
                if t is task and game_id in result:
                    found[game_id] = result[game_id]
        # RA answers every id > 0; an id it left out is treated as unknown.
        now = datetime.now(UTC)
        for game_id in game_ids:
            if game_id not in found:
                found[game_id] = FetchedProgress(GameProgress(game_id, 0, 0, 0, 0, 0, 0), now)
        return found

    def _note_hot(self, game_ids: Sequence[int]) -> None:
        for game_id in game_ids:
            self._hot_games[game_id] = None
            self._hot_games.move_to_end(game_id)
        while len(self._hot_games) > HOT_GAMES:
            self._hot_games.popitem(last=False)

    def _riders(self, key: str, exclude: set[int]) -> list[int]:
        """Hot games this user has no fresh or pending answer for, newest first."""
        riders: list[int] = []
        for game_id in reversed(self._hot_games):
            if len(riders) + len(exclude) >= MAX_BATCH:
                break
            if (
                game_id not in exclude
                and (key, game_id) not in self._progress
                and self._progress_flights.running((key, game_id)) is None
            ):
                riders.append(game_id)
        return riders

    # -- games -------------------------------------------------------------------------------------

    async def game(
        self, game_id: int, priority: Priority = Priority.INTERACTIVE
    ) -> GameInfo | None:
        cached = self._games.get(game_id)
        self._hit(cached is not None)
        if cached is not None:
            return cached if isinstance(cached, GameInfo) else None

        async def fetch() -> GameInfo | None:
            info = await self.client.get_game(game_id, priority=priority)
            # An unknown id may become a game; remember "unknown" only briefly.
            self._games.set(
                game_id,
                info if info is not None else False,
                None if info is not None else self._progress_ttl,
            )
            return info

        return await self._game_flights.run(game_id, fetch)

    def cached_game(self, game_id: int) -> GameInfo | None:
        cached = self._games.get(game_id)
        return cached if isinstance(cached, GameInfo) else None

    def cached_games(self, query: str, limit: int = 25) -> list[GameInfo]:
        """Games already known whose title contains `query` (autocomplete: never asks RA)."""
        key = query.casefold().strip()
        if not key:
            return []
        found = [
            info
            for info in self._games.values()
            if isinstance(info, GameInfo) and key in info.title.casefold()
        ]
        found.sort(key=lambda info: (not info.title.casefold().startswith(key), info.title))
        return found[:limit]

    async def games(
        self, game_ids: Sequence[int], priority: Priority = Priority.INTERACTIVE
    ) -> dict[int, GameInfo | None]:
        infos = await asyncio.gather(*(self.game(gid, priority) for gid in game_ids))
        return dict(zip(game_ids, infos, strict=True))

    # -- the /progress report ----------------------------------------------------------------------

    async def progress_report(
        self, user: str, game_ids: Sequence[int], priority: Priority = Priority.INTERACTIVE
    ) -> ProgressReport:
        """Profile, progress and game info for one user, fetched concurrently."""
        profile, progress, infos = await asyncio.gather(
            self.profile(user, priority),
            self.progress(user, game_ids, priority),
            self.games(game_ids, priority),
        )
        entries = [GameEntry(gid, progress[gid].progress, infos[gid]) for gid in game_ids]
        fetched_at = min(progress[gid].at for gid in game_ids)
        return ProgressReport(profile, entries, fetched_at)
