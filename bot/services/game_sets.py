"""Game sets: named game lists of a guild, and reading any `games` option with them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import BadInput
from bot.parsing import parse_game_ids
from bot.store import GameSet, SetExists, Store

MAX_SET_NAME = 32
_SET_NAME = re.compile(r"[^\W_][\w '\-.!?+&]*", re.UNICODE)


@dataclass(frozen=True)
class ResolvedGames:
    """What a `games` option meant: the ids, and the set they came from, if any."""

    game_ids: list[int]
    set_name: str | None = None


def parse_set_name(text: str) -> str:
    """A set name as stored: trimmed, single-spaced, 1–32 letters, digits and simple marks."""
    name = " ".join(text.split())
    if not name:
        raise BadInput("Give the set a name.")
    if len(name) > MAX_SET_NAME:
        raise BadInput(f"Set names are at most {MAX_SET_NAME} characters: pick a shorter one.")
    if not _SET_NAME.fullmatch(name):
        raise BadInput(
            "Set names use letters, digits, spaces and - ' . ! ? + & only, and start with a "
            "letter or digit."
        )
    if name.isdigit():
        raise BadInput("A set name cannot be just a number: it would look like a game id.")
    return name


class GameSets:
    def __init__(self, store: Store, max_games: int = 50) -> None:
        self.store = store
        self.max_games = max_games

    async def resolve(self, guild_id: int | None, text: str) -> ResolvedGames:
        """A guild's set by name, else ids and game links (BadInput if neither)."""
        name = " ".join(text.split())
        if guild_id is not None and name and not name[0].isdigit() and "/" not in name:
            game_set = await self.store.get_set(guild_id, name)
            if game_set is not None:
                return ResolvedGames(game_set.game_ids, game_set.name)
        return ResolvedGames(parse_game_ids(text, self.max_games))

    async def create(self, guild_id: int, name: str, games: str, by: int) -> GameSet:
        game_ids = parse_game_ids(games, self.max_games)
        try:
            return await self.store.create_set(guild_id, parse_set_name(name), game_ids, by)
        except SetExists:
            raise BadInput(
                f"This server already has a set named {name}: pick another name or use "
                "`/gameset add`."
            ) from None
