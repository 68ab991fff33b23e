"""Autocomplete over RA's whole catalogue: handler time and the catalogue's memory (in-process).

A realistic 30,000-title catalogue (tests/fakes/catalogue.py: tricky titles, tags, subsets, one
title on several consoles) is indexed as the bot indexes it. Then what people type is replayed
through the bot's own autocomplete handler for `games` (bot.autocomplete.games, with a stand-in
interaction whose bot has that catalogue and a guild with two sets): every prefix of 300 titles
as it is typed, typos, ids followed by a title being typed, and prefixes of many titles.

Memory: tracemalloc of building the index (games, keys, search structures) and the process's RSS
before and after. Fuzzy matching: rapidfuzz (the bot's choice) against difflib on the same
queries, to say why.

Targets: handler p99 <= 20 ms; catalogue in memory <= 15 MB.
"""

from __future__ import annotations

import asyncio
import difflib
import gc
import random
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from bench.common import ms, percentile, table, title, verdict
from bot import autocomplete
from bot.models.ra import CatalogueGame, compact_icon
from bot.models.titles import search_key
from bot.services.titles import TitleIndex
from tests.fakes.catalogue import seed_catalogue
from tests.fakes.fake_ra import FakeRA

SIZE = 30_000
TYPED_TITLES = 300
P99_TARGET = 0.020
MEMORY_TARGET_MB = 15.0
SEED = 7


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


def main() -> int:
    title(f"Autocomplete over a {SIZE:,}-title catalogue (in-process, the bot's own handler)")
    rng = random.Random(SEED)
    games = catalogue_games()
    # As the bot holds it: rows read from the database (fresh strings, consoles interned) and
    # the index over them. Measured twice: by tracemalloc, and by RSS without tracemalloc.
    gc.collect()
    rss_before = _rss()
    rows = from_database(games)
    index = TitleIndex(rows)
    gc.collect()
    rss_mb = (_rss() - rss_before) / 1024
    del index, rows
    gc.collect()
    tracemalloc.start()
    rows = from_database(games)
    rows_cost = tracemalloc.get_traced_memory()[0]
    index = TitleIndex(rows)
    total = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    total_mb = total / 2**20
    print(f"{len(index):,} games: rows {rows_cost / 2**20:.1f} MiB + index "
          f"{(total - rows_cost) / 2**20:.1f} MiB = {total_mb:.1f} MiB (tracemalloc); "
          f"RSS grew {rss_mb:.1f} MiB")

    sets = [type("S", (), {"name": n, "game_ids": [1, 700]})() for n in ("Monthly", "Metroids")]
    bot = StubBot(StubCatalogue(index), StubSets(sets), StubResolver({700, 703}), StubRA())
    typed = typing_of(games, rng)
    asyncio.run(handler_times(bot, typed[:50]))  # warm-up (imports rapidfuzz)
    times, counts = asyncio.run(handler_times(bot, typed))
    print(table(
        ["queries", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean choices"],
        [[len(times), ms(percentile(times, 50)), ms(percentile(times, 90)),
          ms(percentile(times, 99)), ms(max(times)), f"{sum(counts) / len(counts):.1f}"]],
    ))
    slowest = sorted(zip(times, typed, strict=True), reverse=True)[:3]
    print("slowest: " + "; ".join(f"{text!r} {ms(t)} ms" for t, text in slowest))
    print(table(["fuzzy matcher, one query over the catalogue", "mean ms", "ratio"],
                fuzzy_compare(index, games, typed[-120:-20])))
    p99 = percentile(times, 99)
    total_mb = max(total_mb, rss_mb)
    ok = p99 <= P99_TARGET and total_mb <= MEMORY_TARGET_MB
    print(verdict(ok, f"autocomplete p99 {ms(p99)} ms (target <= {ms(P99_TARGET)}), catalogue "
                      f"{total_mb:.1f} MiB (target <= {MEMORY_TARGET_MB:g})"), flush=True)
    return 0 if ok else 1


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
