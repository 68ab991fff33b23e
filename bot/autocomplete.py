"""Autocomplete callbacks shared by the commands' options.

They answer from the database and the bot's memory only: never a call to RA, never an exception
(Discord shows nothing rather than an error), at most 25 choices of at most 100 characters, within
Discord's 3 seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import BadInput
from bot.models.game_sets import normalize_name
from bot.parsing import ids_in_part
from bot.services.resolver import MAX_TITLE_PARTS

if TYPE_CHECKING:
    from bot.bot import RABot
    from bot.models.game_sets import GameSet
    from bot.models.ra import CatalogueGame

log = logging.getLogger(__name__)

MAX_CHOICES = 25
CHOICE_MAX = 100  # characters, for a choice's name and a string choice's value
LOOKUP_TIMEOUT = 2.0  # seconds: Discord drops an autocomplete answer after 3

Choices = list[app_commands.Choice[str]]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CHOICE_MAX else text[: CHOICE_MAX - 1] + "…"


def _count(n: int) -> str:
    return f"{n} game" if n == 1 else f"{n} games"


async def _sets_matching(
    interaction: discord.Interaction[RABot], current: str, *, everything: bool = False
) -> list[GameSet]:
    """This guild's sets whose name starts with, then contains, what was typed (`everything`:
    all of them, unfiltered)."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return []
    async with asyncio.timeout(LOOKUP_TIMEOUT):
        sets = await interaction.client.game_sets.list_sets(guild_id)
    return sets if everything else _named_like(sets, current)


def _named_like(sets: list[GameSet], current: str) -> list[GameSet]:
    key = normalize_name(current).casefold()
    starting = [s for s in sets if s.name.casefold().startswith(key)]
    containing = [s for s in sets if key in s.name.casefold() and s not in starting]
    return starting + containing


def _echo(bot: RABot, current: str) -> app_commands.Choice[str] | None:
    """What was typed, as a choice, when it ends with a game id (with its title if cached)."""
    value = current.strip()
    if not value or len(value) > CHOICE_MAX:
        return None
    try:
        ids = ids_in_part(re.split(r"[,;]", value)[-1])
    except BadInput:
        return None
    if not ids:  # the last part is a title or a set name being typed
        return None
    game_id = ids[-1]
    info = bot.ra.cached_game(game_id)
    name = f"{value} → {info.title}" if info is not None else value
    return app_commands.Choice(name=_clip(name), value=value)


def _completing(current: str) -> list[tuple[str, str]]:
    """Ways to read what is being typed: (what came before, the title being typed), the
    longest title first. A title may hold commas, so the trailing parts that are not ids are
    tried joined back before the last part alone (`Legend of Zelda, The: A Li`)."""
    pieces = re.split(r"([,;]\s*)", current)
    texts, seps = pieces[0::2], pieces[1::2]
    readings: list[tuple[str, str]] = []
    first = len(texts) - 1
    while first > 0 and len(texts) - first < MAX_TITLE_PARTS:
        before = texts[first - 1].strip()
        if not before or ids_in_part(before) is not None:
            break
        first -= 1
    for start in range(first, len(texts)):
        typed = "".join(t + s for t, s in zip(texts[start:], [*seps[start:], ""], strict=True))
        prefix = "".join(t + s for t, s in zip(texts[:start], seps[:start], strict=True))
        if typed.strip():
            readings.append((prefix, typed.strip()))
    return readings


def _label(game: CatalogueGame) -> str:
    return f"{game.title} · {game.console}" if game.console else game.title


def _titles(bot: RABot, current: str, boost: set[int]) -> Choices:
    """Catalogue titles matching the title being typed; each choice puts the game's id in its
    place, keeping what was typed before it (`1, 14402, metr` → `1, 14402, 228`)."""
    index = bot.catalogue.index
    for prefix, typed in _completing(current):
        if index is not None and len(index):
            games = index.search(typed, MAX_CHOICES, boost)
            labels = [(g.game_id, _label(g)) for g in games]
        else:  # no catalogue yet: the games the bot has fetched
            labels = [(i.game_id, f"{i.title} · {i.console}") for i in bot.ra.cached_games(typed)]
        choices = [
            app_commands.Choice(name=_clip(label), value=f"{prefix}{game_id}")
            for game_id, label in labels
            if len(f"{prefix}{game_id}") <= CHOICE_MAX
        ]
        if choices:
            return choices
    return []


async def set_names(
    interaction: discord.Interaction[RABot], current: str
) -> list[app_commands.Choice[str]]:
    """For a `name` option: this guild's game sets matching what was typed."""
    try:
        sets = await _sets_matching(interaction, current)
        return [
            app_commands.Choice(
                name=_clip(f"{s.name} ({_count(len(s.game_ids))})"), value=s.name[:CHOICE_MAX]
            )
            for s in sets[:MAX_CHOICES]
        ]
    except Exception:
        log.warning("set name autocomplete failed", exc_info=True)
        return []


async def games(
    interaction: discord.Interaction[RABot], current: str
) -> list[app_commands.Choice[str]]:
    """For a `games` option: what was typed if it ends with a game id, else catalogue titles
    (this guild's games first) and this guild's sets matching it."""
    choices: Choices = []
    try:
        echo = _echo(interaction.client, current)
        if echo is not None:
            choices.append(echo)
            return choices  # ids being typed: a set name cannot follow them
        bot = interaction.client
        sets = await _sets_matching(interaction, current, everything=True)
        boost = bot.resolver.asked_in(interaction.guild_id)
        boost.update(g for s in sets for g in s.game_ids)
        choices.extend(_titles(bot, current, boost))
        for game_set in _named_like(sets, current):
            choices.append(
                app_commands.Choice(
                    name=_clip(f"Set {game_set.name} ({_count(len(game_set.game_ids))})"),
                    value=game_set.name[:CHOICE_MAX],
                )
            )
            if len(choices) >= MAX_CHOICES:
                break
    except Exception:
        log.warning("games autocomplete failed", exc_info=True)
    return choices[:MAX_CHOICES]
