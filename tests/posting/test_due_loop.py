"""The loop shared by the scheduler and the challenge poster: wake-ups, and a database outage."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.posting.due_loop import MAX_SLEEP, DueLoop
from bot.store.database import StoreUnavailable


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


async def test_run_each_leaves_an_item_whose_store_fails_for_the_next_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = DueLoop("test", lambda: datetime.now(UTC))
    ran: list[int] = []

    async def run_one(item: int) -> str | None:
        ran.append(item)
        if item == 2:
            raise StoreUnavailable("The bot's storage is not answering right now.")
        return None if item == 3 else f"posted {item}"

    results = await loop.run_each([1, 2, 3, 4], run_one, lambda item: f"item #{item}")
    assert ran == [1, 2, 3, 4]  # the others still ran
    assert results == ["posted 1", "posted 4"]  # None: nothing to report
    assert loop.failed  # the next pass comes soon
    assert "test: item #2: store unavailable" in caplog.text
