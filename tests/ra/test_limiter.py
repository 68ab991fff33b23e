"""UpstreamLimiter: rate, cap on requests in flight, priorities, cancellation, back-off."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from bot.ra.client import RAClient
from bot.ra.limiter import QUANTUM, SHARE, Priority, UpstreamLimiter, command_order, new_ticket
from bot.ra.transport import RATransport
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA

FAST = 1_000_000.0  # starts 1 µs apart: spacing never matters


async def until(condition: Callable[[], bool], turns: int = 1000) -> None:
    """Let other tasks run (no timed sleep) until `condition` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        UpstreamLimiter(0, 1)
    with pytest.raises(ValueError):
        UpstreamLimiter(1.0, 0)


async def test_a_single_request_goes_through_at_once() -> None:
    limiter = UpstreamLimiter(100.0, 2)
    # Driven by hand: the coroutine finishes on its first step, i.e. it never suspends.
    acquire = limiter.acquire()
    with pytest.raises(StopIteration):
        acquire.send(None)
    assert limiter.in_flight == 1
    limiter.release()
    assert limiter.in_flight == 0


async def test_never_more_than_max_in_flight() -> None:
    limiter = UpstreamLimiter(FAST, 3)
    gate = asyncio.Event()
    running = 0
    peak = 0
    done = 0

    async def worker() -> None:
        nonlocal running, peak, done
        async with limiter.slot():
            running += 1
            peak = max(peak, running)
            await gate.wait()
            running -= 1
        done += 1

    tasks = [asyncio.create_task(worker()) for _ in range(10)]
    await until(lambda: running == 3 and limiter.waiting == 7)
    assert limiter.in_flight == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 3
    assert done == 10
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_starts_are_spaced_by_the_rate() -> None:
    rate = 20.0
    interval = 1 / rate
    limiter = UpstreamLimiter(rate, 10)
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def worker() -> None:
        async with limiter.slot():
            stamps.append(loop.time())

    await asyncio.gather(*(worker() for _ in range(5)))
    assert len(stamps) == 5
    # Each start is stamped once its task runs, at or after the grant; the first grant is
    # immediate and stamped in the same step, so start k is at least k intervals after it.
    for k, stamp in enumerate(stamps):
        assert stamp - stamps[0] >= k * interval - 1e-3
    for before, after in itertools.pairwise(stamps):
        assert after - before >= interval * 0.8


async def test_interactive_goes_before_scheduled_queued_earlier() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    order: list[str] = []
    await limiter.acquire()  # hold the only slot

    async def worker(name: str, priority: Priority) -> None:
        async with limiter.slot(priority):
            order.append(name)

    scheduled = [asyncio.create_task(worker(f"scheduled{n}", Priority.SCHEDULED)) for n in range(3)]
    await until(lambda: limiter.waiting == 3)
    interactive = [
        asyncio.create_task(worker(f"interactive{n}", Priority.INTERACTIVE)) for n in range(2)
    ]
    await until(lambda: limiter.waiting == 5)
    limiter.release()
    await asyncio.gather(*scheduled, *interactive)
    assert order == ["interactive0", "interactive1", "scheduled0", "scheduled1", "scheduled2"]


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await until(lambda: limiter.waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.waiting == 0
    limiter.release()
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(), 1)  # the slot is free
    assert limiter.in_flight == 1


async def test_waiter_cancelled_as_it_is_granted_gives_the_slot_back() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await until(lambda: limiter.waiting == 1)
    limiter.release()  # grants the waiter's future at once...
    assert limiter.in_flight == 1
    waiter.cancel()  # ... but it is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(), 1)
    assert limiter.in_flight == 1


async def test_cancelled_waiters_are_skipped_for_the_next_one() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await until(lambda: limiter.waiting == 2)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    limiter.release()
    await asyncio.wait_for(second, 1)
    assert limiter.in_flight == 1


async def test_back_off_delays_the_next_start() -> None:
    limiter = UpstreamLimiter(FAST, 4)
    loop = asyncio.get_running_loop()
    async with limiter.slot():
        pass
    before = loop.time()
    limiter.back_off(0.2)
    async with limiter.slot():
        started = loop.time()
    assert started - before >= 0.2
    # A back-off shorter than the one in force changes nothing.
    limiter.back_off(0.2)
    limiter.back_off(0.01)
    before = loop.time()
    async with limiter.slot():
        started = loop.time()
    assert started - before >= 0.15


async def test_back_off_holds_requests_already_waiting() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    loop = asyncio.get_running_loop()
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await until(lambda: limiter.waiting == 1)
    before = loop.time()
    limiter.back_off(0.15)
    limiter.release()
    assert not waiter.done()
    await waiter
    assert loop.time() - before >= 0.15


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_client_calls_respect_max_in_flight(
    fake_ra: FakeRA, session: aiohttp.ClientSession
) -> None:
    fake_ra.response_delay = 0.03
    limiter = UpstreamLimiter(1000.0, 2)
    client = RAClient(RATransport(
        session,
        api_key=FAKE_RA_KEY,
        limiter=limiter,
        base_url=fake_ra.base_url,
        timeout=2.0,
        retry_budget=2.0,
        rng=random.Random(0),
    ))
    results = await asyncio.gather(
        *(client.get_user_progress("MaxMilyin", [1, n + 1]) for n in range(10))
    )
    assert all(r[1].achieved == 23 for r in results)
    assert len(fake_ra.calls()) == 10
    assert fake_ra.max_concurrent == 2
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_requests_of_an_earlier_command_go_first() -> None:
    """A burst completes commands one by one instead of starting all and finishing none."""
    limiter = UpstreamLimiter(1000.0, 1)
    await limiter.acquire()
    order: list[str] = []

    async def request(name: str) -> None:
        await limiter.acquire()
        order.append(name)
        limiter.release()

    async def command(name: str, requests: int) -> None:
        command_order.set(new_ticket())
        await asyncio.gather(*(request(f"{name}{i}") for i in range(requests)))

    first = asyncio.ensure_future(command("a", 1))
    second = asyncio.ensure_future(command("b", 2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    late = asyncio.ensure_future(request("a-late"))  # no ticket: arrives last, goes last
    await asyncio.sleep(0)
    limiter.release()
    await asyncio.gather(first, second, late)
    assert order == ["a0", "b0", "b1", "a-late"]


# -- fair turns between commands ---------------------------------------------------------------


async def _run_commands(
    limiter: UpstreamLimiter, commands: dict[str, int], priority: Priority = Priority.INTERACTIVE
) -> tuple[list[str], list[asyncio.Task[None]]]:
    """Start one task per command, each queueing `n` requests under its own ticket."""
    order: list[str] = []

    async def request(name: str) -> None:
        async with limiter.slot(priority):
            order.append(name)

    async def command(name: str, requests: int) -> None:
        command_order.set(new_ticket())
        await asyncio.gather(*(request(name) for _ in range(requests)))

    tasks = [asyncio.create_task(command(name, n)) for name, n in commands.items()]
    await until(lambda: limiter.waiting >= sum(commands.values()))
    return order, tasks


async def test_a_small_command_overtakes_a_big_fan_out() -> None:
    """A /progress typed while a board's 100 requests wait goes within a few turns."""
    limiter = UpstreamLimiter(FAST, 1)
    order: list[str] = []
    await limiter.acquire()

    async def request(name: str) -> None:
        async with limiter.slot():
            order.append(name)

    async def command(name: str, requests: int) -> None:
        command_order.set(new_ticket())
        await asyncio.gather(*(request(name) for _ in range(requests)))

    board = asyncio.create_task(command("board", 100))
    await until(lambda: limiter.waiting == 100)
    limiter.release()
    await until(lambda: len(order) == 30)
    await limiter.acquire()  # hold the queue again while /progress arrives
    progress = asyncio.create_task(command("progress", 3))
    await until(lambda: limiter.waiting == 100 - 30 - 1 + 3)
    limiter.release()
    await asyncio.gather(board, progress)
    turns = [i for i, name in enumerate(order) if name == "progress"]
    # Right after the hand-held turn, with at most one board turn (its fair share) among them;
    # first come first served would have put them after the board's remaining 70.
    assert turns[0] <= 31 and turns[-1] <= 31 + 3
    assert order.count("board") == 100 and len(turns) == 3


async def test_a_burst_of_small_commands_completes_them_in_order() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    order, tasks = await _run_commands(limiter, {f"c{n}": 3 for n in range(5)})
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == [f"c{n}" for n in range(5) for _ in range(3)]


async def test_big_commands_take_turns_a_quantum_at_a_time() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    order, tasks = await _run_commands(limiter, {"a": 4 * QUANTUM, "b": 4 * QUANTUM})
    limiter.release()
    await asyncio.gather(*tasks)
    # a's first quantum, then b's (a keeps its share), then they alternate: neither waits for
    # all of the other.
    runs = [name for name, _ in itertools.groupby(order)]
    assert order[:QUANTUM] == ["a"] * QUANTUM and order[QUANTUM] == "b"
    assert order[: 2 * QUANTUM].count("b") >= QUANTUM * (SHARE - 1) // SHARE
    assert len(runs) >= 6


async def test_no_starvation_under_a_steady_stream_of_small_commands() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    order: list[str] = []
    await limiter.acquire()

    async def request(name: str) -> None:
        async with limiter.slot():
            order.append(name)

    async def command(name: str, requests: int) -> None:
        command_order.set(new_ticket())
        await asyncio.gather(*(request(name) for _ in range(requests)))

    board = asyncio.create_task(command("board", 60))
    await until(lambda: limiter.waiting == 60)
    # Always more small commands waiting than the limiter can serve: a new one arrives with
    # every turn given.
    smalls: list[asyncio.Task[None]] = [
        asyncio.create_task(command(f"s{n}", 2)) for n in range(10)
    ]
    await until(lambda: limiter.waiting == 80)
    limiter.release()
    while not board.done():
        seen = len(order)
        await until(lambda seen=seen: len(order) > seen or board.done())  # type: ignore[misc]
        if len(smalls) < 2000:
            smalls.append(asyncio.create_task(command(f"s{len(smalls)}", 2)))
    # The board finished while small commands still waited: its fair share kept it going.
    assert limiter.waiting > 0
    board_turns = [i for i, name in enumerate(order) if name == "board"]
    assert len(board_turns) == 60
    assert board_turns[-1] <= QUANTUM + (60 - QUANTUM) * SHARE + 5
    await asyncio.gather(*smalls)


async def test_scheduled_never_goes_before_interactive_whatever_it_had() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    order: list[str] = []

    async def request(name: str, priority: Priority) -> None:
        async with limiter.slot(priority):
            order.append(name)

    async def command(name: str, requests: int, priority: Priority) -> None:
        command_order.set(new_ticket())
        await asyncio.gather(*(request(name, priority) for _ in range(requests)))

    scheduled = asyncio.create_task(command("scheduled", 3, Priority.SCHEDULED))
    interactive = asyncio.create_task(command("board", 5 * QUANTUM, Priority.INTERACTIVE))
    await until(lambda: limiter.waiting == 3 + 5 * QUANTUM)
    limiter.release()
    await asyncio.gather(scheduled, interactive)
    assert order == ["board"] * 5 * QUANTUM + ["scheduled"] * 3


async def test_cancelled_waiters_leave_the_count_right() -> None:
    limiter = UpstreamLimiter(FAST, 1)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(3)]
    await until(lambda: limiter.waiting == 3)
    waiters[1].cancel()
    await asyncio.gather(waiters[1], return_exceptions=True)
    assert limiter.waiting == 2
    limiter.release()
    await waiters[0]
    limiter.release()
    await waiters[2]
    assert (limiter.in_flight, limiter.waiting) == (1, 0)
    limiter.release()


async def test_the_queue_wait_is_the_longest_wait_of_those_waiting() -> None:
    now = [100.0]
    limiter = UpstreamLimiter(FAST, 1, clock=lambda: now[0])
    await limiter.acquire()
    assert limiter.queue_wait() == 0.0
    waiter = asyncio.create_task(limiter.acquire())
    await until(lambda: limiter.waiting == 1)
    now[0] += 2.5
    assert limiter.queue_wait() == pytest.approx(2.5)
    limiter.release()
    await waiter
    assert limiter.queue_wait() == 0.0
    limiter.release()
