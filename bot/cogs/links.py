"""/link and /unlink: a Discord user's RetroAchievements account, the same in every guild."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.formatting.links import linked_embed
from bot.formatting.text import escape
from bot.parsing import parse_ra_username
from bot.replies import defer, reply

if TYPE_CHECKING:
    from bot.bot import RABot


class LinkCommands(commands.Cog):
    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @app_commands.command(name="link", description="Link your RetroAchievements account")
    @app_commands.describe(username="Your RetroAchievements user name")
    async def link(
        self, interaction: discord.Interaction[RABot], username: app_commands.Range[str, 1, 64]
    ) -> None:
        name = parse_ra_username(username)
        self.bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
        await defer(interaction, ephemeral=True)
        # The account must exist: RA's profile gives its permanent id (ULID) and current name.
        profile = await self.bot.ra.profile(name)
        previous = await self.bot.store.links.get_link(interaction.user.id)
        await self.bot.store.links.set_link(
            interaction.user.id, profile.ulid or profile.display_name, profile.display_name
        )
        replaced = (
            previous.ra_name
            if previous is not None and previous.ra_ulid not in (profile.ulid, profile.display_name)
            else None
        )
        await reply(
            interaction,
            embeds=[linked_embed(profile, self.bot.urls, replaced)],
            ephemeral=True,
        )

    @app_commands.command(
        name="unlink", description="Remove the link to your RetroAchievements account"
    )
    async def unlink(self, interaction: discord.Interaction[RABot]) -> None:
        await defer(interaction, ephemeral=True)
        previous = await self.bot.store.links.get_link(interaction.user.id)
        if previous is None or not await self.bot.store.links.delete_link(interaction.user.id):
            await reply(
                interaction,
                "You have no linked RetroAchievements account, so there was nothing to remove.",
                ephemeral=True,
            )
            return
        await reply(
            interaction,
            f"Your link to {escape(previous.ra_name, 40)} is removed: link again any time with "
            "`/link`.",
            ephemeral=True,
        )


async def setup(bot: RABot) -> None:
    await bot.add_cog(LinkCommands(bot))
