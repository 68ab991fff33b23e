"""Game sets: named game lists of a guild (bot.services.resolver reads them in `games` options).

Names are checked here (pure functions, before any I/O); the service methods take names and ids
already read, so a cog can answer bad input at once and defer before touching the database.
Every refusal is a BadInput with one sentence, the set's name in it escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import BadInput
from bot.formatting.game_sets import shown_name
from bot.models.game_sets import MAX_SETS_PER_GUILD, GameSet, SetChange
from bot.store.game_sets import GameSetStore, SetExists


def _no_such_set(name: str) -> BadInput:
    return BadInput(
        f"This server has no game set named {shown_name(name)}: `/gameset list` shows its sets."
    )


class GameSets:
    def __init__(self, sets: GameSetStore, max_games: int = 50) -> None:
        self.sets = sets
        self.max_games = max_games

    # -- changing sets ---------------------------------------------------------------------------

    async def create(self, guild_id: int, name: str, game_ids: Sequence[int], by: int) -> GameSet:
        """A new set; `name` comes from parse_set_name."""
        self._check_size(name, len(game_ids))
        if len(await self.sets.for_guild(guild_id)) >= MAX_SETS_PER_GUILD:
            raise BadInput(
                f"This server has {MAX_SETS_PER_GUILD} game sets, the most it can have: delete "
                "one with `/gameset delete` first."
            )
        try:
            return await self.sets.create(guild_id, name, list(game_ids), by)
        except SetExists:
            raise BadInput(
                f"This server already has a set named {shown_name(name)}: pick another name "
                "or use `/gameset add`."
            ) from None

    async def add(self, guild_id: int, name: str, game_ids: Sequence[int]) -> SetChange:
        """Append the games not in the set yet (order kept)."""
        added: list[int] = []
        present: list[int] = []

        def change(current: list[int]) -> list[int]:
            added[:] = [g for g in dict.fromkeys(game_ids) if g not in current]
            present[:] = [g for g in dict.fromkeys(game_ids) if g in current]
            if not added:
                noun = "That game is" if len(present) == 1 else "Those games are"
                raise BadInput(f"{noun} in {shown_name(name)} already: nothing changed.")
            self._check_size(name, len(current) + len(added))
            return current + added

        game_set = await self.sets.modify(guild_id, name, change)
        if game_set is None:
            raise _no_such_set(name)
        return SetChange(game_set, added, present)

    async def remove(self, guild_id: int, name: str, game_ids: Sequence[int]) -> SetChange:
        """Take games out of the set; the ids it does not hold are reported, not an error,
        unless none of them is in it."""
        removed: list[int] = []
        missing: list[int] = []

        def change(current: list[int]) -> list[int]:
            wanted = set(game_ids)
            removed[:] = [g for g in current if g in wanted]
            missing[:] = [g for g in dict.fromkeys(game_ids) if g not in current]
            if not removed:
                which = ", ".join(str(g) for g in missing[:10])
                noun = "game" if len(missing) == 1 else "games"
                raise BadInput(
                    f"{shown_name(name)} does not have the {noun} {which}: nothing changed "
                    "(`/gameset list` shows its games)."
                )
            left = [g for g in current if g not in wanted]
            if not left:
                raise BadInput(
                    f"That would leave {shown_name(name)} empty: delete it with "
                    "`/gameset delete` instead."
                )
            return left

        game_set = await self.sets.modify(guild_id, name, change)
        if game_set is None:
            raise _no_such_set(name)
        return SetChange(game_set, removed, missing)

    async def delete(self, guild_id: int, name: str) -> str:
        """Delete the set; returns its name as it was stored."""
        game_set = await self.sets.get(guild_id, name)
        if game_set is None or not await self.sets.delete(guild_id, name):
            raise _no_such_set(name)
        return game_set.name

    async def list_sets(self, guild_id: int) -> list[GameSet]:
        """The guild's sets, by name."""
        return await self.sets.for_guild(guild_id)

    def _check_size(self, name: str, count: int) -> None:
        if count > self.max_games:
            raise BadInput(
                f"A set holds at most {self.max_games} games and {shown_name(name)} would have "
                f"{count}: leave some out."
            )
