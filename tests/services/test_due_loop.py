"""The loop shared by the scheduler and the challenge poster: wake-ups, and a database outage."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from bot.services.due_loop import MAX_SLEEP, DueLoop
from bot.store.store import StoreUnavailable


async def test_a_store_error_is_looked_at_again_within_a_second_then_backs_off() -> None:
    loop = DueLoop("test", lambda: datetime.now(UTC))
    passes: list[float] = []
    three = asyncio.Event()

    async def run_due(now: datetime) -> None:
        passes.append(time.monotonic())
        if len(passes) == 3:
            three.set()
        if len(passes) <= 2:
            raise StoreUnavailable("The bot's storage is not answering right now.")

    async def next_run_at() -> datetime | None:
        return None  # nothing due: without the outage it would sleep MAX_SLEEP

    task = asyncio.create_task(loop.run_forever(run_due, next_run_at))
    try:
        async with asyncio.timeout(10):
            await three.wait()
    finally:
        task.cancel()
    first, second, third = passes
    assert 0.9 <= second - first < 1.9  # 1 s after the first failure
    assert 1.9 <= third - second < 3.5  # then 2 s: backing off
    assert MAX_SLEEP > 60


async def test_a_wake_up_runs_a_pass_at_once_and_a_due_time_is_kept() -> None:
    loop = DueLoop("test", lambda: datetime.now(UTC))
    ran = asyncio.Queue[datetime]()

    async def run_due(now: datetime) -> None:
        ran.put_nowait(now)

    async def next_run_at() -> datetime | None:
        return datetime.now(UTC) + timedelta(hours=1)

    task = asyncio.create_task(loop.run_forever(run_due, next_run_at))
    try:
        async with asyncio.timeout(5):
            await ran.get()
            loop.wake()
            await ran.get()  # at once, not in an hour
    finally:
        task.cancel()
