"""/settings: this guild's own settings (Manage Server).

`/settings ratelimit per_minute`: the guild's budget of commands that reach RA, within the
operator's ceiling. Stored (the bot applies stored rates at start-up) and applied at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BadInput
from bot.replies import defer, reply

if TYPE_CHECKING:
    from bot.bot import RABot

PER_MINUTE_MAX = 10_000


def ratelimit_message(requested: int, in_force: int, ceiling: int, default: int) -> str:
    """What the admin reads once the rate is stored and applied."""
    if requested > ceiling:
        return (
            f"The bot's operator allows at most {ceiling:,} a minute per server, so that "
            f"ceiling applies: this server's budget is now {in_force:,} a minute for commands "
            "that reach RetroAchievements."
        )
    return (
        f"This server's budget is now {in_force:,} a minute for commands that reach "
        f"RetroAchievements (the bot's default is {default:,}, the most allowed {ceiling:,})."
    )


class SettingsCommands(commands.Cog):
    settings = app_commands.Group(
        name="settings",
        description="This server's settings for the bot (Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @settings.command(
        name="ratelimit",
        description="How many commands that reach RetroAchievements this server may run a minute",
    )
    @app_commands.describe(per_minute="Commands a minute, for the whole server")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def ratelimit(
        self,
        interaction: discord.Interaction[RABot],
        per_minute: app_commands.Range[int, 1, PER_MINUTE_MAX],
    ) -> None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not 1 <= per_minute <= PER_MINUTE_MAX:  # Discord enforces it; a client may not
            raise BadInput(f"Give a number of commands a minute from 1 to {PER_MINUTE_MAX:,}.")
        limits = self.bot.guild_limits
        ceiling = self.bot.settings.guild_commands_per_minute_max
        value = min(per_minute, ceiling)
        await defer(interaction, ephemeral=True)
        # Stored first: a rate that is in force but not stored would be lost at the next start.
        await self.bot.store.guild_settings.set_guild_rate(guild_id, value)
        in_force = limits.set_guild_limit(guild_id, value)
        await reply(
            interaction,
            ratelimit_message(per_minute, in_force, ceiling, limits.default_per_minute),
            ephemeral=True,
        )


async def setup(bot: RABot) -> None:
    await bot.add_cog(SettingsCommands(bot))
