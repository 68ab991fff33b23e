"""/progress: one RA user's progress on a list of games."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotLinked
from bot.formatting.progress import progress_messages
from bot.parsing import parse_game_ids, parse_ra_username
from bot.replies import defer, followup, reply

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 2000


class Progress(commands.Cog):
    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @app_commands.command(name="progress", description="Show RetroAchievements progress on games")
    @app_commands.describe(
        games="Game ids or RetroAchievements game links, separated by commas or spaces",
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
        game_ids = parse_game_ids(games, self.bot.settings.max_games_per_command)
        if user is not None:
            ra_user = parse_ra_username(user)
        elif member is not None:
            raise NotLinked(
                f"{discord.utils.escape_markdown(member.display_name)} has no linked "
                "RetroAchievements account yet: name one with the `user` option instead."
            )
        else:
            raise NotLinked(
                "Linking accounts is not available yet: name a RetroAchievements user with "
                "the `user` option, e.g. `/progress games:1 user:MaxMilyin`."
            )
        self.bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)

        await defer(interaction)
        report = await self.bot.ra.progress_report(ra_user, game_ids)
        messages = progress_messages(report, self.bot.links)
        await reply(interaction, embeds=messages[0])
        for embeds in messages[1:]:
            await followup(interaction, embeds=embeds)


async def setup(bot: RABot) -> None:
    await bot.add_cog(Progress(bot))
