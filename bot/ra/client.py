"""RA's V1 web API, endpoint by endpoint: what to ask and how to read RA's answers (numbers as
ints or strings, `[]` for an unknown user or game). It knows RA's shapes, nothing of Discord;
how a request travels (limiter, retries, the key kept out of every error) is
bot/ra/transport.py's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from bot.models.awards import AchievementOfTheWeek, AwardKind, AwardsPage, GameAward, WeekUnlock
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
from bot.ra.transport import RATransport

log = logging.getLogger(__name__)

USER_AGENT = "RetroAchievementsDiscordBot/0.1 (discord.py; +https://github.com/)"
_USERNAME = re.compile(r"[A-Za-z0-9]{2,20}")
_ULID = re.compile(r"[0-9A-Za-z]{26}")
MAX_TITLE = 200  # characters of a game title kept (RA's column is 80; more is garbage)
EARNED_PAGE = 500  # API_GetAchievementsEarnedBetween's LIMIT
AWARDS_PAGE = 100  # API_GetRecentGameAwards clamps `c` to this
RECENT_AWARDS = "API_GetRecentGameAwards"
AOTW = "API_GetAchievementOfTheWeek"
_KINDS = {kind.value: kind for kind in AwardKind}
# RA's two ways of writing a time: ISO 8601 (`2026-12-04T13:01:22+00:00`, Carbon's
# `2024-01-01T00:00:00.000000Z`) and `2026-12-04 13:01:22`, UTC without a zone.
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:Z|([+-])(\d{2}):?(\d{2}))?",
    re.ASCII,
)
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


def parse_ra_datetime(value: Any, what: str = "date") -> datetime:
    """A time as RA writes it, in UTC: ISO 8601 with an offset or `Z` (the feed endpoints), or
    `YYYY-MM-DD HH:MM:SS` with no zone, which RA writes in UTC (the unlock endpoints).

    Fractions of a second are kept (to the microsecond); anything else is RABadResponse.
    """
    match = _DATETIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise RABadResponse(f"{what} is not a date")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction, sign, off_hours, off_minutes = match.group(7, 8, 9, 10)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        zone = UTC
        if sign is not None:
            offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
            zone = timezone(-offset if sign == "-" else offset)
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, an offset of a day or more
        raise RABadResponse(f"{what} is not a date") from None


def _text(value: Any, what: str) -> str:
    """A string field ("" for a missing one or null); a number where text belongs is read as
    text (an older server's `"Title": 1942`), anything else is not this field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RABadResponse(f"{what} is not text")


def _flag(value: Any, what: str) -> bool:
    """RA's 1/0 (or "1"/"0" from older servers, or true/false)."""
    if isinstance(value, bool):
        return value
    number = _int(value, what)
    if number not in (0, 1):
        raise RABadResponse(f"{what} is not 0 or 1")
    return number == 1


def read_game_award(entry: Any) -> GameAward | None:
    """One row of API_GetRecentGameAwards; None for a kind this bot does not know (a newer RA's).

    Raises RABadResponse naming the field when the row cannot be read.
    """
    if not isinstance(entry, dict):
        raise RABadResponse("the row is not an object")
    named = entry.get("AwardKind")
    kind = _KINDS.get(named) if isinstance(named, str) else None
    if kind is None:
        return None
    user = entry.get("User")
    if not isinstance(user, str) or not user.strip():
        raise RABadResponse("User is missing")
    game_id = _int(entry.get("GameID"), "GameID")
    if game_id <= 0:
        raise RABadResponse("GameID is not a game id")
    title = entry.get("GameTitle")
    return GameAward(
        user=user.strip(),
        ulid=_text(entry.get("ULID"), "ULID"),
        kind=kind,
        at=parse_ra_datetime(entry.get("AwardDate"), "AwardDate"),
        game_id=game_id,
        game_title=None if title is None else _text(title, "GameTitle")[:MAX_TITLE],
        console_id=_int(entry.get("ConsoleID"), "ConsoleID"),
        console=_text(entry.get("ConsoleName"), "ConsoleName"),
    )


def read_awards_page(data: Any) -> AwardsPage:
    """API_GetRecentGameAwards' `{"Count", "Total", "Results": [...]}`, newest first.

    A body without a `Results` list is RABadResponse; a row that cannot be read is left out and
    logged (the field at fault, never the row), so one odd award does not hide the others.
    """
    results = data.get("Results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise RABadResponse(f"{RECENT_AWARDS} answered no Results list")
    awards: list[GameAward] = []
    for index, entry in enumerate(results):
        try:
            award = read_game_award(entry)
        except RABadResponse as exc:
            log.warning("%s: skipped award %d of the page: %s", RECENT_AWARDS, index, exc)
            continue
        if award is None:
            log.debug("%s: skipped award %d of an unknown kind", RECENT_AWARDS, index)
            continue
        awards.append(award)
    total = data.get("Total")
    try:
        count = len(results) if total is None else _int(total, "Total")
    except RABadResponse:
        raise RABadResponse(f"{RECENT_AWARDS} answered a Total that is not a number") from None
    return AwardsPage(total=count, awards=awards)


def read_week_unlock(entry: Any) -> WeekUnlock:
    """One earner of the Achievement of the Week; RABadResponse naming the field if unreadable."""
    if not isinstance(entry, dict):
        raise RABadResponse("the row is not an object")
    user = entry.get("User")
    if not isinstance(user, str) or not user.strip():
        raise RABadResponse("User is missing")
    return WeekUnlock(
        user=user.strip(),
        ulid=_text(entry.get("ULID"), "ULID"),
        hardcore=_flag(entry.get("HardcoreMode"), "HardcoreMode"),
        at=parse_ra_datetime(entry.get("DateAwarded"), "DateAwarded"),
    )


def read_achievement_of_the_week(data: Any) -> AchievementOfTheWeek | None:
    """API_GetAchievementOfTheWeek's answer; None when no achievement is set this week.

    Every number may be a string (older servers). Unreadable earners are left out and logged;
    an answer whose achievement itself cannot be read is RABadResponse.
    """
    achievement = data.get("Achievement") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(achievement, dict):
        raise RABadResponse(f"{AOTW} answered no Achievement object")
    raw_id = achievement.get("ID")
    try:
        achievement_id = 0 if raw_id in (None, "") else _int(raw_id, "Achievement ID")
        if achievement_id <= 0:
            return None
        game = _object(data.get("Game"), "Game")
        console = _object(data.get("Console"), "Console")
        started = data.get("StartAt")
        starts_at = None if started in (None, "") else parse_ra_datetime(started, "StartAt")
        rows = data.get("Unlocks")
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            raise RABadResponse("Unlocks is not a list")
        aotw = AchievementOfTheWeek(
            achievement_id=achievement_id,
            title=_text(achievement.get("Title"), "Title"),
            description=_text(achievement.get("Description"), "Description"),
            points=_int(achievement.get("Points"), "Points"),
            badge_url=_text(achievement.get("BadgeURL"), "BadgeURL"),
            game_id=_int(game.get("ID"), "Game ID"),
            game_title=_text(game.get("Title"), "Game Title")[:MAX_TITLE],
            console_id=_int(console.get("ID"), "Console ID"),
            console=_text(console.get("Title"), "Console Title"),
            starts_at=starts_at,
            unlocks=[],
            unlocks_count=_int(data.get("UnlocksCount"), "UnlocksCount"),
            unlocks_hardcore_count=_int(data.get("UnlocksHardcoreCount"), "UnlocksHardcoreCount"),
            total_players=_int(data.get("TotalPlayers"), "TotalPlayers"),
        )
    except RABadResponse as exc:
        raise RABadResponse(f"{AOTW}: {exc}") from None
    for index, entry in enumerate(rows):
        try:
            aotw.unlocks.append(read_week_unlock(entry))
        except RABadResponse as exc:
            log.warning("%s: skipped unlock %d: %s", AOTW, index, exc)
    return aotw


def _object(value: Any, what: str) -> dict[str, Any]:
    """A nested object ({} when RA sent none or null)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RABadResponse(f"{what} is not an object")
    return value


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
            total_points=_int(data.get("TotalPoints"), "TotalPoints"),
            total_softcore_points=_int(data.get("TotalSoftcorePoints"), "TotalSoftcorePoints"),
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
        data = await self.transport.call("API_GetAchievementsEarnedBetween", params, priority)
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
