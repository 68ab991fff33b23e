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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.models.awards import AchievementOfTheWeek
from bot.models.progress import GameEntry, ProgressReport
from bot.models.ra import EarnedAchievement, GameInfo, GameProgress, UserProfile
from bot.ra.client import EARNED_PAGE, RAClient
from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import Priority, command_order
from bot.ra.transport import queue_patience
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
AOTW_TTL = 60.0  # seconds: the week's earners change as members earn it
GAME_CACHE_BYTES = 8 * 2**20


@dataclass(frozen=True)
class EarnedWindow:
    """A user's unlocks from `start` to `until` (epoch seconds, both included), oldest first."""

    start: int
    until: int
    unlocks: list[EarnedAchievement]
    at: datetime


@dataclass(frozen=True, slots=True)
class FetchedProgress:
    progress: GameProgress
    at: datetime
    stamp: float = 0.0  # the service's clock when RA answered (ages for the staleness rule)


@dataclass(frozen=True)
class _Opener:
    """Who opened a progress call: whether another command may wait for it."""

    priority: Priority
    ticket: int | None
    fan_out: bool  # a board's call, queued behind hundreds of others

    def may_carry(self, priority: Priority, ticket: int | None) -> bool:
        """May a request of (`priority`, `ticket`) wait for this call instead of its own?

        Not for a call of lower priority, and not for one a board queued, unless it is the same
        command's: a `/progress` must not wait for a board's turn (the fair turns of the limiter).
        Scheduled work may wait for any call of its priority or above: it has no one waiting.
        """
        if self.priority > priority:
            return False
        if priority is Priority.SCHEDULED:
            return True
        return not self.fan_out or (ticket is not None and ticket == self.ticket)


class RAService:
    def __init__(
        self,
        client: RAClient,
        *,
        stats: Stats | None = None,
        progress_ttl: float = 120.0,
        game_ttl: float = 86400.0,
        profile_ttl: float = 3600.0,
        scheduled_max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        catalogue: Callable[[int], GameInfo | None] | None = None,
    ) -> None:
        self.client = client
        # RA's catalogue (bot.services.catalogue) names most games: API_GetGame only for the rest.
        self._catalogue = catalogue or (lambda game_id: None)
        self.stats = stats or Stats()
        self._clock = clock
        # Entries live as long as the oldest answer anyone accepts; each caller says how old
        # an answer it takes (interactive: progress_ttl; scheduled boards: scheduled_max_age).
        self.scheduled_max_age = scheduled_max_age
        # Bounded by what they hold (bytes, estimated), not only by count.
        self._progress: TTLCache[tuple[str, int], FetchedProgress] = TTLCache(
            max(progress_ttl, scheduled_max_age), 200_000, clock, max_cost=PROGRESS_CACHE_BYTES
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
        self._openers: dict[asyncio.Task[dict[int, FetchedProgress]], _Opener] = {}
        self._solo = 0  # keys for calls that may not share a running call's key
        self._game_ttl = game_ttl
        # Challenges: (user, window start, window end) -> what was earned up to a time.
        self._earned: TTLCache[tuple[str, int, int], EarnedWindow] = TTLCache(
            progress_ttl, 50_000, clock
        )
        self._earned_flights: SingleFlight[tuple[str, int, int, bool], EarnedWindow] = (
            SingleFlight()
        )
        # The Achievement of the Week: one entry, the same for every guild.
        self._aotw: TTLCache[str, AchievementOfTheWeek | bool] = TTLCache(AOTW_TTL, 1, clock)
        self._aotw_flights: SingleFlight[str, AchievementOfTheWeek | None] = SingleFlight()

    async def wait_idle(self) -> None:
        """Wait until no RA work is in flight (shutdown, and tests that need a quiet service)."""
        while True:
            flights = (
                self._progress_flights.tasks()
                | self._game_flights.tasks()
                | self._profile_flights.tasks()
                | self._earned_flights.tasks()
                | self._aotw_flights.tasks()
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

    # -- the Achievement of the Week -------------------------------------------------------------

    async def achievement_of_the_week(
        self, priority: Priority = Priority.INTERACTIVE
    ) -> AchievementOfTheWeek | None:
        """This week's achievement and its earners (None: none set), one request for every
        guild asking within AOTW_TTL."""
        cached = self._aotw.get("week")
        self._hit(cached is not None)
        if cached is not None:
            return cached if isinstance(cached, AchievementOfTheWeek) else None

        async def fetch() -> AchievementOfTheWeek | None:
            week = await self.client.get_achievement_of_the_week(priority=priority)
            self._aotw.set("week", week if week is not None else False)
            return week

        return await self._aotw_flights.run("week", fetch)

    # -- progress --------------------------------------------------------------------------------

    def _fresh(self, key: str, game_id: int, max_age: float) -> FetchedProgress | None:
        cached = self._progress.get((key, game_id))
        if cached is None or max_age <= 0 or self._clock() - cached.stamp > max_age:
            return None
        return cached

    def max_age_for(self, priority: Priority) -> float:
        """How old an answer a request of `priority` takes from the cache."""
        if priority is Priority.SCHEDULED:
            return max(self._progress_ttl, self.scheduled_max_age)
        return self._progress_ttl

    async def progress(
        self,
        user: str,
        game_ids: Sequence[int],
        priority: Priority = Priority.INTERACTIVE,
        *,
        max_age: float | None = None,
    ) -> dict[int, FetchedProgress]:
        """Progress of `user` on `game_ids`, from cache where fresh, else one RA call.

        Fresh means at most `max_age` seconds old (default: by priority, `max_age_for`).
        """
        shared = getattr(self.client, "shared_progress", None)  # bot.services.shared_cache
        if shared is not None and self._profiles.get(user.lower()) is not False:
            await self._from_shared(shared, user.lower(), game_ids)
        found, waiting = self._ask(user, game_ids, priority, max_age)
        for task in set(waiting.values()):
            result = await asyncio.shield(task)
            for game_id, t in waiting.items():
                if t is task and game_id in result:
                    found[game_id] = result[game_id]
        # RA answers every id > 0; an id it left out is treated as unknown.
        now = datetime.now(UTC)
        for game_id in game_ids:
            if game_id not in found:
                found[game_id] = FetchedProgress(
                    GameProgress(game_id, 0, 0, 0, 0, 0, 0), now, self._clock()
                )
        return found

    def prefetch(
        self, user: str, game_ids: Sequence[int], priority: Priority = Priority.SCHEDULED
    ) -> set[asyncio.Task[dict[int, FetchedProgress]]]:
        """Put the call for `user`'s games that are not fresh in the queue now, without waiting:
        requests made after this one find it under way. Returns the calls to wait for."""
        try:
            _found, waiting = self._ask(user, game_ids, priority, None)
        except RAUserNotFound:
            return set()
        return set(waiting.values())

    def _ask(
        self, user: str, game_ids: Sequence[int], priority: Priority, max_age: float | None
    ) -> tuple[dict[int, FetchedProgress], dict[int, asyncio.Task[dict[int, FetchedProgress]]]]:
        """The fresh answers, and the calls (under way, or opened now) the others come from."""
        key = user.lower()
        if self._profiles.get(key) is False:
            # Known not to exist (profile 404 or progress `[]`, NOT_FOUND_TTL ago at most).
            raise RAUserNotFound(user)
        age = self.max_age_for(priority) if max_age is None else max_age
        ticket = command_order.get()
        found: dict[int, FetchedProgress] = {}
        waiting: dict[int, asyncio.Task[dict[int, FetchedProgress]]] = {}
        to_fetch: list[int] = []
        for game_id in game_ids:
            cached = self._fresh(key, game_id, age)
            self._hit(cached is not None)
            if cached is not None:
                found[game_id] = cached
            elif (task := self._carrier(key, game_id, priority, ticket)) is not None:
                waiting[game_id] = task
            else:
                to_fetch.append(game_id)
        self._note_hot(game_ids)
        if to_fetch:
            open_batch = self._open.get(key)
            if (
                open_batch is not None
                and len(open_batch[0]) + len(to_fetch) <= MAX_BATCH
                and self._openers[open_batch[1]].may_carry(priority, ticket)
            ):
                # A call for this user is still waiting for its turn: ride in it.
                ids, task = open_batch
                ids.extend(to_fetch)
                for game_id in to_fetch:
                    self._progress_flights.share((key, game_id), task)
                    waiting[game_id] = task
            else:
                task = self._open_call(user, key, to_fetch, priority, ticket)
                for game_id in to_fetch:
                    waiting[game_id] = task
        return found, waiting

    def _carrier(
        self, key: str, game_id: int, priority: Priority, ticket: int | None
    ) -> asyncio.Task[dict[int, FetchedProgress]] | None:
        """A running call for (user, game) this request may wait for, if any."""
        task = self._progress_flights.running((key, game_id))
        if task is None:
            return None
        opener = self._openers.get(task)
        return task if opener is None or opener.may_carry(priority, ticket) else None

    def _open_call(
        self, user: str, key: str, ids: list[int], priority: Priority, ticket: int | None
    ) -> asyncio.Task[dict[int, FetchedProgress]]:
        """Start one progress call for `ids`; it stays open for more games until its turn."""
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
            now, stamp = datetime.now(UTC), self._clock()
            fetched = {gid: FetchedProgress(p, now, stamp) for gid, p in answer.items()}
            for gid, item in fetched.items():
                self._progress.set((key, gid), item)
            return fetched

        if self._progress_flights.running((key, ids[0])) is None:
            task = self._progress_flights.start((key, ids[0]), fetch)
        else:  # a call another command may not wait for holds that key: one of its own
            self._solo -= 1
            task = self._progress_flights.start((key, self._solo), fetch)
        holder.append(task)
        self._openers[task] = _Opener(priority, ticket, queue_patience.get() is not None)
        task.add_done_callback(lambda t: self._openers.pop(t, None))
        self._open[key] = (ids, task)
        for game_id in ids:
            self._progress_flights.share((key, game_id), task)
        return task

    async def _from_shared(
        self,
        shared: Callable[[str, list[int]], Awaitable[dict[int, FetchedProgress]]],
        key: str,
        game_ids: Sequence[int],
    ) -> None:
        """Fill the cache from the second level (other processes' answers) before batching."""
        flights = self._progress_flights
        wanted = [
            gid
            for gid in game_ids
            if (key, gid) not in self._progress and flights.running((key, gid)) is None
        ]
        if not wanted:
            return
        now = datetime.now(UTC)
        keep = max(self._progress_ttl, self.scheduled_max_age)
        for gid, item in (await shared(key, wanted)).items():
            age = max(0.0, (now - item.at).total_seconds())
            if age >= keep:
                continue
            # Stamped as old as it is, so the staleness rule (_fresh) ages it from RA's answer.
            aged = FetchedProgress(item.progress, item.at, self._clock() - age)
            self._progress.set((key, gid), aged, keep - age)

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
                and self._fresh(key, game_id, self._progress_ttl) is None
                and self._progress_flights.running((key, game_id)) is None
            ):
                riders.append(game_id)
        return riders

    # -- games -------------------------------------------------------------------------------------

    async def game(
        self, game_id: int, priority: Priority = Priority.INTERACTIVE
    ) -> GameInfo | None:
        """Title, console and icon: from the catalogue, else the cache, else API_GetGame."""
        catalogued = self._catalogue(game_id)
        if catalogued is not None:
            self._hit(True)
            return catalogued
        cached = self._games.get(game_id)
        self._hit(cached is not None)
        if cached is not None:
            return cached if isinstance(cached, GameInfo) else None
        return await self._game_flights.run(game_id, self._game_fetcher(game_id, priority))

    def prefetch_games(
        self, game_ids: Sequence[int], priority: Priority = Priority.SCHEDULED
    ) -> set[asyncio.Task[GameInfo | None]]:
        """Put the calls for the games not cached in the queue now, without waiting."""
        return {
            self._game_flights.start(gid, self._game_fetcher(gid, priority))
            for gid in dict.fromkeys(game_ids)
            if self._games.get(gid) is None
        }

    def _game_fetcher(
        self, game_id: int, priority: Priority
    ) -> Callable[[], Awaitable[GameInfo | None]]:
        async def fetch() -> GameInfo | None:
            info = await self.client.get_game(game_id, priority=priority)
            # An unknown id may become a game; remember "unknown" only briefly.
            self._games.set(
                game_id,
                info if info is not None else False,
                None if info is not None else self._progress_ttl,
            )
            return info

        return fetch

    def cached_game(self, game_id: int) -> GameInfo | None:
        """What the bot knows of a game without asking RA (the catalogue, then the cache)."""
        catalogued = self._catalogue(game_id)
        if catalogued is not None:
            return catalogued
        cached = self._games.get(game_id)
        return cached if isinstance(cached, GameInfo) else None

    def known_titles(self, game_ids: Iterable[int]) -> dict[int, str]:
        """Titles of the games the bot knows without asking RA (for replies naming games)."""
        titles: dict[int, str] = {}
        for game_id in game_ids:
            info = self.cached_game(game_id)
            if info is not None:
                titles[game_id] = info.title
        return titles

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

    # -- challenges: what a user earned in a window ---------------------------------------------

    async def earned_between(
        self,
        user: str,
        start: int,
        until: int,
        end: int,
        priority: Priority = Priority.INTERACTIVE,
    ) -> EarnedWindow:
        """What `user` unlocked from `start` to `until` (epoch seconds, both included) of a
        window that closes at `end`: one API_GetAchievementsEarnedBetween call (more only past
        500 unlocks), cached for the progress time per (user, window) and shared while in flight.
        """
        key = (user.lower(), start, end)
        cached = self._earned.get(key)
        # A running window's figures are reused like progress; the closed window's only once
        # they reach its end (the final standings count up to the last second).
        closed = until >= end
        usable = cached is not None and (not closed or cached.until >= end)
        self._hit(usable)
        if cached is not None and usable:
            return cached

        async def fetch() -> EarnedWindow:
            unlocks: list[EarnedAchievement] = []
            seen: set[tuple[int, bool]] = set()
            since = start
            while True:
                page = await self.client.get_achievements_earned_between(
                    user, since, until, priority=priority
                )
                for unlock in page:
                    if (unlock.achievement_id, unlock.hardcore) not in seen:
                        seen.add((unlock.achievement_id, unlock.hardcore))
                        unlocks.append(unlock)
                if len(page) < EARNED_PAGE:
                    break
                # RA lists the earliest 500: ask again from the last second listed (asked
                # again, so repeats are dropped above).
                last = int(page[-1].date.timestamp())
                since = last if last > since else since + 1
                if since > until:
                    break
            window = EarnedWindow(start, until, unlocks, datetime.now(UTC))
            self._earned.set(key, window)
            return window

        return await self._earned_flights.run((*key, closed), fetch)
