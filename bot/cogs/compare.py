"""/compare: members side by side on some games."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.errors import BadInput, UserFacingError
from bot.formatting.leaderboard import compare_embeds
from bot.formatting.text import escape
from bot.models.members import LinkedMember
from bot.options import GAMES_HELP, MAX_COMPARE, games_charged_and_deferred, parse_mentions
from bot.replies import followup, reply

if TYPE_CHECKING:
    from bot.bot import RABot


def _names(members: list[discord.Member]) -> str:
    return ", ".join(escape(m.display_name, 32) for m in members)


class CompareCommands(commands.Cog):
    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @app_commands.command(name="compare", description="Compare members side by side on games")
    @app_commands.guild_only()
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        games=GAMES_HELP,
        members=f"Mentions of up to {MAX_COMPARE} members (one: you and them)",
    )
    async def compare(
        self,
        interaction: discord.Interaction[RABot],
        games: app_commands.Range[str, 1, 2000],
        members: app_commands.Range[str, 1, 1000],
    ) -> None:
        assert interaction.guild is not None  # guild_only
        ids = parse_mentions(members)
        if len(ids) == 1 and ids[0] != interaction.user.id:
            ids.insert(0, interaction.user.id)
        if len(ids) < 2:
            raise BadInput(
                "Mention the members to compare in `members`, e.g. `@Alice @Bob` "
                "(one mention compares you with them)."
            )
        resolved = await games_charged_and_deferred(self.bot, interaction, games)

        try:
            present = await self.bot.members.present(interaction.guild, ids)
        except TimeoutError:
            raise UserFacingError(
                "Discord did not answer a member look-up in time: try again in a moment."
            ) from None
        in_guild = [present[i] for i in ids if i in present]
        bots = [m for m in in_guild if m.bot]
        humans = [m for m in in_guild if not m.bot]
        links = await self.bot.store.links.get_links(m.id for m in humans)
        linked = [LinkedMember(m.id, links[m.id], m.display_name) for m in humans if m.id in links]
        unlinked = [m for m in humans if m.id not in links]

        notes = []
        if unlinked:
            notes.append(f"\nNot linked yet (they can use `/link`): {_names(unlinked)}")
        if bots:
            notes.append(f"Bots are left out: {_names(bots)}")
        if absent := len(ids) - len(in_guild):
            notes.append(
                f"{absent} mentioned user{'s are' if absent > 1 else ' is'} not in this server."
            )
        if not linked:
            raise UserFacingError(
                "None of those members has linked a RetroAchievements account yet: they can use "
                "`/link`."
            )
        await self.bot.store.links.mark_seen(interaction.guild.id, [m.user_id for m in linked])

        board = await self.bot.leaderboards.build(linked, resolved.game_ids)
        messages = compare_embeds(board, self.bot.urls, notes)
        await reply(interaction, embeds=messages[0])
        for embeds in messages[1:]:
            await followup(interaction, embeds=embeds)


async def setup(bot: RABot) -> None:
    await bot.add_cog(CompareCommands(bot))
