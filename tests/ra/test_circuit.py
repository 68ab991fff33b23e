"""The circuit breaker: opens after failures in a row, refuses at once, probes, recovers; and the
RA client using it against the fake RA over real HTTP."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_one_request_retried_many_times_never_opens_it() -> None:
    """The regression: RA answered one request 503 ten times in a row (1.3 s of its retries),
    then was healthy; counting each retry opened the circuit for everyone."""
    clock = Clock()
    circuit = CircuitBreaker(clock=clock)
    blip = object()
    for _ in range(10):
        circuit.before_request(blip)
        circuit.failed(blip)
        clock.now += 0.13
    assert not circuit.is_open
    circuit.succeeded(blip)
    # A 429 or a reset on the next command is one more request, not an outage either.
    other = object()
    circuit.failed(other)
    assert not circuit.is_open
    assert circuit.before_request(object()) is False


def test_several_requests_failing_within_the_window_open_it_and_say_when() -> None:
    clock = Clock()
    circuit = CircuitBreaker(min_failures=3, open_seconds=3, clock=clock)
    for _ in range(2):
        circuit.failed(object())
    assert not circuit.is_open
    clock.now += 11  # the window moved on: those two no longer count
    for _ in range(2):
        circuit.failed(object())
    assert not circuit.is_open
    clock.now += 1
    circuit.failed(object())
    assert circuit.is_open and circuit.down_since is not None
    with pytest.raises(RANotAnswering) as refused:
        circuit.before_request(object())
    assert refused.value.retry_after == pytest.approx(3)
    assert circuit.refused == 1


def test_failures_among_many_answers_are_no_outage() -> None:
    clock = Clock()
    circuit = CircuitBreaker(min_failures=3, failure_rate=0.5, clock=clock)
    for _ in range(10):
        circuit.succeeded(object())
    for _ in range(4):
        circuit.failed(object())  # 4 of 14: RA answers most requests
    assert not circuit.is_open


def test_one_probe_at_a_time_then_closed_or_open_for_longer_up_to_the_maximum() -> None:
    clock = Clock()
    circuit = CircuitBreaker(min_failures=1, open_seconds=3, max_open_seconds=10, clock=clock)
    circuit.failed(object())
    assert circuit.probe_in() == 3
    clock.now += 3
    probe = object()
    assert circuit.before_request(probe) is True
    assert circuit.before_request(probe) is True  # the same request may ask again
    with pytest.raises(RANotAnswering) as waiting:
        circuit.before_request(object())  # only one probe at a time
    assert waiting.value.retry_after == pytest.approx(1.0)
    circuit.failed(probe)  # RA still down: open again, for 6 s
    clock.now += 5.9
    with pytest.raises(RANotAnswering):
        circuit.before_request(object())
    clock.now += 0.1
    probe = object()
    assert circuit.before_request(probe) is True
    circuit.failed(probe)  # doubling stops at max_open_seconds
    assert circuit.probe_in() == 10
    clock.now += 10
    probe = object()
    assert circuit.before_request(probe) is True
    circuit.succeeded(probe)
    assert not circuit.is_open and circuit.down_since is None
    assert circuit.before_request(object()) is False


def test_a_probe_that_ended_without_an_answer_lets_another_probe() -> None:
    clock = Clock()
    circuit = CircuitBreaker(min_failures=1, open_seconds=1, clock=clock)
    circuit.failed(object())
    clock.now += 1
    probe = object()
    circuit.before_request(probe)
    circuit.done(probe)  # e.g. no turn in the limiter in time
    assert circuit.before_request(object()) is True


# Generated fault sequences: (seconds later, request number, answered?)
step = st.tuples(st.floats(0, 3), st.integers(0, 30), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=80), st.integers(0, 30))
def test_no_blip_of_one_request_ever_opens_it(
    steps: list[tuple[float, int, bool]], blip: int
) -> None:
    """Whatever the traffic, when only one request fails (however often it is retried), the
    circuit stays closed."""
    clock = Clock()
    circuit = CircuitBreaker(clock=clock)
    requests: dict[int, object] = {}
    for later, number, answered in steps:
        clock.now += later
        request = requests.setdefault(number, object())
        if answered or number != blip:
            circuit.succeeded(request)
        else:
            circuit.failed(request)
        assert not circuit.is_open


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 20), st.floats(0.05, 1.6))
def test_an_outage_opens_it_within_5_s_and_the_first_answer_after_it_closes_it(
    answered_before: int, every: float
) -> None:
    """RA down: requests arriving every `every` seconds all fail. The circuit opens within
    5 s; it tells each refused request when to try again, truly; once RA is back, the first
    request let through closes it."""
    clock = Clock()
    circuit = CircuitBreaker(clock=clock)
    for _ in range(answered_before):  # RA was fine a while before
        circuit.succeeded(object())
        clock.now += 1
    clock.now += 10  # ...and long enough ago that the window holds only the outage
    down_at = clock.now
    while not circuit.is_open:
        circuit.failed(object())
        clock.now += every
    assert clock.now - down_at <= 5
    with pytest.raises(RANotAnswering) as refused:
        circuit.before_request(object())
    clock.now += refused.value.retry_after  # RA is back when the refusal said to try again
    probe = object()
    assert circuit.before_request(probe) is True
    circuit.succeeded(probe)
    assert not circuit.is_open


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
    circuit = CircuitBreaker(min_failures=3, open_seconds=0.5, max_open_seconds=1.0)
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
    circuit = CircuitBreaker(min_failures=2, open_seconds=5)
    ra = client(session, fake_ra, circuit)
    fake_ra.fail_always(FakeFault("status", 429))
    for _ in range(3):
        with pytest.raises(RARateLimited):
            await ra.get_game(1)
    assert not circuit.is_open


async def test_requests_let_in_half_open_are_not_sent_once_it_opens_again(
    session: aiohttp.ClientSession, fake_ra: FakeRA
) -> None:
    circuit = CircuitBreaker(min_failures=1, open_seconds=0.2, max_open_seconds=10)
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
