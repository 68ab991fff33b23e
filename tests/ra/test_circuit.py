"""The circuit breaker: opens after failures in a row, refuses at once, probes, recovers; and the
RA client using it against the fake RA over real HTTP."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.ra.circuit import CircuitBreaker, RANotAnswering
from bot.ra.client import RAClient
from bot.ra.errors import RARateLimited, RAUnavailable
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_failures_in_a_row_and_an_answer_resets_the_count() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failures=3, open_seconds=10, max_open_seconds=30, clock=clock)
    circuit.failed()
    circuit.failed()
    circuit.succeeded()  # not in a row
    circuit.failed()
    circuit.failed()
    assert not circuit.is_open
    circuit.before_request()
    circuit.failed()
    assert circuit.is_open and circuit.down_since is not None
    with pytest.raises(RANotAnswering) as refused:
        circuit.before_request()
    assert refused.value.retry_after == pytest.approx(10)
    assert circuit.refused == 1


def test_after_the_pause_requests_go_then_closed_or_open_for_longer() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failures=1, open_seconds=10, max_open_seconds=25, clock=clock)
    circuit.failed()
    assert circuit.probe_in() == 10
    clock.now += 10
    assert circuit.probe_in() == 0
    assert circuit.before_request() is True  # half-open: a command's requests all go
    assert circuit.before_request() is True
    circuit.failed()  # RA still down: open again at once, for 20 s
    clock.now += 19.9
    with pytest.raises(RANotAnswering):
        circuit.before_request()
    clock.now += 0.1
    assert circuit.before_request() is True
    circuit.failed()  # doubling stops at max_open_seconds
    clock.now += 24.9
    with pytest.raises(RANotAnswering):
        circuit.before_request()
    clock.now += 0.1
    assert circuit.before_request() is True
    circuit.succeeded()
    assert not circuit.is_open and circuit.down_since is None
    assert circuit.before_request() is False


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client(session: aiohttp.ClientSession, fake_ra: FakeRA, circuit: CircuitBreaker) -> RAClient:
    return RAClient(RATransport(
        session,
        api_key=FAKE_RA_KEY,
        limiter=UpstreamLimiter(1000.0, 8),
        base_url=fake_ra.base_url,
        timeout=0.3,
        retry_budget=0.3,
        backoff_base=0.01,
        rng=random.Random(7),
        circuit=circuit,
    ))


@pytest.mark.parametrize("fault", [FakeFault("status", 503), FakeFault("hang")])
async def test_ra_down_is_refused_without_asking_until_it_answers_again(
    session: aiohttp.ClientSession, fake_ra: FakeRA, fault: FakeFault
) -> None:
    circuit = CircuitBreaker(failures=3, open_seconds=0.5, max_open_seconds=1.0)
    ra = client(session, fake_ra, circuit)
    fake_ra.fail_always(fault)
    for _ in range(3):
        with pytest.raises(RAUnavailable):
            await ra.get_game(1)
    assert circuit.is_open
    asked = len(fake_ra.requests)

    start = time.monotonic()
    for _ in range(50):
        with pytest.raises(RANotAnswering):
            await ra.get_game(1)
    assert time.monotonic() - start < 0.2  # at once, not after a budget each
    assert len(fake_ra.requests) == asked  # RA was not asked

    fake_ra.fail_always(None)
    recovered = None
    start = time.monotonic()
    while recovered is None and time.monotonic() - start < 5:
        try:
            recovered = await ra.get_game(1)
        except RANotAnswering as refused:
            await asyncio.sleep(refused.retry_after)
    assert recovered is not None
    assert time.monotonic() - start <= 1.0 + 0.5
    assert not circuit.is_open


async def test_429_and_404_are_answers_and_keep_the_circuit_closed(
    session: aiohttp.ClientSession, fake_ra: FakeRA
) -> None:
    circuit = CircuitBreaker(failures=2, open_seconds=5)
    ra = client(session, fake_ra, circuit)
    fake_ra.fail_always(FakeFault("status", 429))
    for _ in range(3):
        with pytest.raises(RARateLimited):
            await ra.get_game(1)
    assert not circuit.is_open


async def test_requests_let_in_half_open_are_not_sent_once_it_opens_again(
    session: aiohttp.ClientSession, fake_ra: FakeRA
) -> None:
    circuit = CircuitBreaker(failures=1, open_seconds=0.2, max_open_seconds=10)
    ra = client(session, fake_ra, circuit)
    ra.transport.limiter = UpstreamLimiter(20.0, 1)  # a turn every 0.05 s: they queue
    ra.transport.retry_budget = 3.0
    fake_ra.fail_always(FakeFault("status", 503))
    with pytest.raises(RAUnavailable):
        await ra.get_game(1)
    assert circuit.is_open
    await asyncio.sleep(circuit.probe_in())  # the pause is over: half-open
    asked = len(fake_ra.requests)
    results = await asyncio.gather(*(ra.get_game(g) for g in range(2, 7)), return_exceptions=True)
    assert all(isinstance(r, RAUnavailable) for r in results), results
    assert sum(isinstance(r, RANotAnswering) for r in results) == 4
    assert len(fake_ra.requests) - asked == 1  # the first failed: the others were not sent
