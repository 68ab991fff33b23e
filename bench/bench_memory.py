"""Resident memory (VmRSS) at 0, 1,000, 2,000 and 5,000 guilds: ours beside the bare bot.

For each size both bots run at once, each on its own FakeDiscord seeded with that many guilds
(``add_guilds``: one channel, three roles, three humans and the bot each). RSS is read from
/proc/<pid>/status once the fake has sent every GUILD_CREATE, then again after the bot's on_ready
(discord.py waits ``guild_ready_timeout`` after the last GUILD_CREATE) once RSS has been stable
for 1 s. The per-guild slope is the least-squares line through the four settled figures.

Our bot's database is made by a first start before the measured ones (that start migrates it,
so it loads Alembic: printed on its own line); the measured starts find the schema at head, as
every start after the first does. The bench environment turns RA's catalogue off
(CATALOGUE_REFRESH_HOURS=0, as the tests do), so the catalogue is measured apart: a start with a
30,000-title catalogue in its own database, against ours at 0 guilds. The catalogue is data, the
same at any number of guilds.

What the fixed part is made of: a child interpreter imports, group by group, what the running bot
has imported (taken from a start with PYTHONPROFILEIMPORTTIME=1) and prints RSS after each group;
the rest is the running bot's own state. That start also checks what must not be loaded at start
(Pillow, rapidfuzz, redis, Alembic, asyncpg on SQLite): those are imported by the commands that
use them.

Targets: per-guild slope <= 1.1x the bare bot's; the whole process at 2,000 guilds <= 1.5x.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from bench.common import (
    BOT_SRC,
    REPO,
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
from tests.fakes.catalogue import seed_catalogue
from tests.fakes.fake_ra import FakeRA

SIZES = (0, 1000, 2000, 5000)
WHOLE_AT = 2000
SLOPE_TARGET = 1.1
WHOLE_TARGET = 1.5
CATALOGUE_SIZE = 30_000
# Loaded only by the commands (or the first start) that need them.
NOT_AT_START = ("PIL", "rapidfuzz", "redis", "alembic", "asyncpg")
CATALOGUE_LINE = re.compile(r"catalogue: ([1-9]\d*) games in memory")
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$", re.MULTILINE)

# Cumulative groups, in the order the child imports them (a group's figure is what it adds).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stdlib the bare bot needs (asyncio, logging, ssl, json...)",
     ("asyncio", "logging", "ssl", "json", "signal", "datetime")),
    ("aiohttp", ("aiohttp",)),
    ("discord.py (discord, discord.ext.commands)", ("discord", "discord.ext.commands")),
    ("SQLAlchemy Core", ("sqlalchemy",)),
    ("SQLAlchemy ORM (only the asyncio extension's package imports it)", ("sqlalchemy.orm",)),
    ("SQLAlchemy asyncio extension, the rest of the package", ("sqlalchemy.ext.asyncio",)),
    ("aiosqlite and its SQLAlchemy dialect", ("aiosqlite", "sqlalchemy.dialects.sqlite.aiosqlite")),
    ("python-dotenv, bot.config", ("dotenv", "bot.config")),
    ("our package (bot.bot: cogs, services, store, formatting)", ("bot.__main__", "bot.bot")),
)
CHILD = r"""
import importlib, importlib.util, json, sys
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
groups, files = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def load(name):
    if name in files:  # a module of a package, without the package's __init__
        spec = importlib.util.spec_from_file_location(name, files[name])
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        importlib.import_module(name)
out = [["python (interpreter, site)", rss(), len(sys.modules)]]
for label, names in groups:
    before = len(sys.modules)
    for name in names:
        try:
            load(name)
        except Exception:
            pass
    out.append([label, rss(), len(sys.modules) - before])
print(json.dumps(out))
"""


def fake_with(guilds: int) -> FakeDiscord:
    fake = FakeDiscord(guilds=0)
    fake.add_guilds(guilds)
    return fake


async def measure(fake: FakeDiscord, proc: BotProc) -> dict[str, Any]:
    await wait_connected(fake, proc, timeout=120)
    at_connected = proc.rss_kib()
    guilds = await wait_on_ready(proc, timeout=90)
    settled = await stable_rss(proc)
    status = proc.status()
    return {"connected": at_connected, "ready": settled, "hwm": status["VmHWM"],
            "guilds": guilds}


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares KiB per guild through (guilds, KiB) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    return (sum((x - mx) * (y - my) for x, y in points)
            / sum((x - mx) ** 2 for x, _ in points))


def imported_modules(log: str) -> list[str]:
    """Every module named by PYTHONPROFILEIMPORTTIME lines, in import order."""
    return [m.group(2) for m in IMPORT_LINE.finditer(log)]


def import_steps(modules: list[str]) -> list[tuple[str, int, int]]:
    """RSS after importing each group in a fresh interpreter, only what the running bot had
    imported (``modules``); the last group is whatever else it had."""
    seen = set(modules)
    grouped = {name for _, names in GROUPS for name in names}
    rest = [m for m in modules if m not in grouped and not m.startswith("__")]
    groups = [(label if any(n in seen for n in names) else f"{label}: not imported",
               tuple(n for n in names if n in seen)) for label, names in GROUPS]
    groups.append(("the rest the running bot imports (its lazy imports at start)", tuple(rest)))
    files: dict[str, str] = {}  # modules to load without their package's __init__ (none now)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BOT_SRC), str(REPO)])}
    out = subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, "-c", CHILD, json.dumps(groups), json.dumps(files)], check=True,
        capture_output=True, text=True, env=env, cwd="/",
    ).stdout
    return [(label, rss, count) for label, rss, count in json.loads(out)]


async def first_start(bench: Bench, fake_ra: FakeRA) -> int:
    """Ours at 0 guilds on a new database: migrates it (loads Alembic)."""
    async with fake_with(0) as fd:
        proc = await bench.ours(fd, fake_ra, name="ours-first-start")
        res = await measure(fd, proc)
        await proc.stop()
    return int(res["ready"])


async def import_profile(bench: Bench, fake_ra: FakeRA) -> list[str]:
    """The modules the running bot has imported once ready, at 0 guilds."""
    async with fake_with(0) as fd:
        proc = await bench.ours(fd, fake_ra, name="ours-importtime", PYTHONPROFILEIMPORTTIME="1")
        await measure(fd, proc)
        log = proc.log
        await proc.stop()
    return imported_modules(log)


async def with_catalogue(bench: Bench) -> int:
    """Ours at 0 guilds with a 30,000-title catalogue read from its database (fetched from a fake
    RA by a start before)."""
    async with FakeRA() as catalogue_ra:
        seed_catalogue(catalogue_ra, size=CATALOGUE_SIZE)
        settings = {"CATALOGUE_REFRESH_HOURS": "24", "RA_REQUESTS_PER_SECOND": "50",
                    "DATABASE_URL": f"sqlite:///{bench.dir}/catalogue.sqlite3"}
        async with fake_with(0) as fd:
            fetching = await bench.ours(fd, catalogue_ra, name="ours-catalogue-fetch", **settings)
            await fetching.wait_log(CATALOGUE_LINE, timeout=180)
            await fetching.stop()
        async with fake_with(0) as fd:
            proc = await bench.ours(fd, catalogue_ra, name="ours-catalogue", **settings)
            await wait_connected(fd, proc, timeout=60)
            await proc.wait_log(CATALOGUE_LINE, timeout=60)
            rss = await stable_rss(proc)
            await proc.stop()
    return rss


async def run() -> bool:
    sizes = ", ".join(f"{n:,}" for n in SIZES)
    title(f"memory: VmRSS at {sizes} guilds, ours beside the bare bot")
    t0 = time.monotonic()
    results: dict[tuple[str, int], dict[str, Any]] = {}
    async with FakeRA() as fake_ra, Bench() as bench:
        migrating = await first_start(bench, fake_ra)
        for guilds in SIZES:
            async with fake_with(guilds) as fd_ours, fake_with(guilds) as fd_bare:
                ours = await bench.ours(fd_ours, fake_ra, name=f"ours-{guilds}")
                bare = await bench.bare(fd_bare, name=f"bare-{guilds}")
                res_ours, res_bare = await asyncio.gather(measure(fd_ours, ours),
                                                          measure(fd_bare, bare))
                results[("ours", guilds)], results[("bare", guilds)] = res_ours, res_bare
                await asyncio.gather(ours.stop(), bare.stop())
        modules = await import_profile(bench, fake_ra)
        catalogue = await with_catalogue(bench)

    rows = []
    for guilds in SIZES:
        ours, bare = results[("ours", guilds)], results[("bare", guilds)]
        rows.append([f"{guilds:,} guilds", f"{ours['guilds']}/{bare['guilds']}",
                     mib(ours["ready"]), mib(bare["ready"]),
                     f"{ours['ready'] / bare['ready']:.2f}x",
                     f"+{mib(ours['ready'] - bare['ready'])}",
                     f"{mib(ours['connected'])} / {mib(bare['connected'])}",
                     f"{mib(ours['hwm'])} / {mib(bare['hwm'])}"])
    print(table(["", "on_ready guilds ours/bare", "ours MiB", "bare MiB", "ours/bare",
                 "ours-bare MiB", "at last GUILD_CREATE ours/bare", "peak (VmHWM) ours/bare"],
                rows))
    slopes = {name: slope([(n, results[(name, n)]["ready"]) for n in SIZES])
              for name in ("ours", "bare")}
    slope_ratio = slopes["ours"] / slopes["bare"]
    print(f"per guild (least squares over {sizes}): ours {slopes['ours']:.2f} KiB, "
          f"bare {slopes['bare']:.2f} KiB ({slope_ratio:.2f}x)")
    zero = results[("ours", 0)]["ready"]
    print(f"first start (migrates a new database, so loads Alembic), 0 guilds: "
          f"{mib(migrating)} MiB (+{mib(migrating - zero)} MiB over a start at head)")
    print(f"RA's catalogue, {CATALOGUE_SIZE:,} titles read from the database (data, not per "
          f"guild; off in the runs above): 0 guilds {mib(catalogue)} MiB, "
          f"+{mib(catalogue - zero)} MiB")

    steps = import_steps(modules)
    print("\nthe fixed part: RSS of a fresh interpreter importing, group by group, what the "
          "running bot imported")
    step_rows, previous = [], 0
    for label, rss, count in steps:
        step_rows.append([label, count, mib(rss), f"+{mib(rss - previous)}" if previous else ""])
        previous = rss
    bare_zero = results[("bare", 0)]["ready"]
    step_rows.append(["running bot's own state (store, tree, caches), 0 guilds", "",
                      mib(zero), f"+{mib(zero - previous)}"])
    step_rows.append(["(the bare bot, 0 guilds)", "", mib(bare_zero), ""])
    print(table(["", "modules", "RSS MiB", "adds MiB"], step_rows))
    tops = {m.split(".")[0] for m in modules}
    loaded = [name for name in NOT_AT_START if name in tops]
    print(f"imported at start ({len(modules)} modules): "
          + (f"{', '.join(loaded)} (should not be)" if loaded else
             f"none of {', '.join(NOT_AT_START)}"))

    ours_rss, bare_rss = results[("ours", WHOLE_AT)]["ready"], results[("bare", WHOLE_AT)]["ready"]
    whole_ratio = ours_rss / bare_rss
    print(f"(wall time {time.monotonic() - t0:.0f} s)")
    slope_ok, whole_ok = slope_ratio <= SLOPE_TARGET, whole_ratio <= WHOLE_TARGET
    print(verdict(slope_ok, f"per guild ours {slopes['ours']:.2f} KiB = {slope_ratio:.2f}x bare "
                            f"{slopes['bare']:.2f} KiB (target <= {SLOPE_TARGET}x)"))
    print(verdict(whole_ok and not loaded,
                  f"ours {mib(ours_rss)} MiB = {whole_ratio:.2f}x bare {mib(bare_rss)} MiB with "
                  f"{WHOLE_AT:,} guilds (target <= {WHOLE_TARGET}x)"
                  + (f"; {', '.join(loaded)} imported at start" if loaded else "")), flush=True)
    return slope_ok and whole_ok and not loaded


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
