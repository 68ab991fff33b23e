"""RA's V1 web API, endpoint by endpoint: what to ask and how to read RA's answers (numbers as
ints or strings, `[]` for an unknown user or game). It knows RA's shapes, nothing of Discord;
how a request travels (limiter, retries, the key kept out of every error) is
bot/ra/transport.py's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from bot.models.awards import AchievementOfTheWeek, AwardKind, AwardsPage
from bot.models.ra import (
    CatalogueGame,
    Console,
    EarnedAchievement,
    GameInfo,
    GameProgress,
    UserProfile,
    compact_icon,
)
from bot.ra.circuit import CircuitBreaker
from bot.ra.errors import (
    RABadResponse,
)
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.ra.readers import (
    AOTW,
    MAX_TITLE,
    RECENT_AWARDS,
    parse_ra_datetime,
    read_achievement_of_the_week,
    read_awards_page,
    read_int,
)
from bot.ra.transport import RATransport

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"[A-Za-z0-9]{2,20}")
_ULID = re.compile(r"[0-9A-Za-z]{26}")
EARNED_PAGE = 500  # API_GetAchievementsEarnedBetween's LIMIT
AWARDS_PAGE = 100  # API_GetRecentGameAwards clamps `c` to this
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


GameIds = Iterable[int] | Callable[[], Iterable[int]]


class RAClient:
    """RA's endpoints: one method each, RA's JSON read into bot.models.ra values; the requests
    go through `transport` (one per process, sharing the bot's aiohttp session and limiter)."""

    def __init__(self, transport: RATransport) -> None:
        self.transport = transport

    def __repr__(self) -> str:
        return f"<RAClient base_url={self.transport.base_url!r} key=***>"

    @property
    def limiter(self) -> UpstreamLimiter:
        """The gate this client's requests pass (for /status: the queue's current wait)."""
        return self.transport.limiter

    @property
    def circuit(self) -> CircuitBreaker | None:
        return self.transport.circuit

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

        data = await self.transport.call("API_GetUserProgress", params, priority)
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
            game_id = read_int(key, "game id")
            numbers = {
                name: read_int(entry.get(field), field) for name, field in _PROGRESS_FIELDS.items()
            }
            result[game_id] = GameProgress(game_id=game_id, **numbers)
        return result

    async def get_game(
        self, game_id: int, *, priority: Priority = Priority.INTERACTIVE
    ) -> GameInfo | None:
        """Title, console and icon of a game; None when RA does not know the id."""
        data = await self.transport.call("API_GetGame", {"i": str(int(game_id))}, priority)
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
        data = await self.transport.call(
            "API_GetUserProfile", {"u": user}, priority, not_found_user=user
        )
        if not isinstance(data, dict) or not isinstance(data.get("User"), str):
            raise RABadResponse("API_GetUserProfile answered no user")
        return UserProfile(
            display_name=data["User"],
            ulid=str(data.get("ULID") or ""),
            user_pic_path=str(data.get("UserPic") or ""),
            total_points=read_int(data.get("TotalPoints"), "TotalPoints"),
            total_softcore_points=read_int(data.get("TotalSoftcorePoints"), "TotalSoftcorePoints"),
        )

    async def get_consoles(self, *, priority: Priority = Priority.SCHEDULED) -> list[Console]:
        """RA's game systems (API_GetConsoleIDs with g=1: no hubs, no events)."""
        data = await self.transport.call("API_GetConsoleIDs", {"g": "1"}, priority)
        if not isinstance(data, list):
            raise RABadResponse("API_GetConsoleIDs answered no list")
        consoles: list[Console] = []
        for entry in data:
            if not isinstance(entry, dict) or entry.get("IsGameSystem") is False:
                continue
            name = entry.get("Name")
            try:
                console_id = read_int(entry.get("ID"), "ID")
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
        data = await self.transport.call(
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
                game_id = read_int(entry.get("ID"), "ID")
                achievements = read_int(entry.get("NumAchievements"), "NumAchievements")
                points = read_int(entry.get("Points"), "Points")
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
        data = await self.transport.call("API_GetAchievementsEarnedBetween", params, priority)
        if not isinstance(data, list):
            raise RABadResponse("API_GetAchievementsEarnedBetween answered no list")
        earned = []
        for entry in data:
            if not isinstance(entry, dict):
                raise RABadResponse("API_GetAchievementsEarnedBetween entry is not an object")
            earned.append(
                EarnedAchievement(
                    achievement_id=read_int(entry.get("AchievementID"), "AchievementID"),
                    game_id=read_int(entry.get("GameID"), "GameID"),
                    points=read_int(entry.get("Points"), "Points"),
                    hardcore=read_int(entry.get("HardcoreMode"), "HardcoreMode") == 1,
                    date=parse_ra_datetime(entry.get("Date"), "Date"),
                )
            )
        return earned

    async def get_recent_game_awards(
        self,
        *,
        day: date | None = None,
        offset: int = 0,
        count: int = AWARDS_PAGE,
        kinds: Sequence[AwardKind] = (),
        priority: Priority = Priority.SCHEDULED,
    ) -> AwardsPage:
        """The whole site's game awards, newest first: `count` of them (RA keeps at most
        AWARDS_PAGE) after skipping `offset`, only those on or before `day` when given, only
        `kinds` when given. The offsets shift as new awards arrive.

        RA refuses a `day` after its today or a negative offset (RARequestRejected).
        """
        params = {"o": str(int(offset)), "c": str(int(count))}
        if day is not None:
            params["d"] = day.strftime("%Y-%m-%d")
        if kinds:
            params["k"] = ",".join(dict.fromkeys(AwardKind(kind).value for kind in kinds))
        data = await self.transport.call(RECENT_AWARDS, params, priority)
        return read_awards_page(data)

    async def get_achievement_of_the_week(
        self, *, priority: Priority = Priority.SCHEDULED
    ) -> AchievementOfTheWeek | None:
        """This week's achievement and its earners since the week began; None when RA has none
        set."""
        data = await self.transport.call(AOTW, {}, priority)
        return read_achievement_of_the_week(data)

    async def check_key(self) -> None:
        """Raise unless RA accepts the key (one cheap call with no parameters)."""
        await self.transport.call(AOTW, {}, Priority.INTERACTIVE)
