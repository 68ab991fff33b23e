"""Resident memory (VmRSS) of the bot as users run it, beside the bare bot in the same run.

As users run it: every start of ours is a first start on an empty database (it migrates, in a
child process since `python -m bot migrate` exists) that fetches RA's catalogue (12,000 titles,
tests/fakes/catalogue.py, from the fake RA at the production rate) and holds it, with 0, 1,000,
2,000 and 5,000 guilds. The bare bot (bench/bare_bot.py) runs beside it on its own FakeDiscord
with the same guilds (``add_guilds``: one channel, three roles, three humans and the bot each).
RSS is read from /proc/<pid>/status once the fake has sent every GUILD_CREATE, the bot logged
on_ready and the catalogue, and RSS has been stable for 1 s. The per-guild slope is the
least-squares line through the four settled figures. With ``--before REF`` (default: the commit
before the structure and memory work), that commit's bot runs the same way at 2,000 guilds in the
same run: the figure before.

Bytes per title: ours at 0 guilds with the catalogue, less ours at 0 guilds without it
(CATALOGUE_REFRESH_HOURS=0), over the titles held.

What the fixed part is made of: a child interpreter imports, group by group, what the running bot
has imported (taken from a start with PYTHONPROFILEIMPORTTIME=1) and prints RSS after each
group; the rest is the running bot's own state. That start also checks what must not be loaded
(Pillow, rapidfuzz, redis, Alembic, asyncpg on SQLite): the commands that use them import them,
and Alembic only ever loads in `python -m bot migrate`'s process.

Targets: per-guild slope <= 1.1x the bare bot's; the whole process at 2,000 guilds with the
catalogue <= 1.4x.
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
    export_bot,
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
WHOLE_TARGET = 1.4
CATALOGUE_SIZE = 12_000
BEFORE_REF = "832e71f"  # main before the structure and memory work (issue 20)
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


async def measure(
    fake: FakeDiscord, proc: BotProc, catalogue: bool = False
) -> dict[str, Any]:
    await wait_connected(fake, proc, timeout=120)
    at_connected = proc.rss_kib()
    guilds = await wait_on_ready(proc, timeout=90)
    if catalogue:
        await proc.wait_log(CATALOGUE_LINE, timeout=180)
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


def first_start(bench: Bench, name: str, catalogue: bool = True) -> dict[str, str]:
    """The settings of a first start as users make it: a database of its own, new (so the start
    migrates it), and RA's catalogue fetched and held (or not, for the bytes per title)."""
    return {
        "DATABASE_URL": f"sqlite:///{bench.dir}/{name}.sqlite3",
        "CATALOGUE_REFRESH_HOURS": "24" if catalogue else "0",
    }


async def import_profile(bench: Bench, fake_ra: FakeRA) -> list[str]:
    """The modules a running bot has imported once ready: a start after the first (the first
    start's `python -m bot migrate` child writes its own import lines into the same log; that
    the bot's own process never imports Alembic is tests/test_main.py's to show)."""
    settings = first_start(bench, "importtime")
    async with fake_with(0) as fd:
        proc = await bench.ours(fd, fake_ra, name="ours-importtime-first", **settings)
        await measure(fd, proc, catalogue=True)
        await proc.stop()
    async with fake_with(0) as fd:
        proc = await bench.ours(fd, fake_ra, name="ours-importtime", PYTHONPROFILEIMPORTTIME="1",
                                **settings)
        await measure(fd, proc, catalogue=True)
        log = proc.log
        await proc.stop()
    return imported_modules(log)


async def without_catalogue(bench: Bench, fake_ra: FakeRA) -> int:
    """Ours at 0 guilds, a first start that holds no catalogue (the bytes per title's base)."""
    async with fake_with(0) as fd:
        proc = await bench.ours(fd, fake_ra, name="ours-no-catalogue",
                                **first_start(bench, "no-catalogue", catalogue=False))
        res = await measure(fd, proc)
        await proc.stop()
    return int(res["ready"])


async def before(bench: Bench, fake_ra: FakeRA, ref: str) -> dict[str, Any]:
    """The bot of `ref` started the same way at WHOLE_AT guilds, beside the bare bot."""
    src = export_bot(ref, bench.dir / f"before-{ref}")
    async with fake_with(WHOLE_AT) as fd_old, fake_with(WHOLE_AT) as fd_bare:
        old = await bench.ours(fd_old, fake_ra, name=f"before-{WHOLE_AT}", src=src,
                               **first_start(bench, "before"))
        bare = await bench.bare(fd_bare, name=f"bare-before-{WHOLE_AT}")
        res_old, res_bare = await asyncio.gather(measure(fd_old, old, catalogue=True),
                                                 measure(fd_bare, bare))
        await asyncio.gather(old.stop(), bare.stop())
    return {"ours": res_old, "bare": res_bare}


def held_titles(proc: BotProc) -> int:
    return max(int(m.group(1)) for m in CATALOGUE_LINE.finditer(proc.log))


async def run(before_ref: str | None) -> bool:
    sizes = ", ".join(f"{n:,}" for n in SIZES)
    title(f"memory as users run it: first starts with a {CATALOGUE_SIZE:,}-title catalogue at "
          f"{sizes} guilds, ours beside the bare bot")
    t0 = time.monotonic()
    results: dict[tuple[str, int], dict[str, Any]] = {}
    titles = 0
    async with FakeRA() as fake_ra, Bench() as bench:
        seed_catalogue(fake_ra, size=CATALOGUE_SIZE)
        for guilds in SIZES:
            async with fake_with(guilds) as fd_ours, fake_with(guilds) as fd_bare:
                ours = await bench.ours(fd_ours, fake_ra, name=f"ours-{guilds}",
                                        **first_start(bench, f"ours-{guilds}"))
                bare = await bench.bare(fd_bare, name=f"bare-{guilds}")
                res_ours, res_bare = await asyncio.gather(
                    measure(fd_ours, ours, catalogue=True), measure(fd_bare, bare))
                results[("ours", guilds)], results[("bare", guilds)] = res_ours, res_bare
                titles = held_titles(ours)
                await asyncio.gather(ours.stop(), bare.stop())
        no_catalogue = await without_catalogue(bench, fake_ra)
        modules = await import_profile(bench, fake_ra)
        old = await before(bench, fake_ra, before_ref) if before_ref else None

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
    per_title = (zero - no_catalogue) * 1024 / max(1, titles)
    print(f"RA's catalogue: {titles:,} titles held; ours at 0 guilds {mib(zero)} MiB with it, "
          f"{mib(no_catalogue)} MiB without: +{mib(zero - no_catalogue)} MiB, "
          f"{per_title:,.0f} bytes a title (resident)")
    if old is not None:
        was, bare_then = old["ours"]["ready"], old["bare"]["ready"]
        now, bare_now = results[("ours", WHOLE_AT)]["ready"], results[("bare", WHOLE_AT)]["ready"]
        print(f"before ({before_ref}, started the same way, {WHOLE_AT:,} guilds): "
              f"{mib(was)} MiB = {was / bare_then:.2f}x its bare bot {mib(bare_then)} MiB; "
              f"now {mib(now)} MiB = {now / bare_now:.2f}x ({now / was:.2f}x before)")

    steps = import_steps(modules)
    print("\nthe fixed part: RSS of a fresh interpreter importing, group by group, what the "
          "running bot imported")
    step_rows, previous = [], 0
    for label, rss, count in steps:
        step_rows.append([label, count, mib(rss), f"+{mib(rss - previous)}" if previous else ""])
        previous = rss
    bare_zero = results[("bare", 0)]["ready"]
    step_rows.append(["running bot's own state (store, tree, caches, catalogue), 0 guilds", "",
                      mib(zero), f"+{mib(zero - previous)}"])
    step_rows.append(["(the bare bot, 0 guilds)", "", mib(bare_zero), ""])
    print(table(["", "modules", "RSS MiB", "adds MiB"], step_rows))
    tops = {m.split(".")[0] for m in modules}
    loaded = [name for name in NOT_AT_START if name in tops]
    print(f"imported by the running bot ({len(modules)} modules): "
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
                  f"{WHOLE_AT:,} guilds and {titles:,} titles (target <= {WHOLE_TARGET}x)"
                  + (f"; {', '.join(loaded)} imported at start" if loaded else "")), flush=True)
    return slope_ok and whole_ok and not loaded


def main() -> int:
    args = sys.argv[1:]
    before_ref: str | None = BEFORE_REF
    if args[:1] == ["--before"]:
        before_ref = args[1] if len(args) > 1 and args[1] != "none" else None
    return 0 if asyncio.run(run(before_ref)) else 1


if __name__ == "__main__":
    sys.exit(main())
