"""What the resolver says when a title names no game, or several. Pure: strings out.

Candidates are shown as `title · console · id`, so the caller can copy the id or retype the
title exactly; every title is RA's text, escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.formatting.text import escape
from bot.models.ra import CatalogueGame
from bot.parsing import shown_input

CANDIDATES_SHOWN = 5
TITLE_LIMIT = 60


def candidate(game: CatalogueGame) -> str:
    """`Super Metroid · SNES/Super Famicom · 1234` (escaped, bounded)."""
    return f"{escape(game.title, TITLE_LIMIT)} · {escape(game.console, 40)} · {game.game_id}"


def _listed(games: Sequence[CatalogueGame]) -> str:
    shown = [candidate(g) for g in games[:CANDIDATES_SHOWN]]
    more = len(games) - len(shown)
    text = "; ".join(shown)
    return f"{text} (and {more} more)" if more > 0 else text


def ambiguous_title(typed: str, games: Sequence[CatalogueGame]) -> str:
    return (
        f"{shown_input(typed)} is {len(games)} games: {_listed(games)}. "
        "Give the id of the one you mean."
    )


def unknown_title(typed: str, closest: Sequence[CatalogueGame]) -> str:
    if not closest:
        return (
            f"No game with achievements on RetroAchievements is titled {shown_input(typed)}: "
            "check the spelling, or give the game's id or link."
        )
    return (
        f"No game is titled {shown_input(typed)}; the closest are {_listed(closest)}. "
        "Give the id, or pick the game from the list while typing."
    )


def no_catalogue_yet(typed: str) -> str:
    return (
        f"{shown_input(typed)} is not a game id, a game link or one of this server's game sets, "
        "and the bot is still loading RetroAchievements' list of titles: give ids like "
        "`1, 14402` or links like https://retroachievements.org/game/14402 meanwhile."
    )
