"""RA's catalogue in memory: game titles as people type them, found fast.

Pure: no I/O, no Discord. Titles compare by `bot.models.titles.search_key` (accents, case,
punctuation and a moved article ignored; tags and subsets kept apart, so the plain game ranks
first).

`TitleIndex` answers two questions: which games a whole title names (`exact`), and which games
someone may mean while typing (`search`: prefix, then word, then fuzzy matches). Fuzzy matching
uses rapidfuzz (C++, many times faster than difflib), imported when the first fuzzy search runs.

The catalogue lives as long as the process and holds tens of thousands of games, so it is kept in
columns (arrays of numbers, one string of keys, one bytes of titles) rather than an object per
game: about 80 bytes a title instead of 330 (bench/bench_catalogue.py), in a few large blocks
instead of many small ones that fragment the heap. A `CatalogueGame` is made only for a game a
lookup returns.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.models.ra import CatalogueGame, CatalogueRow
from bot.models.titles import fold, search_key, title_parts

FUZZY_CUTOFF = 70.0  # rapidfuzz ratio, 0–100: below this a "match" is noise
MAX_CANDIDATES = 5000  # matches ranked per search, at most (a common word matches many)
MIN_SEARCH = 2  # characters typed before titles are searched

_TYPECODES = ("b", "h", "i", "q")  # signed, 1 to 8 bytes an item


def _packed(values: Iterable[int]) -> array[int]:
    """`values` in the narrowest signed array that holds them (game ids fit 4 bytes, most
    achievement counts 2)."""
    column = values if isinstance(values, array) else array("q", values)
    low, high = (min(column), max(column)) if column else (0, 0)
    return array(_narrowest(low, high), column)


def _narrowest(low: int, high: int) -> str:
    return next(code for code in _TYPECODES if _holds(code, low, high))


def _holds(typecode: str, low: int, high: int) -> bool:
    bits = 8 * array(typecode).itemsize - 1
    return -(1 << bits) <= low and high < (1 << bits)


def _appended(column: array[int], value: int) -> array[int]:
    """`column` with `value` at its end: widened first if it cannot hold it (rare, so columns
    start narrow and rows are packed at their final width)."""
    try:
        column.append(value)
    except OverflowError:
        wider = _TYPECODES[_TYPECODES.index(column.typecode) + 1 :]
        column = array(next(code for code in wider if _holds(code, value, value)), column)
        column.append(value)
    return column


def _encoded(text: str) -> bytes:
    # surrogatepass: any str round-trips, even one no database would hand back
    return text.encode("utf-8", "surrogatepass")


def _decoded(data: bytes | bytearray) -> str:
    return data.decode("utf-8", "surrogatepass")


def _in_order(column: array[int], order: Sequence[int]) -> Iterable[int]:
    """`column`'s values in `order` (a range: as they are)."""
    return column if isinstance(order, range) else (column[row] for row in order)


class CatalogueRows:
    """The catalogue's rows packed as they arrive, in the order they arrive.

    Packing a row is cheap (numbers into arrays, the title's UTF-8 onto one bytearray), so rows
    read from the database can be packed on the event loop as they stream in, and the index
    (keys, sorting: the costly part) built from this in a thread. No list of rows, no object per
    game, is ever held.
    """

    def __init__(self) -> None:
        self.ids = array("b")
        self.titles = bytearray()
        self.title_ends = array("b")
        self.console_slots = array("b")
        self.consoles: list[tuple[int, str]] = []  # (console id, name), each pair once
        self._console_slot: dict[tuple[int, str], int] = {}
        self.icons = array("b")
        self.icon_paths: dict[int, str] = {}  # row → icon kept as a path (not RA's usual shape)
        self.achievements = array("b")
        self.points = array("b")

    @classmethod
    def of_games(cls, games: Iterable[CatalogueGame]) -> CatalogueRows:
        rows = cls()
        rows.extend(
            (g.game_id, g.title, g.console_id, g.console, g.icon, g.achievements, g.points)
            for g in games
        )
        return rows

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, row: CatalogueRow) -> None:
        game_id, title, console_id, console, icon, achievements, points = row
        if isinstance(icon, str):
            self.icon_paths[len(self.ids)] = icon
            icon = 0
        self.ids = _appended(self.ids, game_id)
        self.titles += _encoded(title)
        self.title_ends = _appended(self.title_ends, len(self.titles))
        slot = self._console_slot.setdefault((console_id, console), len(self.consoles))
        if slot == len(self.consoles):
            self.consoles.append((console_id, console))
        self.console_slots = _appended(self.console_slots, slot)
        self.icons = _appended(self.icons, icon)
        self.achievements = _appended(self.achievements, achievements)
        self.points = _appended(self.points, points)

    def extend(self, rows: Iterable[CatalogueRow]) -> None:
        for row in rows:
            self.add(row)

    def title(self, row: int) -> str:
        start = self.title_ends[row - 1] if row else 0
        return _decoded(self.titles[start : self.title_ends[row]])

    def by_id(self) -> Sequence[int]:
        """Rows in game id order, one per id: of rows with one id, the last (as a dict would).

        Rows read from the database come in id order already: then no list is made.
        """
        ids = self.ids
        if all(a < b for a, b in pairwise(ids)):
            return range(len(ids))
        order = sorted(range(len(ids)), key=ids.__getitem__)  # stable: a repeat stays after
        return [
            row
            for place, row in enumerate(order)
            if place + 1 == len(order) or ids[order[place + 1]] != ids[row]
        ]


class _ById(Mapping[int, CatalogueGame]):
    """The index's games by id, without a dict: bisect over a sorted array of ids."""

    def __init__(self, index: TitleIndex) -> None:
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


class TitleIndex:
    """Every catalogued game by id, and by title for searching.

    Built once per catalogue load (a new index replaces the old one whole, so readers never see a
    half-built one). A game is a position: games are sorted by id, and each column holds one
    value per position.

    Search keys live in one string, `_keys`: a line per game, `full` (its whole title as a key)
    or `full base` (a tagged title: then also its base title). Word matches are `str.find` of
    " word" over it (C speed; a title's first word is a prefix match already); the prefix index
    is a sorted array of entries (position * 2, plus 1 for the base key) bisected by the key each
    entry stands for.
    """

    def __init__(self, games: Iterable[CatalogueGame] | CatalogueRows) -> None:
        rows = games if isinstance(games, CatalogueRows) else CatalogueRows.of_games(games)
        order = rows.by_id()
        self._ids = _packed(_in_order(rows.ids, order))
        self._consoles = rows.consoles
        self._console_slots = _packed(_in_order(rows.console_slots, order))
        self._icons = _packed(_in_order(rows.icons, order))
        self._icon_paths = {
            position: rows.icon_paths[row]
            for position, row in enumerate(order)
            if row in rows.icon_paths
        }
        self._achievements = _packed(_in_order(rows.achievements, order))
        self._points = _packed(_in_order(rows.points, order))
        self.by_id: Mapping[int, CatalogueGame] = _ById(self)
        self.console_ids = frozenset(self._consoles[slot][0] for slot in set(self._console_slots))

        titles = bytearray()
        title_ends = array("q")
        self._tagged = bytearray()
        lines: list[str] = []
        starts = array("q")
        full_lengths = array("q")
        # The prefix index's entries and their keys (the keys title_parts made: no copies).
        prefix_entries = array("q")
        prefix_keys: list[str] = []
        offset = 0
        for position, row in enumerate(order):
            title = rows.title(row)
            titles += _encoded(title)
            title_ends.append(len(titles))
            parts = title_parts(title)
            self._tagged.append(1 if parts.tagged else 0)
            full_lengths.append(len(parts.full))
            prefix_entries.append(2 * position)
            prefix_keys.append(parts.full)
            line = parts.full
            if parts.base != parts.full:
                prefix_entries.append(2 * position + 1)
                prefix_keys.append(parts.base)
                line = f"{parts.full} {parts.base}"
            lines.append(line)
            starts.append(offset)
            offset += len(line) + 1
        self._titles = bytes(titles)
        del titles
        self._title_ends = _packed(title_ends)
        self._keys = "\n".join(lines)
        del lines
        self._starts = _packed(starts)
        self._full_lengths = _packed(full_lengths)
        # Sorted by key; equal keys stay in position order (the sort is stable).
        ranked = sorted(range(len(prefix_keys)), key=prefix_keys.__getitem__)
        del prefix_keys
        self._prefixes = _packed(prefix_entries[entry] for entry in ranked)
        del ranked
        # Games whose line holds a base key too, shortest full key first (see _fuzzy).
        with_base = (entry // 2 for entry in prefix_entries if entry % 2)
        self._with_base_by_length = _packed(sorted(with_base, key=full_lengths.__getitem__))

    def __len__(self) -> int:
        return len(self._ids)

    def _game(self, position: int) -> CatalogueGame:
        """The game at `position`, made from its columns."""
        console_id, console = self._consoles[self._console_slots[position]]
        start = self._title_ends[position - 1] if position else 0
        return CatalogueGame(
            self._ids[position],
            _decoded(self._titles[start : self._title_ends[position]]),
            console_id,
            console,
            self._icon_paths.get(position, self._icons[position]),
            self._achievements[position],
            self._points[position],
        )

    def _full(self, position: int) -> str:
        """The game's whole title as a search key."""
        start = self._starts[position]
        return self._keys[start : start + self._full_lengths[position]]

    def _entry_key(self, entry: int) -> str:
        """The key a prefix entry stands for: its game's full key, or (odd entries) base key."""
        position, is_base = divmod(entry, 2)
        if not is_base:
            return self._full(position)
        following = position + 1
        end = self._starts[following] - 1 if following < len(self._starts) else len(self._keys)
        return self._keys[self._starts[position] + self._full_lengths[position] + 1 : end]

    def get(self, game_id: int) -> CatalogueGame | None:
        position = bisect.bisect_left(self._ids, game_id)
        if position < len(self._ids) and self._ids[position] == game_id:
            return self._game(position)
        return None

    def games(self) -> list[CatalogueGame]:
        return [self._game(position) for position in range(len(self._ids))]

    def exact(self, text: str) -> list[CatalogueGame]:
        """The games whose whole title is `text` (in key terms), plain games first.

        A whole title with its tag or subset names that game; the bare title names the plain
        games, or, when only tagged games carry it, those.
        """
        key = search_key(text)
        if not key:
            return []
        positions = []
        prefixes = self._prefixes
        index = bisect.bisect_left(prefixes, key, key=self._entry_key)
        while index < len(prefixes) and self._entry_key(prefixes[index]) == key:
            positions.append(prefixes[index] // 2)
            index += 1
        if not positions:
            return []
        whole = [p for p in positions if self._full(p) == key]
        plain = [p for p in whole if not self._tagged[p]]
        chosen = plain or whole or positions
        return [self._game(p) for p in chosen]

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
        prefixes = self._prefixes
        index = bisect.bisect_left(prefixes, key, key=self._entry_key)
        while index < len(prefixes) and len(tiers) < MAX_CANDIDATES:
            if not self._entry_key(prefixes[index]).startswith(key):
                break
            tiers.setdefault(prefixes[index] // 2, 0)
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
            boosted = self._ids[position] in boost
            full = self._full(position)
            return (
                0 if boosted and tier < 2 else 1,
                tier,
                fuzzy_order.get(position, 0),  # fuzzy matches: best score first
                self._tagged[position],
                len(full),
                full,
            )

        best = heapq.nsmallest(limit, tiers, key=rank)
        return [Match(self._game(p), tiers[p]) for p in best]

    def _words(self, key: str, tiers: dict[int, int]) -> None:
        """Titles with a word starting with `key` (tier 1)."""
        needle = " " + key
        found = self._keys.find(needle)
        while found != -1 and len(tiers) < MAX_CANDIDATES:
            position = bisect.bisect_right(self._starts, found) - 1
            tiers.setdefault(position, 1)
            # On to the next title: one match per title is enough.
            following = position + 1
            resume = self._starts[following] if following < len(self._starts) else len(self._keys)
            found = self._keys.find(needle, resume)

    def closest(self, text: str, limit: int = 5) -> list[CatalogueGame]:
        """For an answer that names no game: the titles nearest to what was typed."""
        return self.search(text, limit)

    def _fuzzy(self, key: str, limit: int, exclude: Collection[int]) -> list[int]:
        """Titles whose beginning is most like what was typed (typos, a word half typed).

        Each title is cut to the typed length (plus two, for a letter left out) and compared
        with rapidfuzz's plain ratio: 5 ms over 30,000 titles, where WRatio on whole titles
        takes 20 ms and ranks long titles that merely contain a word too high.
        """
        if not self._ids:
            return []
        from rapidfuzz import fuzz, process

        width = len(key) + 2
        heads = [line[:width] for line in self._keys.split("\n")]
        # A tagged title's line goes on with its base key: cut its head where its full key ends.
        lengths = self._full_lengths
        shorter = bisect.bisect_left(self._with_base_by_length, width, key=lengths.__getitem__)
        for position in self._with_base_by_length[:shorter]:
            heads[position] = heads[position][: lengths[position]]
        found: Sequence[tuple[Any, float, int]] = process.extract(
            key,
            heads,
            scorer=fuzz.ratio,
            limit=limit + len(exclude),
            score_cutoff=FUZZY_CUTOFF,
        )
        return [position for _, _, position in found if position not in exclude][:limit]
