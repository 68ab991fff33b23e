"""An in-process fake of the RetroAchievements V1 web API, served over real HTTP.

The fake follows /work/shared/reference/ra-api.md: the ``y`` key check (401), the ``u``
validation (422), ``[]`` for unknown users/games, the 404 of API_GetUserProfile, the
six progress fields of API_GetUserProgress, and the site's feed: API_GetRecentGameAwards (paged,
newest first, ``d``/``k`` filters, 422 on a future day or a negative offset) and
API_GetAchievementOfTheWeek (set, cleared, earned while tests run). Faults (status codes,
hangs, broken bodies, dropped connections) can be queued per endpoint to exercise the client's
error handling.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import EllipsisType, TracebackType
from typing import Any, Literal

from aiohttp import web

__all__ = [
    "AWARD_KINDS",
    "FAKE_RA_KEY",
    "FakeAotw",
    "FakeAotwUnlock",
    "FakeAward",
    "FakeFault",
    "FakeGame",
    "FakeRA",
    "FakeUnlock",
    "FakeUser",
    "FaultKind",
    "RecordedRequest",
    "fake_ulid",
]

FAKE_RA_KEY = "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya"
"""Default web API key of the fake (32 letters and digits, like a real RA key)."""

FaultKind = Literal["status", "hang", "malformed_json", "html", "reset"]

UNAUTHENTICATED_BODY = (
    '{"message":"Unauthenticated.","errors":'
    '[{"status":"401","code":"unauthorized","title":"Unauthenticated."}]}'
)
MALFORMED_JSON_BODY = '{"1": {"NumPossib'
CLOUDFLARE_HTML = (
    "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>Just a moment...</title>"
    '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>'
    "<body><h1>retroachievements.org</h1><p>Checking if the site connection is secure</p>"
    '<div class="cf-footer">Performance &amp; security by Cloudflare</div></body></html>\n'
)

PROGRESS_KEYS = (
    "NumPossibleAchievements",
    "PossibleScore",
    "NumAchieved",
    "ScoreAchieved",
    "NumAchievedHardcore",
    "ScoreAchievedHardcore",
)

# RA's game award kinds, in the order its docs list them.
AWARD_KINDS = ("beaten-softcore", "beaten-hardcore", "completed", "mastered")
AWARDS_DEFAULT_COUNT = 25
AWARDS_MAX_COUNT = 100
AOTW_MAX_UNLOCKS = 500

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_RE = re.compile(r"^[0-9A-Za-z]{26}$")
_PHP_NUMERIC_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def fake_ulid(username: str) -> str:
    """Return a deterministic 26-char uppercase Crockford base32 ULID for ``username``."""
    digest = int.from_bytes(hashlib.sha256(username.lower().encode()).digest()[:16], "big")
    chars = [_CROCKFORD[(digest >> (5 * k)) & 31] for k in range(24)]
    return "01" + "".join(chars)  # "01" keeps the timestamp part plausible (2020s)


@dataclass
class FakeUser:
    """An RA account."""

    username: str
    display_name: str | None = None
    ulid: str = ""
    total_points: int = 0
    total_softcore_points: int = 0

    def __post_init__(self) -> None:
        if self.display_name is None:
            self.display_name = self.username
        if not self.ulid:
            self.ulid = fake_ulid(self.username)


@dataclass
class FakeGame:
    """A game with published achievements."""

    id: int
    title: str
    console: str = "Game Boy"
    console_id: int = 4
    icon: str = "/Images/000001.png"
    num_achievements: int = 10
    points: int = 100


@dataclass
class FakeUnlock:
    """One achievement a user unlocked: RA keeps one row per user and achievement, dated by
    the hardcore unlock when there is one (``unlocked_effective_at``)."""

    username: str
    achievement_id: int
    game_id: int
    points: int
    hardcore: bool
    at: datetime


@dataclass
class FakeAward:
    """A game award of the site (API_GetRecentGameAwards' row)."""

    user: str  # the display name
    ulid: str
    kind: str  # one of AWARD_KINDS (anything else plays a newer RA's kind)
    at: datetime  # UTC
    game_id: int
    title: str | None  # None: the game was deleted (its console is then null too)
    console_id: int
    console: str
    seq: int = 0  # order of adding: among awards of the same second, the later one is listed first


@dataclass
class FakeAotwUnlock:
    """Someone who earned the Achievement of the Week."""

    user: str  # the display name
    ulid: str
    hardcore: bool
    at: datetime  # UTC
    points: int = 0  # the earner's RAPoints / RASoftcorePoints
    softcore_points: int = 0


@dataclass
class FakeAotw:
    """The Achievement of the Week and its earners (all of them: those before ``starts_at`` count
    in ``UnlocksCount`` but are not listed, as in RA)."""

    achievement_id: int
    title: str
    description: str = "Do the thing"
    points: int = 10
    true_ratio: int = 14
    badge_name: str = "00000"
    game_id: int = 1
    game_title: str = "Game 1"
    console_id: int = 1
    console: str = "Genesis/Mega Drive"
    starts_at: datetime | None = None
    total_players: int = 0
    forum_topic_id: int | None = None
    unlocks: list[FakeAotwUnlock] = field(default_factory=list)


def _default_aotw() -> FakeAotw:
    return FakeAotw(
        achievement_id=5,
        title="Chaos Emerald",
        description="Collect a Chaos Emerald",
        points=10,
        true_ratio=14,
        badge_name="00005",
        game_id=1,
        game_title="Sonic the Hedgehog",
        console_id=1,
        console="Genesis/Mega Drive",
        starts_at=datetime(2024, 1, 1, tzinfo=UTC),
        total_players=1234,
        forum_topic_id=1001,
    )


@dataclass
class FakeFault:
    """A failure to serve instead of the real answer.

    ``kind``: "status" (``status``/``headers``/``body``), "hang" (no answer until
    ``FakeRA.stop``), "malformed_json" (truncated JSON, 200), "html" (Cloudflare page, 200),
    "reset" (connection closed without any HTTP response).
    """

    kind: FaultKind
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class RecordedRequest:
    """One request as the fake received it (params merge query and form/JSON body)."""

    endpoint: str
    params: dict[str, str]
    method: str
    headers: dict[str, str]


Handler = Callable[[dict[str, str]], Awaitable[web.Response]]


class FakeRA:
    """The fake RA server: seed data with ``add_*``, inject faults, inspect ``requests``."""

    def __init__(self, api_key: str = FAKE_RA_KEY) -> None:
        self.api_key = api_key
        self.users: dict[str, FakeUser] = {}
        self.games: dict[int, FakeGame] = {}
        self.progress: dict[tuple[str, int], tuple[int, int, int, int]] = {}
        self.unlocks: dict[tuple[str, int], FakeUnlock] = {}
        # Servers before 2023-10 (RAWeb PR #1943) listed a hardcore unlock twice, once per mode.
        self.hardcore_listed_twice: bool = False
        self.response_delay: float = 0.0
        # An older server: every number sent as a string; the feed's rows also come without
        # ``ULID`` and the AOTW's ``StartAt`` as ``Y-m-d H:i:s``.
        self.numbers_as_strings: bool = False
        self.awards: list[FakeAward] = []
        self.aotw: FakeAotw | None = _default_aotw()
        self._site_users = 0
        self.requests: list[RecordedRequest] = []
        self.request_times: list[float] = []
        self.max_concurrent: int = 0
        self.in_flight: int = 0
        self._queued: list[tuple[str | None, FakeFault]] = []
        self._always: dict[str | None, FakeFault] = {}
        self._handlers: dict[str, Handler] = {
            "API_GetUserProgress": self._user_progress,
            "API_GetGame": self._game,
            "API_GetUserProfile": self._user_profile,
            "API_GetAchievementOfTheWeek": self._achievement_of_the_week,
            "API_GetAchievementsEarnedBetween": self._earned_between,
            "API_GetConsoleIDs": self._console_ids,
            "API_GetGameList": self._game_list,
            "API_GetRecentGameAwards": self._recent_game_awards,
        }
        # Systems beyond the games' own (hubs and events are not game systems); a console can be
        # hidden from API_GetConsoleIDs to play "a console list missing a console".
        self.consoles: dict[int, str] = {100: "Hubs", 101: "Events"}
        self.hidden_consoles: set[int] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._release = asyncio.Event()
        self._arrived = asyncio.Event()
        self._stopping = False

    # ------------------------------------------------------------------ data

    def add_user(self, username: str, **kw: Any) -> FakeUser:
        """Create (or replace) an account; ``kw`` are FakeUser fields."""
        user = FakeUser(username, **kw)
        self.users[username.lower()] = user
        return user

    def add_game(self, game_id: int, title: str, **kw: Any) -> FakeGame:
        """Create (or replace) a game; ``kw`` are FakeGame fields."""
        game = FakeGame(game_id, title, **kw)
        self.games[game_id] = game
        return game

    def add_console(self, console_id: int, name: str) -> None:
        self.consoles[console_id] = name

    def set_progress(
        self,
        username: str,
        game_id: int,
        *,
        achieved: int,
        score: int,
        achieved_hardcore: int = 0,
        score_hardcore: int = 0,
    ) -> None:
        """Set a user's unlocks on a game (softcore counts include hardcore, as in RA)."""
        self.progress[(username.lower(), game_id)] = (
            achieved,
            score,
            achieved_hardcore,
            score_hardcore,
        )

    def add_unlock(
        self,
        username: str,
        game_id: int,
        achievement_id: int,
        *,
        points: int,
        at: datetime,
        hardcore: bool = True,
    ) -> FakeUnlock:
        """A user unlocks an achievement at ``at`` (UTC); a later hardcore unlock of one held
        in softcore replaces it, as RA's single row per user and achievement does."""
        if at.tzinfo is None:
            raise ValueError("unlock times are UTC-aware")
        unlock = FakeUnlock(username, achievement_id, game_id, points, hardcore, at)
        self.unlocks[(username.lower(), achievement_id)] = unlock
        return unlock

    def add_award(
        self,
        user: str,
        game_id: int,
        kind: str,
        *,
        at: datetime | None = None,
        title: str | EllipsisType | None = ...,
        console_id: int | None = None,
        console: str | None = None,
        ulid: str | None = None,
    ) -> FakeAward:
        """A site award (``kind`` one of AWARD_KINDS, an AwardKind works too) at ``at`` (UTC,
        default now). ``user`` is an account of the fake (its display name and ULID are used)
        or anyone (ULID ``fake_ulid(user)``); the title and console default to the fake's game,
        ``title=None`` is a deleted game."""
        if at is None:
            at = datetime.now(UTC)
        if at.tzinfo is None:
            raise ValueError("award times are UTC-aware")
        account = self.find_user(user)
        game = self.games.get(game_id)
        award = FakeAward(
            user=(account.display_name or account.username) if account else user,
            ulid=ulid if ulid is not None else account.ulid if account else fake_ulid(user),
            kind=str(kind),
            at=at.astimezone(UTC),
            game_id=game_id,
            title=(game.title if game else f"Game {game_id}") if title is ... else title,
            console_id=console_id if console_id is not None else game.console_id if game else 1,
            console=console if console is not None else game.console if game else "Genesis",
            seq=len(self.awards),
        )
        self.awards.append(award)
        return award

    def add_site_awards(
        self, n: int, start: datetime, every_seconds: float = 60.0
    ) -> list[FakeAward]:
        """``n`` awards of other players (``Player1``, ``Player2``... never an account of the
        fake), the first at ``start`` and one every ``every_seconds`` after it; kinds and the
        fake's games in turn."""
        games = sorted(self.games) or [1]
        added = []
        for i in range(n):
            self._site_users += 1
            name = f"Player{self._site_users}"
            added.append(
                self.add_award(
                    name,
                    games[i % len(games)],
                    AWARD_KINDS[i % len(AWARD_KINDS)],
                    at=start + timedelta(seconds=every_seconds * i),
                    ulid=fake_ulid(f"site:{name}"),
                )
            )
        return added

    def set_aotw(
        self,
        achievement_id: int,
        title: str,
        *,
        game_id: int,
        starts_at: datetime | None,
        description: str = "Do the thing",
        points: int = 10,
        badge_name: str | None = None,
        game_title: str | None = None,
        console_id: int | None = None,
        console: str | None = None,
        total_players: int = 100,
        forum_topic_id: int | None = None,
    ) -> FakeAotw:
        """A new Achievement of the Week (its earners start empty). The game's title and console
        default to the fake's game."""
        if starts_at is not None and starts_at.tzinfo is None:
            raise ValueError("starts_at is UTC-aware")
        game = self.games.get(game_id)
        self.aotw = FakeAotw(
            achievement_id=achievement_id,
            title=title,
            description=description,
            points=points,
            true_ratio=points * 2,
            badge_name=badge_name if badge_name is not None else f"{achievement_id:05d}",
            game_id=game_id,
            game_title=game_title or (game.title if game else f"Game {game_id}"),
            console_id=console_id if console_id is not None else game.console_id if game else 1,
            console=console or (game.console if game else "Genesis/Mega Drive"),
            starts_at=starts_at.astimezone(UTC) if starts_at is not None else None,
            total_players=total_players,
            forum_topic_id=forum_topic_id,
        )
        return self.aotw

    def clear_aotw(self) -> None:
        """No Achievement of the Week set (RA's ``{"Achievement": {"ID": null}, ...}``)."""
        self.aotw = None

    def add_aotw_unlock(
        self, user: str, hardcore: bool = True, at: datetime | None = None
    ) -> FakeAotwUnlock:
        """``user`` earns the Achievement of the Week at ``at`` (UTC, default now); an account
        of the fake lends its display name, ULID and points."""
        if self.aotw is None:
            raise RuntimeError("no Achievement of the Week is set")
        if at is None:
            at = datetime.now(UTC)
        if at.tzinfo is None:
            raise ValueError("unlock times are UTC-aware")
        account = self.find_user(user)
        unlock = FakeAotwUnlock(
            user=(account.display_name or account.username) if account else user,
            ulid=account.ulid if account else fake_ulid(user),
            hardcore=hardcore,
            at=at.astimezone(UTC),
            points=account.total_points if account else 0,
            softcore_points=account.total_softcore_points if account else 0,
        )
        self.aotw.unlocks.append(unlock)
        return unlock

    def find_user(self, u: str) -> FakeUser | None:
        """Resolve ``u`` like RA: username or display name (case-insensitive), or ULID."""
        key = u.lower()
        if key in self.users:
            return self.users[key]
        for user in self.users.values():
            if (user.display_name or "").lower() == key or user.ulid.upper() == u.upper():
                return user
        return None

    # --------------------------------------------------------------- control

    def fail_next(self, fault: FakeFault, times: int = 1, endpoint: str | None = None) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint`` (None: any)."""
        self._queued.extend([(_endpoint_name(endpoint), fault)] * times)

    def fail_always(self, fault: FakeFault | None, endpoint: str | None = None) -> None:
        """Serve ``fault`` for every request to ``endpoint`` (None: any) until given None."""
        name = _endpoint_name(endpoint)
        if fault is None:
            self._always.pop(name, None)
        else:
            self._always[name] = fault

    def calls(self, endpoint: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, all or those to ``endpoint``."""
        name = _endpoint_name(endpoint)
        return [r for r in self.requests if name is None or r.endpoint == name]

    async def wait_for_calls(
        self, count: int, endpoint: str | None = None
    ) -> list[RecordedRequest]:
        """Wait until at least ``count`` requests (to ``endpoint``) have arrived.

        Returns once the handler that recorded the last one has reached its first await
        (e.g. a "hang" fault is then blocking). Wrap in ``asyncio.timeout`` as needed.
        """
        while len(self.calls(endpoint)) < count:
            await self._arrived.wait()
        return self.calls(endpoint)

    def _take_fault(self, endpoint: str) -> FakeFault | None:
        for index, (name, fault) in enumerate(self._queued):
            if name is None or name == endpoint:
                del self._queued[index]
                return fault
        return self._always.get(endpoint) or self._always.get(None)

    # ------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/API`` (the client appends ``/API_X.php``)."""
        if self._port is None:
            raise RuntimeError("FakeRA is not started")
        return f"http://127.0.0.1:{self._port}/API"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._release = asyncio.Event()
        self._arrived = asyncio.Event()
        self._stopping = False
        app = web.Application()
        app.router.add_route("*", "/API/{name}", self._dispatch)
        # handler_cancellation: a client that gives up cancels its handler (keeps in_flight
        # honest when a client times out on a delayed or hung answer).
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release hung handlers (their connections are dropped) and shut down."""
        self._stopping = True
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._port = None

    async def __aenter__(self) -> FakeRA:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -------------------------------------------------------------- plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.request_times.append(time.monotonic())
        self.in_flight += 1
        self.max_concurrent = max(self.max_concurrent, self.in_flight)
        try:
            params = await _read_params(request)
            endpoint = _endpoint_name(request.match_info["name"]) or ""
            self.requests.append(
                RecordedRequest(endpoint, params, request.method, dict(request.headers))
            )
            self._arrived.set()
            self._arrived = asyncio.Event()
            if self._stopping:
                return _drop_connection(request)
            fault = self._take_fault(endpoint)  # at arrival, so queued faults go FIFO
            if self.response_delay > 0:
                await asyncio.sleep(self.response_delay)
            if fault is not None:
                return await self._serve_fault(request, fault)
            handler = self._handlers.get(endpoint)
            if handler is None:
                return web.Response(status=404, text="404 Not Found")
            if params.get("y") != self.api_key:
                return _json_text(UNAUTHENTICATED_BODY, status=401)
            return await handler(params)
        finally:
            self.in_flight -= 1

    async def _serve_fault(self, request: web.Request, fault: FakeFault) -> web.StreamResponse:
        if fault.kind == "status":
            body = _or_default(fault.body, _default_error_body(fault.status))
            return _fault_response(fault, body, _guess_content_type(body))
        if fault.kind == "hang":
            await self._release.wait()
            return _drop_connection(request)
        if fault.kind == "malformed_json":
            body = _or_default(fault.body, MALFORMED_JSON_BODY)
            return _fault_response(fault, body, "application/json")
        if fault.kind == "html":
            return _fault_response(fault, _or_default(fault.body, CLOUDFLARE_HTML), "text/html")
        if fault.kind == "reset":
            return _drop_connection(request)
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _num(self, value: int) -> int | str:
        return str(value) if self.numbers_as_strings else value

    # ------------------------------------------------------------- endpoints

    async def _user_progress(self, params: dict[str, str]) -> web.Response:
        error = _validate_u(params.get("u"))
        if error is not None:
            return error
        user = self.find_user(params["u"])
        ids = _parse_ids(params.get("i", ""))
        if user is None or not ids:
            return web.json_response([])
        body: dict[str, dict[str, int | str]] = {}
        for game_id in ids:
            game = self.games.get(game_id)
            values = (0, 0, 0, 0, 0, 0)
            if game is not None:
                done = self.progress.get((user.username.lower(), game_id), (0, 0, 0, 0))
                values = (game.num_achievements, game.points, *done)
            pairs = zip(PROGRESS_KEYS, values, strict=True)
            body[str(game_id)] = {k: self._num(v) for k, v in pairs}
        return web.json_response(body)

    async def _game(self, params: dict[str, str]) -> web.Response:
        ids = _parse_ids(params.get("i", ""))
        game = self.games.get(ids[0]) if ids else None
        if game is None:
            return web.json_response([])
        return web.json_response(
            {
                "Title": game.title,
                "GameTitle": game.title,
                "ConsoleID": game.console_id,
                "ConsoleName": game.console,
                "Console": game.console,
                "ForumTopicID": 1000 + game.id,
                "Flags": None,
                "GameIcon": game.icon,
                "ImageIcon": game.icon,
                "ImageTitle": "/Images/000002.png",
                "ImageIngame": "/Images/000003.png",
                "ImageBoxArt": "/Images/000004.png",
                "Publisher": "Fake Publisher",
                "Developer": "Fake Developer",
                "Genre": "Action",
                "Released": "1991-06-23",
                "ReleasedAtGranularity": "day",
            }
        )

    async def _user_profile(self, params: dict[str, str]) -> web.Response:
        error = _validate_u(params.get("u"))
        if error is not None:
            return error
        user = self.find_user(params["u"])
        if user is None:
            return web.json_response([], status=404)
        key = user.username.lower()
        played = [gid for (name, gid) in self.progress if name == key]
        last_game = self.games.get(played[-1]) if played else None
        return web.json_response(
            {
                "User": user.display_name,
                "ULID": user.ulid,
                "UserPic": f"/UserPic/{user.username}.png",
                "MemberSince": "2013-06-11 19:37:26",
                "RichPresenceMsg": f"Playing {last_game.title}" if last_game else "",
                "LastGameID": last_game.id if last_game else None,
                "TotalPoints": user.total_points,
                "TotalSoftcorePoints": user.total_softcore_points,
                "TotalTruePoints": user.total_points * 3,
                "Untracked": 0,
                "ID": list(self.users).index(key) + 1,
                "UserWallActive": True,
                "Motto": "",
            }
        )

    async def _earned_between(self, params: dict[str, str]) -> web.Response:
        """One entry per unlock dated in [f, t] (epoch seconds, both included), oldest first
        (hardcore first within a second), at most 500, with a running ``CumulScore``."""
        error = _validate_u(params.get("u"))
        if error is not None:
            return error
        user = self.find_user(params["u"])
        if user is None:
            return web.json_response([])
        start = datetime.fromtimestamp(_php_int(params.get("f", "")), UTC)
        end = datetime.fromtimestamp(_php_int(params.get("t", "")), UTC)
        rows: list[tuple[FakeUnlock, bool]] = []
        for (name, _), unlock in self.unlocks.items():
            if name != user.username.lower():
                continue
            at = unlock.at.replace(microsecond=0)
            if start <= at <= end:
                rows.append((unlock, unlock.hardcore))
                if unlock.hardcore and self.hardcore_listed_twice:
                    rows.append((unlock, False))
        rows.sort(key=lambda row: (row[0].at.replace(microsecond=0), not row[1]))
        body = []
        total = 0
        for unlock, hardcore in rows[:500]:
            game = self.games.get(unlock.game_id)
            total += unlock.points
            body.append(
                {
                    "Date": unlock.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "HardcoreMode": self._num(int(hardcore)),
                    "AchievementID": self._num(unlock.achievement_id),
                    "Title": f"Achievement {unlock.achievement_id}",
                    "Description": "Do the thing",
                    "BadgeName": str(unlock.achievement_id),
                    "Points": self._num(unlock.points),
                    "TrueRatio": unlock.points * 2,
                    "Type": None,
                    "Author": "Scott",
                    "AuthorULID": fake_ulid("Scott"),
                    "GameTitle": game.title if game else f"Game {unlock.game_id}",
                    "GameIcon": game.icon if game else "/Images/000001.png",
                    "GameID": self._num(unlock.game_id),
                    "ConsoleName": game.console if game else "Game Boy",
                    "CumulScore": total,
                    "BadgeURL": f"/Badge/{unlock.achievement_id}.png",
                    "GameURL": f"/game/{unlock.game_id}",
                }
            )
        return web.json_response(body)

    def _all_consoles(self) -> dict[int, str]:
        consoles = dict(self.consoles)
        for game in self.games.values():
            consoles.setdefault(game.console_id, game.console)
        return consoles

    async def _console_ids(self, params: dict[str, str]) -> web.Response:
        """API_GetConsoleIDs: every system in id order; `g=1` game systems only."""
        game_systems_only = params.get("g", "0") not in ("", "0")
        body = []
        for console_id, name in sorted(self._all_consoles().items()):
            is_game_system = console_id not in (100, 101)
            if console_id in self.hidden_consoles or (game_systems_only and not is_game_system):
                continue
            body.append(
                {
                    "ID": self._num(console_id),
                    "Name": name,
                    "IconURL": f"https://static.retroachievements.org/assets/images/system/{console_id}.png",
                    "Active": console_id != 100,
                    "IsGameSystem": is_game_system,
                }
            )
        return web.json_response(body)

    async def _game_list(self, params: dict[str, str]) -> web.Response:
        """API_GetGameList: one console's games sorted by title; `f=1` only with achievements."""
        console_id = _php_int(params.get("i", ""))
        if console_id <= 0:
            return web.json_response({"success": False})
        if console_id not in self._all_consoles():
            return web.json_response([])
        with_achievements = params.get("f", "0") not in ("", "0")
        games = [
            g
            for g in self.games.values()
            if g.console_id == console_id and (g.num_achievements > 0 or not with_achievements)
        ]
        games.sort(key=lambda g: g.title.casefold())
        return web.json_response(
            [
                {
                    "Title": g.title,
                    "ID": self._num(g.id),
                    "ConsoleID": self._num(g.console_id),
                    "ConsoleName": g.console,
                    "ImageIcon": g.icon,
                    "NumAchievements": self._num(g.num_achievements),
                    "NumLeaderboards": self._num(0),
                    "Points": self._num(g.points),
                    "DateModified": "2021-12-09 17:05:39" if g.num_achievements else None,
                    "ForumTopicID": 1000 + g.id,
                }
                for g in games
            ]
        )

    async def _recent_game_awards(self, params: dict[str, str]) -> web.Response:
        """API_GetRecentGameAwards: the site's awards newest first (ties: the later added
        first), ``d`` keeps those on or before that day (UTC), ``k`` those of the kinds named
        (only unknown kinds: none), ``o``/``c`` page them (``c`` default 25, at most 100);
        ``Total`` counts every award ``d`` and ``k`` keep."""
        errors: dict[str, list[str]] = {}
        day: date | None = None
        if "d" in params:
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", params["d"], re.ASCII):
                    raise ValueError(params["d"])
                day = date.fromisoformat(params["d"])
            except ValueError:
                errors["d"] = ["The d field must be a valid date."]
            else:
                if day > datetime.now(UTC).date():
                    errors["d"] = ["The d field must be a date before or equal to today."]
        numbers = {"o": 0, "c": AWARDS_DEFAULT_COUNT}
        for name, least in (("o", 0), ("c", 1)):
            if name not in params:
                continue
            if not re.fullmatch(r"[+-]?\d+", params[name].strip(), re.ASCII):
                errors[name] = [f"The {name} field must be an integer."]
            elif int(params[name]) < least:
                errors[name] = [f"The {name} field must be at least {least}."]
            else:
                numbers[name] = int(params[name])
        if errors:
            return _validation_error(errors)
        named = params.get("k", "")
        kinds = {k for k in named.split(",") if k in AWARD_KINDS}
        if named and not kinds:
            return web.json_response({"Count": 0, "Total": 0, "Results": []})
        chosen = [
            a
            for a in self.awards
            if (day is None or a.at.date() <= day) and (not kinds or a.kind in kinds)
        ]
        chosen.sort(key=lambda a: (a.at.replace(microsecond=0), a.seq), reverse=True)
        offset, count = numbers["o"], min(numbers["c"], AWARDS_MAX_COUNT)
        page = chosen[offset : offset + count]
        return web.json_response(
            {
                "Count": self._num(len(page)),
                "Total": self._num(len(chosen)),
                "Results": [self._award_row(a) for a in page],
            }
        )

    def _award_row(self, award: FakeAward) -> dict[str, Any]:
        deleted = award.title is None
        row: dict[str, Any] = {"User": award.user}
        if not self.numbers_as_strings:
            row["ULID"] = award.ulid
        row.update(
            {
                "AwardKind": award.kind,
                "AwardDate": award.at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "GameID": self._num(award.game_id),
                "GameTitle": award.title,
                "ConsoleID": None if deleted else self._num(award.console_id),
                "ConsoleName": None if deleted else award.console,
            }
        )
        return row

    async def _achievement_of_the_week(self, params: dict[str, str]) -> web.Response:
        """API_GetAchievementOfTheWeek: the earners since ``StartAt`` (none listed without a
        start), oldest first, at most 500; the counts include earlier unlocks."""
        aotw = self.aotw
        if aotw is None:
            return web.json_response({"Achievement": {"ID": None}, "StartAt": None})
        num = self._num
        started = aotw.starts_at
        listed = sorted(
            (u for u in aotw.unlocks if started is not None and u.at >= started),
            key=lambda u: u.at,
        )[:AOTW_MAX_UNLOCKS]
        unlocks = []
        for unlock in listed:
            row: dict[str, Any] = {"User": unlock.user}
            if not self.numbers_as_strings:
                row["ULID"] = unlock.ulid
            row.update(
                {
                    "RAPoints": num(unlock.points),
                    "RASoftcorePoints": num(unlock.softcore_points),
                    "DateAwarded": unlock.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "HardcoreMode": num(int(unlock.hardcore)),
                }
            )
            unlocks.append(row)
        if started is None:
            start_at = None
        elif self.numbers_as_strings:
            start_at = started.strftime("%Y-%m-%d %H:%M:%S")
        else:
            start_at = started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return web.json_response(
            {
                "Achievement": {
                    "ID": num(aotw.achievement_id),
                    "Title": aotw.title,
                    "Description": aotw.description,
                    "Points": num(aotw.points),
                    "TrueRatio": num(aotw.true_ratio),
                    "Author": "Scott",
                    "DateCreated": "2012-11-02 00:03:12",
                    "DateModified": "2023-05-01 12:00:00",
                    "BadgeName": aotw.badge_name,
                    "BadgeURL": f"/Badge/{aotw.badge_name}.png",
                    "Type": None,
                },
                "Console": {"ID": num(aotw.console_id), "Title": aotw.console},
                "ForumTopic": {
                    "ID": None if aotw.forum_topic_id is None else num(aotw.forum_topic_id)
                },
                "Game": {"ID": num(aotw.game_id), "Title": aotw.game_title},
                "StartAt": start_at,
                "TotalPlayers": num(aotw.total_players),
                "Unlocks": unlocks,
                "UnlocksCount": num(len(aotw.unlocks)),
                "UnlocksHardcoreCount": num(sum(u.hardcore for u in aotw.unlocks)),
            }
        )


# ------------------------------------------------------------------ helpers


def _endpoint_name(name: str | None) -> str | None:
    if name is None:
        return None
    return name.removesuffix(".php")


async def _read_params(request: web.Request) -> dict[str, str]:
    """Query parameters merged with a form or JSON body (the body wins, as in Laravel)."""
    params = dict(request.query.items())
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                data = json.loads(await request.text())
            except ValueError:
                data = None
            if isinstance(data, dict):
                params.update({str(k): str(v) for k, v in data.items()})
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _drop_connection(request: web.Request) -> web.Response:
    """Close the TCP connection with no HTTP response.

    Aborting the transport and then returning a response makes aiohttp fail the write with
    a ConnectionResetError, which it treats as a client disconnect (debug log only) instead
    of an unhandled handler exception (error log plus traceback).
    """
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)


def _fault_response(fault: FakeFault, body: str, content_type: str) -> web.Response:
    """A faulty answer; a Content-Type in ``fault.headers`` wins over ``content_type``."""
    status = fault.status if fault.kind == "status" else 200
    headers = dict(fault.headers)
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = f"{content_type}; charset=utf-8"
    return web.Response(status=status, body=body.encode(), headers=headers)


def _guess_content_type(body: str) -> str:
    head = body.lstrip()[:1]
    if head == "<":
        return "text/html"
    return "application/json" if head in ("{", "[") else "text/plain"


def _json_text(text: str, status: int) -> web.Response:
    return web.Response(text=text, status=status, content_type="application/json")


def _validate_u(u: str | None) -> web.Response | None:
    """RA's ``u`` rule: a ULID or 2-20 ASCII letters/digits, else HTTP 422."""
    if u is None or u == "":
        message = "The u field is required."
    elif _ULID_RE.match(u) or (2 <= len(u) <= 20 and u.isascii() and u.isalnum()):
        return None
    else:
        message = "The u field must be a valid ULID or a username of 2 to 20 letters or digits."
    return web.json_response({"message": message, "errors": {"u": [message]}}, status=422)


def _validation_error(errors: dict[str, list[str]]) -> web.Response:
    """Laravel's 422: the first message, "(and N more errors)", and every field's messages."""
    messages = [m for field_messages in errors.values() for m in field_messages]
    message = messages[0]
    if len(messages) > 1:
        more = len(messages) - 1
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return web.json_response({"message": message, "errors": errors}, status=422)


def _php_int(item: str) -> int:
    """PHP's ``is_numeric($x) ? (int) $x : 0``."""
    text = item.strip()
    if not _PHP_NUMERIC_RE.match(text):
        return 0
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError, OverflowError):
        return 0


def _parse_ids(csv: str) -> list[int]:
    """Game ids from ``i``: numeric items only, > 0, deduplicated in first-seen order."""
    ids = [_php_int(item) for item in csv.split(",")]
    return list(dict.fromkeys(i for i in ids if i > 0))


def _default_error_body(status: int) -> str:
    if status == 429:
        return "Too Many Requests"
    if status >= 500:
        return (
            f"<!DOCTYPE html>\n<html><head><title>retroachievements.org | {status}: "
            f"Server error</title></head><body><h1>Error {status}</h1>"
            "<p>The web server reported an error.</p>"
            '<div class="cf-footer">Cloudflare</div></body></html>\n'
        )
    return f"{status} Error"


def _or_default(body: str | None, default: str) -> str:
    return default if body is None else body
