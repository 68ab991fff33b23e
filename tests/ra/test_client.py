"""RAClient against FakeRA over real HTTP: shapes, retries, typed errors, and no key leaks."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.models.ra import CatalogueGame, Console, GameInfo, GameProgress
from bot.ra.client import RAClient, is_valid_ra_user
from bot.ra.errors import (
    RABadResponse,
    RAError,
    RAKeyRejected,
    RANotUsable,
    RARateLimited,
    RARequestRejected,
    RAUnavailable,
    RAUnreachable,
    RAUserNotFound,
)
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import USER_AGENT, RATransport, queue_patience
from bot.stats import Stats
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA

PROGRESS = "API_GetUserProgress"
PROFILE = "API_GetUserProfile"
GAME = "API_GetGame"
AOTW = "API_GetAchievementOfTheWeek"

MakeClient = Callable[..., RAClient]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def make_client(fake_ra: FakeRA, session: aiohttp.ClientSession) -> MakeClient:
    """A client on the fake with fast defaults; keyword arguments override them."""

    def make(**kw: Any) -> RAClient:
        options: dict[str, Any] = {
            "api_key": FAKE_RA_KEY,
            "limiter": UpstreamLimiter(1000.0, 8),
            "base_url": fake_ra.base_url,
            "timeout": 2.0,
            "retry_budget": 2.0,
            "backoff_base": 0.01,
            "rng": random.Random(1234),
        }
        options.update(kw)
        return RAClient(RATransport(session, **options))

    return make


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything reachable through __context__ / __cause__."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__context__, item.__cause__]
    return seen


def assert_key_never_leaks(
    exc: BaseException, caplog: pytest.LogCaptureFixture, client: RAClient, key: str = FAKE_RA_KEY
) -> None:
    assert key not in repr(client)
    assert key not in "".join(traceback.format_exception(exc))
    for item in chain(exc):
        assert key not in str(item), type(item)
        assert key not in repr(item), type(item)
        for arg in item.args:
            assert key not in str(arg), type(item)
    formatter = logging.Formatter()
    for record in caplog.records:
        assert key not in record.getMessage(), record.name
        if record.exc_info:
            assert key not in formatter.formatException(record.exc_info), record.name
        assert key not in (record.exc_text or ""), record.name
        assert key not in (record.stack_info or ""), record.name
        assert key not in formatter.format(record), record.name
    assert key not in caplog.text


# -- endpoints --------------------------------------------------------------------------------


async def test_user_progress_in_one_call(fake_ra: FakeRA, make_client: MakeClient) -> None:
    client = make_client()
    result = await client.get_user_progress("MaxMilyin", [1, 14402])
    assert [r.params["i"] for r in fake_ra.calls()] == ["1,14402"]
    assert list(result) == [1, 14402]
    assert result[1] == GameProgress(1, 23, 400, 23, 400, 23, 400)
    assert result[1].mastered and result[1].completed
    assert result[14402] == GameProgress(14402, 69, 950, 30, 410, 12, 150)
    assert not result[14402].mastered and not result[14402].completed
    request = fake_ra.calls(PROGRESS)[0]
    assert request.method == "GET"
    assert request.params["u"] == "MaxMilyin"
    assert request.params["y"] == FAKE_RA_KEY


async def test_user_progress_numbers_as_strings(fake_ra: FakeRA, make_client: MakeClient) -> None:
    fake_ra.numbers_as_strings = True
    result = await make_client().get_user_progress("MaxMilyin", [14402])
    progress = result[14402]
    assert progress == GameProgress(14402, 69, 950, 30, 410, 12, 150)
    for name in ("possible", "possible_score", "achieved", "score", "achieved_hardcore"):
        assert type(getattr(progress, name)) is int


async def test_user_progress_unknown_game_is_blank(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    result = await make_client().get_user_progress("MaxMilyin", [1, 99999])
    assert result[99999] == GameProgress(99999, 0, 0, 0, 0, 0, 0)
    assert result[99999].is_blank
    assert not result[99999].mastered and not result[99999].completed
    assert not result[1].is_blank


async def test_user_progress_unknown_user_is_empty(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    assert await make_client().get_user_progress("NoSuchUser", [1, 14402]) == {}
    assert len(fake_ra.calls(PROGRESS)) == 1


async def test_user_progress_duplicate_ids_collapse(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    result = await make_client().get_user_progress("MaxMilyin", [1, 1, 14402, 1, 14402])
    assert [r.params["i"] for r in fake_ra.calls()] == ["1,14402"]
    assert list(result) == [1, 14402]


async def test_user_progress_no_valid_ids_makes_no_call(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    assert await make_client().get_user_progress("MaxMilyin", [0, -3]) == {}
    assert fake_ra.calls() == []


async def test_z_sent_only_with_a_username(fake_ra: FakeRA, make_client: MakeClient) -> None:
    await make_client().get_user_progress("Scott", [228])
    await make_client(username="OperatorName").get_user_progress("Scott", [228])
    first, second = fake_ra.calls(PROGRESS)
    assert "z" not in first.params
    assert second.params["z"] == "OperatorName"


async def test_user_agent_names_the_bot(fake_ra: FakeRA, make_client: MakeClient) -> None:
    await make_client().check_key()
    headers = {k.lower(): v for k, v in fake_ra.calls()[0].headers.items()}
    assert headers["user-agent"] == USER_AGENT
    assert "RetroAchievementsDiscordBot" in headers["user-agent"]


async def test_get_game(fake_ra: FakeRA, make_client: MakeClient) -> None:
    client = make_client()
    assert await client.get_game(14402) == GameInfo(
        14402, "Dragon Quest III", "SNES/Super Famicom", "/Images/066440.png"
    )
    assert await client.get_game(99999) is None
    assert [r.params["i"] for r in fake_ra.calls(GAME)] == ["14402", "99999"]


async def test_get_user_profile(fake_ra: FakeRA, make_client: MakeClient) -> None:
    client = make_client()
    profile = await client.get_user_profile("maxmilyin")
    assert profile.display_name == "MaxMilyin"
    assert profile.user_pic_path == "/UserPic/MaxMilyin.png"
    assert (profile.total_points, profile.total_softcore_points) == (550, 260)
    assert profile.ulid == fake_ra.users["maxmilyin"].ulid
    with pytest.raises(RAUserNotFound) as caught:
        await client.get_user_profile("NoSuchUser")
    assert caught.value.username == "NoSuchUser"
    assert len(fake_ra.calls(PROFILE)) == 2  # a 404 is an answer, not retried


async def test_a_404_that_is_not_ra_s_unknown_user_is_the_operator_s_problem(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    """RA's unknown user is 404 with `[]`; a wrong RA_API_BASE_URL path is 404 with anything
    else, and must not tell members that the user does not exist."""
    fake_ra.fail_next(
        FakeFault("status", 404, body='{"message": "Not Found"}'), endpoint=PROFILE
    )
    client = make_client()
    with pytest.raises(RANotUsable) as caught:
        await client.get_user_profile("MaxMilyin")
    assert "RA_API_BASE_URL" in str(caught.value)
    assert (await client.get_user_profile("MaxMilyin")).display_name == "MaxMilyin"


async def test_check_key(fake_ra: FakeRA, make_client: MakeClient) -> None:
    await make_client().check_key()
    with pytest.raises(RAKeyRejected):
        await make_client(api_key="WrongKey0000000000000000000000000").check_key()
    assert len(fake_ra.calls(AOTW)) == 2


def test_valid_ra_user() -> None:
    assert is_valid_ra_user("MaxMilyin")
    assert is_valid_ra_user(("01" + "A" * 24).lower())
    assert not is_valid_ra_user("a")
    assert not is_valid_ra_user("bad name")
    assert not is_valid_ra_user("x" * 21)


async def test_stats_count_every_attempt(fake_ra: FakeRA, make_client: MakeClient) -> None:
    stats = Stats()
    fake_ra.fail_next(FakeFault("status", 500))
    await make_client(stats=stats).get_game(1)
    snapshot = stats.snapshot()
    assert (snapshot.ra_requests, snapshot.ra_errors) == (2, 1)


# -- statuses and faults ----------------------------------------------------------------------


@dataclass
class Case:
    name: str
    fault: FakeFault | None  # fail_always unless `times` is set
    error: type[RAError]
    times: int | None = None
    requests: int | None = None  # exact number of requests the client may make
    client: dict[str, Any] | None = None
    key: str = FAKE_RA_KEY
    call: str = "progress"


ERROR_CASES = [
    Case("401", None, RAKeyRejected, requests=1, key="WrongKey0000000000000000000000000"),
    Case("401 injected", FakeFault("status", 401), RAKeyRejected, requests=1),
    Case("403 (a proxy, not RA: RA refuses a key with 401)", FakeFault("status", 403),
         RANotUsable, requests=1),
    Case("422", FakeFault("status", 422), RARequestRejected, requests=1),
    Case("422 real", None, RARequestRejected, requests=1, call="bad user"),
    Case("404 elsewhere", FakeFault("status", 404), RABadResponse, requests=1),
    Case(
        "429 over budget",
        FakeFault("status", 429, headers={"Retry-After": "60"}),
        RARateLimited,
        requests=1,
    ),
    Case(
        "503 forever",
        FakeFault("status", 503),
        RAUnavailable,
        client={"retry_budget": 0.3, "backoff_base": 0.05},
    ),
    Case(
        "hang",
        FakeFault("hang"),
        RAUnavailable,
        requests=1,
        client={"timeout": 0.3, "retry_budget": 0.1},
    ),
    Case("malformed json", FakeFault("malformed_json"), RABadResponse, requests=1),
    Case("html", FakeFault("html"), RABadResponse, requests=1),
    Case("reset", FakeFault("reset"), RAUnavailable, client={"retry_budget": 0.2}),
]


async def call(client: RAClient, which: str) -> object:
    if which == "bad user":
        return await client.get_user_progress("bad name!", [1])
    return await client.get_user_progress("MaxMilyin", [1, 14402])


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.name)
async def test_errors_are_typed_and_never_carry_the_key(
    case: Case, fake_ra: FakeRA, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "aiohttp.server", "aiohttp.web", "asyncio", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    if case.fault is not None:
        if case.times is None:
            fake_ra.fail_always(case.fault)
        else:
            fake_ra.fail_next(case.fault, times=case.times)
    client = make_client(**{"api_key": case.key, **(case.client or {})})
    with pytest.raises(case.error) as caught:
        await asyncio.wait_for(call(client, case.call), 5)
    if case.requests is not None:
        assert len(fake_ra.calls()) == case.requests
    else:
        assert len(fake_ra.calls()) >= 2  # retried
    assert_key_never_leaks(caught.value, caplog, client)
    assert "API_" in str(caught.value) or isinstance(caught.value, RAUserNotFound)


async def test_429_then_ok_honours_retry_after(fake_ra: FakeRA, make_client: MakeClient) -> None:
    fake_ra.fail_next(FakeFault("status", 429, headers={"Retry-After": "0"}))
    result = await make_client().get_user_progress("MaxMilyin", [1])
    assert result[1].achieved == 23
    assert len(fake_ra.calls()) == 2


async def test_429_retry_after_is_the_wait_and_holds_the_limiter(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    fake_ra.fail_next(FakeFault("status", 429, headers={"Retry-After": "1"}))
    client = make_client(sleep=sleep, retry_budget=3.0)
    assert (await client.get_game(1)) is not None
    assert waits == [1.0]  # Retry-After, not jitter
    # The limiter itself held the retry back (back_off): the requests are >= 1 s apart.
    first, second = fake_ra.request_times
    assert second - first >= 0.95


async def test_429_without_retry_after_uses_backoff(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    # RA's own 429 (Cloudflare) is often plain text with no Retry-After.
    fake_ra.fail_next(FakeFault("status", 429), times=1)
    limiter = UpstreamLimiter(1000.0, 4)
    client = make_client(sleep=sleep, limiter=limiter, backoff_base=0.5, rng=random.Random(7))
    start = asyncio.get_running_loop().time()
    assert (await client.get_game(1)) is not None
    assert waits == [random.Random(7).uniform(0, 0.5)]
    # ... and the limiter backs everyone off by a second meanwhile.
    assert asyncio.get_running_loop().time() - start >= 0.95


async def test_429_over_budget_reports_retry_after(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    fake_ra.fail_always(FakeFault("status", 429, headers={"Retry-After": "60"}))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(RARateLimited) as caught:
        await make_client(retry_budget=5.0, sleep=sleep).get_game(1)
    assert caught.value.retry_after == 60.0
    assert waits == []
    assert len(fake_ra.calls()) == 1


async def test_500_then_ok(fake_ra: FakeRA, make_client: MakeClient) -> None:
    fake_ra.fail_next(FakeFault("status", 500), endpoint=PROFILE)
    profile = await make_client().get_user_profile("Scott")
    assert profile.display_name == "Scott"
    assert len(fake_ra.calls(PROFILE)) == 2


async def test_hang_then_ok_after_the_timeout(fake_ra: FakeRA, make_client: MakeClient) -> None:
    fake_ra.fail_next(FakeFault("hang"))
    start = time.monotonic()
    result = await make_client(timeout=0.3, retry_budget=2.0).get_user_progress("Scott", [228])
    assert result[228].achieved == 40
    assert time.monotonic() - start >= 0.3
    assert len(fake_ra.calls()) == 2


async def test_reset_then_ok(fake_ra: FakeRA, make_client: MakeClient) -> None:
    # aiohttp retries a GET once by itself after a dropped connection: two resets are one
    # failed attempt as our client sees it.
    fake_ra.fail_next(FakeFault("reset"), times=2)
    assert (await make_client().get_game(228)) is not None
    assert len(fake_ra.calls()) == 3


async def test_503_forever_gives_up_within_the_budget(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    fake_ra.fail_always(FakeFault("status", 503))
    start = time.monotonic()
    with pytest.raises(RAUnavailable):
        await make_client(retry_budget=0.4, backoff_base=0.05).get_game(1)
    elapsed = time.monotonic() - start
    assert elapsed < 0.4 + 0.25  # the budget plus one quick last attempt
    assert len(fake_ra.calls()) >= 3


async def test_hang_gives_up_after_the_timeout(fake_ra: FakeRA, make_client: MakeClient) -> None:
    fake_ra.fail_always(FakeFault("hang"))
    start = time.monotonic()
    with pytest.raises(RAUnavailable, match="no answer in time"):
        await make_client(timeout=0.3, retry_budget=0.2).get_game(1)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 0.3 + 0.4
    assert len(fake_ra.calls()) == 1


async def test_backoff_is_full_jitter_from_the_injected_rng(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    fake_ra.fail_next(FakeFault("status", 502), times=4)
    client = make_client(sleep=sleep, backoff_base=0.5, rng=random.Random(42), retry_budget=30)
    assert (await client.get_game(1)) is not None
    expected_rng = random.Random(42)
    assert waits == [expected_rng.uniform(0, 0.5 * 2**n) for n in range(4)]
    assert len(fake_ra.calls()) == 5


async def test_retry_stops_when_the_next_wait_exceeds_the_budget(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    class Max(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    fake_ra.fail_always(FakeFault("status", 500))
    with pytest.raises(RAUnavailable):
        await make_client(sleep=sleep, backoff_base=1.0, rng=Max(), retry_budget=5.0).get_game(1)
    # The injected sleep takes no time, so the whole 5 s budget stays: 1, 2 and 4 s fit it,
    # the next wait (8 s) does not, and the client gives up instead of waiting.
    assert waits == [1.0, 2.0, 4.0]
    assert len(fake_ra.calls()) == 4


# -- a key in the exception chain -------------------------------------------------------------


@pytest.fixture
async def garbage_server() -> AsyncIterator[str]:
    """A TCP server that answers any request with bytes that are not HTTP."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"this is not HTTP\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/API"
    finally:
        server.close()
        await server.wait_closed()


async def test_key_not_in_chain_of_an_aiohttp_error_that_holds_the_url(
    garbage_server: str, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp answers a broken status line with ClientResponseError, whose str() and repr()
    # hold the full request URL, key included. It must not hang off __context__.
    caplog.set_level(logging.DEBUG)
    client = RAClient(RATransport(
        session,
        api_key=FAKE_RA_KEY,
        limiter=UpstreamLimiter(1000.0, 4),
        base_url=garbage_server,
        retry_budget=0.1,
        backoff_base=0.01,
    ))
    with pytest.raises(RAUnavailable, match="ClientResponseError") as caught:
        await client.check_key()
    assert_key_never_leaks(caught.value, caplog, client)
    assert not any(isinstance(e, aiohttp.ClientError) for e in chain(caught.value))


async def test_waiting_for_a_turn_counts_against_the_budget(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    """A long back-off (another request's Retry-After) must not keep a caller past the budget."""
    limiter = UpstreamLimiter(1000.0, 8)
    client = make_client(limiter=limiter, retry_budget=0.3)
    loop = asyncio.get_running_loop()
    limiter.back_off(60.0)
    started = loop.time()
    with pytest.raises(RARateLimited):
        await client.get_user_progress("MaxMilyin", [1])
    assert loop.time() - started < 1.0
    assert fake_ra.calls() == []
    assert limiter.in_flight == 0 and limiter.waiting == 0


async def test_refused_names_are_not_counted_as_ra_errors(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    stats = Stats()
    client = make_client(stats=stats)
    with pytest.raises(RAUserNotFound):
        await client.get_user_profile("NoSuchUser")
    with pytest.raises(RAKeyRejected):
        await make_client(stats=stats, api_key="A" * 32).check_key()
    snapshot = stats.snapshot()
    assert (snapshot.ra_requests, snapshot.ra_errors) == (2, 1)


# -- the catalogue's endpoints ---------------------------------------------------------------------

CONSOLE_IDS = "API_GetConsoleIDs"
GAME_LIST = "API_GetGameList"
SNES = Console(3, "SNES/Super Famicom")


def shown(games: list[CatalogueGame]) -> list[tuple[int, str, int, str, str, int, int]]:
    """Games as the bot shows them (however they are kept in memory)."""
    return [
        (g.game_id, g.title, g.console_id, g.console, g.icon_path, g.achievements, g.points)
        for g in games
    ]


def answer(fake: FakeRA, endpoint: str, body: Any) -> None:
    """The next call to `endpoint` is answered 200 with `body` (JSON unless a str)."""
    text = body if isinstance(body, str) else json.dumps(body)
    fake.fail_next(FakeFault("status", 200, body=text), endpoint=endpoint)


async def test_get_consoles_lists_the_game_systems(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    consoles = await make_client().get_consoles()
    assert consoles == [Console(1, "Genesis/Mega Drive"), SNES]  # no Hubs, no Events
    (request,) = fake_ra.calls(CONSOLE_IDS)
    assert request.params["g"] == "1"


async def test_get_consoles_skips_what_is_not_a_usable_game_system(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    answer(
        fake_ra,
        CONSOLE_IDS,
        [
            {"ID": 1, "Name": "Genesis/Mega Drive", "IsGameSystem": True},
            {"ID": 100, "Name": "Hubs", "IsGameSystem": False},
            {"ID": "5", "Name": " Game Boy Advance "},  # an id as a string, no flag: kept
            {"Name": "No ID"},
            {"ID": 7},
            {"ID": 8, "Name": "  "},
            {"ID": 0, "Name": "Zero"},
            {"ID": "x", "Name": "Bad ID"},
            "junk",
            None,
        ],
    )
    assert await make_client().get_consoles() == [
        Console(1, "Genesis/Mega Drive"),
        Console(5, "Game Boy Advance"),
    ]


async def test_get_consoles_of_an_empty_list_is_empty(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    answer(fake_ra, CONSOLE_IDS, [])
    assert await make_client().get_consoles() == []


@pytest.mark.parametrize(
    "body",
    [
        {"success": False},
        '"consoles"',
        [{"ID": 100, "Name": "Hubs", "IsGameSystem": False}, "junk"],
    ],
    ids=["object", "string", "nothing-usable"],
)
async def test_get_consoles_without_a_usable_list_is_a_bad_response(
    fake_ra: FakeRA, make_client: MakeClient, body: Any
) -> None:
    answer(fake_ra, CONSOLE_IDS, body)
    with pytest.raises(RABadResponse, match=CONSOLE_IDS):
        await make_client().get_consoles()
    assert len(fake_ra.calls(CONSOLE_IDS)) == 1  # not retried


@pytest.mark.parametrize("as_strings", [False, True], ids=["numbers", "strings"])
async def test_get_game_list_parses_a_consoles_games(
    fake_ra: FakeRA, make_client: MakeClient, as_strings: bool
) -> None:
    fake_ra.numbers_as_strings = as_strings
    assert shown(await make_client().get_game_list(SNES)) == [
        (14402, "Dragon Quest III", 3, "SNES/Super Famicom", "/Images/066440.png", 69, 950),
        (228, "Super Mario World", 3, "SNES/Super Famicom", "/Images/066306.png", 96, 1000),
    ]
    (request,) = fake_ra.calls(GAME_LIST)
    assert (request.params["i"], request.params["f"]) == ("3", "1")


async def test_get_game_list_skips_entries_that_are_not_games(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    answer(
        fake_ra,
        GAME_LIST,
        [
            {
                "Title": "Kept",
                "ID": 10,
                "ConsoleID": 3,
                "ConsoleName": "SNES/Super Famicom",
                "ImageIcon": "/Images/000010.png",
                "NumAchievements": "5",
                "Points": "50",
            },
            {"Title": "No ID", "NumAchievements": 5, "Points": 50},
            {"ID": 11, "NumAchievements": 5, "Points": 50},
            {"ID": 12, "Title": "   ", "NumAchievements": 5, "Points": 50},
            {"ID": 13, "Title": "No Achievements", "NumAchievements": 0, "Points": 0},
            {"ID": "bad", "Title": "Bad ID", "NumAchievements": 5, "Points": 50},
            {"ID": 15, "Title": "Bad Points", "NumAchievements": 5, "Points": "lots"},
            {"ID": 14, "Title": " No Console Name ", "NumAchievements": 1, "Points": 5},
            "junk",
            None,
        ],
    )
    games = await make_client().get_game_list(Console(3, "Super Nintendo"))
    assert shown(games) == [
        (10, "Kept", 3, "SNES/Super Famicom", "/Images/000010.png", 5, 50),
        (14, "No Console Name", 3, "Super Nintendo", "", 1, 5),
    ]


async def test_get_game_list_of_an_unknown_console_is_empty(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    assert await make_client().get_game_list(Console(999, "Nothing")) == []


async def test_get_game_list_of_console_0_is_a_bad_response(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    with pytest.raises(RABadResponse, match=GAME_LIST):
        await make_client().get_game_list(Console(0, "None"))  # RA: {"success": false}
    assert len(fake_ra.calls(GAME_LIST)) == 1


@pytest.mark.parametrize("body", [{"1": {"Title": "x"}}, '"games"', "null"], ids=str)
async def test_get_game_list_without_a_list_is_a_bad_response(
    fake_ra: FakeRA, make_client: MakeClient, body: Any
) -> None:
    answer(fake_ra, GAME_LIST, body)
    with pytest.raises(RABadResponse, match=GAME_LIST):
        await make_client().get_game_list(SNES)


async def test_queued_work_still_gives_up_on_a_429_with_a_short_retry_after(
    fake_ra: FakeRA, make_client: MakeClient
) -> None:
    """Work that expects to queue (the catalogue, a leaderboard's fan-out) gets its retry budget
    from its turn, but once: RA answering 429 with a Retry-After shorter than the budget, again
    and again, must still end in RARateLimited, not in retries for ever."""
    fake_ra.fail_always(FakeFault("status", 429, headers={"Retry-After": "0"}), CONSOLE_IDS)
    client = make_client(retry_budget=0.3)
    token = queue_patience.set(60.0)
    try:
        with pytest.raises(RARateLimited):
            await asyncio.wait_for(client.get_consoles(), 3.0)
    finally:
        queue_patience.reset(token)


# -- no connection at all ---------------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refused_connection_says_the_host_could_not_be_reached(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}/API", retry_budget=0.3)
    with pytest.raises(RAUnreachable, match="RA's host could not be reached") as caught:
        await client.get_game(1)
    assert caught.value.resolved is True
    assert_key_never_leaks(caught.value, caplog, client)


async def test_unresolvable_host_says_it_could_not_be_resolved(make_client: MakeClient) -> None:
    client = make_client(base_url="http://ra.invalid/API", retry_budget=0.3)
    with pytest.raises(RAUnreachable, match="RA's host could not be resolved") as caught:
        await client.get_game(1)
    assert caught.value.resolved is False


async def test_a_retry_without_a_turn_reports_what_the_attempt_met(
    make_client: MakeClient,
) -> None:
    # One request a second: after the refused first attempt, the retry cannot get a turn within
    # the budget. The caller must learn the host was unreachable, not that the queue was full.
    client = make_client(
        base_url=f"http://127.0.0.1:{closed_port()}/API",
        limiter=UpstreamLimiter(1.0, 1),
        retry_budget=0.5,
    )
    with pytest.raises(RAUnreachable, match="could not be reached"):
        await client.check_key()
