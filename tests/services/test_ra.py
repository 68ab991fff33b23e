"""RAService over a real RAClient and FakeRA: caching, coalescing, batching, failures."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.ra.client import RAClient
from bot.ra.errors import RAKeyRejected, RAUnavailable, RAUserNotFound
from bot.ra.limiter import Priority, UpstreamLimiter, command_order, new_ticket
from bot.ra.transport import RATransport, queue_patience
from bot.services.ra import AOTW_TTL, HOT_GAMES, NOT_FOUND_TTL, FetchedProgress, RAService
from bot.stats import Stats
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA

PROGRESS = "API_GetUserProgress"
PROFILE = "API_GetUserProfile"
GAME = "API_GetGame"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stats() -> Stats:
    return Stats()


MakeService = Callable[..., RAService]


@pytest.fixture
def make_service(
    fake_ra: FakeRA, session: aiohttp.ClientSession, clock: Clock, stats: Stats
) -> MakeService:
    def make(**kw: Any) -> RAService:
        client = RAClient(RATransport(
            session,
            api_key=kw.pop("api_key", FAKE_RA_KEY),
            limiter=kw.pop("limiter", None) or UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=2.0,
            retry_budget=kw.pop("retry_budget", 1.0),
            backoff_base=0.01,
            rng=random.Random(0),
        ))
        options: dict[str, Any] = {"stats": stats, "clock": clock}
        options.update(kw)
        return RAService(client, **options)

    return make


@pytest.fixture
def service(make_service: MakeService) -> RAService:
    return make_service()


def counts(fake: FakeRA) -> tuple[int, int, int]:
    """(progress, profile, game) requests so far."""
    return len(fake.calls(PROGRESS)), len(fake.calls(PROFILE)), len(fake.calls(GAME))


async def drain() -> None:
    """Wait for work the service left running (gather siblings of a failed report, flights)."""
    me = asyncio.current_task()
    while True:
        mine = [
            t
            for t in asyncio.all_tasks()
            if t is not me and getattr(t.get_coro(), "__qualname__", "").startswith("RAService.")
        ]
        if not mine:
            return
        await asyncio.wait(mine)


# -- coalescing and caching ---------------------------------------------------------------------


async def test_concurrent_identical_reports_share_one_fetch(
    fake_ra: FakeRA, service: RAService
) -> None:
    reports = await asyncio.gather(
        *(service.progress_report("MaxMilyin", [1, 14402]) for _ in range(20))
    )
    assert counts(fake_ra) == (1, 1, 2)
    assert fake_ra.calls(PROGRESS)[0].params["i"] == "1,14402"
    first = reports[0]
    assert all(r == first for r in reports)
    assert first.profile.display_name == "MaxMilyin"
    assert [g.game_id for g in first.games] == [1, 14402]
    assert first.games[0].progress.mastered
    assert first.games[1].info is not None and first.games[1].info.title == "Dragon Quest III"


async def test_second_report_within_ttl_makes_no_request(
    fake_ra: FakeRA, service: RAService, clock: Clock
) -> None:
    first = await service.progress_report("MaxMilyin", [1, 14402])
    before = len(fake_ra.calls())
    clock.now += 119
    second = await service.progress_report("maxmilyin", [14402, 1])  # any case, any order
    assert len(fake_ra.calls()) == before
    assert [g.game_id for g in second.games] == [14402, 1]
    assert second.fetched_at == first.fetched_at


async def test_overlapping_lists_fetch_only_the_missing_ids(
    fake_ra: FakeRA, service: RAService
) -> None:
    await service.progress_report("MaxMilyin", [1, 14402])
    report = await service.progress_report("MaxMilyin", [14402, 228, 1, 5])
    assert [r.params["i"] for r in fake_ra.calls(PROGRESS)] == ["1,14402", "228,5"]
    assert sorted(r.params["i"] for r in fake_ra.calls(GAME)) == ["1", "14402", "228", "5"]
    assert len(fake_ra.calls(PROFILE)) == 1
    assert [g.game_id for g in report.games] == [14402, 228, 1, 5]


async def test_concurrent_lists_of_one_user_share_the_call_that_has_not_gone_out(
    fake_ra: FakeRA, service: RAService
) -> None:
    fake_ra.response_delay = 0.05
    a, b = await asyncio.gather(
        service.progress("MaxMilyin", [1, 14402]),
        service.progress("MaxMilyin", [14402, 228]),
    )
    # The first call was still waiting for its turn when 228 was asked for: it took it along.
    assert [r.params["i"] for r in fake_ra.calls(PROGRESS)] == ["1,14402,228"]
    assert a[14402] == b[14402]
    assert b[228].progress.possible == 96


async def test_expiry_refetches(fake_ra: FakeRA, service: RAService, clock: Clock) -> None:
    first = await service.progress_report("MaxMilyin", [1])
    fake_ra.set_progress("MaxMilyin", 1, achieved=1, score=5)
    clock.now += 121  # past the 120 s progress TTL, well within the game/profile TTLs
    second = await service.progress_report("MaxMilyin", [1])
    assert counts(fake_ra) == (2, 1, 1)
    assert second.games[0].progress.achieved == 1
    assert second.fetched_at >= first.fetched_at
    clock.now += 3600  # past the profile TTL
    await service.progress_report("MaxMilyin", [1])
    assert counts(fake_ra) == (3, 2, 1)
    clock.now += 86400  # past the game TTL
    await service.progress_report("MaxMilyin", [1])
    assert counts(fake_ra) == (4, 3, 2)


async def test_fetched_at_is_the_oldest_figure(
    fake_ra: FakeRA, service: RAService, clock: Clock
) -> None:
    before = datetime.now(UTC)
    first = await service.progress_report("MaxMilyin", [1])
    after_first = datetime.now(UTC)
    assert before <= first.fetched_at <= after_first
    clock.now += 60
    mixed = await service.progress_report("MaxMilyin", [14402, 1])
    assert mixed.fetched_at == first.fetched_at
    fresh = await service.progress("MaxMilyin", [14402])
    assert fresh[14402].at > first.fetched_at


# -- unknown users and games --------------------------------------------------------------------


async def test_unknown_user_is_not_found_and_remembered(
    fake_ra: FakeRA, service: RAService, clock: Clock
) -> None:
    with pytest.raises(RAUserNotFound):
        await service.progress_report("NoSuchUser", [1, 14402])
    await drain()
    assert counts(fake_ra)[:2] == (1, 1)
    for _ in range(3):
        with pytest.raises(RAUserNotFound):
            await service.progress_report("nosuchuser", [1, 14402])
        await drain()
    assert counts(fake_ra) == (1, 1, 2)
    clock.now += NOT_FOUND_TTL + 1  # only briefly: the account may be created
    fake_ra.add_user("NoSuchUser")
    report = await service.progress_report("NoSuchUser", [1])
    assert report.profile.display_name == "NoSuchUser"
    assert counts(fake_ra)[:2] == (2, 2)


async def test_user_unknown_to_progress_then_profile(fake_ra: FakeRA, service: RAService) -> None:
    # Progress answers `[]` first, then the profile answers 404: each knows the user is gone.
    with pytest.raises(RAUserNotFound):
        await service.progress("NoSuchUser", [1])
    with pytest.raises(RAUserNotFound):
        await service.profile("NoSuchUser")
    with pytest.raises(RAUserNotFound):
        await service.progress("NoSuchUser", [1])
    assert counts(fake_ra)[:2] == (1, 0)


async def test_user_unknown_to_profile_then_progress(fake_ra: FakeRA, service: RAService) -> None:
    with pytest.raises(RAUserNotFound):
        await service.profile("NoSuchUser")
    with pytest.raises(RAUserNotFound):
        await service.progress("NoSuchUser", [1])
    with pytest.raises(RAUserNotFound):
        await service.profile("NoSuchUser")
    assert counts(fake_ra)[:2] == (0, 1)


async def test_unknown_game_and_game_without_achievements(
    fake_ra: FakeRA, service: RAService
) -> None:
    fake_ra.add_game(777, "Homebrew Thing", num_achievements=0, points=0)
    report = await service.progress_report("MaxMilyin", [1, 99999, 777])
    known, unknown, empty = report.games
    assert not known.unknown and not known.no_achievements
    assert unknown.unknown and not unknown.no_achievements
    assert unknown.info is None and unknown.progress.is_blank
    assert empty.no_achievements and not empty.unknown
    assert empty.info is not None and empty.info.title == "Homebrew Thing"


# -- failures and cancellation ------------------------------------------------------------------


async def test_failure_reaches_every_waiter_and_the_next_call_tries_again(
    fake_ra: FakeRA, service: RAService
) -> None:
    fake_ra.response_delay = 0.05
    fake_ra.fail_next(FakeFault("status", 401), endpoint=PROGRESS)
    results = await asyncio.gather(
        *(service.progress("MaxMilyin", [1, 14402]) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RAKeyRejected) for r in results)
    assert all(r is results[0] for r in results)  # one fetch, one error
    assert len(fake_ra.calls(PROGRESS)) == 1
    fake_ra.response_delay = 0
    again = await service.progress("MaxMilyin", [1, 14402])
    assert again[1].progress.achieved == 23
    assert len(fake_ra.calls(PROGRESS)) == 2


async def test_profile_failure_is_not_cached(fake_ra: FakeRA, make_service: MakeService) -> None:
    service = make_service(retry_budget=0.05)
    fake_ra.fail_always(FakeFault("status", 503), endpoint=PROFILE)
    results = await asyncio.gather(
        *(service.profile("Scott") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RAUnavailable) and r is results[0] for r in results)
    fake_ra.fail_always(None, endpoint=PROFILE)
    assert (await service.profile("Scott")).display_name == "Scott"


async def test_cancelling_one_waiter_keeps_the_fetch_for_the_others(
    fake_ra: FakeRA, service: RAService
) -> None:
    fake_ra.response_delay = 0.1
    quitter = asyncio.create_task(service.progress_report("MaxMilyin", [1, 14402]))
    stayer = asyncio.create_task(service.progress_report("MaxMilyin", [1, 14402]))
    await asyncio.wait_for(fake_ra.wait_for_calls(1, PROGRESS), 2)
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    report = await asyncio.wait_for(stayer, 2)
    assert report.games[0].progress.achieved == 23
    assert counts(fake_ra) == (1, 1, 2)


async def test_cancelling_the_only_waiter_still_fills_the_cache(
    fake_ra: FakeRA, service: RAService
) -> None:
    fake_ra.response_delay = 0.05
    task = asyncio.create_task(service.progress("MaxMilyin", [1]))
    await asyncio.wait_for(fake_ra.wait_for_calls(1, PROGRESS), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await drain()
    fake_ra.response_delay = 0
    result = await service.progress("MaxMilyin", [1])
    assert result[1].progress.achieved == 23
    assert len(fake_ra.calls(PROGRESS)) == 1


# -- stats ----------------------------------------------------------------------------------------


async def test_cache_hits_and_misses_are_counted(service: RAService, stats: Stats) -> None:
    await service.progress_report("MaxMilyin", [1, 14402])
    snapshot = stats.snapshot()
    # profile + 2 progress + 2 games, all misses
    assert (snapshot.cache_hits, snapshot.cache_misses) == (0, 5)
    await service.progress_report("MaxMilyin", [1, 14402])
    snapshot = stats.snapshot()
    assert (snapshot.cache_hits, snapshot.cache_misses) == (5, 5)
    assert snapshot.cache_hit_rate == 0.5
    assert service.stats is stats
    # the client counts its own HTTP requests in the same Stats only if given it
    assert snapshot.ra_requests == 0


async def test_hot_games_ride_along_so_the_next_command_needs_no_call(
    fake_ra: FakeRA, service: RAService
) -> None:
    await service.progress("MaxMilyin", [1, 14402])
    await service.progress("Scott", [228])
    (call,) = [c for c in fake_ra.calls("API_GetUserProgress") if c.params["u"] == "Scott"]
    assert call.params["i"] == "228,14402,1"  # asked for first, then the hot games, newest first

    before = len(fake_ra.requests)
    result = await service.progress("Scott", [1, 14402])
    assert len(fake_ra.requests) == before
    assert result[14402].progress.possible == 69


async def test_riders_are_bounded(fake_ra: FakeRA, service: RAService) -> None:
    await service.progress("MaxMilyin", list(range(1, 41)))
    await service.progress("Scott", [228])
    (call,) = [c for c in fake_ra.calls("API_GetUserProgress") if c.params["u"] == "Scott"]
    ids = call.params["i"].split(",")
    assert ids[0] == "228" and len(ids) == HOT_GAMES  # 228 is among the hot games itself


async def test_a_call_waiting_for_its_turn_takes_games_asked_meanwhile(
    fake_ra: FakeRA, make_service: MakeService
) -> None:
    limiter = UpstreamLimiter(1000.0, 1)
    service = make_service(limiter=limiter)
    await limiter.acquire()  # RA's only slot is busy: calls queue
    first = asyncio.ensure_future(service.progress("MaxMilyin", [1]))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(service.progress("MaxMilyin", [14402, 228]))
    await asyncio.sleep(0)
    limiter.release()
    a, b = await asyncio.gather(first, second)
    assert [r.params["i"] for r in fake_ra.calls(PROGRESS)] == ["1,14402,228"]
    assert a[1].progress.mastered and b[228].progress.possible == 96


async def test_games_asked_for_are_hot_before_their_answer_comes(
    fake_ra: FakeRA, make_service: MakeService
) -> None:
    limiter = UpstreamLimiter(1000.0, 1)
    service = make_service(limiter=limiter)
    await limiter.acquire()
    max_call = asyncio.ensure_future(service.progress("MaxMilyin", [1]))
    await asyncio.sleep(0)
    scott_call = asyncio.ensure_future(service.progress("Scott", [228]))
    await asyncio.sleep(0)
    limiter.release()
    await asyncio.gather(max_call, scott_call)
    calls = {r.params["u"]: r.params["i"] for r in fake_ra.calls(PROGRESS)}
    assert calls == {"MaxMilyin": "1,228", "Scott": "228,1"}


# -- how old an answer each caller takes, and whose call it may wait for -----------------------


async def test_a_scheduled_board_takes_progress_a_few_minutes_old_interactive_does_not(
    fake_ra: FakeRA, make_service: MakeService, clock: Clock
) -> None:
    service = make_service(progress_ttl=120.0, scheduled_max_age=300.0)
    await service.progress("MaxMilyin", [1, 14402])
    clock.now += 200  # past the interactive cache time, within the scheduled one
    fake_ra.set_progress("MaxMilyin", 1, achieved=2, score=10)
    old = await service.progress("MaxMilyin", [1], Priority.SCHEDULED)
    assert len(fake_ra.calls(PROGRESS)) == 1  # no new call
    assert old[1].progress.achieved != 2
    fresh = await service.progress("MaxMilyin", [1], Priority.INTERACTIVE)
    assert len(fake_ra.calls(PROGRESS)) == 2
    assert fresh[1].progress.achieved == 2
    clock.now += 301  # too old for anyone now
    await service.progress("MaxMilyin", [14402], Priority.SCHEDULED)
    assert len(fake_ra.calls(PROGRESS)) == 3
    # An explicit max_age wins over the priority's.
    await service.progress("MaxMilyin", [14402], Priority.SCHEDULED, max_age=0)
    assert len(fake_ra.calls(PROGRESS)) == 4


async def test_progress_does_not_wait_for_a_boards_queued_call(
    fake_ra: FakeRA, make_service: MakeService
) -> None:
    """A member's /progress during a board gets its own call instead of the board's turn."""
    limiter = UpstreamLimiter(1000.0, 1)
    service = make_service(limiter=limiter)
    await limiter.acquire()  # hold RA's only slot: calls queue

    for n in range(30):
        fake_ra.add_user(f"Member{n}")

    async def board() -> list[dict[int, FetchedProgress]]:
        command_order.set(new_ticket())
        patient = queue_patience.set(600.0)  # what Leaderboards.build sets
        try:
            users = [f"Member{n}" for n in range(30)] + ["MaxMilyin"]
            return await asyncio.gather(*(service.progress(u, [1, 14402]) for u in users))
        finally:
            queue_patience.reset(patient)

    board_task = asyncio.ensure_future(board())
    await until_waiting(limiter, 31)
    limiter.release()
    await until_calls(fake_ra, QUANTUM_PLUS)
    command_order.set(new_ticket())
    mine = await service.progress("MaxMilyin", [1])
    answered_after = len(fake_ra.calls(PROGRESS))
    assert mine[1].progress.mastered
    await board_task
    # Answered by a call of its own, long before the board got to MaxMilyin (its 31st call).
    users = [r.params["u"] for r in fake_ra.calls(PROGRESS)]
    assert answered_after <= QUANTUM_PLUS + 3
    assert users.count("MaxMilyin") == 2 and len(users) == 32


async def test_progress_of_the_same_priority_and_no_fan_out_shares_the_queued_call(
    fake_ra: FakeRA, make_service: MakeService
) -> None:
    limiter = UpstreamLimiter(1000.0, 1)
    service = make_service(limiter=limiter)
    await limiter.acquire()
    command_order.set(new_ticket())
    first = asyncio.ensure_future(service.progress("MaxMilyin", [1], Priority.SCHEDULED))
    await asyncio.sleep(0)
    command_order.set(new_ticket())
    # Interactive does not wait for a scheduled call: it makes its own...
    second = asyncio.ensure_future(service.progress("MaxMilyin", [1], Priority.INTERACTIVE))
    await asyncio.sleep(0)
    # ...and scheduled work may ride in an interactive call.
    third = asyncio.ensure_future(service.progress("MaxMilyin", [14402], Priority.SCHEDULED))
    await asyncio.sleep(0)
    limiter.release()
    await asyncio.gather(first, second, third)
    assert sorted(r.params["i"] for r in fake_ra.calls(PROGRESS)) == ["1", "1,14402"]


QUANTUM_PLUS = 14


async def until_waiting(limiter: UpstreamLimiter, n: int) -> None:
    for _ in range(1000):
        if limiter.waiting >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never {n} waiting")


async def until_calls(fake: FakeRA, n: int) -> None:
    for _ in range(100_000):
        if len(fake.calls(PROGRESS)) >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never {n} progress calls")


async def test_the_achievement_of_the_week_is_one_request_for_every_guild_within_its_ttl(
    fake_ra: FakeRA, service: RAService, clock: Clock
) -> None:
    weeks = await asyncio.gather(*(service.achievement_of_the_week() for _ in range(5)))
    assert len({id(week) for week in weeks}) == 1 and weeks[0] is not None
    assert await service.achievement_of_the_week() is weeks[0]
    assert len(fake_ra.calls("API_GetAchievementOfTheWeek")) == 1
    fake_ra.clear_aotw()
    clock.now += AOTW_TTL + 1
    assert await service.achievement_of_the_week() is None  # none set this week
    assert await service.achievement_of_the_week() is None  # and that is cached too
    assert len(fake_ra.calls("API_GetAchievementOfTheWeek")) == 2
