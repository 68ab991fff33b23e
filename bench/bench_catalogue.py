"""Autocomplete over RA's whole catalogue: handler time, and the catalogue's memory per title.

A realistic 30,000-title catalogue (tests/fakes/catalogue.py: tricky titles, tags, subsets, one
title on several consoles) is indexed as the bot indexes it. Then what people type is replayed
through the bot's own autocomplete handler for `games` (bot.autocomplete.games, with a stand-in
interaction whose bot has that catalogue and a guild with two sets): every prefix of 300 titles
as it is typed, typos, ids followed by a title being typed, and prefixes of many titles.

Before and after, side by side: "before" is `bot/` at BENCH_BASELINE_REF (default 489c0a7, the
commit the compact catalogue started from, unpacked with `git archive`), "after" the working
tree. Each is measured in fresh child processes (BENCH_BOT_SRC picks the `bot/` they import):

- memory: a SQLite database of 12,000 and of 29,441 titles, written once, is loaded through the
  bot's own path (`Catalogue.load`: CatalogueStore, then the index). Bytes per title, by
  tracemalloc (what the loaded catalogue keeps, and the peak while loading) and by the process's
  RSS (growth after the load, after gc: fragmentation shows there), and after a second load (a
  refresh replaces the index). Imports, a small catalogue's load and SQLite's page cache are
  warmed first, so the growth is the catalogue's.
- autocomplete: the handler's time per query (p50, p90, p99, max).

Fuzzy matching: rapidfuzz (the bot's choice) against difflib on the same queries, to say why.

Targets: handler p99 <= 20 ms; catalogue in memory <= 15 MB.
"""

from __future__ import annotations

import asyncio
import difflib
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bench.common import (
    BOT_SRC,
    REPO,
    export_bot,
    median,
    ms,
    percentile,
    proc_status_kib,
    table,
    title,
    verdict,
)
from bot import autocomplete
from bot.models.ra import CatalogueGame, compact_icon
from bot.models.titles import search_key
from bot.services.titles import TitleIndex
from tests.fakes.catalogue import seed_catalogue
from tests.fakes.fake_ra import FakeRA

SIZE = 30_000
SMALL = 12_000  # titles: about RA's real catalogue
TYPED_TITLES = 300
P99_TARGET = 0.020
MEMORY_TARGET_MB = 15.0
SEED = 7
MEMORY_RUNS = 3  # children per tree and size: one process's RSS moves by a MiB from run to run
FIGURES = ("traced", "traced peak", "rss", "rss peak", "rss reload")
BASELINE_REF = os.environ.get("BENCH_BASELINE_REF") or "489c0a7"


def from_database(games: list[CatalogueGame]) -> list[CatalogueGame]:
    """Copies with strings of their own, as rows read from the database come."""
    consoles: dict[str, str] = {}
    return [
        CatalogueGame(g.game_id, g.title.encode().decode(), g.console_id,
                      consoles.setdefault(g.console, g.console), compact_icon(g.icon_path),
                      g.achievements, g.points)
        for g in games
    ]


def catalogue_games(size: int = SIZE) -> list[CatalogueGame]:
    fake = FakeRA()
    seed_catalogue(fake, size=size)
    return [
        CatalogueGame(g.id, g.title, g.console_id, g.console, compact_icon(g.icon),
                      g.num_achievements, g.points)
        for g in fake.games.values()
        if g.num_achievements > 0
    ]


@dataclass
class StubSets:
    sets: list[Any]

    async def list_sets(self, guild_id: int) -> list[Any]:
        return self.sets


@dataclass
class StubResolver:
    hot: set[int] = field(default_factory=set)

    def asked_in(self, guild_id: int | None) -> set[int]:
        return set(self.hot)


@dataclass
class StubBot:
    """What the handler reads of the bot: the catalogue, the RA cache, sets, the guild's games."""

    catalogue: Any
    game_sets: StubSets
    resolver: StubResolver
    ra: Any


@dataclass
class StubCatalogue:
    index: TitleIndex


class StubRA:
    def cached_game(self, game_id: int) -> None:
        return None

    def cached_games(self, typed: str) -> list[Any]:
        return []


@dataclass
class StubInteraction:
    client: StubBot
    guild_id: int = 1


def typing_of(games: list[CatalogueGame], rng: random.Random) -> list[str]:
    """What people type: each prefix of some titles, typos, ids first, very common prefixes."""
    typed: list[str] = []
    for game in rng.sample(games, TYPED_TITLES):
        words = game.title
        typed.extend(words[:n] for n in range(2, min(len(words), 24) + 1))
    for game in rng.sample(games, 100):
        chars = list(search_key(game.title))
        if len(chars) > 4:
            i = rng.randrange(1, len(chars) - 2)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        typed.append("".join(chars))
    typed += [f"1, 14402, {p}" for p in ("me", "met", "metr", "metro", "super m")]
    typed += ["su", "sup", "super", "th", "the", "dr", "mega", "~hack~", "zelda, the"]
    return typed


async def handler_times(bot: StubBot, typed: list[str]) -> tuple[list[float], list[int]]:
    interaction = StubInteraction(bot)
    times: list[float] = []
    counts: list[int] = []
    for text in typed:
        started = time.perf_counter()
        choices = await autocomplete.games(interaction, text)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        counts.append(len(choices))
    return times, counts


def fuzzy_compare(index: TitleIndex, games: list[CatalogueGame], queries: list[str]) -> list[Any]:
    keys = [search_key(g.title) for g in games]
    rows = []
    started = time.perf_counter()
    for query in queries:
        index._fuzzy(search_key(query), 25, exclude=())
    ours = (time.perf_counter() - started) / len(queries)
    started = time.perf_counter()
    for query in queries[:5]:
        difflib.get_close_matches(search_key(query), keys, n=25, cutoff=0.6)
    theirs = (time.perf_counter() - started) / 5
    rows.append(["rapidfuzz ratio on title heads (ours)", ms(ours), "1.0x"])
    rows.append(["difflib get_close_matches", ms(theirs), f"{theirs / ours:.0f}x slower"])
    from rapidfuzz import fuzz, process

    started = time.perf_counter()
    for query in queries[:20]:
        process.extract(search_key(query), keys, scorer=fuzz.WRatio, limit=25, score_cutoff=70)
    wratio = (time.perf_counter() - started) / 20
    rows.append(["rapidfuzz WRatio on whole titles", ms(wratio), f"{wratio / ours:.1f}x slower"])
    return rows


async def write_database(path: Path, games: list[CatalogueGame]) -> None:
    """A SQLite database holding `games`, written by the bot's own store (the working tree's;
    the table is the same before and after)."""
    from bot.store import Store

    store = await Store.open(f"sqlite:///{path}")
    try:
        by_console: dict[int, list[CatalogueGame]] = {}
        for game in games:
            by_console.setdefault(game.console_id, []).append(game)
        for console_id, console_games in by_console.items():
            await store.catalogue.replace_console(console_id, console_games)
    finally:
        await store.close()


def _status() -> dict[str, int]:
    return proc_status_kib(os.getpid())


async def memory_child(database: Path, warm_up: Path) -> dict[str, float]:
    """In a fresh process: load the catalogue of `database` as the bot does, and what it cost."""
    from sqlalchemy import text

    from bot.services.catalogue import Catalogue
    from bot.store.catalogue import CatalogueStore
    from bot.store.database import Database

    no_client = cast(Any, None)  # loading never calls RA
    warm = Catalogue(CatalogueStore(Database.connect(f"sqlite:///{warm_up}")), no_client,
                     owner="bench")
    await warm.load()  # imports, the executor's thread, compiled queries
    await warm.store.database.close()
    database_ = Database.connect(f"sqlite:///{database}")
    async with database_.transaction() as conn:  # SQLite's page cache: not the catalogue's
        await conn.execute(text(
            "SELECT sum(length(title) + length(console) + length(icon)) FROM catalogue_games"))
    catalogue = Catalogue(CatalogueStore(database_), no_client, owner="bench")
    del warm
    gc.collect()
    before = _status()
    await catalogue.load()
    gc.collect()
    loaded = _status()
    await catalogue.load()  # a refresh: the new index replaces the old one
    gc.collect()
    reloaded = _status()
    titles = len(catalogue)
    catalogue.index = None
    gc.collect()
    tracemalloc.start()
    await catalogue.load()
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await database_.close()
    import bot

    return {
        "bot": str(Path(bot.__file__).parent.parent),
        "titles": titles,
        "traced": kept / titles,
        "traced peak": peak / titles,
        "rss": (loaded["VmRSS"] - before["VmRSS"]) * 1024 / titles,
        "rss peak": (max(loaded["VmHWM"], before["VmRSS"]) - before["VmRSS"]) * 1024 / titles,
        "rss reload": (reloaded["VmRSS"] - before["VmRSS"]) * 1024 / titles,
    }


def latency_child() -> dict[str, Any]:
    """In a fresh process: the handler's times over the 30,000-title catalogue."""
    rng = random.Random(SEED)
    games = catalogue_games()
    index = TitleIndex(from_database(games))
    sets = [type("S", (), {"name": n, "game_ids": [1, 700]})() for n in ("Monthly", "Metroids")]
    bot = StubBot(StubCatalogue(index), StubSets(sets), StubResolver({700, 703}), StubRA())
    typed = typing_of(games, rng)
    asyncio.run(handler_times(bot, typed[:50]))  # warm-up (imports rapidfuzz)
    times, counts = asyncio.run(handler_times(bot, typed))
    slowest = sorted(zip(times, typed, strict=True), reverse=True)[:3]
    return {
        "queries": len(times),
        "p50": percentile(times, 50),
        "p90": percentile(times, 90),
        "p99": percentile(times, 99),
        "max": max(times),
        "choices": sum(counts) / len(counts),
        "slowest": "; ".join(f"{text!r} {ms(t)} ms" for t, text in slowest),
    }


def child(src: Path, *args: str) -> dict[str, Any]:
    """`python -m bench.bench_catalogue *args` importing `bot/` from `src`; its JSON answer."""
    env = {**os.environ, "BENCH_BOT_SRC": str(src)}
    done = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, "-m", "bench.bench_catalogue", *args],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


def main() -> int:
    if sys.argv[1:2] == ["--memory"]:
        print(json.dumps(asyncio.run(memory_child(Path(sys.argv[2]), Path(sys.argv[3])))))
        return 0
    if sys.argv[1:2] == ["--latency"]:
        print(json.dumps(latency_child()))
        return 0
    title(f"The catalogue's memory per title and autocomplete over {SIZE:,} titles, "
          f"before ({BASELINE_REF}) and after")
    rng = random.Random(SEED)
    games = catalogue_games()
    small = catalogue_games(SMALL + SMALL // 10)[:SMALL]
    with tempfile.TemporaryDirectory(prefix="ra-bench-catalogue-") as tmp:
        scratch = Path(tmp)
        baseline = export_bot(BASELINE_REF, scratch / "before")
        trees = {"before": baseline, "after": BOT_SRC}
        databases = {len(small): scratch / "small.sqlite3", len(games): scratch / "full.sqlite3"}
        warm_up = scratch / "warm.sqlite3"
        asyncio.run(write_database(warm_up, games[:200]))
        asyncio.run(write_database(databases[len(small)], small))
        asyncio.run(write_database(databases[len(games)], games))
        runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for _ in range(MEMORY_RUNS):  # before and after in turn, so both see the same noise
            for size, database in databases.items():
                for name, src in trees.items():
                    run = child(src, "--memory", str(database), str(warm_up))
                    assert run["bot"] == str(src), run["bot"]  # the tree meant, not another
                    runs.setdefault((name, size), []).append(run)
        memory = {
            variant: {figure: median([run[figure] for run in measured]) for figure in FIGURES}
            for variant, measured in runs.items()
        }
        latency = {name: child(src, "--latency") for name, src in trees.items()}

    print(f"bytes per title of the catalogue as the bot holds it (SQLite -> Catalogue.load, a "
          f"fresh process each, median of {MEMORY_RUNS}):")
    rows = []
    for (name, size), m in memory.items():
        rows.append([name, f"{size:,}", f"{m['traced']:.0f}", f"{m['traced peak']:.0f}",
                     f"{m['rss']:.0f}", f"{m['rss peak']:.0f}", f"{m['rss reload']:.0f}",
                     f"{m['traced'] * size / 2**20:.1f}", f"{m['rss'] * size / 2**20:.1f}"])
    print(table(["", "titles", "traced B", "traced peak B", "RSS B", "RSS peak B",
                 "RSS reloaded B", "traced MiB", "RSS MiB"], rows))
    print(table(
        ["autocomplete", "queries", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean choices"],
        [[name, lat["queries"], ms(lat["p50"]), ms(lat["p90"]), ms(lat["p99"]), ms(lat["max"]),
          f"{lat['choices']:.1f}"] for name, lat in latency.items()],
    ))
    for name, lat in latency.items():
        print(f"slowest {name}: {lat['slowest']}")

    index = TitleIndex(from_database(games))
    typed = typing_of(games, rng)
    print(table(["fuzzy matcher, one query over the catalogue", "mean ms", "ratio"],
                fuzzy_compare(index, games, typed[-120:-20])))
    p99 = latency["after"]["p99"]
    after = memory["after", len(games)]
    total_mb = max(after["traced"], after["rss"]) * len(games) / 2**20
    ok = p99 <= P99_TARGET and total_mb <= MEMORY_TARGET_MB
    print(verdict(ok, f"autocomplete p99 {ms(p99)} ms (target <= {ms(P99_TARGET)}), catalogue "
                      f"{total_mb:.1f} MiB (target <= {MEMORY_TARGET_MB:g})"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
