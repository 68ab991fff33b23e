"""The feed's two RA endpoints: API_GetRecentGameAwards and API_GetAchievementOfTheWeek read by
RAClient over real HTTP from the fake, in today's shapes and older servers', with the rows RA
may get wrong skipped and logged."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models.awards import AchievementOfTheWeek, AwardKind, AwardsPage, GameAward, WeekUnlock
from bot.ra.client import RAClient
from bot.ra.errors import RABadResponse, RARequestRejected
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.ra.readers import parse_ra_datetime, read_awards_page, read_game_award
from bot.ra.transport import RATransport
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA, fake_ulid

AWARDS = "API_GetRecentGameAwards"
AOTW = "API_GetAchievementOfTheWeek"
DAY = datetime(2026, 3, 10, tzinfo=UTC)  # in the past, so `d` may name it
SECRET = "SecretRowText"  # stands in for what a skipped row held: never logged


@pytest.fixture
async def client(fake_ra: FakeRA) -> AsyncIterator[RAClient]:
    async with aiohttp.ClientSession() as session:
        yield RAClient(
            RATransport(
                session,
                api_key=FAKE_RA_KEY,
                limiter=UpstreamLimiter(1000.0, 8),
                base_url=fake_ra.base_url,
                timeout=2.0,
                retry_budget=2.0,
                backoff_base=0.01,
                rng=random.Random(1),
            )
        )


def answer(fake: FakeRA, endpoint: str, body: Any) -> None:
    """The next call to `endpoint` is answered 200 with `body` (JSON unless a str)."""
    text = body if isinstance(body, str) else json.dumps(body)
    fake.fail_next(FakeFault("status", 200, body=text), endpoint=endpoint)


def row(**changes: Any) -> dict[str, Any]:
    """An award row as RA writes it today, with `changes` (None values: the key left out)."""
    base: dict[str, Any] = {
        "User": "Alice",
        "ULID": fake_ulid("Alice"),
        "AwardKind": "mastered",
        "AwardDate": "2026-03-10T13:01:22+00:00",
        "GameID": 1,
        "GameTitle": "Sonic the Hedgehog",
        "ConsoleID": 1,
        "ConsoleName": "Genesis/Mega Drive",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None or k == "GameTitle"}


ALICE = GameAward(
    "Alice",
    fake_ulid("Alice"),
    AwardKind.MASTERED,
    datetime(2026, 3, 10, 13, 1, 22, tzinfo=UTC),
    1,
    "Sonic the Hedgehog",
    1,
    "Genesis/Mega Drive",
)


def assert_logged_safely(caplog: pytest.LogCaptureFixture, endpoint: str, *fields: str) -> None:
    """One WARNING per skipped row, in order, each naming the endpoint and the field at fault,
    none holding the row itself, the key or a URL."""
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(fields), warnings
    for message, what in zip(warnings, fields, strict=True):
        assert endpoint in message and what in message, message
        for secret in (SECRET, FAKE_RA_KEY, "http", "{"):
            assert secret not in message, message


# -- API_GetRecentGameAwards ------------------------------------------------------------------


@pytest.mark.parametrize("older_server", [False, True], ids=["today", "older-server"])
async def test_recent_awards_read_newest_first(
    fake_ra: FakeRA, client: RAClient, older_server: bool
) -> None:
    fake_ra.numbers_as_strings = older_server  # numbers as strings and no ULID
    fake_ra.add_user("acct", display_name="Shown")
    fake_ra.add_award("acct", 228, AwardKind.MASTERED, at=DAY)
    fake_ra.add_award("Stranger", 1, AwardKind.BEATEN_SOFTCORE, at=DAY + timedelta(hours=1))
    fake_ra.add_award("Gone", 777, AwardKind.COMPLETED, at=DAY - timedelta(hours=1), title=None)

    page = await client.get_recent_game_awards()

    def ulid(value: str) -> str:
        return "" if older_server else value

    assert page == AwardsPage(
        total=3,
        awards=[
            GameAward("Stranger", ulid(fake_ulid("Stranger")), AwardKind.BEATEN_SOFTCORE,
                      DAY + timedelta(hours=1), 1, "Sonic the Hedgehog", 1, "Genesis/Mega Drive"),
            GameAward("Shown", ulid(fake_ra.users["acct"].ulid), AwardKind.MASTERED, DAY, 228,
                      "Super Mario World", 3, "SNES/Super Famicom"),
            # a deleted game: no title, no console
            GameAward("Gone", ulid(fake_ulid("Gone")), AwardKind.COMPLETED,
                      DAY - timedelta(hours=1), 777, None, 0, ""),
        ],
    )
    assert all(a.at.tzinfo is UTC for a in page.awards)
    (call,) = fake_ra.calls(AWARDS)
    assert call.params == {"y": FAKE_RA_KEY, "o": "0", "c": "100"}  # no d, no k unless asked


async def test_recent_awards_pages_by_offset_and_count(fake_ra: FakeRA, client: RAClient) -> None:
    added = fake_ra.add_site_awards(250, DAY, every_seconds=60)
    newest_first = [a.user for a in reversed(added)]
    pages = [await client.get_recent_game_awards(offset=o) for o in (0, 100, 200, 300)]
    assert [len(p.awards) for p in pages] == [100, 100, 50, 0]
    assert {p.total for p in pages} == {250}
    assert [a.user for p in pages for a in p.awards] == newest_first
    small = await client.get_recent_game_awards(offset=5, count=10)
    assert [a.user for a in small.awards] == newest_first[5:15]
    assert [(c.params["o"], c.params["c"]) for c in fake_ra.calls(AWARDS)][-2:] == [
        ("300", "100"),
        ("5", "10"),
    ]


async def test_recent_awards_up_to_a_day_and_of_some_kinds(
    fake_ra: FakeRA, client: RAClient
) -> None:
    fake_ra.add_award("Early", 1, "mastered", at=DAY - timedelta(seconds=1))
    fake_ra.add_award("LastSecond", 1, "beaten-hardcore", at=DAY + timedelta(seconds=86399))
    fake_ra.add_award("NextDay", 1, "mastered", at=DAY + timedelta(days=1))
    fake_ra.add_award("Soft", 1, "completed", at=DAY)

    on_day = await client.get_recent_game_awards(day=date(2026, 3, 10))
    assert [a.user for a in on_day.awards] == ["LastSecond", "Soft", "Early"]
    assert on_day.total == 3
    # a datetime is a date too: only its day is sent
    await client.get_recent_game_awards(day=datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    kinds = (AwardKind.MASTERED, AwardKind.COMPLETED, AwardKind.MASTERED)
    chosen = await client.get_recent_game_awards(kinds=kinds)
    assert [a.user for a in chosen.awards] == ["NextDay", "Soft", "Early"]
    assert [(c.params.get("d"), c.params.get("k")) for c in fake_ra.calls(AWARDS)] == [
        ("2026-03-10", None),
        ("2026-03-09", None),
        (None, "mastered,completed"),
    ]


async def test_recent_awards_of_unknown_kinds_are_skipped(
    fake_ra: FakeRA, client: RAClient, caplog: pytest.LogCaptureFixture
) -> None:
    answer(
        fake_ra,
        AWARDS,
        {"Count": 3, "Total": 3, "Results": [row(AwardKind="legendary"), row(), row(AwardKind=7)]},
    )
    caplog.set_level(logging.WARNING)
    assert await client.get_recent_game_awards() == AwardsPage(3, [ALICE])
    assert_logged_safely(caplog, AWARDS)  # a newer RA's kind is not a warning


async def test_an_unreadable_award_is_skipped_logged_and_the_rest_read(
    fake_ra: FakeRA, client: RAClient, caplog: pytest.LogCaptureFixture
) -> None:
    later = row(User="Bob", ULID=None, GameID="14402", ConsoleID="3",
                AwardDate="2026-03-10 14:00:00")  # an older server's strings and date
    rows = [
        row(AwardDate=f"{SECRET} o'clock"),
        later,
        row(User=None, GameTitle=SECRET),
        row(User="   "),
        row(GameID=SECRET),
        row(GameID=0),
        SECRET,
        row(ConsoleID=[SECRET]),
        row(),
    ]
    answer(fake_ra, AWARDS, {"Count": len(rows), "Total": "812345", "Results": rows})
    caplog.set_level(logging.DEBUG)
    page = await client.get_recent_game_awards()
    bob = GameAward("Bob", "", AwardKind.MASTERED, datetime(2026, 3, 10, 14, tzinfo=UTC), 14402,
                    "Sonic the Hedgehog", 3, "Genesis/Mega Drive")
    assert page == AwardsPage(812345, [bob, ALICE])
    assert_logged_safely(
        caplog, AWARDS, "AwardDate", "User", "User", "GameID", "GameID", "object", "ConsoleID"
    )
    assert len(fake_ra.calls(AWARDS)) == 1


@pytest.mark.parametrize(
    "body",
    [[], {}, {"Results": None}, {"Results": {"0": {}}}, {"Total": "many", "Results": []}, "[1]",
     '"Results"'],
    ids=["list", "empty", "null", "object", "bad-total", "list-of-one", "string"],
)
async def test_recent_awards_without_a_results_list_is_a_bad_response(
    fake_ra: FakeRA, client: RAClient, body: Any
) -> None:
    answer(fake_ra, AWARDS, body)
    with pytest.raises(RABadResponse, match=AWARDS):
        await client.get_recent_game_awards()
    assert len(fake_ra.calls(AWARDS)) == 1  # not retried


async def test_recent_awards_after_today_or_before_the_first_are_refused(
    fake_ra: FakeRA, client: RAClient
) -> None:
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    with pytest.raises(RARequestRejected, match=AWARDS):
        await client.get_recent_game_awards(day=tomorrow)
    with pytest.raises(RARequestRejected, match=AWARDS):
        await client.get_recent_game_awards(offset=-1)
    assert len(fake_ra.calls(AWARDS)) == 2  # a 422 is an answer, not retried


async def test_recent_awards_retry_a_server_error(fake_ra: FakeRA, client: RAClient) -> None:
    fake_ra.add_award("Scott", 228, "mastered", at=DAY)
    fake_ra.fail_next(FakeFault("status", 503), times=2, endpoint=AWARDS)
    page = await client.get_recent_game_awards(priority=Priority.INTERACTIVE)
    assert [a.user for a in page.awards] == ["Scott"]
    assert len(fake_ra.calls(AWARDS)) == 3


# -- API_GetAchievementOfTheWeek --------------------------------------------------------------


async def test_aotw_by_default_is_the_fakes_fixed_week(client: RAClient) -> None:
    assert await client.get_achievement_of_the_week() == AchievementOfTheWeek(
        achievement_id=5,
        title="Chaos Emerald",
        description="Collect a Chaos Emerald",
        points=10,
        badge_url="/Badge/00005.png",
        game_id=1,
        game_title="Sonic the Hedgehog",
        console_id=1,
        console="Genesis/Mega Drive",
        starts_at=datetime(2024, 1, 1, tzinfo=UTC),
        unlocks=[],
        unlocks_count=0,
        unlocks_hardcore_count=0,
        total_players=1234,
    )


@pytest.mark.parametrize("older_server", [False, True], ids=["today", "older-server"])
async def test_aotw_and_its_earners_since_the_week_began(
    fake_ra: FakeRA, client: RAClient, older_server: bool
) -> None:
    fake_ra.numbers_as_strings = older_server  # every number a string, no ULID, other StartAt
    fake_ra.set_aotw(165062, "Ring Master", game_id=228, starts_at=DAY, points=25,
                     description="Collect 100 rings", total_players=4321)
    fake_ra.add_aotw_unlock("Scott", hardcore=True, at=DAY - timedelta(seconds=1))  # last week
    fake_ra.add_aotw_unlock("maxmilyin", hardcore=False, at=DAY + timedelta(hours=2))
    fake_ra.add_aotw_unlock("Stranger", hardcore=True, at=DAY)

    aotw = await client.get_achievement_of_the_week()

    assert aotw is not None
    assert aotw.unlocks == [
        WeekUnlock("Stranger", "" if older_server else fake_ulid("Stranger"), True, DAY),
        WeekUnlock("MaxMilyin", "" if older_server else fake_ra.users["maxmilyin"].ulid, False,
                   DAY + timedelta(hours=2)),
    ]
    assert aotw == AchievementOfTheWeek(
        achievement_id=165062,
        title="Ring Master",
        description="Collect 100 rings",
        points=25,
        badge_url="/Badge/165062.png",
        game_id=228,
        game_title="Super Mario World",
        console_id=3,
        console="SNES/Super Famicom",
        starts_at=DAY,
        unlocks=aotw.unlocks,
        unlocks_count=3,
        unlocks_hardcore_count=2,
        total_players=4321,
    )
    assert aotw.key == f"aotw:165062:{int(DAY.timestamp())}"
    (call,) = fake_ra.calls(AOTW)
    assert call.params == {"y": FAKE_RA_KEY}


async def test_no_aotw_set_is_none(fake_ra: FakeRA, client: RAClient) -> None:
    fake_ra.clear_aotw()
    assert await client.get_achievement_of_the_week() is None


@pytest.mark.parametrize("no_id", [None, 0, "", "0"])
async def test_an_aotw_without_an_achievement_id_is_none(
    fake_ra: FakeRA, client: RAClient, no_id: Any
) -> None:
    answer(fake_ra, AOTW, {"Achievement": {"ID": no_id, "Title": "Ghost"}, "StartAt": None})
    assert await client.get_achievement_of_the_week() is None


async def test_an_aotw_with_no_start_and_whole_badge_url_is_read_as_is(
    fake_ra: FakeRA, client: RAClient
) -> None:
    body = {
        "Achievement": {"ID": "9", "Title": "T", "Points": "5",
                        "BadgeURL": "https://media.example/Badge/9.png"},
        "Game": {"ID": "3", "Title": "G"},
        "Console": {"ID": 4, "Title": "Game Boy"},
        "StartAt": None,
    }
    answer(fake_ra, AOTW, body)
    aotw = await client.get_achievement_of_the_week()
    assert aotw is not None
    assert (aotw.achievement_id, aotw.points, aotw.game_id, aotw.starts_at) == (9, 5, 3, None)
    assert aotw.badge_url == "https://media.example/Badge/9.png"
    assert (aotw.unlocks, aotw.unlocks_count, aotw.total_players) == ([], 0, 0)
    assert aotw.key == "aotw:9:0"


async def test_an_unreadable_aotw_earner_is_skipped_logged_and_the_rest_read(
    fake_ra: FakeRA, client: RAClient, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"User": "Scott", "RAPoints": 1, "DateAwarded": "2026-03-10 00:00:05",
            "HardcoreMode": "0"}
    unlocks = [
        good | {"DateAwarded": SECRET},
        good | {"User": None, "ULID": SECRET},
        good | {"HardcoreMode": SECRET},
        good | {"HardcoreMode": 2},
        [SECRET],
        good,
        good | {"User": "Ann", "ULID": fake_ulid("Ann"), "HardcoreMode": True,
                "DateAwarded": "2026-03-10T01:00:00Z"},
    ]
    answer(fake_ra, AOTW, {"Achievement": {"ID": 1, "Title": "A"}, "Game": {"ID": 1},
                           "Console": {"ID": 1}, "StartAt": "2026-03-10 00:00:00",
                           "Unlocks": unlocks, "UnlocksCount": 9})
    caplog.set_level(logging.DEBUG)
    aotw = await client.get_achievement_of_the_week()
    assert aotw is not None and aotw.unlocks_count == 9
    assert aotw.unlocks == [
        WeekUnlock("Scott", "", False, DAY + timedelta(seconds=5)),
        WeekUnlock("Ann", fake_ulid("Ann"), True, DAY + timedelta(hours=1)),
    ]
    assert_logged_safely(
        caplog, AOTW, "DateAwarded", "User", "HardcoreMode", "HardcoreMode", "object"
    )


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"Achievement": None},
        {"Achievement": {"ID": "many"}},
        {"Achievement": {"ID": 1, "Points": "many"}},
        {"Achievement": {"ID": 1}, "StartAt": "soon"},
        {"Achievement": {"ID": 1}, "Game": [1]},
        {"Achievement": {"ID": 1}, "Unlocks": {"0": {}}},
        "<html></html>",
    ],
)
async def test_an_aotw_it_cannot_read_is_a_bad_response(
    fake_ra: FakeRA, client: RAClient, body: Any
) -> None:
    answer(fake_ra, AOTW, body)
    with pytest.raises(RABadResponse, match=AOTW):
        await client.get_achievement_of_the_week()
    assert len(fake_ra.calls(AOTW)) == 1


async def test_aotw_retries_a_server_error(fake_ra: FakeRA, client: RAClient) -> None:
    fake_ra.fail_next(FakeFault("status", 502), endpoint=AOTW)
    fake_ra.fail_next(FakeFault("reset"), times=2, endpoint=AOTW)
    aotw = await client.get_achievement_of_the_week()
    assert aotw is not None and aotw.achievement_id == 5
    assert len(fake_ra.calls(AOTW)) == 4


# -- the date reader and the row reader, over generated values --------------------------------

moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-(14 * 60), max_value=14 * 60).map(lambda m: timedelta(minutes=m))


def iso(moment: datetime, offset: timedelta, *, fraction: bool, zulu: bool, colon: bool) -> str:
    """`moment` as ISO 8601 in the zone `offset` (`Z` for UTC when `zulu`)."""
    local = moment.astimezone(timezone(offset))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += f".{local.microsecond:06d}"
    if zulu and not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return text + f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


@settings(max_examples=300, deadline=None)
@given(moments, offsets, st.booleans(), st.booleans(), st.booleans())
def test_iso_times_in_any_zone_read_as_the_same_utc_instant(
    moment: datetime, offset: timedelta, fraction: bool, zulu: bool, colon: bool
) -> None:
    if not fraction:
        moment = moment.replace(microsecond=0)
    read = parse_ra_datetime(iso(moment, offset, fraction=fraction, zulu=zulu, colon=colon))
    assert read == moment and read.tzinfo is UTC


@settings(max_examples=200, deadline=None)
@given(moments)
def test_zoneless_times_read_as_utc(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    read = parse_ra_datetime(f"  {moment:%Y-%m-%d %H:%M:%S}\n")
    assert read == moment and read.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?",
                      fullmatch=True),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=3), max_size=2),
    )
)
def test_any_value_is_a_utc_time_or_a_bad_response(value: Any) -> None:
    try:
        read = parse_ra_datetime(value, "AwardDate")
    except RABadResponse as exc:
        assert str(exc) == "AwardDate is not a date"
        return
    assert isinstance(value, str) and read.tzinfo is UTC


def test_dates_that_do_not_exist_are_bad_responses() -> None:
    for text in ("2026-02-30 00:00:00", "2026-03-10 24:00:00", "2026-03-10T00:00:00+24:00",
                 "2026-03-10", "10/03/2026 00:00:00", "٢٠٢٦-03-10 00:00:00"):
        with pytest.raises(RABadResponse):
            parse_ra_datetime(text)


numbers = st.integers(min_value=1, max_value=10**9)


def as_sent(number: int, strings: bool) -> int | str:
    return str(number) if strings else number


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=1, max_size=20).filter(str.strip),
    st.one_of(st.none(), st.just(fake_ulid("x"))),
    st.sampled_from(list(AwardKind)),
    moments.map(lambda m: m.replace(microsecond=0)),
    numbers,
    st.one_of(st.none(), st.text(max_size=30)),
    numbers,
    st.booleans(),
)
def test_an_award_row_reads_back_whatever_the_server_version(
    user: str,
    ulid: str | None,
    kind: AwardKind,
    at: datetime,
    game_id: int,
    title: str | None,
    console_id: int,
    strings: bool,
) -> None:
    entry = {
        "User": user,
        "AwardKind": kind.value,
        "AwardDate": f"{at:%Y-%m-%dT%H:%M:%S+00:00}",
        "GameID": as_sent(game_id, strings),
        "GameTitle": title,
        "ConsoleID": as_sent(console_id, strings),
        "ConsoleName": "Game Boy",
    }
    if ulid is not None:
        entry["ULID"] = ulid
    award = read_game_award(entry)
    assert award == GameAward(
        user.strip(),
        ulid or "",
        kind,
        at,
        game_id,
        None if title is None else title.strip(),
        console_id,
        "Game Boy",
    )
    # a page of it with a broken row around it keeps the award and its place
    page = read_awards_page({"Total": 2, "Results": [entry, entry | {"GameID": "x"}, entry]})
    assert page == AwardsPage(2, [award, award])
