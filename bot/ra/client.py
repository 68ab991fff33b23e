"""HTTP client for RA's V1 web API. It knows HTTP and RA's shapes, nothing of Discord.

Every request passes the shared UpstreamLimiter (retries too); 429, 5xx, timeouts and broken
connections are retried with exponential backoff and full jitter, honouring Retry-After, within a
total time budget. The key travels in the query string, so no URL, and no aiohttp exception
(which would carry one), ever leaves this module: failures become the typed errors of
`bot.ra.errors`, whose messages name only the endpoint.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.models.ra import (
    CatalogueGame,
    Console,
    EarnedAchievement,
    GameInfo,
    GameProgress,
    UserProfile,
    compact_icon,
)
from bot.ra.circuit import CircuitBreaker, RANotAnswering
from bot.ra.errors import (
    RABadResponse,
    RAError,
    RAKeyRejected,
    RARateLimited,
    RARequestRejected,
    RAUnavailable,
    RAUnreachable,
    RAUserNotFound,
)
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.stats import Stats

log = logging.getLogger(__name__)

USER_AGENT = "RetroAchievementsDiscordBot/0.1 (discord.py; +https://github.com/)"
_USERNAME = re.compile(r"[A-Za-z0-9]{2,20}")
_ULID = re.compile(r"[0-9A-Za-z]{26}")
MAX_TITLE = 200  # characters of a game title kept (RA's column is 80; more is garbage)
EARNED_PAGE = 500  # API_GetAchievementsEarnedBetween's LIMIT
_PROGRESS_FIELDS = {
    "possible": "NumPossibleAchievements",
    "possible_score": "PossibleScore",
    "achieved": "NumAchieved",
    "score": "ScoreAchieved",
    "achieved_hardcore": "NumAchievedHardcore",
    "score_hardcore": "ScoreAchievedHardcore",
}


def is_valid_ra_user(name: str) -> bool:
    """RA's own rule for `u`: 2–20 letters/digits, or a 26-character ULID. Else it answers 422."""
    return bool(_USERNAME.fullmatch(name) or _ULID.fullmatch(name))


def _int(value: Any, what: str) -> int:
    """RA sends numbers as ints today and as strings on older servers: accept both."""
    if isinstance(value, bool):
        raise RABadResponse(f"{what} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if value is None:
        return 0
    raise RABadResponse(f"{what} is not a number")


def _ra_date(value: Any) -> datetime:
    """RA's `"YYYY-MM-DD HH:MM:SS"`, written in UTC without a zone."""
    if not isinstance(value, str):
        raise RABadResponse("Date is not a date")
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise RABadResponse("Date is not a date") from None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


GameIds = Iterable[int] | Callable[[], Iterable[int]]

# Seconds a request may wait for its turn when the work expects to queue (a leaderboard's
# fan-out: hundreds of calls at the limiter's rate); None: the retry budget covers the wait too,
# so a single command is answered within it.
queue_patience: ContextVar[float | None] = ContextVar("ra_queue_patience", default=None)
# Query parameters, or a function giving them when the request gets its turn.
Params = dict[str, str] | Callable[[], dict[str, str]]


class _Retry(Exception):
    """An attempt failed in a way worth trying again."""

    def __init__(self, error: RAError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


class RAClient:
    """One instance per process, sharing the bot's aiohttp session and limiter."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        limiter: UpstreamLimiter,
        base_url: str = "https://retroachievements.org/API",
        username: str = "",
        timeout: float = 8.0,
        retry_budget: float = 14.0,
        backoff_base: float = 0.5,
        stats: Stats | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self._session = session
        # Refuses requests at once while RA does not answer (bot.ra.circuit).
        self.circuit = circuit
        self._key = api_key
        self._limiter = limiter
        self._base_url = base_url.rstrip("/")
        self._username = username
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._retry_budget = retry_budget
        self._backoff_base = backoff_base
        self._stats = stats
        self._rng = rng or random.Random()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<RAClient base_url={self._base_url!r} key=***>"

    @property
    def limiter(self) -> UpstreamLimiter:
        """The gate this client's requests pass (for /status: the queue's current wait)."""
        return self._limiter

    # -- endpoints -----------------------------------------------------------------------------

    async def get_user_progress(
        self, user: str, game_ids: GameIds, *, priority: Priority = Priority.INTERACTIVE
    ) -> dict[int, GameProgress]:
        """Progress of `user` on every game in one call, keyed by game id, in RA's order.

        `game_ids` may be a function: it is called once, when the limiter gives the request its
        turn, so a batch waiting in the queue can still take more games. An empty dict means RA
        answered `[]`: an unknown user (or no valid ids).
        """
        if callable(game_ids):
            source = game_ids
        else:
            fixed = list(dict.fromkeys(int(i) for i in game_ids if int(i) > 0))
            if not fixed:
                return {}

            def source() -> Iterable[int]:
                return fixed

        chosen: list[dict[str, str]] = []

        def params() -> dict[str, str]:
            if not chosen:  # retries send the same batch
                ids = list(dict.fromkeys(int(i) for i in source() if int(i) > 0))
                chosen.append({"u": user, "i": ",".join(map(str, ids))})
            return chosen[0]

        data = await self._call("API_GetUserProgress", params, priority)
        if isinstance(data, list):
            if data:
                raise RABadResponse("API_GetUserProgress answered a non-empty list")
            return {}
        if not isinstance(data, dict):
            raise RABadResponse("API_GetUserProgress answered neither an object nor []")
        result: dict[int, GameProgress] = {}
        for key, entry in data.items():
            if not isinstance(entry, dict):
                raise RABadResponse("API_GetUserProgress entry is not an object")
            game_id = _int(key, "game id")
            numbers = {
                name: _int(entry.get(field), field) for name, field in _PROGRESS_FIELDS.items()
            }
            result[game_id] = GameProgress(game_id=game_id, **numbers)
        return result

    async def get_game(
        self, game_id: int, *, priority: Priority = Priority.INTERACTIVE
    ) -> GameInfo | None:
        """Title, console and icon of a game; None when RA does not know the id."""
        data = await self._call("API_GetGame", {"i": str(int(game_id))}, priority)
        if isinstance(data, list) and not data:
            return None
        if not isinstance(data, dict):
            raise RABadResponse("API_GetGame answered neither an object nor []")
        title = data.get("Title") or data.get("GameTitle")
        if not isinstance(title, str):
            raise RABadResponse("API_GetGame answered no title")
        console = data.get("ConsoleName") or data.get("Console") or ""
        icon = data.get("ImageIcon") or data.get("GameIcon") or ""
        return GameInfo(
            game_id=int(game_id),
            title=title,
            console=str(console),
            icon_path=str(icon),
        )

    async def get_user_profile(
        self, user: str, *, priority: Priority = Priority.INTERACTIVE
    ) -> UserProfile:
        """An RA account; raises RAUserNotFound when there is none by that name."""
        data = await self._call("API_GetUserProfile", {"u": user}, priority, not_found_user=user)
        if not isinstance(data, dict) or not isinstance(data.get("User"), str):
            raise RABadResponse("API_GetUserProfile answered no user")
        return UserProfile(
            display_name=data["User"],
            ulid=str(data.get("ULID") or ""),
            user_pic_path=str(data.get("UserPic") or ""),
            total_points=_int(data.get("TotalPoints"), "TotalPoints"),
            total_softcore_points=_int(data.get("TotalSoftcorePoints"), "TotalSoftcorePoints"),
        )

    async def get_consoles(self, *, priority: Priority = Priority.SCHEDULED) -> list[Console]:
        """RA's game systems (API_GetConsoleIDs with g=1: no hubs, no events)."""
        data = await self._call("API_GetConsoleIDs", {"g": "1"}, priority)
        if not isinstance(data, list):
            raise RABadResponse("API_GetConsoleIDs answered no list")
        consoles: list[Console] = []
        for entry in data:
            if not isinstance(entry, dict) or entry.get("IsGameSystem") is False:
                continue
            name = entry.get("Name")
            try:
                console_id = _int(entry.get("ID"), "ID")
            except RABadResponse:
                continue
            if console_id > 0 and isinstance(name, str) and name.strip():
                consoles.append(Console(console_id, name.strip()))
        if data and not consoles:
            raise RABadResponse("API_GetConsoleIDs answered no usable console")
        return consoles

    async def get_game_list(
        self, console: Console, *, priority: Priority = Priority.SCHEDULED
    ) -> list[CatalogueGame]:
        """The games of one console that have published achievements (API_GetGameList, f=1).

        Entries that are not games (no id, no title) are left out; a body that is not a list
        is RABadResponse, so a refresh keeps what it had for that console.
        """
        data = await self._call(
            "API_GetGameList", {"i": str(console.console_id), "f": "1"}, priority
        )
        if not isinstance(data, list):
            raise RABadResponse("API_GetGameList answered no list")
        games: dict[int, CatalogueGame] = {}  # a game listed twice is kept once (the first)
        for entry in data:
            if not isinstance(entry, dict):
                continue
            title = entry.get("Title")
            try:
                game_id = _int(entry.get("ID"), "ID")
                achievements = _int(entry.get("NumAchievements"), "NumAchievements")
                points = _int(entry.get("Points"), "Points")
            except RABadResponse:
                continue
            if game_id <= 0 or not isinstance(title, str) or not title.strip():
                continue
            if achievements <= 0 or game_id in games:
                continue  # f=1 leaves games without achievements out; an older server may not
            console_name = entry.get("ConsoleName")
            icon = entry.get("ImageIcon")
            games[game_id] = CatalogueGame(
                game_id=game_id,
                title=title.strip()[:MAX_TITLE],
                console_id=console.console_id,
                console=console_name.strip()
                if isinstance(console_name, str) and console_name.strip()
                else console.name,
                icon=compact_icon(icon) if isinstance(icon, str) else "",
                achievements=achievements,
                points=points,
            )
        return list(games.values())

    async def get_achievements_earned_between(
        self,
        user: str,
        start: int,
        end: int,
        *,
        priority: Priority = Priority.INTERACTIVE,
    ) -> list[EarnedAchievement]:
        """What `user` unlocked from epoch second `start` to `end`, both included, oldest first.

        RA answers at most EARNED_PAGE entries (the earliest); the caller pages by asking again
        from the last date. An unknown user answers `[]`, like one who earned nothing.
        """
        params = {"u": user, "f": str(int(start)), "t": str(int(end))}
        data = await self._call("API_GetAchievementsEarnedBetween", params, priority)
        if not isinstance(data, list):
            raise RABadResponse("API_GetAchievementsEarnedBetween answered no list")
        earned = []
        for entry in data:
            if not isinstance(entry, dict):
                raise RABadResponse("API_GetAchievementsEarnedBetween entry is not an object")
            earned.append(
                EarnedAchievement(
                    achievement_id=_int(entry.get("AchievementID"), "AchievementID"),
                    game_id=_int(entry.get("GameID"), "GameID"),
                    points=_int(entry.get("Points"), "Points"),
                    hardcore=_int(entry.get("HardcoreMode"), "HardcoreMode") == 1,
                    date=_ra_date(entry.get("Date")),
                )
            )
        return earned

    async def check_key(self) -> None:
        """Raise unless RA accepts the key (one cheap call with no parameters)."""
        await self._call("API_GetAchievementOfTheWeek", {}, Priority.INTERACTIVE)

    # -- transport -----------------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        params: Params,
        priority: Priority,
        *,
        not_found_user: str | None = None,
    ) -> Any:
        # [when the retry budget runs out, whether queued work has started it at its turn yet]
        deadline: list[float] = [time.monotonic() + self._retry_budget, 0.0]
        attempt = 0
        failed: RAError | None = None  # what the last attempt met, if it got a turn
        while True:
            no_turn: RARateLimited | None = None
            try:
                return await self._attempt(endpoint, params, priority, not_found_user, deadline)
            except _Retry as retry:
                error, wait = retry.error, retry.retry_after
                failed = error
            except RARateLimited as exc:  # only a wait for a turn raises it directly
                no_turn = exc
            if no_turn is not None:
                # A retry that found no turn in time: what went wrong is what the previous
                # attempt met (RA's host unreachable, 503...), not the queue.
                raise failed if failed is not None else no_turn
            # Out of the except block, so `error` is raised with no __context__: the chain
            # would lead to the aiohttp exception, whose text may hold the URL and the key.
            if wait is None:
                wait = self._rng.uniform(0, self._backoff_base * 2**attempt)
            attempt += 1
            remaining = deadline[0] - time.monotonic()
            if wait > remaining:
                log.warning("giving up after %d attempts: %s", attempt, error)
                raise error
            if self.circuit is not None and self.circuit.is_open:
                raise error  # RA is down: retrying would only queue
            log.info("%s; retry %d in %.1fs", error, attempt, wait)
            await self._sleep(wait)

    async def _attempt(
        self,
        endpoint: str,
        params: Params,
        priority: Priority,
        not_found_user: str | None,
        deadline: list[float],
    ) -> Any:
        url = f"{self._base_url}/{endpoint}.php"
        # Waiting for a turn counts against the budget too, so the caller always gets an answer.
        patience = queue_patience.get()
        asked = time.monotonic()
        if self.circuit is not None:
            self.circuit.before_request()
        try:
            wait = patience if patience is not None else deadline[0] - time.monotonic()
            async with asyncio.timeout(max(0.0, wait)):
                await self._limiter.acquire(priority)
        except TimeoutError:
            if self._stats is not None:
                self._stats.ra_refused()
            raise RARateLimited(
                f"{endpoint}: no turn to ask RA within the time allowed",
                retry_after=self._limiter.next_start_in() or None,
            ) from None
        if self._stats is not None:
            self._stats.ra_turn(time.monotonic() - asked)
        if self.circuit is not None and self.circuit.is_open:
            # It opened (or opened again) while this request waited for its turn: do not ask,
            # unless its pause is over by now.
            try:
                self.circuit.before_request()
            except RANotAnswering:
                self._limiter.release()
                raise
        shown = params() if callable(params) else params
        query = {"y": self._key, **shown}
        if self._username:
            query["z"] = self._username
        if patience is not None:
            # Work that expected to queue: its retry budget starts with its turn.
            # Once: the first turn starts the budget, retries after it spend the same budget.
            if not deadline[1]:
                deadline[0] = max(deadline[0], time.monotonic() + self._retry_budget)
                deadline[1] = 1.0
        failure: RAUnavailable | None = None
        started = time.monotonic()
        status = 0
        try:
            # A late attempt gets only what is left of the budget (but at least a second).
            timeout = aiohttp.ClientTimeout(
                total=min(self._timeout.total or 0, max(1.0, deadline[0] - time.monotonic())),
                connect=self._timeout.connect,
            )
            try:
                async with self._session.get(
                    url,
                    params=query,
                    timeout=timeout,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                ) as response:
                    status = response.status
                    retry_after = _retry_after(response.headers)
                    body = await response.read()
                    content_type = response.content_type
            except TimeoutError:
                failure = RAUnavailable(f"{endpoint}: no answer in time")
            except aiohttp.ClientConnectorError as exc:
                # No connection at all: say which of the two it was, not a class name.
                resolved = not isinstance(exc.os_error, socket.gaierror)
                what = "could not be reached" if resolved else "could not be resolved"
                failure = RAUnreachable(f"{endpoint}: RA's host {what}", resolved=resolved)
            except aiohttp.ClientError as exc:
                # str(exc) may hold the URL, key included: keep only the class name.
                failure = RAUnavailable(f"{endpoint}: connection failed ({type(exc).__name__})")
        finally:
            self._limiter.release()
        log.debug(
            "%s %s -> %s in %.0f ms",
            endpoint,
            shown,  # never `query`: that one holds the key
            failure or status,
            (time.monotonic() - started) * 1000,
        )
        if failure is not None:
            self._record(False, priority)
            self._answered(False)
            # Raised outside the except blocks: no __context__ leads back to the aiohttp error.
            raise _Retry(failure)
        if status == 429:
            self._limiter.back_off(retry_after if retry_after is not None else 1.0)
        try:
            result = self._interpret(
                endpoint, status, content_type, body, retry_after, not_found_user
            )
        except (RAUserNotFound, RARequestRejected):
            self._record(True, priority)  # RA answered as it should: the name is the problem
            self._answered(True)
            raise
        except RAKeyRejected:
            self._record(False, priority)
            self._answered(True)  # an answer all the same
            raise
        except _Retry as retry:
            self._record(False, priority)
            # A 5xx is RA not answering; a 429 is RA answering that it is busy.
            self._answered(not isinstance(retry.error, RAUnavailable))
            raise
        except RAError:
            self._record(False, priority)  # an answer that is not JSON: neither up nor down
            raise
        self._record(True, priority)
        self._answered(True)
        return result

    def _answered(self, answered: bool) -> None:
        if self.circuit is None:
            return
        if answered:
            self.circuit.succeeded()
        else:
            self.circuit.failed()

    def _record(self, ok: bool, priority: Priority) -> None:
        if self._stats is not None:
            self._stats.ra_request(ok, scheduled=priority is Priority.SCHEDULED)

    def _interpret(
        self,
        endpoint: str,
        status: int,
        content_type: str,
        body: bytes,
        retry_after: float | None,
        not_found_user: str | None,
    ) -> Any:
        if status == 429:
            raise _Retry(RARateLimited(f"{endpoint}: RA answered 429", retry_after), retry_after)
        if status >= 500:
            raise _Retry(RAUnavailable(f"{endpoint}: RA answered {status}"), retry_after)
        if status in (401, 403):
            raise RAKeyRejected(f"{endpoint}: RA refused the web API key ({status})")
        if status == 404 and not_found_user is not None:
            raise RAUserNotFound(not_found_user)
        if status == 422:
            raise RARequestRejected(f"{endpoint}: RA refused the request (422)")
        if status != 200:
            raise RABadResponse(f"{endpoint}: unexpected HTTP status {status}")
        if "html" in content_type:
            raise RABadResponse(f"{endpoint}: RA answered an HTML page instead of JSON")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RABadResponse(f"{endpoint}: RA answered malformed JSON") from None
