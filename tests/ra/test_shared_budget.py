"""The RA budget shared through a real Redis: rate and requests in flight across clients and
processes, leases of a dead client, priorities, the shared cool-down, and the fallback share
while Redis is stopped (a private redis-server) and the return to Redis after.

Starts are stamped when the limiter grants them (here) or when they reach the fake RA (the e2e
tests). GCRA spaces starts 1.03/rate apart on Redis's clock; a stamp is late by however long its
process's event loop was busy or descheduled, so a window counts the starts less than a second
minus JITTER after its first one. JITTER is 0.25 s: seen in CI, a stamp at the fake RA 184 ms late
(its loop also runs the fake Discord of two bot processes on two cores), two starts granted 257 ms
apart stamped 73 ms apart, which a window of 0.97 s counted as 5 at a rate of 4. A limiter keeping
the rate passes with any lateness under 0.28 s; one at twice the rate (processes not sharing it)
still shows well over the rate in 0.75 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path

import pytest

from bot.ra.limiter import Priority, UpstreamLimiter
from bot.ra.shared_budget import SPARE, SharedBudget
from bot.redis_link import PROBATION, RECHECK, LinkState, RedisLink
from tests.fakes.redis_server import PrivateRedis

JITTER = 0.25
REPO = Path(__file__).resolve().parents[2]


def max_in_any_second(stamps: list[float]) -> int:
    """The most starts in any window of a second minus `jitter` (see the module's docstring)."""
    stamps = sorted(stamps)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, sum(1 for t in stamps[i:] if t - start < 1.0 - JITTER))
    return best


@pytest.mark.parametrize("rate", [4.0, 8.0, 10.0])
def test_the_window_passes_late_stamps_at_the_rate_and_catches_twice_the_rate(
    rate: float,
) -> None:
    import random

    spacing = (1 + SPARE) / rate
    rng = random.Random(rate)
    for _ in range(200):
        kept = [n * spacing + rng.uniform(0, 0.27) for n in range(40)]
        assert max_in_any_second(kept) <= rate
    doubled = [n * spacing / 2 + rng.uniform(0, 0.27) for n in range(80)]
    assert max_in_any_second(doubled) > rate


class Process:
    """What one bot process has: its Redis link, budget and in-process limiter."""

    def __init__(
        self, url: str, prefix: str, rate: float, in_flight: int, *, share: float = 1.0,
        lease: float = 30.0,
    ) -> None:
        self.link = RedisLink(url, prefix=prefix)
        self.budget = SharedBudget(
            self.link, rate_per_second=rate, max_in_flight=in_flight, share=share,
            lease_seconds=lease,
        )
        self.limiter = UpstreamLimiter(rate, in_flight, budget=self.budget)
        self.starts: list[float] = []
        self.running = 0
        self.peak = 0
        self.started = asyncio.Event()

    async def request(self, hold: float = 0.0, priority: Priority = Priority.INTERACTIVE) -> None:
        async with self.limiter.slot(priority):
            self.starts.append(time.monotonic())
            self.started.set()
            self.running += 1
            self.peak = max(self.peak, self.running)
            if hold:
                await asyncio.sleep(hold)  # the RA request taking its time
            self.running -= 1

    async def close(self) -> None:
        await self.budget.drain()
        await self.link.close()


async def test_clients_in_one_process_never_exceed_the_rate(
    shared_redis: str, redis_prefix: str
) -> None:
    rate = 10.0
    clients = [Process(shared_redis, redis_prefix, rate, 4) for _ in range(3)]
    try:
        await asyncio.gather(*(c.request() for c in clients for _ in range(12)))
    finally:
        for c in clients:
            await c.close()
    stamps = [t for c in clients for t in c.starts]
    assert len(stamps) == 36  # nothing lost
    assert max_in_any_second(stamps) <= rate
    # Each client alone would have started 10 a second: together they shared one rate.
    assert stamps and max(stamps) - min(stamps) >= (36 - 1) / rate - 0.1


async def test_requests_in_flight_are_capped_across_clients(
    shared_redis: str, redis_prefix: str
) -> None:
    clients = [Process(shared_redis, redis_prefix, 1000.0, 3) for _ in range(3)]
    total_running = 0
    peak = 0

    async def request(c: Process) -> None:
        nonlocal total_running, peak
        async with c.limiter.slot():
            total_running += 1
            peak = max(peak, total_running)
            await asyncio.sleep(0.05)
            total_running -= 1

    try:
        await asyncio.gather(*(request(c) for c in clients for _ in range(6)))
    finally:
        for c in clients:
            await c.close()
    assert peak == 3  # 3 processes of 3 each would have run 9 at once


_CHILD = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
from tests.ra.test_shared_budget import Process

async def main():
    url, prefix, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    clients = [Process(url, prefix, 8.0, 3) for _ in range(2)]
    await asyncio.gather(*(c.request() for c in clients for _ in range(n)))
    for c in clients:
        await c.close()
    print(json.dumps([time.time() - time.monotonic() + t for c in clients for t in c.starts]))

asyncio.run(main())
"""


async def test_several_processes_never_exceed_the_rate(
    shared_redis: str, redis_prefix: str
) -> None:
    rate = 8.0
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(REPO), shared_redis, redis_prefix, "6",
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = await asyncio.gather(*(c.communicate() for c in children))
    assert all(c.returncode == 0 for c in children)
    stamps = [t for out, _ in outputs for t in json.loads(out)]
    assert len(stamps) == 36
    assert max_in_any_second(stamps) <= rate


_HOLDER = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from tests.ra.test_shared_budget import Process

async def main():
    holder = Process(sys.argv[2], sys.argv[3], 1000.0, 2, lease=float(sys.argv[4]))
    await holder.limiter.acquire()
    await holder.limiter.acquire()  # both slots, never released
    print("holding", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_the_leases_of_a_killed_process_expire(shared_redis: str, redis_prefix: str) -> None:
    lease = 1.0
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, str(REPO), shared_redis, redis_prefix, str(lease),
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 20) == b"holding\n"
    holder.kill()  # SIGKILL: no release, no clean-up
    await holder.wait()
    killed = time.monotonic()
    alive = Process(shared_redis, redis_prefix, 1000.0, 2, lease=lease)
    try:
        await alive.request()
        waited = time.monotonic() - killed
    finally:
        await alive.close()
    assert 0.3 <= waited <= lease + 1.5  # not while the leases lived; soon after they expired


async def test_interactive_requests_go_before_scheduled_ones_of_another_process(
    shared_redis: str, redis_prefix: str
) -> None:
    rate = 5.0
    background = Process(shared_redis, redis_prefix, rate, 3)
    front = Process(shared_redis, redis_prefix, rate, 3)
    order: list[str] = []

    async def scheduled() -> None:
        await background.request(priority=Priority.SCHEDULED)
        order.append("scheduled")

    async def interactive() -> None:
        await front.request(priority=Priority.INTERACTIVE)
        order.append("interactive")

    try:
        tasks = [asyncio.create_task(scheduled()) for _ in range(6)]
        await background.started.wait()  # a scheduled board is under way
        await interactive()
        await asyncio.gather(*tasks)
    finally:
        await background.close()
        await front.close()
    # The interactive request waited for at most the one scheduled start already granted.
    assert order.index("interactive") <= 2


async def test_a_429_cools_down_every_process(shared_redis: str, redis_prefix: str) -> None:
    first = Process(shared_redis, redis_prefix, 100.0, 3)
    second = Process(shared_redis, redis_prefix, 100.0, 3)
    try:
        await first.request()
        first.limiter.back_off(0.6)  # RA answered 429 to the first process
        await first.budget.drain()
        began = time.monotonic()
        await second.request()
        waited = time.monotonic() - began
    finally:
        await first.close()
        await second.close()
    assert 0.45 <= waited <= 2.0


async def test_without_redis_each_process_keeps_to_its_share_and_returns(
    private_redis: PrivateRedis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.redis_link")
    rate = 10.0
    processes = [
        Process(private_redis.url, redis_prefix, rate, 4, share=0.5) for _ in range(2)
    ]
    try:
        await asyncio.gather(*(p.request() for p in processes for _ in range(3)))
        assert all(p.link.state is LinkState.UP for p in processes)

        private_redis.stop()
        cut = time.monotonic()
        await asyncio.gather(*(p.request(hold=0.01) for p in processes for _ in range(8)))
        assert all(p.link.state is LinkState.DOWN for p in processes)
        away = [t for p in processes for t in p.starts if t > cut]
        assert len(away) == 16  # nothing lost
        for p in processes:  # each kept to its share: 5 a second
            mine = [t for t in p.starts if t > cut]
            assert max_in_any_second(mine) <= rate * 0.5
        assert max_in_any_second(away) <= rate
        downs = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
        assert len(downs) == 2  # once per process, not once per request

        await private_redis.start()
        back = time.monotonic()
        deadline = back + RECHECK + PROBATION + 5
        while any(p.link.state is not LinkState.UP for p in processes):
            assert time.monotonic() < deadline, "never went back to Redis"
            await asyncio.gather(*(p.request() for p in processes))
        after = time.monotonic()
        await asyncio.gather(*(p.request() for p in processes for _ in range(10)))
        shared = [t for p in processes for t in p.starts if t > after]
        assert len(shared) == 20
        assert max_in_any_second(shared) <= rate
        # Back on Redis, one process alone may use the whole rate: more than its share.
        alone = time.monotonic()
        await asyncio.gather(*(processes[0].request() for _ in range(10)))
        assert max_in_any_second([t for t in processes[0].starts if t > alone]) > rate * 0.5
        assert all(p.budget.held == 0 for p in processes)
        everything = [t for p in processes for t in p.starts if t > cut]
        assert max_in_any_second(everything) <= rate  # not even while going back
        assert any("Redis is back" in r.getMessage() for r in caplog.records)
    finally:
        for p in processes:
            await p.close()


async def test_leases_taken_while_redis_was_away_count_there_once_it_is_back(
    private_redis: PrivateRedis, redis_prefix: str
) -> None:
    process = Process(private_redis.url, redis_prefix, 1000.0, 2, share=1.0)
    other = Process(private_redis.url, redis_prefix, 1000.0, 2, share=1.0)
    try:
        private_redis.stop()
        await process.limiter.acquire()  # started on the fallback, still running
        assert process.link.state is LinkState.DOWN
        await private_redis.start()
        await asyncio.sleep(RECHECK)  # the process looks at Redis again only after RECHECK
        await process.request()  # finds Redis back: its running request now counts there
        await process.budget.drain()
        assert process.link.state is LinkState.PROBATION
        leases = await process.link.client.zcard(process.link.key("ra", "leases"))
        assert leases == 1
        process.limiter.release()
        await process.budget.drain()
        assert await process.link.client.zcard(process.link.key("ra", "leases")) == 0
        await other.request()
    finally:
        await process.close()
        await other.close()


def test_rejects_nonsense() -> None:
    link = RedisLink("redis://127.0.0.1:1/0")
    with pytest.raises(ValueError):
        SharedBudget(link, rate_per_second=0, max_in_flight=1)
    with pytest.raises(ValueError):
        SharedBudget(link, rate_per_second=1, max_in_flight=1, share=0)


def test_the_fallback_share() -> None:
    link = RedisLink("redis://127.0.0.1:1/0")
    budget = SharedBudget(link, rate_per_second=3, max_in_flight=3, share=1 / 3)
    assert budget.share_interval == pytest.approx(1.0 + SPARE)
    assert budget.share_in_flight == 1
    assert SharedBudget(link, rate_per_second=3, max_in_flight=3, share=0.5).share_in_flight == 1


