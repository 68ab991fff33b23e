"""One bot over 1, 2 and 3 processes: RA's busiest second and the cross-process cache.

For each process count N, N real bot processes (``python -m bot``, SHARD_COUNT=N, one shard
each) serve a fake Discord with N shards, under the Zipf workload of bench_ra_requests (300
/progress at 30 a second over 12 guilds, so over every shard), at the production RA setting
(RA_REQUESTS_PER_SECOND=3, RA_MAX_IN_FLIGHT=3), two ways:

- shared: REDIS_URL set (the RA budget and caches shared through Redis);
- independent: what N processes did before there was a shared budget, each with the whole
  budget and caches of its own (no Redis, RA_REQUESTS_PER_SECOND=3N with one of N shards, so
  each process keeps to 3 a second and 3 in flight).

Figures: RA's maximum requests started in any second (sliding one-second windows over the fake
RA's arrival times), RA requests in all, and the cross-process cache hit rate (of the answers that
missed a process's own cache, the share that Redis had: another process had fetched them; from
each process's shutdown log line).
Target: shared never above 3 in any second, whatever N.

Needs Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import sys
import time
from collections import Counter

from bench.bench_ra_requests import PER_SECOND, seed_ra, workload
from bench.common import Bench, options, table, title, verdict, wait_ra_quiet
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA

RATE = 3
GUILDS = 12
RA_DELAY = 0.25
SHARED_LINE = re.compile(r"shared cache: (\d+) answers from Redis, (\d+) fetched from RA")


def max_in_any_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best = 0
    j = 0
    for i, start in enumerate(stamps):
        j = max(j, i)
        while j < len(stamps) and stamps[j] - start < 1.0:
            j += 1
        best = max(best, j - i)
    return best


async def one_run(processes: int, shared: bool, redis_url: str) -> dict[str, object]:
    fake_ra = FakeRA()
    seed_ra(fake_ra)
    commands = workload()
    async with fake_ra, FakeDiscord(guilds=GUILDS, shards=processes) as fake, Bench() as bench:
        settings = {
            "SHARD_COUNT": str(processes),
            "GUILD_COMMANDS_PER_MINUTE": "60",
            "SCHEDULE_SPREAD_SECONDS": "0",
        }
        if shared:
            settings.update(REDIS_URL=redis_url, REDIS_KEY_PREFIX=f"bench-{secrets.token_hex(4)}")
        else:
            settings.update(
                RA_REQUESTS_PER_SECOND=str(RATE * processes),
                RA_MAX_IN_FLIGHT=str(RATE * processes),
            )
        procs = []
        for shard in range(processes):
            procs.append(await bench.ours(
                fake, fake_ra, name=f"shard{shard}", SHARD_IDS=str(shard),
                DATABASE_URL=f"sqlite:///{bench.dir}/bot{shard}.sqlite3", **settings))
        await fake.wait_ready(timeout=120)
        fake_ra.response_delay = RA_DELAY
        interactions = []
        start = time.monotonic()
        for i, (user, games) in enumerate(commands):
            delay = start + i / PER_SECOND - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            interactions.append(await fake.send_interaction(
                "progress", options(games=", ".join(map(str, games)), user=user),
                guild_id=fake.guild_ids[i % GUILDS]))
        finals = await asyncio.gather(*(it.wait_final(timeout=90) for it in interactions))
        await wait_ra_quiet(fake_ra, quiet=1.0)
        times = list(fake_ra.request_times)
        by_endpoint = Counter(c.endpoint for c in fake_ra.requests)
        for proc in procs:
            await proc.stop()
        hits = misses = 0
        for proc in procs:
            for match in SHARED_LINE.finditer(proc.log):
                hits += int(match.group(1))
                misses += int(match.group(2))
    answered = sum(not f["ephemeral"] for f in finals)
    return {
        "max": max_in_any_second(times),
        "requests": sum(by_endpoint.values()),
        "answered": answered,
        "hit_rate": hits / (hits + misses) if hits + misses else None,
    }


async def run(counts: list[int]) -> bool:
    title(f"RA over 1-{max(counts)} processes: 300 /progress (Zipf) at {PER_SECOND:g}/s in "
          f"{GUILDS} guilds, RA_REQUESTS_PER_SECOND={RATE}")
    redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/0"
    t0 = time.monotonic()
    rows = []
    ok = True
    for n in counts:
        shared = await one_run(n, True, redis_url)
        alone = await one_run(n, False, redis_url)
        rate = shared["hit_rate"]
        rows.append([
            n,
            f"{shared['max']} / {alone['max']}",
            f"{shared['requests']} / {alone['requests']}",
            f"{rate:.1%}" if isinstance(rate, float) else "-",
            f"{shared['answered']} / {alone['answered']}",
        ])
        ok = ok and isinstance(shared["max"], int) and shared["max"] <= RATE
        print(f"  {n} process(es) done ({time.monotonic() - t0:.0f} s)", flush=True)
    print(f"RA answers after {RA_DELAY:g} s. Each cell: shared through Redis / independent "
          f"processes (each with the whole budget and its own caches).")
    print(table(["processes", "RA max in any second", "RA requests", "cross-process hit rate",
                 "answered publicly"], rows))
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    print(verdict(ok, f"shared: never more than {RATE} RA requests in any second with "
                      f"{', '.join(map(str, counts))} processes"), flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    return 0 if asyncio.run(run(args.processes)) else 1


if __name__ == "__main__":
    sys.exit(main())
