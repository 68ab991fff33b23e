"""/status: is the bot healthy, and how hard is it using RA's key?"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.formatting.status import status_embed
from bot.models.feeds import Feed
from bot.replies import defer, reply
from bot.store import StoreError

if TYPE_CHECKING:
    from bot.bot import RABot


class Status(commands.Cog):
    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Bot health: latency, RA usage, cache")
    async def status(self, interaction: discord.Interaction[RABot]) -> None:
        await defer(interaction, ephemeral=True)  # the ping below is I/O
        limiter = self.bot.ra.client.limiter
        database = self.bot.store.database
        if not await database.ping() and database.down_since is None:
            database.down_since = datetime.now(UTC)  # a timeout: nothing recorded it
        circuit = self.bot.ra.client.circuit
        embed = status_embed(
            latency=self.bot.latency,
            guilds=len(self.bot.guilds),
            shards=self.bot.shard_count or 1,
            stats=self.bot.stats.snapshot(),
            budget_per_hour=round(3600 / limiter.interval),
            waiting=limiter.waiting,
            queue_wait=limiter.queue_wait(),
            storage_down_since=database.down_since,
            ra_down_since=circuit.down_since if circuit is not None else None,
            feed_requests=self.bot.feed_poller.requests_last_hour(),
            feed=await self._feed(interaction.guild_id),
        )
        await reply(interaction, embeds=[embed], ephemeral=True)

    async def _feed(self, guild_id: int | None) -> Feed | None:
        """This server's feed, if it has one and the database answers (/status never fails)."""
        if guild_id is None:
            return None
        try:
            return await self.bot.store.feeds.get(guild_id)
        except StoreError:
            return None


async def setup(bot: RABot) -> None:
    await bot.add_cog(Status(bot))
