"""The title index as it was before its columns (an object and key strings per game, a list of
(key, position) tuples): kept, unchanged but for its name, as the behaviour the compact
`bot.services.titles.TitleIndex` must match (tests/services/test_titles_properties.py).
"""

from __future__ import annotations

import bisect
import heapq
import sys
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.models.ra import CatalogueGame
from bot.models.titles import fold, search_key, title_parts
from bot.services.titles import FUZZY_CUTOFF, MAX_CANDIDATES, MIN_SEARCH


class _ById(Mapping[int, CatalogueGame]):
    """The index's games by id, without a dict: bisect over a sorted array of ids."""

    def __init__(self, index: ReferenceIndex) -> None:
        self._index = index

    def __getitem__(self, game_id: int) -> CatalogueGame:
        game = self._index.get(game_id)
        if game is None:
            raise KeyError(game_id)
        return game

    def __iter__(self) -> Iterator[int]:
        return iter(self._index._ids)

    def __len__(self) -> int:
        return len(self._index._ids)


@dataclass(frozen=True, slots=True)
class Match:
    game: CatalogueGame
    tier: int  # 0 prefix, 1 word, 2 fuzzy


class ReferenceIndex:
    """Every catalogued game by id, and by title for searching.

    Built once per catalogue load (a new index replaces the old one whole, so readers never see a
    half-built one). Memory is kept small: keys shared when a title has no tags, one sorted list
    of (key, position) for prefixes, and the keys in one list for word and fuzzy scans.
    """

    def __init__(self, games: Iterable[CatalogueGame]) -> None:
        unique = {game.game_id: game for game in games}
        self._games: list[CatalogueGame] = sorted(unique.values(), key=lambda g: g.game_id)
        del unique
        self._ids = array("q", (game.game_id for game in self._games))
        self.by_id: Mapping[int, CatalogueGame] = _ById(self)
        self.console_ids = frozenset(game.console_id for game in self._games)
        self._full: list[str] = []
        self._base: list[str] = []
        self._tagged = bytearray()
        keyed: list[tuple[str, int]] = []
        entries: list[str] = []
        for position, game in enumerate(self._games):
            parts = title_parts(game.title)
            full = sys.intern(parts.full)
            base = sys.intern(parts.base)
            self._full.append(full)
            self._base.append(base)
            self._tagged.append(1 if parts.tagged else 0)
            keyed.append((full, position))
            if base != full:
                keyed.append((base, position))
            entries.append(f" {full} {base}" if base != full else f" {full}")
        keyed.sort()
        self._sorted_keys = [key for key, _ in keyed]
        self._sorted_positions = array("i", (position for _, position in keyed))
        # Word matches: one string holding every title, searched with str.find (C speed), and
        # where each title starts in it.
        self._blob = "\n".join(entries)
        starts = array("i")
        offset = 0
        for entry in entries:
            starts.append(offset)
            offset += len(entry) + 1
        self._starts = starts

    def __len__(self) -> int:
        return len(self._games)

    def get(self, game_id: int) -> CatalogueGame | None:
        position = bisect.bisect_left(self._ids, game_id)
        if position < len(self._ids) and self._ids[position] == game_id:
            return self._games[position]
        return None

    def games(self) -> list[CatalogueGame]:
        return list(self._games)

    def exact(self, text: str) -> list[CatalogueGame]:
        """The games whose whole title is `text` (in key terms), plain games first.

        A whole title with its tag or subset names that game; the bare title names the plain
        games, or, when only tagged games carry it, those.
        """
        key = search_key(text)
        if not key:
            return []
        positions = []
        index = bisect.bisect_left(self._sorted_keys, key)
        while index < len(self._sorted_keys) and self._sorted_keys[index] == key:
            positions.append(self._sorted_positions[index])
            index += 1
        if not positions:
            return []
        whole = [p for p in positions if self._full[p] == key]
        plain = [p for p in whole if not self._tagged[p]]
        chosen = plain or whole or positions
        return [self._games[p] for p in chosen]

    def search(
        self, text: str, limit: int = 25, boost: Collection[int] = ()
    ) -> list[CatalogueGame]:
        """Games someone typing `text` may mean, best first: prefix, word, then fuzzy matches.

        Within a tier: games in `boost` (asked about in this guild), then plain before tagged,
        then shorter titles, then by title. Boosted prefix and word matches come before the rest.
        """
        return [m.game for m in self.matches(text, limit, boost)]

    def matches(self, text: str, limit: int = 25, boost: Collection[int] = ()) -> list[Match]:
        key = search_key(text) or fold(text)
        if len(key) < MIN_SEARCH or limit <= 0:
            return []
        tiers: dict[int, int] = {}
        index = bisect.bisect_left(self._sorted_keys, key)
        while index < len(self._sorted_keys) and len(tiers) < MAX_CANDIDATES:
            if not self._sorted_keys[index].startswith(key):
                break
            tiers.setdefault(self._sorted_positions[index], 0)
            index += 1
        if len(tiers) < limit:
            self._words(key, tiers)
        fuzzy_order: dict[int, int] = {}
        if len(tiers) < limit:
            for order, position in enumerate(self._fuzzy(key, limit * 2, exclude=tiers)):
                tiers.setdefault(position, 2)
                fuzzy_order[position] = order

        def rank(position: int) -> tuple[int, int, int, int, int, str]:
            tier = tiers[position]
            boosted = self._games[position].game_id in boost
            return (
                0 if boosted and tier < 2 else 1,
                tier,
                fuzzy_order.get(position, 0),  # fuzzy matches: best score first
                self._tagged[position],
                len(self._full[position]),
                self._full[position],
            )

        best = heapq.nsmallest(limit, tiers, key=rank)
        return [Match(self._games[p], tiers[p]) for p in best]

    def _words(self, key: str, tiers: dict[int, int]) -> None:
        """Titles with a word starting with `key` (tier 1)."""
        needle = " " + key
        found = self._blob.find(needle)
        while found != -1 and len(tiers) < MAX_CANDIDATES:
            position = bisect.bisect_right(self._starts, found) - 1
            tiers.setdefault(position, 1)
            # On to the next title: one match per title is enough.
            following = position + 1
            resume = self._starts[following] if following < len(self._starts) else len(self._blob)
            found = self._blob.find(needle, resume)

    def closest(self, text: str, limit: int = 5) -> list[CatalogueGame]:
        """For an answer that names no game: the titles nearest to what was typed."""
        return self.search(text, limit)

    def _fuzzy(self, key: str, limit: int, exclude: Collection[int]) -> list[int]:
        """Titles whose beginning is most like what was typed (typos, a word half typed).

        Each title is cut to the typed length (plus two, for a letter left out) and compared
        with rapidfuzz's plain ratio: 5 ms over 30,000 titles, where WRatio on whole titles
        takes 20 ms and ranks long titles that merely contain a word too high.
        """
        if not self._full:
            return []
        from rapidfuzz import fuzz, process

        width = len(key) + 2
        heads = [full[:width] for full in self._full]
        found: Sequence[tuple[Any, float, int]] = process.extract(
            key,
            heads,
            scorer=fuzz.ratio,
            limit=limit + len(exclude),
            score_cutoff=FUZZY_CUTOFF,
        )
        return [position for _, _, position in found if position not in exclude][:limit]
