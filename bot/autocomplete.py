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
from bot.parsing import parse_game_ids
from bot.services.game_sets import normalize_name

if TYPE_CHECKING:
    from bot.bot import RABot
    from bot.store import GameSet

log = logging.getLogger(__name__)

MAX_CHOICES = 25
CHOICE_MAX = 100  # characters, for a choice's name and a string choice's value
LOOKUP_TIMEOUT = 2.0  # seconds: Discord drops an autocomplete answer after 3
_SEPARATORS = re.compile(r"[\s,;]+")

Choices = list[app_commands.Choice[str]]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CHOICE_MAX else text[: CHOICE_MAX - 1] + "…"


def _count(n: int) -> str:
    return f"{n} game" if n == 1 else f"{n} games"


async def _sets_matching(interaction: discord.Interaction[RABot], current: str) -> list[GameSet]:
    """This guild's sets whose name starts with, then contains, what was typed."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return []
    async with asyncio.timeout(LOOKUP_TIMEOUT):
        sets = await interaction.client.game_sets.list_sets(guild_id)
    key = normalize_name(current).casefold()
    starting = [s for s in sets if s.name.casefold().startswith(key)]
    containing = [s for s in sets if key in s.name.casefold() and s not in starting]
    return starting + containing


def _echo(bot: RABot, current: str) -> app_commands.Choice[str] | None:
    """What was typed, as a choice, when it ends with a game id (with its title if cached)."""
    value = current.strip()
    if not value or len(value) > CHOICE_MAX:
        return None
    last = _SEPARATORS.split(value)[-1]
    try:
        (game_id,) = parse_game_ids(last)
    except (BadInput, ValueError):
        return None
    info = bot.ra.cached_game(game_id)
    name = f"{value} → {info.title}" if info is not None else value
    return app_commands.Choice(name=_clip(name), value=value)


def _titles(bot: RABot, current: str) -> Choices:
    """Cached game titles matching the last word group typed; the choice puts the id in its
    place, keeping the ids typed before it."""
    parts = re.split(r"([,;]\s*)", current)
    typed = parts[-1].strip()
    prefix = "".join(parts[:-1])
    if len(typed) < 2:
        return []
    choices: Choices = []
    for info in bot.ra.cached_games(typed, MAX_CHOICES):
        value = f"{prefix}{info.game_id}"
        if len(value) > CHOICE_MAX:
            break
        label = (
            f"{info.title} · {info.console} ({info.game_id})"
            if info.console
            else (f"{info.title} ({info.game_id})")
        )
        choices.append(app_commands.Choice(name=_clip(label), value=value))
    return choices


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
    """For a `games` option: what was typed if it ends with a game id, else cached game titles
    and this guild's sets matching it."""
    choices: Choices = []
    try:
        echo = _echo(interaction.client, current)
        if echo is not None:
            choices.append(echo)
            return choices  # ids being typed: a set name cannot follow them
        choices.extend(_titles(interaction.client, current))
        for game_set in await _sets_matching(interaction, current):
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
