"""A new user's first /progress on 4 games, RA answering in 1.5 s: how many round trips?

The real bot (``python -m bot``, production RA settings: 3 requests a second, 3 in flight) runs
twice in the same bench run, each on a database of its own: without the catalogue
(CATALOGUE_REFRESH_HOURS=0: titles and icons come from API_GetGame, the behaviour before issue 8)
and with it (fetched from the fake RA at start, before RA slows down). Each run asks for ROUNDS
new users, one after another, 4 games each; the answer time is INTERACTION_CREATE sent → final
answer received.

The physical bound with the catalogue is one round trip plus the limiter's spacing between the
profile and the progress call (1 / rate). Target: median answer <= 1.2x one RA round trip.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time

from bench.common import (
    Bench,
    median,
    ms,
    options,
    percentile,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
    wait_ra_quiet,
)
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.catalogue import seed_catalogue
from tests.fakes.fake_ra import FakeRA

RA_DELAY = 1.5
ROUNDS = 6
GAME_COUNT = 4
RATE = 3.0  # production default
FAST_RATE = 5.0  # an operator who allows RA more
TARGET = 1.2
LOADED = re.compile(r"catalogue: [1-9][\d,]* games in memory")


def seed(fake_ra: FakeRA) -> list[list[int]]:
    """The catalogue, and for each round a new user with 4 games nobody asked about before."""
    seed_catalogue(fake_ra, size=5000)
    catalogued = sorted(g.id for g in fake_ra.games.values() if g.num_achievements > 0)
    rounds = []
    for r in range(ROUNDS):
        games = catalogued[100 + r * GAME_COUNT : 100 + (r + 1) * GAME_COUNT]
        fake_ra.add_user(f"NewUser{r}", total_points=100 * r)
        for game in games:
            fake_ra.set_progress(f"NewUser{r}", game, achieved=5, score=50)
        rounds.append(games)
    return rounds


async def measure(with_catalogue: bool, rate: float) -> tuple[list[float], dict[str, int]]:
    fake_ra = FakeRA()
    rounds = seed(fake_ra)
    run = "after" if with_catalogue else "before"
    async with fake_ra, FakeDiscord(guilds=2) as fake, Bench() as bench:
        ours = await bench.ours(
            fake, fake_ra, name=run,
            CATALOGUE_REFRESH_HOURS="24" if with_catalogue else "0",
            GUILD_COMMANDS_PER_MINUTE="60",
            RA_REQUESTS_PER_SECOND=f"{rate:g}",
        )
        await wait_connected(fake, ours)
        await wait_on_ready(ours)
        if with_catalogue:
            await ours.wait_log(LOADED, timeout=120)
        await wait_ra_quiet(fake_ra, quiet=0.5)
        fake_ra.response_delay = RA_DELAY
        before = len(fake_ra.requests)
        times = []
        for r, games in enumerate(rounds):
            interaction = await fake.send_interaction(
                "progress",
                options(games=", ".join(map(str, games)), user=f"NewUser{r}"),
                guild_id=fake.guild_ids[0],
            )
            answer = await interaction.wait_final(timeout=60)
            assert not answer["ephemeral"], answer
            times.append(answer["received_at"] - interaction.sent_at)
            await wait_ra_quiet(fake_ra, quiet=0.5)  # the next user finds the limiter idle
        counts: dict[str, int] = {}
        for call in fake_ra.requests[before:]:
            counts[call.endpoint] = counts.get(call.endpoint, 0) + 1
    return times, counts


def main() -> int:
    title(f"A new user's first /progress on {GAME_COUNT} new games, RA answering in "
          f"{RA_DELAY:g} s")
    runs = [
        ("before (no catalogue)", RATE, *asyncio.run(measure(False, RATE))),
        ("with the catalogue", RATE, *asyncio.run(measure(True, RATE))),
        ("with the catalogue", FAST_RATE, *asyncio.run(measure(True, FAST_RATE))),
    ]
    rows = []
    for name, rate, times, calls in runs:
        bound = RA_DELAY + 1 / rate
        per = {k: v / ROUNDS for k, v in calls.items()}
        rows.append([
            name, f"{rate:g}/s", ms(median(times)), ms(percentile(times, 90)),
            f"{median(times) / RA_DELAY:.2f}x", f"{bound / RA_DELAY:.2f}x",
            ", ".join(f"{k.removeprefix('API_')} {v:g}" for k, v in sorted(per.items())),
        ])
    print(table(["run", "RA rate", "median ms", "p90 ms", "÷ RA round trip",
                 "bound ÷ round trip", "RA calls per command"], rows))
    print("bound: one round trip plus 1/rate, the limiter's spacing between a command's profile "
          "and progress calls (they start one after the other, never in a burst)")
    before, after, fast = (median(times) for *_, times, _ in runs)
    ok = fast / RA_DELAY <= TARGET and after <= (RA_DELAY + 1 / RATE) * 1.05
    print(verdict(ok, f"first /progress {after / RA_DELAY:.2f}x one RA round trip at {RATE:g}/s "
                      f"(bound {(RA_DELAY + 1 / RATE) / RA_DELAY:.2f}x), {fast / RA_DELAY:.2f}x at "
                      f"{FAST_RATE:g}/s (target <= {TARGET}); before: {before / RA_DELAY:.2f}x"),
          flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"(wall time {time.monotonic() - started:.0f} s)")
    sys.exit(status)
