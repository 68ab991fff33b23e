"""Resident memory (VmRSS) after connecting to 2,000 guilds: ours beside the bare bot.

Each bot gets its own FakeDiscord seeded with 2,000 guilds (``add_guilds``: one channel, three
roles, three humans and the bot each). RSS is read from /proc/<pid>/status once the fake has sent
every GUILD_CREATE, then again after the bot's on_ready (discord.py waits ``guild_ready_timeout``
after the last GUILD_CREATE) once RSS has been stable for 1 s. The same is done with 1 guild, so
the fixed cost and the per-guild cost can be told apart.

Target: ours <= 1.2x bare with 2,000 guilds.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench.common import (
    Bench,
    BotProc,
    mib,
    stable_rss,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
)
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA

GUILDS = 2000
TARGET = 1.2


def fake_with(guilds: int) -> FakeDiscord:
    fake = FakeDiscord(guilds=0)
    fake.add_guilds(guilds)
    return fake


async def measure(fake: FakeDiscord, proc: BotProc) -> dict[str, Any]:
    await wait_connected(fake, proc, timeout=90)
    at_connected = proc.rss_kib()
    guilds = await wait_on_ready(proc, timeout=60)
    settled = await stable_rss(proc)
    status = proc.status()
    return {"connected": at_connected, "ready": settled, "hwm": status["VmHWM"],
            "guilds": guilds}


async def run() -> bool:
    title(f"memory: VmRSS after connecting to {GUILDS:,} guilds, ours beside the bare bot")
    t0 = time.monotonic()
    results: dict[tuple[str, int], dict[str, Any]] = {}
    async with FakeRA() as fake_ra, Bench() as bench:
        for guilds in (1, GUILDS):
            async with fake_with(guilds) as fd_ours, fake_with(guilds) as fd_bare:
                ours = await bench.ours(fd_ours, fake_ra, name=f"ours-{guilds}")
                bare = await bench.bare(fd_bare, name=f"bare-{guilds}")
                res_ours, res_bare = await asyncio.gather(measure(fd_ours, ours),
                                                          measure(fd_bare, bare))
                results[("ours", guilds)], results[("bare", guilds)] = res_ours, res_bare
                await asyncio.gather(ours.stop(), bare.stop())

    rows = []
    for name in ("ours", "bare"):
        for guilds in (1, GUILDS):
            res = results[(name, guilds)]
            label = f"{name}, {guilds:,} guild{'s' if guilds > 1 else ''}"
            rows.append([label, res["guilds"], mib(res["connected"]), mib(res["ready"]),
                         mib(res["hwm"])])
    print(table(["", "on_ready guilds", "RSS when all GUILD_CREATEs sent MiB", "RSS settled MiB",
                 "peak (VmHWM) MiB"], rows))
    per_guild = {name: (results[(name, GUILDS)]["ready"] - results[(name, 1)]["ready"])
                 / (GUILDS - 1) for name in ("ours", "bare")}
    fixed = {name: results[(name, 1)]["ready"] for name in ("ours", "bare")}
    print(f"fixed cost (1 guild): ours {mib(fixed['ours'])} MiB, bare {mib(fixed['bare'])} MiB "
          f"(+{mib(fixed['ours'] - fixed['bare'])} MiB); per guild: ours "
          f"{per_guild['ours']:.2f} KiB, bare {per_guild['bare']:.2f} KiB")
    ours_rss, bare_rss = results[("ours", GUILDS)]["ready"], results[("bare", GUILDS)]["ready"]
    ratio = ours_rss / bare_rss
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    print(verdict(ratio <= TARGET, f"ours {mib(ours_rss)} MiB = {ratio:.2f}x bare "
                                   f"{mib(bare_rss)} MiB with {GUILDS:,} guilds "
                                   f"(target <= {TARGET}x)"), flush=True)
    return ratio <= TARGET


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
