"""Caches shared through a real Redis: what one process fetched answers another, an RA request
two processes need at once is made once, a dead lock holder only delays, and without Redis every
call still gets its answer from RA."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.redis_link import LinkState, RedisLink
from bot.services.ra import RAService
from bot.services.shared_cache import SharedCacheClient
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA
from tests.fakes.redis_server import PrivateRedis

PROGRESS = "API_GetUserProgress"
PROFILE = "API_GetUserProfile"
GAME = "API_GetGame"


@dataclass
class Process:
    link: RedisLink
    client: SharedCacheClient
    ra: RAService


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def processes(
    n: int, url: str, prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> list[Process]:
    made = []
    for _ in range(n):
        link = RedisLink(url, prefix=prefix)
        transport = RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=2.0,
            retry_budget=1.0,
            backoff_base=0.01,
            rng=random.Random(0),
        )
        client = SharedCacheClient(transport, link=link)
        made.append(Process(link, client, RAService(client)))
    return made


async def close(made: list[Process]) -> None:
    for p in made:
        await p.link.close()


async def test_a_request_both_processes_need_at_once_is_made_once(
    shared_redis: str, redis_prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    made = await processes(2, shared_redis, redis_prefix, fake_ra, session)
    fake_ra.response_delay = 0.2  # slow RA: both ask while the first is out
    try:
        a, b = await asyncio.gather(
            *(p.ra.progress_report("MaxMilyin", [1, 14402]) for p in made)
        )
    finally:
        await close(made)
    assert a.games == b.games and a.profile == b.profile
    assert len(fake_ra.calls(PROGRESS)) == 1
    assert len(fake_ra.calls(PROFILE)) == 1
    assert len(fake_ra.calls(GAME)) == 2  # one per game, not per process
    assert a.games[0].progress.achieved_hardcore == 23


async def test_what_one_process_fetched_answers_the_others(
    shared_redis: str, redis_prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    first, second, third = await processes(3, shared_redis, redis_prefix, fake_ra, session)
    try:
        await first.ra.progress_report("Scott", [228, 1])
        before = len(fake_ra.requests)
        report = await second.ra.progress_report("Scott", [228])
        assert len(fake_ra.requests) == before  # all from Redis
        assert report.games[0].info is not None
        assert report.games[0].info.title == "Super Mario World"
        # Overlapping lists: only the game nobody asked about yet goes to RA.
        await third.ra.progress("Scott", [1, 228, 14402])
        (last,) = fake_ra.calls(PROGRESS)[-1:]
        assert last.params["i"] == "14402"
        assert second.client.shared_hits >= 3
    finally:
        await close([first, second, third])


async def test_an_unknown_user_is_remembered_for_every_process(
    shared_redis: str, redis_prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    first, second = await processes(2, shared_redis, redis_prefix, fake_ra, session)
    try:
        with pytest.raises(RAUserNotFound):
            await first.ra.profile("NoSuchUser")
        with pytest.raises(RAUserNotFound):
            await second.ra.profile("nosuchuser")
        assert len(fake_ra.calls(PROFILE)) == 1
        with pytest.raises(RAUserNotFound):
            await first.ra.progress("Ghost", [1])  # RA answers [] for a user it does not know
        with pytest.raises(RAUserNotFound):
            await second.ra.progress("ghost", [1])
        assert len(fake_ra.calls(PROGRESS)) == 1
    finally:
        await close([first, second])


async def test_a_dead_lock_holder_only_delays_the_others(
    shared_redis: str, redis_prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    (process,) = await processes(1, shared_redis, redis_prefix, fake_ra, session)
    try:
        # A process took the lock for game 1 and died before storing anything.
        lock = process.link.key("lock", process.link.key("ra", "game", 1))
        await process.link.client.set(lock, "dead", px=300)
        info = await process.ra.game(1)
    finally:
        await close([process])
    assert info is not None and info.title == "Sonic the Hedgehog"
    assert len(fake_ra.calls(GAME)) == 1


async def test_without_redis_every_call_goes_to_ra_and_comes_back_to_redis(
    private_redis: PrivateRedis, redis_prefix: str, fake_ra: FakeRA,
    session: aiohttp.ClientSession,
) -> None:
    first, second = await processes(2, private_redis.url, redis_prefix, fake_ra, session)
    try:
        private_redis.stop()
        a = await first.ra.progress_report("MaxMilyin", [1])
        b = await second.ra.progress_report("MaxMilyin", [1])
        assert a.games == b.games  # answered, from RA, by each process
        assert first.link.state is LinkState.DOWN
        assert len(fake_ra.calls(PROGRESS)) == 2
    finally:
        await close([first, second])


async def turns(condition: Callable[[], bool]) -> None:
    """Let the event loop run (Redis round trips included) until `condition` holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_a_call_waiting_for_its_turn_still_takes_games_asked_meanwhile(
    shared_redis: str, redis_prefix: str, fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    (process,) = await processes(1, shared_redis, redis_prefix, fake_ra, session)
    limiter = process.client.limiter
    try:
        await limiter.acquire()  # RA's slots are busy: calls queue
        for _ in range(7):
            await limiter.acquire()
        looked = asyncio.Event()
        lookup = process.client.shared_progress

        async def shared_progress(name: str, ids: list[int]) -> dict[int, Any]:
            found = await lookup(name, ids)
            looked.set()
            return found

        first = asyncio.ensure_future(process.ra.progress("MaxMilyin", [1]))
        await turns(lambda: limiter.waiting == 1)
        looked.clear()
        process.client.shared_progress = shared_progress  # type: ignore[method-assign]
        second = asyncio.ensure_future(process.ra.progress("MaxMilyin", [14402, 228]))
        await looked.wait()  # it looked in Redis too
        for _ in range(10):
            await asyncio.sleep(0)  # and joined the batch waiting for its turn
        for _ in range(8):
            limiter.release()
        a, b = await asyncio.gather(first, second)
    finally:
        await close([process])
    assert [r.params["i"] for r in fake_ra.calls(PROGRESS)] == ["1,14402,228"]
    assert a[1].progress.mastered and b[228].progress.possible == 96
