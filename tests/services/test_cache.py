"""TTLCache (injected clock) and SingleFlight (real event loop, no sleeps)."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.cache import SingleFlight, TTLCache


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- TTLCache ------------------------------------------------------------------------------------


def test_value_lives_until_its_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10.0, clock=clock)
    cache.set("a", 1)
    assert cache.get("a") == 1
    clock.now += 9.999
    assert cache.get("a") == 1
    assert "a" in cache
    clock.now += 0.001
    assert cache.get("a") is None
    assert "a" not in cache
    assert len(cache) == 0  # the expired entry is dropped, not kept around


def test_missing_key_is_none() -> None:
    cache: TTLCache[str, int] = TTLCache(10.0, clock=Clock())
    assert cache.get("nope") is None
    assert "nope" not in cache


def test_per_entry_ttl_overrides_default() -> None:
    clock = Clock()
    cache: TTLCache[str, str] = TTLCache(100.0, clock=clock)
    cache.set("short", "s", ttl=5.0)
    cache.set("long", "l")
    clock.now += 6
    assert cache.get("short") is None
    assert cache.get("long") == "l"
    clock.now += 94
    assert cache.get("long") is None


def test_setting_again_restarts_the_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10.0, clock=clock)
    cache.set("a", 1)
    clock.now += 8
    cache.set("a", 2)
    clock.now += 8
    assert cache.get("a") == 2


def test_falsy_values_are_cached() -> None:
    cache: TTLCache[str, object] = TTLCache(10.0, clock=Clock())
    cache.set("zero", 0)
    cache.set("false", False)
    assert cache.get("zero") == 0
    assert cache.get("false") is False


@pytest.mark.parametrize("ttl", [0.0, -1.0])
def test_zero_ttl_means_not_stored(ttl: float) -> None:
    cache: TTLCache[str, int] = TTLCache(ttl, clock=Clock())
    cache.set("a", 1)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_zero_ttl_for_one_entry_means_not_stored() -> None:
    cache: TTLCache[str, int] = TTLCache(10.0, clock=Clock())
    cache.set("a", 1, ttl=0)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_zero_ttl_set_does_not_leave_an_older_value_answering() -> None:
    cache: TTLCache[str, int] = TTLCache(10.0, clock=Clock())
    cache.set("a", 1)
    cache.set("a", 2, ttl=0)
    assert cache.get("a") is None


def test_max_entries_evicts_the_oldest_set() -> None:
    cache: TTLCache[int, int] = TTLCache(10.0, max_entries=3, clock=Clock())
    for key in range(5):
        cache.set(key, key * 10)
    assert len(cache) == 3
    assert [cache.get(k) for k in range(5)] == [None, None, 20, 30, 40]


def test_setting_an_existing_key_makes_it_newest() -> None:
    cache: TTLCache[str, int] = TTLCache(10.0, max_entries=2, clock=Clock())
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 3)  # a is now the newest
    cache.set("c", 4)  # evicts b
    assert cache.get("a") == 3
    assert cache.get("b") is None
    assert cache.get("c") == 4


def test_pop() -> None:
    cache: TTLCache[str, int] = TTLCache(10.0, clock=Clock())
    cache.set("a", 1)
    cache.pop("a")
    cache.pop("missing")  # no error
    assert cache.get("a") is None


# -- SingleFlight --------------------------------------------------------------------------------


class Work:
    """A factory whose runs block until released; counts how often it really ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.error: BaseException | None = None
        self.result = "answer"

    async def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.result


async def test_concurrent_runs_share_one_execution() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    callers = [asyncio.create_task(flight.run("k", work)) for _ in range(5)]
    await work.started.wait()
    assert len(flight) == 1
    work.release.set()
    assert await asyncio.gather(*callers) == ["answer"] * 5
    assert work.calls == 1


async def test_different_keys_run_separately() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    first, second = Work(), Work()
    second.result = "other"
    a = asyncio.create_task(flight.run("a", first))
    b = asyncio.create_task(flight.run("b", second))
    await first.started.wait()
    await second.started.wait()
    assert len(flight) == 2
    first.release.set()
    second.release.set()
    assert await asyncio.gather(a, b) == ["answer", "other"]
    assert (first.calls, second.calls) == (1, 1)


async def test_errors_reach_every_caller() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.error = LookupError("RA said no")
    callers = [asyncio.create_task(flight.run("k", work)) for _ in range(3)]
    await work.started.wait()
    work.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, LookupError) and str(r) == "RA said no" for r in results)
    assert work.calls == 1
    assert len(flight) == 0


async def test_a_cancelled_caller_does_not_cancel_the_shared_work() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    quitter = asyncio.create_task(flight.run("k", work))
    stayer = asyncio.create_task(flight.run("k", work))
    await work.started.wait()
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    shared = flight.running("k")
    assert shared is not None and not shared.cancelled()
    work.release.set()
    assert await stayer == "answer"
    assert work.calls == 1


async def test_work_finishes_even_when_its_only_caller_gives_up() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    caller = asyncio.create_task(flight.run("k", work))
    await work.started.wait()
    task = flight.running("k")
    assert task is not None
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    work.release.set()
    assert await task == "answer"


async def test_key_forgotten_after_completion_so_next_run_is_fresh() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.release.set()
    assert await flight.run("k", work) == "answer"
    assert len(flight) == 0
    assert flight.running("k") is None
    work.result = "newer"
    assert await flight.run("k", work) == "newer"
    assert work.calls == 2


async def test_key_forgotten_after_failure_so_next_run_retries() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    work.release.set()
    work.error = RuntimeError("boom")
    with pytest.raises(RuntimeError):
        await flight.run("k", work)
    assert flight.running("k") is None
    work.error = None
    assert await flight.run("k", work) == "answer"
    assert work.calls == 2


async def test_start_returns_the_running_task() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    first = flight.start("k", work)
    second = flight.start("k", work)
    assert first is second
    work.release.set()
    assert await first == "answer"


async def test_share_registers_one_task_under_several_keys() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    work = Work()
    task = flight.start("a", work)
    flight.share("b", task)
    assert flight.running("b") is task
    other = Work()
    assert flight.start("b", other) is task  # joins the running task, does not start other
    work.release.set()
    assert await flight.run("b", other) == "answer"
    assert len(flight) == 0  # forgotten under both keys
    assert other.calls == 0
