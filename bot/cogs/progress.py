"""/progress: one RA user's progress on a list of games."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.errors import NotLinked
from bot.formatting.progress import progress_messages
from bot.formatting.text import escape
from bot.options import GAMES_HELP, games_charged_and_deferred
from bot.parsing import parse_ra_username
from bot.replies import followup, reply

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 2000


class Progress(commands.Cog):
    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @app_commands.command(name="progress", description="Show RetroAchievements progress on games")
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        games=GAMES_HELP,
        user="A RetroAchievements user name (default: your linked account)",
        member="A server member whose linked account to show",
    )
    async def progress(
        self,
        interaction: discord.Interaction[RABot],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
        user: app_commands.Range[str, 1, 64] | None = None,
        member: discord.User | None = None,
    ) -> None:
        # Parse and check first: bad input costs no budget and no RA call.
        ra_user = parse_ra_username(user) if user is not None else None
        resolved = await games_charged_and_deferred(self.bot, interaction, games)
        link = None
        if ra_user is None:
            target = member or interaction.user
            link = await self.bot.store.links.get_link(target.id)
            if link is None:
                raise NotLinked(not_linked_message(target, interaction.user))
            ra_user = link.ra_ulid
        report = await self.bot.ra.progress_report(ra_user, resolved.game_ids)
        if link is not None and report.profile.display_name != link.ra_name:
            name = report.profile.display_name
            await self.bot.store.links.rename_link(link.discord_user_id, name)
        messages = progress_messages(report, self.bot.urls)
        await reply(interaction, embeds=messages[0])
        for embeds in messages[1:]:
            await followup(interaction, embeds=embeds)


def not_linked_message(target: discord.abc.User, caller: discord.abc.User) -> str:
    if target.id == caller.id:
        return (
            "You have not linked your RetroAchievements account yet: use `/link`, or name an RA "
            "user with the `user` option."
        )
    return (
        f"{escape(target.display_name, 40)} has not linked a RetroAchievements account yet: "
        "they can use `/link`, or you can name an RA user with the `user` option."
    )


async def setup(bot: RABot) -> None:
    await bot.add_cog(Progress(bot))
