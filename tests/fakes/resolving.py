"""A resolver for tests of what users type: no database, and a catalogue given or not loaded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from bot.models.ra import CatalogueGame
from bot.services.catalogue import Catalogue
from bot.services.resolver import GameResolver
from bot.services.titles import TitleIndex
from bot.store.game_sets import GameSetStore


def resolver(
    games: Iterable[CatalogueGame] | None = None, sets: Any = None, max_games: int = 50
) -> GameResolver:
    """`games`: the catalogue in memory (None: not loaded yet). `sets`: anything with the
    game set store's `for_guild` (None: no set is ever looked up, so use guild None)."""
    catalogue = Catalogue(cast(Any, None), cast(Any, None), owner="test")
    if games is not None:
        catalogue.index = TitleIndex(games)
    return GameResolver(catalogue, cast(GameSetStore, sets), max_games)


def parse_game_ids(text: str, max_games: int = 50) -> list[int]:
    """The ids of a `games` option read at once, as outside a guild (no set names), before the
    catalogue loads: ids and links, or BadInput."""
    resolved = resolver(max_games=max_games).parse_now(None, text)
    assert resolved is not None  # outside a guild nothing waits for the database
    return resolved.game_ids
