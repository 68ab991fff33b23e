"""RA requests per command for a seeded Zipf workload of /progress.

300 commands, 8 RA users, 12 games, 1-5 games a command, users and games drawn with Zipf weights
1/k^1.1 from ``random.Random(SEED)``; sent at 30 commands a second by the clock (never waiting for
answers), spread over 10 guilds (GUILD_COMMANDS_PER_MINUTE=60, so no guild runs out of budget).
Our bot runs with the production RA settings (3 requests/s, 3 in flight); FakeRA answers after
``RA_DELAY`` seconds.

It runs twice in one bench run: without the catalogue (CATALOGUE_REFRESH_HOURS=0, titles and
icons from API_GetGame: the behaviour before issue 8) and with it (fetched at start, before the
workload; its calls are printed apart: they are a daily cost, not a command's).

Target: <= 0.06 RA requests per command with the catalogue, every command answered publicly.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections import Counter

from bench.common import (
    Bench,
    ms,
    options,
    percentile,
    sentence,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
    wait_ra_quiet,
)
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import FakeRA

SEED = 20240611
COMMANDS = 300
USERS = 8
GAMES = 12
MAX_GAMES = 5
PER_SECOND = 30.0
GUILDS = 10
ZIPF_S = 1.1
RA_DELAY = 0.25
TARGET = 0.06
CATALOGUE_LOADED = re.compile(r"catalogue: [1-9][\d,]* games in memory")
ENDPOINTS = ("API_GetUserProgress", "API_GetUserProfile", "API_GetGame")


def workload(seed: int = SEED) -> list[tuple[str, list[int]]]:
    """(user, game ids) for each command, reproducibly."""
    rng = random.Random(seed)
    users = [f"Zipf{k}" for k in range(1, USERS + 1)]
    games = [100 + k for k in range(1, GAMES + 1)]
    user_w = [1 / k**ZIPF_S for k in range(1, USERS + 1)]
    game_w = [1 / k**ZIPF_S for k in range(1, GAMES + 1)]
    out = []
    for _ in range(COMMANDS):
        user = rng.choices(users, user_w)[0]
        wanted = rng.randint(1, MAX_GAMES)
        picked: list[int] = []
        while len(picked) < wanted:
            game = rng.choices(games, game_w)[0]
            if game not in picked:
                picked.append(game)
        out.append((user, picked))
    return out


def seed_ra(fake_ra: FakeRA, seed: int = SEED) -> None:
    rng = random.Random(seed + 1)
    for k in range(1, GAMES + 1):
        fake_ra.add_game(100 + k, f"Zipf Game {k}", num_achievements=20, points=200)
    for k in range(1, USERS + 1):
        user = f"Zipf{k}"
        fake_ra.add_user(user, total_points=1000 * k)
        for g in range(1, GAMES + 1):
            done = rng.randint(0, 20)
            fake_ra.set_progress(user, 100 + g, achieved=done, score=done * 10,
                                 achieved_hardcore=done // 2, score_hardcore=done // 2 * 10)


def print_trace(fake_ra: FakeRA, start: float) -> None:
    """Every RA request: when it arrived (s after the first command), endpoint, user, ids."""
    for at, call in zip(fake_ra.request_times, fake_ra.requests, strict=False):
        ids = call.params.get("i", "")
        print(f"  {at - start:6.2f}  {call.endpoint:<20} {call.params.get('u', ''):<6} "
              f"{len(ids.split(',')) if ids else 0:>2} ids  {ids}")


async def run(ra_delay: float = RA_DELAY, trace: bool = False,
              catalogue: bool = True) -> tuple[bool, float]:
    title(f"RA requests per command: {COMMANDS} /progress (Zipf s={ZIPF_S}, {USERS} users, "
          f"{GAMES} games, 1-{MAX_GAMES} games each) at {PER_SECOND:g}/s in {GUILDS} guilds, "
          + ("with the catalogue" if catalogue else "without the catalogue (before issue 8)"))
    t0 = time.monotonic()
    commands = workload()
    fake_ra = FakeRA()
    seed_ra(fake_ra)
    async with fake_ra, FakeDiscord(guilds=GUILDS) as fake, Bench() as bench:
        ours = await bench.ours(fake, fake_ra, GUILD_COMMANDS_PER_MINUTE="60",
                                CATALOGUE_REFRESH_HOURS="24" if catalogue else "0")
        await wait_connected(fake, ours)
        await wait_on_ready(ours)
        if catalogue:
            await ours.wait_log(CATALOGUE_LOADED, timeout=60)
        await wait_ra_quiet(fake_ra, quiet=0.5)
        daily = Counter(c.endpoint for c in fake_ra.requests)  # the catalogue's, once a day
        fake_ra.requests.clear()
        fake_ra.request_times.clear()
        fake_ra.response_delay = ra_delay
        interactions: list[Interaction] = []
        start = time.monotonic()
        for i, (user, games) in enumerate(commands):
            delay = start + i / PER_SECOND - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            interactions.append(await fake.send_interaction(
                "progress", options(games=", ".join(map(str, games)), user=user),
                guild_id=fake.guild_ids[i % GUILDS]))
        sent_for = time.monotonic() - start
        finals = await asyncio.gather(*(it.wait_final(timeout=60) for it in interactions))
        await wait_ra_quiet(fake_ra, quiet=1.0)
        by_endpoint = Counter(c.endpoint for c in fake_ra.requests)
        max_concurrent = fake_ra.max_concurrent
        if trace:
            print_trace(fake_ra, start)

    total = sum(by_endpoint.values())
    answered = sum(not f["ephemeral"] for f in finals)
    ephemeral = [sentence(f.get("content") or "") for f in finals if f["ephemeral"]]
    refused = sum("budget" in text for text in ephemeral)
    latency = [f["received_at"] - it.sent_at for f, it in zip(finals, interactions, strict=True)]
    games_asked = sum(len(g) for _, g in commands)
    print(f"RA answers after {ra_delay:g} s; bot: RA_REQUESTS_PER_SECOND=3, RA_MAX_IN_FLIGHT=3, "
          f"PROGRESS_CACHE_SECONDS=120; {games_asked} (user, game) pairs asked, "
          f"sent in {sent_for:.1f} s")
    if daily:
        print("the catalogue at start (once a day, not per command): "
              + ", ".join(f"{e} {n}" for e, n in sorted(daily.items())))
    rows = [[e, by_endpoint.get(e, 0), f"{by_endpoint.get(e, 0) / COMMANDS:.3f}"]
            for e in ENDPOINTS]
    rows += [[e, n, f"{n / COMMANDS:.3f}"] for e, n in by_endpoint.items() if e not in ENDPOINTS]
    rows.append(["total", total, f"{total / COMMANDS:.3f}"])
    print(table(["RA endpoint", "requests", "per command"], rows))
    print(table(["commands", "answered", "ephemeral", "budget refused", "answer p50 ms",
                 "answer p99 ms", "RA max concurrent"],
                [[COMMANDS, answered, len(ephemeral), refused, ms(percentile(latency, 50)),
                  ms(percentile(latency, 99)), max_concurrent]]))
    for text, count in Counter(ephemeral).most_common(5):
        print(f"ephemeral x{count}: {text[:110]}")
    per_command = total / COMMANDS
    ok = per_command <= TARGET and answered == COMMANDS
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    if catalogue:
        print(verdict(ok, f"{per_command:.3f} RA requests per command (target <= {TARGET}), "
                          f"{answered}/{COMMANDS} answered publicly"), flush=True)
    return ok, per_command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra-delay", type=float, default=RA_DELAY,
                        help=f"seconds FakeRA takes to answer (default {RA_DELAY})")
    parser.add_argument("--trace", action="store_true", help="print every RA request")
    args = parser.parse_args()
    _, before = asyncio.run(run(args.ra_delay, args.trace, catalogue=False))
    ok, after = asyncio.run(run(args.ra_delay, args.trace, catalogue=True))
    print(f"before/after: {before:.3f} -> {after:.3f} RA requests per command "
          f"({after / before:.2f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
