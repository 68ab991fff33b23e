"""How RA's answers are read: numbers sent as ints or strings (older servers send strings), its
two ways of writing a time, 1/0 flags, and the feed endpoints' rows, read one by one so that one
unreadable row is skipped and logged, not the whole page lost. bot/ra/client.py asks, this reads.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bot.models.awards import AchievementOfTheWeek, AwardKind, AwardsPage, GameAward, WeekUnlock
from bot.ra.errors import RABadResponse

log = logging.getLogger(__name__)

MAX_TITLE = 200  # characters of a game title kept (RA's column is 80; more is garbage)


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


def read_int(value: Any, what: str) -> int:
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


def read_text(value: Any, what: str) -> str:
    """A string field ("" for a missing one or null); a number where text belongs is read as
    text (an older server's `"Title": 1942`), anything else is not this field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RABadResponse(f"{what} is not text")


def read_flag(value: Any, what: str) -> bool:
    """RA's 1/0 (or "1"/"0" from older servers, or true/false)."""
    if isinstance(value, bool):
        return value
    number = read_int(value, what)
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
    game_id = read_int(entry.get("GameID"), "GameID")
    if game_id <= 0:
        raise RABadResponse("GameID is not a game id")
    title = entry.get("GameTitle")
    return GameAward(
        user=user.strip(),
        ulid=read_text(entry.get("ULID"), "ULID"),
        kind=kind,
        at=parse_ra_datetime(entry.get("AwardDate"), "AwardDate"),
        game_id=game_id,
        game_title=None if title is None else read_text(title, "GameTitle")[:MAX_TITLE],
        console_id=read_int(entry.get("ConsoleID"), "ConsoleID"),
        console=read_text(entry.get("ConsoleName"), "ConsoleName"),
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
        count = len(results) if total is None else read_int(total, "Total")
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
        ulid=read_text(entry.get("ULID"), "ULID"),
        hardcore=read_flag(entry.get("HardcoreMode"), "HardcoreMode"),
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
        achievement_id = 0 if raw_id in (None, "") else read_int(raw_id, "Achievement ID")
        if achievement_id <= 0:
            return None
        game = read_object(data.get("Game"), "Game")
        console = read_object(data.get("Console"), "Console")
        started = data.get("StartAt")
        starts_at = None if started in (None, "") else parse_ra_datetime(started, "StartAt")
        rows = data.get("Unlocks")
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            raise RABadResponse("Unlocks is not a list")
        aotw = AchievementOfTheWeek(
            achievement_id=achievement_id,
            title=read_text(achievement.get("Title"), "Title"),
            description=read_text(achievement.get("Description"), "Description"),
            points=read_int(achievement.get("Points"), "Points"),
            badge_url=read_text(achievement.get("BadgeURL"), "BadgeURL"),
            game_id=read_int(game.get("ID"), "Game ID"),
            game_title=read_text(game.get("Title"), "Game Title")[:MAX_TITLE],
            console_id=read_int(console.get("ID"), "Console ID"),
            console=read_text(console.get("Title"), "Console Title"),
            starts_at=starts_at,
            unlocks=[],
            unlocks_count=read_int(data.get("UnlocksCount"), "UnlocksCount"),
            unlocks_hardcore_count=read_int(
                data.get("UnlocksHardcoreCount"), "UnlocksHardcoreCount"
            ),
            total_players=read_int(data.get("TotalPlayers"), "TotalPlayers"),
        )
    except RABadResponse as exc:
        raise RABadResponse(f"{AOTW}: {exc}") from None
    for index, entry in enumerate(rows):
        try:
            aotw.unlocks.append(read_week_unlock(entry))
        except RABadResponse as exc:
            log.warning("%s: skipped unlock %d: %s", AOTW, index, exc)
    return aotw


def read_object(value: Any, what: str) -> dict[str, Any]:
    """A nested object ({} when RA sent none or null)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RABadResponse(f"{what} is not an object")
    return value
