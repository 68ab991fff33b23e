"""/gameset: named game lists of a guild (create, add, remove, delete: Manage Server; list: all).

Names are checked before the defer (bad input is answered at once); the games, which may name
another set, and the database come after it. Nothing here asks RA: games are shown by the titles
the bot has cached, else by id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.formatting.game_sets import (
    added_message,
    created_message,
    deleted_message,
    removed_message,
    sets_embed,
)
from bot.models.game_sets import SetChange, parse_lookup_name, parse_set_name
from bot.options import GAMES_HELP, parse_games_now
from bot.replies import defer, reply
from bot.services.resolver import ResolvedGames

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 100
SET_HELP = "The set's name"


def _guild_id(interaction: discord.Interaction[RABot]) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


class GameSetCommands(commands.Cog):
    gameset = app_commands.Group(
        name="gameset",
        description="Named game lists of this server, usable in any games option",
        guild_only=True,
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    def _titles(self, game_ids: Iterable[int]) -> dict[int, str]:
        """Titles the bot already knows (never an RA call)."""
        return self.bot.ra.known_titles(game_ids)

    async def _games(
        self, interaction: discord.Interaction[RABot], parsed: ResolvedGames | None, text: str
    ) -> list[int]:
        if parsed is None:
            parsed = await self.bot.resolver.resolve(interaction.guild_id, text)
        return parsed.game_ids

    @gameset.command(name="create", description="Create a game set (Manage Server)")
    @app_commands.describe(name="A name for the set, e.g. March Madness", games=GAMES_HELP)
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def create(
        self,
        interaction: discord.Interaction[RABot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
    ) -> None:
        guild_id = _guild_id(interaction)
        set_name = parse_set_name(name)
        parsed = parse_games_now(self.bot, interaction, games)
        await defer(interaction, ephemeral=True)
        game_ids = await self._games(interaction, parsed, games)
        game_set = await self.bot.game_sets.create(
            guild_id, set_name, game_ids, interaction.user.id
        )
        await reply(
            interaction, created_message(game_set, self._titles(game_set.game_ids)), ephemeral=True
        )

    @gameset.command(name="add", description="Add games to a game set (Manage Server)")
    @app_commands.describe(name=SET_HELP, games=GAMES_HELP)
    @app_commands.autocomplete(name=autocomplete.set_names, games=autocomplete.games)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def add(
        self,
        interaction: discord.Interaction[RABot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
    ) -> None:
        await self._change(interaction, name, games, self.bot.game_sets.add, added_message)

    @gameset.command(name="remove", description="Remove games from a game set (Manage Server)")
    @app_commands.describe(name=SET_HELP, games=GAMES_HELP)
    @app_commands.autocomplete(name=autocomplete.set_names, games=autocomplete.games)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove(
        self,
        interaction: discord.Interaction[RABot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
    ) -> None:
        await self._change(interaction, name, games, self.bot.game_sets.remove, removed_message)

    async def _change(
        self,
        interaction: discord.Interaction[RABot],
        name: str,
        games: str,
        change_set: Callable[[int, str, Sequence[int]], Awaitable[SetChange]],
        message: Callable[[SetChange, Mapping[int, str]], str],
    ) -> None:
        """/gameset add and remove: parse, defer, change the set, say what changed."""
        guild_id = _guild_id(interaction)
        set_name = parse_lookup_name(name)
        parsed = parse_games_now(self.bot, interaction, games)
        await defer(interaction, ephemeral=True)
        game_ids = await self._games(interaction, parsed, games)
        change = await change_set(guild_id, set_name, game_ids)
        titles = self._titles([*change.changed, *change.unchanged])
        await reply(interaction, message(change, titles), ephemeral=True)

    @gameset.command(name="delete", description="Delete a game set (Manage Server)")
    @app_commands.describe(name=SET_HELP)
    @app_commands.autocomplete(name=autocomplete.set_names)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def delete(
        self,
        interaction: discord.Interaction[RABot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
    ) -> None:
        guild_id = _guild_id(interaction)
        set_name = parse_lookup_name(name)
        await defer(interaction, ephemeral=True)
        deleted = await self.bot.game_sets.delete(guild_id, set_name)
        await reply(interaction, deleted_message(deleted), ephemeral=True)

    @gameset.command(name="list", description="Show this server's game sets")
    async def list_sets(self, interaction: discord.Interaction[RABot]) -> None:
        guild_id = _guild_id(interaction)
        await defer(interaction)
        sets = await self.bot.game_sets.list_sets(guild_id)
        titles = self._titles(g for s in sets for g in s.game_ids)
        await reply(interaction, embeds=[sets_embed(sets, titles)])


async def setup(bot: RABot) -> None:
    await bot.add_cog(GameSetCommands(bot))
