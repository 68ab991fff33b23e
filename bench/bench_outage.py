"""Outages under a steady load: RA down (every call 503), then PostgreSQL stopped and started.

The real bot (``python -m bot``, production RA settings but a wide guild budget) against the
fake Discord and the fake RA. A command goes out every ``1 / RATE`` seconds for an RA user never
asked before, through three phases: up, down, back. Printed per phase: commands, answered,
refused with which sentence, answer latency (INTERACTION_CREATE sent → final answer) p50/p99,
the bot's VmRSS; then how long after the dependency came back the first command was served, how
many RA requests the down phase cost, and (PostgreSQL) whether every acknowledged /link is in
the database afterwards. Ratios are against the "up" phase of the same run.

RA part: /progress, RA down ``RA_DOWN`` seconds. PostgreSQL part: /link for distinct Discord
users on a private cluster (``tests/fakes/pg_cluster.py``; skipped with the reason where none
can be made), stopped ``PG_DOWN`` seconds.

    .venv/bin/python -m bench.bench_outage          (about 3 minutes)
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.common import (
    Bench,
    BotProc,
    mib,
    ms,
    options,
    percentile,
    sentence,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
)
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import FakeFault, FakeRA
from tests.fakes.pg_cluster import ClusterUnavailable, private_cluster

RATE = 1.0  # commands a second: what 3 RA requests a second sustain for users never seen
UP, RA_DOWN, BACK = 15.0, 60.0, 45.0
PG_DOWN = 30.0
GUILDS = 5
SETTINGS = {"GUILD_COMMANDS_PER_MINUTE": "10000", "GUILD_COMMANDS_PER_MINUTE_MAX": "10000"}


@dataclass
class Phase:
    name: str
    sent: list[Interaction] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)


async def drive(fake: FakeDiscord, bot: BotProc, phase: Phase, seconds: float,
                make: Any, counter: list[int]) -> None:
    """Send a command every 1/RATE s for `seconds`; sample RSS every second."""
    end = time.monotonic() + seconds
    next_rss = 0.0
    while time.monotonic() < end:
        n = counter[0]
        counter[0] += 1
        name, opts, user_id = make(n)
        phase.sent.append(await fake.send_interaction(
            name, opts, guild_id=fake.guild_ids[n % GUILDS], user_id=user_id))
        if time.monotonic() >= next_rss:
            phase.rss.append(bot.rss_kib())
            next_rss = time.monotonic() + 1.0
        await asyncio.sleep(1 / RATE)


async def summarise(phases: list[Phase]) -> list[list[Any]]:
    rows = []
    for phase in phases:
        finals = await asyncio.gather(*(it.wait_final(timeout=60) for it in phase.sent))
        latency = [f["received_at"] - it.sent_at for it, f in zip(phase.sent, finals, strict=True)]
        refused: dict[str, int] = {}
        for f in finals:
            if not served(f):
                text = sentence(f.get("content") or "")[:60]
                refused[text] = refused.get(text, 0) + 1
        rows.append([
            phase.name, len(finals), sum(served(f) for f in finals),
            "; ".join(f"{n}x {t}" for t, n in refused.items()) or "-",
            ms(percentile(latency, 50)), ms(percentile(latency, 99)),
            f"{mib(min(phase.rss))}-{mib(max(phase.rss))}",
        ])
    return rows


def served(final: dict[str, Any]) -> bool:
    """The command's own answer (an embed), not a refusal (one sentence)."""
    return bool(final.get("embeds"))


def first_served_after(phase: Phase, at: float) -> float | None:
    for it in phase.sent:
        if it.sent_at >= at and it.final is not None and served(it.final):
            return it.sent_at - at
    return None


HEADERS = ["phase", "commands", "answered", "refused (count × sentence)", "latency p50 ms",
           "latency p99 ms", "RSS MiB"]


async def ra_down(bench: Bench) -> bool:
    title(f"RA down for {RA_DOWN:g} s (every call 503) under {RATE:g} /progress a second")
    fake_ra = FakeRA()
    users = int((UP + RA_DOWN + BACK) * RATE) + 10
    for i in range(users):
        fake_ra.add_user(f"Out{i:05d}")
        fake_ra.set_progress(f"Out{i:05d}", 1 + i % 5, achieved=i % 3, score=i % 3 * 5)
    async with fake_ra, FakeDiscord(guilds=GUILDS) as fake:
        bot = await bench.ours(fake, fake_ra, name="ra", **SETTINGS)
        await wait_connected(fake, bot)
        await wait_on_ready(bot)
        counter = [0]

        def make(n: int) -> tuple[str, list[dict[str, Any]], None]:
            return "progress", options(games=str(1 + n % 5), user=f"Out{n:05d}"), None

        up, down, back = Phase("up"), Phase("RA down"), Phase("RA back")
        await drive(fake, bot, up, UP, make, counter)
        await asyncio.gather(*(it.wait_final(timeout=60) for it in up.sent))
        fake_ra.fail_always(FakeFault("status", 503))
        asked = len(fake_ra.requests)
        await drive(fake, bot, down, RA_DOWN, make, counter)
        cost = len(fake_ra.requests) - asked
        fake_ra.fail_always(None)
        back_at = time.monotonic()
        await drive(fake, bot, back, BACK, make, counter)
        rows = await summarise([up, down, back])
        await bot.stop()
    print(table(HEADERS, rows))
    recovered = first_served_after(back, back_at)
    down_p99 = percentile([f["received_at"] - it.sent_at for it in down.sent[len(down.sent) // 2:]
                           if (f := it.final) is not None], 99)
    flat = max(down.rss) / max(up.rss)
    print(f"RA requests while down: {cost} in {RA_DOWN:g} s ({len(down.sent)} commands)")
    print(verdict(recovered is not None and recovered <= 60,
                  f"first command served {recovered if recovered is None else f'{recovered:.1f}'}"
                  " s after RA came back (target <= 60 s)"))
    print(verdict(down_p99 <= 1.0, f"second half of the outage: answer p99 {ms(down_p99)} ms "
                                   "(refused early, target <= 1 s)"))
    print(verdict(flat <= 1.05, f"RSS while down {mib(max(down.rss))} MiB = {flat:.3f}x up "
                                "(target <= 1.05x)"), flush=True)
    return recovered is not None and recovered <= 60 and down_p99 <= 1.0 and flat <= 1.05


async def pg_down(bench: Bench) -> bool:
    title(f"PostgreSQL stopped for {PG_DOWN:g} s under {RATE:g} /link a second")
    try:
        cluster_cm = private_cluster()
        cluster = cluster_cm.__enter__()
    except ClusterUnavailable as reason:
        print(f"skipped: {reason}")
        return True
    try:
        fake_ra = FakeRA()
        fake_ra.add_user("Linker")
        async with fake_ra, FakeDiscord(guilds=GUILDS) as fake:
            bot = await bench.ours(fake, fake_ra, name="pg", DATABASE_URL=cluster.url, **SETTINGS)
            await wait_connected(fake, bot)
            await wait_on_ready(bot)
            counter = [0]

            def make(n: int) -> tuple[str, list[dict[str, Any]], int]:
                return "link", options(username="Linker"), 10**17 + n

            up, down, back = Phase("up"), Phase("PostgreSQL down"), Phase("PostgreSQL back")
            await drive(fake, bot, up, UP, make, counter)
            await asyncio.gather(*(it.wait_final(timeout=60) for it in up.sent))
            cluster.stop("fast")
            await drive(fake, bot, down, PG_DOWN, make, counter)
            cluster.start()
            back_at = time.monotonic()
            await drive(fake, bot, back, BACK / 3, make, counter)
            rows = await summarise([up, down, back])
            await bot.stop()
        acked = {int(it.payload["member"]["user"]["id"]) for p in (up, down, back)
                 for it in p.sent if it.final is not None and served(it.final)}
        conn = await asyncpg.connect(cluster.url)
        try:
            stored = {r["discord_user_id"] for r in await conn.fetch(
                "SELECT discord_user_id FROM links")}
        finally:
            await conn.close()
    finally:
        cluster_cm.__exit__(None, None, None)
    print(table(HEADERS, rows))
    recovered = first_served_after(back, back_at)
    lost = acked - stored
    print(verdict(recovered is not None and recovered <= 10,
                  f"first /link served {recovered if recovered is None else f'{recovered:.1f}'}"
                  " s after PostgreSQL came back, no restart (target <= 10 s)"))
    print(verdict(not lost, f"{len(acked)} links acknowledged, {len(lost)} missing afterwards"),
          flush=True)
    return recovered is not None and recovered <= 10 and not lost


async def run() -> bool:
    t0 = time.monotonic()
    async with Bench() as bench:
        ok = await ra_down(bench)
        ok = await pg_down(bench) and ok
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    return ok


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
