"""FakeRA answers over real HTTP with RA's shapes, status codes and injected faults."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.fakes import fixtures
from tests.fakes.fake_ra import (
    FAKE_RA_KEY,
    UNAUTHENTICATED_BODY,
    FakeFault,
    FakeRA,
    fake_ulid,
)

# A plain assignment registers the fixture without the F401/F811 an import would draw.
fake_ra = fixtures.fake_ra
PROGRESS = "API_GetUserProgress"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def get(
    session: aiohttp.ClientSession, fake: FakeRA, endpoint: str, **params: str
) -> tuple[int, str, Any]:
    """GET an endpoint with the right key; return (status, content type, parsed/raw body)."""
    params.setdefault("y", FAKE_RA_KEY)
    async with session.get(f"{fake.base_url}/{endpoint}.php", params=params) as resp:
        text = await resp.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        return resp.status, resp.content_type, body


async def test_user_progress_shape_ids_and_lookup(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    status, ctype, body = await get(session, fake_ra, PROGRESS, u="maxmilyin",
                                    i="14402,007,1,abc,-3,0,14402,99999")
    assert (status, ctype) == (200, "application/json")
    assert list(body) == ["14402", "7", "1", "99999"]
    assert body["1"] == {"NumPossibleAchievements": 23, "PossibleScore": 400, "NumAchieved": 23,
                         "ScoreAchieved": 400, "NumAchievedHardcore": 23,
                         "ScoreAchievedHardcore": 400}
    assert body["14402"]["NumAchieved"] > body["14402"]["NumAchievedHardcore"]
    assert set(body["99999"].values()) == {0}
    # display name and ULID resolve too; the recorded params include the key
    fake_ra.add_user("acct", display_name="Shown")
    ulid = fake_ra.users["maxmilyin"].ulid
    assert len(ulid) == 26 and ulid.isupper()
    assert list((await get(session, fake_ra, PROGRESS, u="shown", i="1"))[2]) == ["1"]
    assert (await get(session, fake_ra, PROGRESS, u=ulid.lower(), i="1"))[2]["1"]["NumAchieved"]
    assert fake_ra.calls(PROGRESS)[0].params == {
        "y": FAKE_RA_KEY, "u": "maxmilyin", "i": "14402,007,1,abc,-3,0,14402,99999"}


async def test_empty_array_for_unknown_user_or_no_ids(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    assert await get(session, fake_ra, PROGRESS, u="Nobody", i="1") == (200, "application/json",
                                                                        [])
    assert (await get(session, fake_ra, PROGRESS, u="Scott", i="0,x,"))[2] == []
    assert (await get(session, fake_ra, "API_GetGame", i="424242"))[:3:2] == (200, [])
    assert (await get(session, fake_ra, "API_GetUserProfile", u="Nobody"))[:3:2] == (404, [])
    assert (await get(session, fake_ra, "API_GetNothing"))[0] == 404


async def test_auth_and_validation(fake_ra: FakeRA, session: aiohttp.ClientSession) -> None:
    for key in ("wrong", ""):
        status, _, _ = await get(session, fake_ra, PROGRESS, y=key, u="Scott", i="228")
        assert status == 401
    async with session.get(f"{fake_ra.base_url}/API_GetGame.php?i=1") as resp:
        assert resp.status == 401 and await resp.text() == UNAUTHENTICATED_BODY
    for bad in ("a", "x" * 21, "bad-name", "naïve", ""):
        status, _, body = await get(session, fake_ra, PROGRESS, u=bad, i="1")
        assert status == 422 and list(body["errors"]) == ["u"], bad
    # POST with the params in a form body works like GET
    data = {"y": FAKE_RA_KEY, "u": "Scott", "i": "228"}
    async with session.post(f"{fake_ra.base_url}/{PROGRESS}.php", data=data) as resp:
        assert (await resp.json())["228"]["NumAchieved"] == 40
    assert fake_ra.calls()[-1].method == "POST"


async def test_game_profile_and_aotw_shapes(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    _, _, game = await get(session, fake_ra, "API_GetGame", i="1")
    assert "ID" not in game and game["Flags"] is None
    assert (game["Title"], game["ConsoleID"], game["ImageIcon"]) == (
        "Sonic the Hedgehog", 1, "/Images/085573.png")
    fake_ra.add_user("acct", display_name="Shown", total_points=7)
    status, _, prof = await get(session, fake_ra, "API_GetUserProfile", u="SHOWN")
    assert status == 200
    assert (prof["User"], prof["UserPic"], prof["TotalPoints"], prof["Untracked"]) == (
        "Shown", "/UserPic/acct.png", 7, 0)
    assert prof["ULID"] == fake_ra.users["acct"].ulid
    _, _, aotw = await get(session, fake_ra, "API_GetAchievementOfTheWeek")
    assert {"Achievement", "Game", "Console", "StartAt", "Unlocks"} <= set(aotw)


async def test_numbers_as_strings(fake_ra: FakeRA, session: aiohttp.ClientSession) -> None:
    fake_ra.numbers_as_strings = True
    _, _, body = await get(session, fake_ra, PROGRESS, u="Scott", i="228")
    assert body["228"]["ScoreAchievedHardcore"] == "340"
    assert all(isinstance(v, str) for v in body["228"].values())


async def test_status_faults_fifo_per_endpoint(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    fake_ra.fail_next(FakeFault("status", 429, {"Retry-After": "2"}), times=2, endpoint=PROGRESS)
    fake_ra.fail_next(FakeFault("status", 503))
    # the 503 matches any endpoint, so API_GetGame takes it first; the 429s wait for PROGRESS
    status, ctype, body = await get(session, fake_ra, "API_GetGame", i="1")
    assert (status, ctype) == (503, "text/html") and "<html>" in body
    for _ in range(2):
        async with session.get(f"{fake_ra.base_url}/{PROGRESS}.php",
                               params={"y": FAKE_RA_KEY, "u": "Scott", "i": "228"}) as resp:
            assert resp.status == 429 and resp.headers["Retry-After"] == "2"
            assert await resp.text() == "Too Many Requests"
    assert (await get(session, fake_ra, PROGRESS, u="Scott", i="228"))[0] == 200
    fake_ra.fail_always(FakeFault("status", 502), endpoint=PROGRESS)
    assert [(await get(session, fake_ra, PROGRESS, u="Scott", i="1"))[0] for _ in "ab"] == [502,
                                                                                            502]
    assert (await get(session, fake_ra, "API_GetGame", i="1"))[0] == 200
    fake_ra.fail_always(None, endpoint=PROGRESS)
    assert (await get(session, fake_ra, PROGRESS, u="Scott", i="1"))[0] == 200
    assert len(fake_ra.requests) == len(fake_ra.request_times) == 8  # faulted ones recorded too


async def test_broken_bodies(fake_ra: FakeRA, session: aiohttp.ClientSession) -> None:
    fake_ra.fail_next(FakeFault("malformed_json"))
    fake_ra.fail_next(FakeFault("html"))
    url = f"{fake_ra.base_url}/{PROGRESS}.php?y={FAKE_RA_KEY}&u=Scott&i=228"
    async with session.get(url) as resp:
        assert resp.status == 200
        with pytest.raises(json.JSONDecodeError):
            await resp.json()
    async with session.get(url) as resp:
        assert (resp.status, resp.content_type) == (200, "text/html")
        with pytest.raises(aiohttp.ContentTypeError):
            await resp.json()


async def test_reset_drops_connection_quietly(
    fake_ra: FakeRA, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{fake_ra.base_url}/{PROGRESS}.php?y={FAKE_RA_KEY}&u=Scott&i=228"
    # aiohttp's client silently retries an idempotent request once after a disconnect,
    # so a single reset is invisible to a GET: it shows up only as a second request.
    fake_ra.fail_next(FakeFault("reset"))
    async with session.get(url) as resp:
        assert resp.status == 200
    assert len(fake_ra.calls(PROGRESS)) == 2
    fake_ra.fail_next(FakeFault("reset"), times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await session.get(url)
    assert len(fake_ra.calls(PROGRESS)) == 4
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == []


async def test_hang_is_released_by_stop(session: aiohttp.ClientSession) -> None:
    fake = FakeRA()
    fake.add_user("Scott")
    await fake.start()
    fake.fail_always(FakeFault("hang"))
    url = f"{fake.base_url}/{PROGRESS}.php?y={FAKE_RA_KEY}&u=Scott&i=1"
    tasks = [asyncio.create_task(session.get(url)) for _ in range(3)]
    async with asyncio.timeout(5):
        await fake.wait_for_calls(3)
    assert fake.in_flight == fake.max_concurrent == 3
    assert not any(t.done() for t in tasks)
    started = time.monotonic()
    await asyncio.wait_for(fake.stop(), timeout=5)
    assert time.monotonic() - started < 2
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        assert isinstance(result, aiohttp.ClientConnectionError)
    assert fake.in_flight == 0


# -- the feed: API_GetRecentGameAwards and API_GetAchievementOfTheWeek ----------------------------

AWARDS = "API_GetRecentGameAwards"
AOTW = "API_GetAchievementOfTheWeek"
DAY = datetime(2026, 3, 10, tzinfo=UTC)  # in the past: `d` may name it


async def test_awards_newest_first_with_the_real_row_shape(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    fake_ra.add_user("acct", display_name="Shown")
    fake_ra.add_award("ACCT", 228, "mastered", at=DAY)
    fake_ra.add_award("Stranger", 1, "beaten-softcore", at=DAY + timedelta(hours=1))
    fake_ra.add_award("Gone", 777, "completed", at=DAY - timedelta(hours=1), title=None)
    status, ctype, body = await get(session, fake_ra, AWARDS)
    assert (status, ctype) == (200, "application/json")
    assert (body["Count"], body["Total"]) == (3, 3)
    assert body["Results"] == [
        {"User": "Stranger", "ULID": fake_ulid("Stranger"), "AwardKind": "beaten-softcore",
         "AwardDate": "2026-03-10T01:00:00+00:00", "GameID": 1, "GameTitle": "Sonic the Hedgehog",
         "ConsoleID": 1, "ConsoleName": "Genesis/Mega Drive"},
        {"User": "Shown", "ULID": fake_ra.users["acct"].ulid, "AwardKind": "mastered",
         "AwardDate": "2026-03-10T00:00:00+00:00", "GameID": 228, "GameTitle": "Super Mario World",
         "ConsoleID": 3, "ConsoleName": "SNES/Super Famicom"},
        # a deleted game: RA finds neither its title nor its console
        {"User": "Gone", "ULID": fake_ulid("Gone"), "AwardKind": "completed",
         "AwardDate": "2026-03-09T23:00:00+00:00", "GameID": 777, "GameTitle": None,
         "ConsoleID": None, "ConsoleName": None},
    ]


async def test_awards_ties_keep_a_stable_order_and_pages_do_not_overlap(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    # 30 awards in 3 seconds (microseconds apart): RA writes seconds, so most are ties
    added = fake_ra.add_site_awards(30, DAY, every_seconds=0.1)
    users = [(await get(session, fake_ra, AWARDS, c="7", o=str(o)))[2]["Results"]
             for o in range(0, 30, 7)]
    listed = [row["User"] for page in users for row in page]
    again = [row["User"] for row in (await get(session, fake_ra, AWARDS, c="30"))[2]["Results"]]
    assert listed == again
    assert sorted(listed) == sorted(a.user for a in added)  # each once
    seconds = [a.at.replace(microsecond=0) for a in added]
    expected = sorted(added, key=lambda a: (seconds[a.seq], a.seq), reverse=True)
    assert listed == [a.user for a in expected]
    assert listed[0] == added[-1].user and listed[-1] == added[0].user


async def test_awards_count_default_clamp_and_offset(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    added = fake_ra.add_site_awards(130, DAY, every_seconds=60)
    newest_first = [a.user for a in reversed(added)]

    async def users(**params: str) -> tuple[int, int, list[str]]:
        _, _, body = await get(session, fake_ra, AWARDS, **params)
        return body["Count"], body["Total"], [r["User"] for r in body["Results"]]

    assert await users() == (25, 130, newest_first[:25])
    assert await users(c="500") == (100, 130, newest_first[:100])
    assert await users(c="1", o="129") == (1, 130, newest_first[129:])
    assert await users(o="200") == (0, 130, [])


async def test_awards_by_day_and_kind(fake_ra: FakeRA, session: aiohttp.ClientSession) -> None:
    fake_ra.add_award("Early", 1, "mastered", at=DAY - timedelta(seconds=1))
    fake_ra.add_award("LastSecond", 1, "beaten-hardcore", at=DAY + timedelta(seconds=86399))
    fake_ra.add_award("NextDay", 1, "mastered", at=DAY + timedelta(days=1))
    fake_ra.add_award("Soft", 1, "completed", at=DAY)

    async def users(**params: str) -> tuple[int, list[str]]:
        _, _, body = await get(session, fake_ra, AWARDS, **params)
        assert body["Count"] == len(body["Results"])
        return body["Total"], [r["User"] for r in body["Results"]]

    assert await users(d="2026-03-10") == (3, ["LastSecond", "Soft", "Early"])
    assert await users(d="2026-03-09") == (1, ["Early"])
    assert await users(k="mastered") == (2, ["NextDay", "Early"])
    assert await users(k="mastered,nonsense,completed", d="2026-03-10") == (2, ["Soft", "Early"])
    assert await users(k="legendary,nonsense") == (0, [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"d": "2999-01-01"}, "d"),
        ({"d": "2026-02-30"}, "d"),
        ({"d": "yesterday"}, "d"),
        ({"o": "-1"}, "o"),
        ({"o": "x"}, "o"),
        ({"c": "0"}, "c"),
    ],
)
async def test_awards_validation_is_a_422(
    fake_ra: FakeRA, session: aiohttp.ClientSession, params: dict[str, str], field: str
) -> None:
    status, _, body = await get(session, fake_ra, AWARDS, **params)
    assert status == 422
    assert list(body["errors"]) == [field] and body["message"] == body["errors"][field][0]


async def test_awards_and_aotw_of_an_older_server_send_strings_and_no_ulid(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    fake_ra.numbers_as_strings = True
    fake_ra.add_award("Scott", 228, "mastered", at=DAY)
    _, _, body = await get(session, fake_ra, AWARDS)
    (row,) = body["Results"]
    assert "ULID" not in row
    assert (row["GameID"], row["ConsoleID"], body["Total"]) == ("228", "3", "1")
    fake_ra.set_aotw(9, "Nine", game_id=228, starts_at=DAY)
    fake_ra.add_aotw_unlock("Scott", hardcore=True, at=DAY)
    _, _, aotw = await get(session, fake_ra, AOTW)
    assert aotw["StartAt"] == "2026-03-10 00:00:00"
    assert (aotw["Achievement"]["ID"], aotw["Achievement"]["Points"]) == ("9", "10")
    assert (aotw["Game"]["ID"], aotw["Console"]["ID"], aotw["UnlocksCount"]) == ("228", "3", "1")
    assert aotw["Unlocks"] == [{"User": "Scott", "RAPoints": "340", "RASoftcorePoints": "45",
                                "DateAwarded": "2026-03-10 00:00:00", "HardcoreMode": "1"}]


async def test_aotw_default_set_earned_and_cleared(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    _, _, aotw = await get(session, fake_ra, AOTW)
    assert (aotw["Achievement"]["ID"], aotw["StartAt"]) == (5, "2024-01-01T00:00:00.000000Z")
    assert aotw["Unlocks"] == [] and aotw["UnlocksCount"] == 0

    fake_ra.set_aotw(165062, "Ring Master", game_id=1, starts_at=DAY, points=25)
    fake_ra.add_aotw_unlock("Early", hardcore=True, at=DAY - timedelta(seconds=1))
    fake_ra.add_aotw_unlock("maxmilyin", hardcore=False, at=DAY + timedelta(hours=2))
    fake_ra.add_aotw_unlock("Stranger", hardcore=True, at=DAY)
    _, _, aotw = await get(session, fake_ra, AOTW)
    assert aotw["Achievement"] | {"DateCreated": "", "DateModified": ""} == {
        "ID": 165062, "Title": "Ring Master", "Description": "Do the thing", "Points": 25,
        "TrueRatio": 50, "Author": "Scott", "DateCreated": "", "DateModified": "",
        "BadgeName": "165062", "BadgeURL": "/Badge/165062.png", "Type": None}
    assert (aotw["Game"], aotw["Console"]) == ({"ID": 1, "Title": "Sonic the Hedgehog"},
                                               {"ID": 1, "Title": "Genesis/Mega Drive"})
    assert aotw["StartAt"] == "2026-03-10T00:00:00.000000Z"
    # earners since the start, oldest first; the earlier one only counts
    assert aotw["Unlocks"] == [
        {"User": "Stranger", "ULID": fake_ulid("Stranger"), "RAPoints": 0, "RASoftcorePoints": 0,
         "DateAwarded": "2026-03-10 00:00:00", "HardcoreMode": 1},
        {"User": "MaxMilyin", "ULID": fake_ra.users["maxmilyin"].ulid, "RAPoints": 550,
         "RASoftcorePoints": 260, "DateAwarded": "2026-03-10 02:00:00", "HardcoreMode": 0},
    ]
    assert (aotw["UnlocksCount"], aotw["UnlocksHardcoreCount"]) == (3, 2)

    fake_ra.clear_aotw()
    assert (await get(session, fake_ra, AOTW))[2] == {"Achievement": {"ID": None},
                                                      "StartAt": None}
    with pytest.raises(RuntimeError):
        fake_ra.add_aotw_unlock("Scott", at=DAY)


async def test_feed_endpoints_take_injected_faults_and_check_the_key(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    fake_ra.fail_next(FakeFault("status", 503), endpoint=AWARDS)
    fake_ra.fail_always(FakeFault("html"), endpoint=AOTW)
    assert (await get(session, fake_ra, AWARDS))[0] == 503
    assert (await get(session, fake_ra, AWARDS))[0] == 200
    assert (await get(session, fake_ra, AOTW))[1] == "text/html"
    fake_ra.fail_always(None, endpoint=AOTW)
    assert (await get(session, fake_ra, AOTW))[0] == 200
    for endpoint in (AWARDS, AOTW):
        assert (await get(session, fake_ra, endpoint, y="wrong"))[0] == 401
