"""Leaderboard fan-out: a 200-member board built at the limiter's rate.

In this process, a real RAClient + UpstreamLimiter + RAService + Leaderboards wired as
bot/bot.py's setup_hook wires them, against FakeRA with 200 users: `Leaderboards.build` for 200
linked members on 5 games (one progress call a member, plus the games' titles), then the first
page rendered. The limiter runs at 20 requests/s with 3 in flight (production is 3/s: 20/s keeps
the run short, the arithmetic is the same); FakeRA answers after 50 ms.

Target: elapsed <= 1.1x the bound (RA calls / rate), and never more than `rate` requests started
in any 1-second window (sliding, from FakeRA's arrival times).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import aiohttp

from bench.common import table, title, verdict
from bot.formatting.leaderboard import board_page
from bot.formatting.urls import SiteUrls
from bot.models.members import Link, LinkedMember
from bot.ra.client import RAClient
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.ra.transport import USER_AGENT, RATransport
from bot.services.leaderboard import Leaderboards
from bot.services.ra import RAService
from bot.stats import Stats
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA, fake_ulid

MEMBERS = 200
GAMES = [1, 2, 3, 4, 5]
RATE = 20.0
MAX_IN_FLIGHT = 3
RA_DELAY = 0.05
TARGET = 1.1
SEED = 7


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most events in any half-open window [t, t + window) starting at an event."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)),
               default=0)


def min_gap(times: list[float]) -> float:
    ordered = sorted(times)
    return min((b - a for a, b in itertools.pairwise(ordered)), default=0.0)


def seed(fake_ra: FakeRA) -> list[str]:
    rng = random.Random(SEED)
    for game in GAMES:
        fake_ra.add_game(game, f"Leaderboard Game {game}", num_achievements=30, points=300)
    users = [f"Member{i:03d}" for i in range(MEMBERS)]
    for user in users:
        fake_ra.add_user(user)
        for game in GAMES:
            done = rng.randint(0, 30)
            fake_ra.set_progress(user, game, achieved=done, score=done * 10)
    return users


async def run() -> bool:
    title(f"fan-out: a board of {MEMBERS} members ({len(GAMES)} games) through "
          f"Leaderboards.build at {RATE:g} requests/s, {MAX_IN_FLIGHT} in flight, RA answering "
          f"after {RA_DELAY * 1000:.0f} ms")
    fake_ra = FakeRA()
    users = seed(fake_ra)
    async with fake_ra, aiohttp.ClientSession(
        headers={"User-Agent": USER_AGENT},
        connector=aiohttp.TCPConnector(limit=max(10, MAX_IN_FLIGHT * 2)),
    ) as session:
        fake_ra.response_delay = RA_DELAY
        stats = Stats()
        limiter = UpstreamLimiter(RATE, MAX_IN_FLIGHT)
        granted: list[float] = []
        acquire = limiter.acquire

        async def recording_acquire(priority: Priority = Priority.INTERACTIVE) -> None:
            await acquire(priority)
            granted.append(time.monotonic())

        limiter.acquire = recording_acquire  # type: ignore[method-assign]
        client = RAClient(RATransport(session, api_key=FAKE_RA_KEY, base_url=fake_ra.base_url,
                          limiter=limiter, timeout=8.0, retry_budget=14.0, stats=stats))
        service = RAService(client, stats=stats)
        now = datetime.now(UTC)
        members = [
            LinkedMember(i, Link(i, fake_ulid(user), user, now), f"member {i}")
            for i, user in enumerate(users, start=1)
        ]
        start = time.monotonic()
        board = await Leaderboards(service).build(members, GAMES)
        board_page(board, 0, "Leaderboard", SiteUrls())
        elapsed = time.monotonic() - start
        failures = [m.display_name for m in board.missing]
        calls = Counter(c.endpoint for c in fake_ra.requests)
        ids_per_call = Counter(len(c.params.get("i", "").split(","))
                               for c in fake_ra.calls("API_GetUserProgress"))
        arrivals = list(fake_ra.request_times)
        max_concurrent = fake_ra.max_concurrent

    bound = len(arrivals) / RATE
    ratio = elapsed / bound
    window_ra = max_in_window(arrivals)
    window_limiter = max_in_window(granted)
    print(f"rate used: {RATE:g}/s (RA_REQUESTS_PER_SECOND default is 3), "
          f"max_in_flight {MAX_IN_FLIGHT}, retry budget 14 s")
    print(table(["", "value"], [
        ["elapsed s", f"{elapsed:.2f}"],
        ["bound = RA calls / rate s", f"{bound:.2f}"],
        ["elapsed / bound", f"{ratio:.3f}"],
        ["RA calls (all endpoints)", sum(calls.values())],
        ["  API_GetUserProgress", calls.get("API_GetUserProgress", 0)],
        ["  game ids per progress call", ", ".join(f"{k} x{v}" for k, v in
                                                    sorted(ids_per_call.items()))],
        ["members failed", len(failures)],
        ["max starts in any 1 s (RA arrivals)", window_ra],
        ["max starts in any 1 s (limiter grants)", window_limiter],
        ["min gap between RA arrivals ms", f"{min_gap(arrivals) * 1000:.1f}"],
        ["min gap between limiter grants ms", f"{min_gap(granted) * 1000:.1f}"],
        ["RA max concurrent", max_concurrent],
    ]))
    for failure in failures[:3]:
        print(f"failure: {failure} missing from the board")
    ok = ratio <= TARGET and window_ra <= RATE and not failures
    print(verdict(ok, f"{elapsed:.2f} s = {ratio:.3f}x the bound {bound:.1f} s (target <= "
                      f"{TARGET}x); at most {window_ra} requests in any 1 s at RA "
                      f"(rate {RATE:g}); {calls.get('API_GetUserProgress', 0)} progress calls "
                      f"for {MEMBERS} members"), flush=True)
    return ok


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
