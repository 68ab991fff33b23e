"""Soak: tens of thousands of /progress for distinct RA users, and the bot's memory meanwhile.

The real bot (``python -m bot``) against the fake Discord (50 guilds) and the fake RA, which
knows every user asked about. Commands go in waves of ``WAVE`` at once, each for an RA user never
asked before, on 1-3 games of a pool of 40; every ``BLOCK`` commands the bot's VmRSS is read and
the block's ack latencies (INTERACTION_CREATE sent → defer received) summarised. RA is not the
subject here: the limiter gets the most the settings allow (50 requests a second, 16 in
flight), and so does each guild's budget.

Printed: the curve (commands, RSS, ack p50/p99, answered), then two ratios measured in this run:
RSS at the end ÷ RSS once the caches are full (after ``FULL_AT`` commands: about 17,000
progress entries and 5,000 profiles fill their byte budgets within the first 6,000 users), and
the last block's ack p99 ÷ the median block's. Targets: memory growth ≤ 1.10x after the caches
are full, ack p99 ≤ 1.5x.

    .venv/bin/python -m bench.bench_soak [commands]      (default 12,000; about 8 minutes, RA's
                                                          50 requests a second being the pace)

BENCH_BOT_SRC=<dir> measures another tree's ``bot/`` (e.g. ``git archive <commit> bot`` unpacked
there) with the same load, for a before/after comparison.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from typing import Any

from bench.common import (
    BOT_SRC,
    Bench,
    median,
    mib,
    ms,
    options,
    percentile,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
)
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import FakeRA

GUILDS = 50
WAVE = 100
BLOCK = 1000
FULL_AT = 6000
GAMES = list(range(1, 41))
MEMORY_TARGET = 1.10
ACK_TARGET = 1.5
SETTINGS = {
    "RA_REQUESTS_PER_SECOND": "50",
    "RA_MAX_IN_FLIGHT": "16",
    "GUILD_COMMANDS_PER_MINUTE": "10000",
    "GUILD_COMMANDS_PER_MINUTE_MAX": "10000",
}


def user_of(i: int) -> str:
    return f"Soak{i:06d}"


def games_of(i: int) -> list[int]:
    rng = random.Random(i)
    return rng.sample(GAMES, rng.randint(1, 3))


def seed(fake_ra: FakeRA, commands: int) -> None:
    for game in GAMES:
        fake_ra.add_game(game, f"Soak Game {game} — a title of ordinary length")
    for i in range(commands):
        user = user_of(i)
        fake_ra.add_user(user, total_points=i)
        for game in games_of(i):
            fake_ra.set_progress(user, game, achieved=i % 7, score=i % 7 * 5)


async def wave(fake: FakeDiscord, start: int, count: int) -> list[Interaction]:
    interactions: list[Interaction] = await asyncio.gather(
        *(
            fake.send_interaction(
                "progress",
                options(games=", ".join(map(str, games_of(i))), user=user_of(i)),
                guild_id=fake.guild_ids[i % GUILDS],
            )
            for i in range(start, start + count)
        )
    )
    await asyncio.gather(*(it.wait_final(timeout=60) for it in interactions))
    return interactions


async def run(commands: int) -> bool:
    title(f"soak: {commands:,} /progress for distinct RA users, {GUILDS} guilds, waves of {WAVE}")
    print(f"(bot/ from {BOT_SRC})")
    t0 = time.monotonic()
    fake_ra = FakeRA()
    seed(fake_ra, commands)
    rows: list[list[Any]] = []
    curve: list[tuple[int, int, float]] = []
    async with fake_ra, FakeDiscord(guilds=GUILDS) as fake, Bench() as bench:
        bot = await bench.ours(fake, fake_ra, **SETTINGS)
        await wait_connected(fake, bot)
        await wait_on_ready(bot)
        start_rss = bot.rss_kib()
        rows.append([0, mib(start_rss), "", "", "", ""])
        done = 0
        while done < commands:
            acks: list[float] = []
            answered = ephemeral = 0
            block_end = min(commands, done + BLOCK)
            while done < block_end:
                count = min(WAVE, block_end - done)
                for it in await wave(fake, done, count):
                    acks.append(it.ack_latency or 0.0)
                    final = it.final or {}
                    if final.get("ephemeral"):
                        ephemeral += 1
                    else:
                        answered += 1
                done += count
                # The fake keeps every request and message it saw: let it forget them.
                fake.requests.clear()
                fake_ra.requests.clear()
            rss = bot.rss_kib()
            p99 = percentile(acks, 99)
            curve.append((done, rss, p99))
            rows.append(
                [done, mib(rss), ms(percentile(acks, 50)), ms(p99), answered, ephemeral]
            )
            print(f"  {done:,} commands: RSS {mib(rss)} MiB, ack p99 {ms(p99)} ms", flush=True)
        await bot.stop()
    print(table(["commands", "RSS MiB", "ack p50 ms", "ack p99 ms", "answered", "ephemeral"],
                rows))
    full = next(((n, rss) for n, rss, _ in curve if n >= FULL_AT), curve[0][:2])
    end_rss = curve[-1][1]
    growth = end_rss / full[1]
    per_user = (end_rss - full[1]) * 1024 / max(1, commands - full[0])
    typical_p99 = median([p99 for _, _, p99 in curve])
    ack_ratio = curve[-1][2] / typical_p99
    answered_all = sum(r[4] for r in rows[1:]) == commands
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    ok_memory = growth <= MEMORY_TARGET
    ok_ack = ack_ratio <= ACK_TARGET
    print(verdict(answered_all, f"answered {sum(r[4] for r in rows[1:]):,}/{commands:,}"))
    print(verdict(ok_memory, f"RSS {mib(end_rss)} MiB at {commands:,} = {growth:.3f}x the "
                             f"{mib(full[1])} MiB at {full[0]:,} (caches full); "
                             f"{per_user:.0f} bytes a further user (target <= {MEMORY_TARGET}x)"))
    print(verdict(ok_ack, f"ack p99 last block {ms(curve[-1][2])} ms = {ack_ratio:.2f}x the "
                          f"median block's {ms(typical_p99)} ms (target <= {ACK_TARGET}x)"),
          flush=True)
    return answered_all and ok_memory and ok_ack


def main() -> int:
    commands = int(sys.argv[1]) if len(sys.argv) > 1 else 12_000
    return 0 if asyncio.run(run(commands)) else 1


if __name__ == "__main__":
    sys.exit(main())
