"""The one resolver of `games` options: ids, RA game links, the guild's set names and titles.

Every command that takes `games` (/progress, /compare, /leaderboard show|schedule,
/gameset create|add|remove) and the scheduler read it here. The option is cut at commas; each
part is ids and links, or one of the guild's set names, or a title from RA's catalogue. Titles
may hold commas of their own, so neighbouring parts are joined back, longest first, when together
they are a title (`Legend of Zelda, The: A Link to the Past, 14402` is two games).

A title that names several games (one title on several consoles) or none is a BadInput listing
the closest candidates: no RA call is made, no budget is spent. So is a title asked before the
catalogue is in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.errors import BadInput
from bot.formatting.game_sets import shown_name
from bot.formatting.resolver import ambiguous_title, no_catalogue_yet, unknown_title
from bot.models.game_sets import GameSet, normalize_name, parse_set_name
from bot.models.ra import CatalogueGame
from bot.parsing import ids_in_part, split_parts
from bot.services.catalogue import Catalogue
from bot.store.game_sets import GameSetStore

MAX_TITLE_PARTS = 4  # commas one title may hold (RA has titles with two or three)
HOT_PER_GUILD = 25  # games a guild asked about lately, ranked first by autocomplete
HOT_GUILDS = 5000  # guilds remembered (least recently active forgotten first)
MAX_PROBLEMS = 3  # unresolved titles described in one answer


@dataclass(frozen=True)
class ResolvedGames:
    """What a `games` option meant: the ids, and the set they came from, if it was one set."""

    game_ids: list[int]
    set_name: str | None = None
    titles: dict[int, str] = field(default_factory=dict)  # from the catalogue, where known


def _is_set_name(text: str) -> bool:
    try:
        parse_set_name(text)
    except BadInput:
        return False
    return True


class GameResolver:
    def __init__(self, catalogue: Catalogue, sets: GameSetStore, max_games: int = 50) -> None:
        self.catalogue = catalogue
        self.sets = sets
        self.max_games = max_games
        self._hot: OrderedDict[int, OrderedDict[int, None]] = OrderedDict()

    # -- before the defer: no I/O ------------------------------------------------------------

    def parse_now(self, guild_id: int | None, text: str) -> ResolvedGames | None:
        """The games, if reading them needs no I/O (ids, links, titles: the catalogue is in
        memory); None when some part may be one of the guild's sets (the database says).

        BadInput at once for what can never resolve, so the caller hears it before any defer.
        """
        return self._read(guild_id, split_parts(text), None)

    # -- after the defer ----------------------------------------------------------------------

    async def resolve(self, guild_id: int | None, text: str) -> ResolvedGames:
        """Every part of `text` as games, in order, duplicates collapsed; BadInput otherwise."""
        parts = split_parts(text)
        resolved = self._read(guild_id, parts, None)
        if resolved is None:
            sets = {s.name.casefold(): s for s in await self.sets.for_guild(guild_id or 0)}
            resolved = self._read(guild_id, parts, sets)
            assert resolved is not None  # with the sets known, every part is read
        self.note_asked(guild_id, resolved.game_ids)
        return resolved

    def _read(
        self, guild_id: int | None, parts: Sequence[str], sets: dict[str, GameSet] | None
    ) -> ResolvedGames | None:
        """The parts as games; None if a part may be a set name and `sets` is not known yet."""
        if not parts:
            raise BadInput(
                "Give at least one game: ids like `1, 14402`, RetroAchievements game links, "
                "or titles."
            )
        ids: list[int] = []
        set_names: list[str] = []
        unknown: list[str] = []
        ambiguous: list[tuple[str, list[CatalogueGame]]] = []
        i = 0
        while i < len(parts):
            part = parts[i]
            found = ids_in_part(part)
            if found is not None:
                ids.extend(found)
                i += 1
                continue
            if guild_id is not None and _is_set_name(part):
                if sets is None:
                    return None
                game_set = sets.get(normalize_name(part).casefold())
                if game_set is not None:
                    ids.extend(self._set_games(game_set))
                    set_names.append(game_set.name)
                    i += 1
                    continue
            used, games = self._title_at(parts, i)
            if not games:
                unknown.append(part)
            elif len(games) == 1:
                ids.append(games[0].game_id)
            else:
                ambiguous.append((", ".join(parts[i : i + used]), games))
            i += used
        if unknown or ambiguous:
            raise self._not_resolved(unknown, ambiguous)
        whole_set = set_names[0] if len(set_names) == 1 and len(parts) == 1 else None
        return self._resolved(list(dict.fromkeys(ids)), whole_set)

    def _resolved(self, ids: list[int], set_name: str | None) -> ResolvedGames:
        if len(ids) > self.max_games:
            raise BadInput(
                f"That is more than {self.max_games} games: ask for {self.max_games} or fewer "
                "at a time."
            )
        titles = {gid: game.title for gid in ids if (game := self.catalogue.get(gid)) is not None}
        return ResolvedGames(ids, set_name, titles)

    def _title_at(self, parts: Sequence[str], start: int) -> tuple[int, list[CatalogueGame]]:
        """How many parts from `start` make a title (longest first), and its games."""
        index = self.catalogue.index
        if index is None:
            return 1, []
        end = start + 1
        while (
            end < len(parts) and end - start < MAX_TITLE_PARTS and ids_in_part(parts[end]) is None
        ):
            end += 1
        for stop in range(end, start, -1):
            games = index.exact(", ".join(parts[start:stop]))
            if games:
                return stop - start, games
        return 1, []

    def _set_games(self, game_set: GameSet) -> list[int]:
        if not game_set.game_ids:
            raise BadInput(
                f"The set {shown_name(game_set.name)} has no games: a moderator can add some "
                "with `/gameset add`."
            )
        if len(game_set.game_ids) > self.max_games:
            raise BadInput(
                f"The set {shown_name(game_set.name)} has {len(game_set.game_ids)} games, more "
                f"than the {self.max_games} the bot takes at once: a moderator can trim it with "
                "`/gameset remove`."
            )
        return list(game_set.game_ids)

    def _not_resolved(
        self, unknown: list[str], ambiguous: list[tuple[str, list[CatalogueGame]]]
    ) -> BadInput:
        if not self.catalogue.ready:
            return BadInput(no_catalogue_yet(unknown[0] if unknown else ambiguous[0][0]))
        sentences = [ambiguous_title(typed, games) for typed, games in ambiguous]
        for typed in unknown:
            sentences.append(unknown_title(typed, self.catalogue.closest(typed)))
        shown = sentences[:MAX_PROBLEMS]
        if len(sentences) > MAX_PROBLEMS:
            shown.append(f"(and {len(sentences) - MAX_PROBLEMS} more not found)")
        return BadInput("\n".join(shown))

    # -- what a guild asks about (autocomplete ranks it first) ---------------------------------

    def note_asked(self, guild_id: int | None, game_ids: Sequence[int]) -> None:
        if guild_id is None or not game_ids:
            return
        recent = self._hot.get(guild_id)
        if recent is None:
            recent = self._hot[guild_id] = OrderedDict()
            while len(self._hot) > HOT_GUILDS:
                self._hot.popitem(last=False)
        else:
            self._hot.move_to_end(guild_id)
        for game_id in game_ids:
            recent[game_id] = None
            recent.move_to_end(game_id)
        while len(recent) > HOT_PER_GUILD:
            recent.popitem(last=False)

    def asked_in(self, guild_id: int | None) -> set[int]:
        recent = self._hot.get(guild_id) if guild_id is not None else None
        return set(recent) if recent else set()
