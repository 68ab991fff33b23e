"""RA cost of a challenge's standings refresh: N members, one call each, whatever the games.

In this process, a real RAClient + UpstreamLimiter + RAService + Challenges wired as
bot/bot.py's setup_hook wires them, against FakeRA: for N = 10, 50 and 200 linked members on 8
games (each member with 0-40 unlocks in the window, some on other games, some hardcore),
`Challenges.standings` once from cold caches, then again a minute later (cached like progress).
Baseline, measured in the same run on the same members and games: a leaderboard
(`Leaderboards.build`, one progress call per member). The limiter runs at 200 requests/s so the
run is short; at the production 3/s a refresh takes N / 3 seconds.

Target: exactly N API_GetAchievementsEarnedBetween calls (not N x games), no more RA calls than
the leaderboard of the same members, and none on the cached refresh.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp

from bench.common import table, title, verdict
from bot.formatting.challenges import standings_embed
from bot.formatting.urls import SiteUrls
from bot.models.challenges import Challenge
from bot.models.members import Link, LinkedMember
from bot.models.schedule_times import Cadence
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import USER_AGENT, RATransport
from bot.services.challenges import Challenges
from bot.services.leaderboard import Leaderboards
from bot.services.ra import RAService
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA, fake_ulid

SIZES = (10, 50, 200)
GAMES = [1, 2, 3, 4, 5, 6, 7, 8]
RATE = 200.0
MAX_IN_FLIGHT = 8
SEED = 13
START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=20)


def seed(fake_ra: FakeRA, members: int) -> list[str]:
    rng = random.Random(SEED)
    for game in [*GAMES, 99]:
        fake_ra.add_game(game, f"Challenge Game {game}", num_achievements=40, points=400)
    users = [f"Member{i:03d}" for i in range(members)]
    for user in users:
        fake_ra.add_user(user)
        for n in range(rng.randint(0, 40)):
            game = rng.choice([*GAMES, 99])
            at = START + timedelta(minutes=rng.randint(-3000, 40_000))
            fake_ra.add_unlock(user, game, game * 1000 + n, points=rng.choice([1, 5, 10, 25]),
                               at=at, hardcore=rng.random() < 0.6)
    return users


def challenge() -> Challenge:
    return Challenge(1, 1, "December", list(GAMES), None, START, END, None, Cadence.DAILY,
                     None, None, None, None, 1, START)


async def measure(members: int) -> dict[str, float]:
    fake_ra = FakeRA()
    users = seed(fake_ra, members)
    async with fake_ra, aiohttp.ClientSession(
        headers={"User-Agent": USER_AGENT},
        connector=aiohttp.TCPConnector(limit=MAX_IN_FLIGHT * 2),
    ) as session:
        client = RAClient(RATransport(session, api_key=FAKE_RA_KEY, base_url=fake_ra.base_url,
                          limiter=UpstreamLimiter(RATE, MAX_IN_FLIGHT), timeout=8.0))
        linked = [
            LinkedMember(i, Link(i, fake_ulid(user), user, START), f"member {i}")
            for i, user in enumerate(users, start=1)
        ]
        clock = [time.monotonic()]
        service = RAService(client, clock=lambda: clock[0])
        started = time.monotonic()
        board = await Challenges(service).standings(challenge(), linked, NOW)
        elapsed = time.monotonic() - started
        standings_embed(board, SiteUrls())
        cold = Counter(r.endpoint for r in fake_ra.requests)
        clock[0] += 60  # a minute later: within PROGRESS_CACHE_SECONDS
        await Challenges(service).standings(challenge(), linked, NOW + timedelta(minutes=1))
        cached = len(fake_ra.requests) - sum(cold.values())
        before = len(fake_ra.requests)
        await Leaderboards(RAService(client)).build(linked, GAMES)
        baseline = len(fake_ra.requests) - before
    return {
        "members": members,
        "earned": cold["API_GetAchievementsEarnedBetween"],
        "titles": cold["API_GetGame"],
        "total": sum(cold.values()),
        "cached": cached,
        "baseline": baseline,
        "ranked": len(board.board.standings),
        "elapsed": elapsed,
    }


async def run() -> bool:
    title(f"challenge standings: N members on {len(GAMES)} games, one refresh from cold caches "
          f"and one a minute later; baseline a leaderboard of the same members ({RATE:g}/s)")
    rows = []
    ratios = []
    ok = True
    for size in SIZES:
        m = await measure(size)
        ratios.append(m["total"] / m["baseline"])
        ok &= m["earned"] == size and m["total"] <= m["baseline"] and m["cached"] == 0
        rows.append([
            size, m["earned"], m["titles"], m["total"], size * len(GAMES), m["baseline"],
            f"{m['total'] / m['baseline']:.2f}", m["cached"], m["ranked"],
            f"{m['elapsed']:.2f}",
        ])
    print(table(["N", "earned-between", "titles", "RA calls", "N x games", "leaderboard",
                 "ratio", "cached refresh", "ranked", "s"], rows))
    print(verdict(ok, "a standings refresh for N members is N earned-between calls plus each "
                      f"game's title once (at most {max(ratios):.2f}x a leaderboard of the same "
                      "members), 0 when cached"), flush=True)
    return ok


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
