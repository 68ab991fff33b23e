"""Where the bot's own posts go: a guild's channel, through discord.py."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import aiohttp
import discord

from bot.formatting.leaderboard_picture import attach
from bot.models.members import LinkedMember
from bot.posting.once import ChannelGone, PostFailed
from bot.replies import NO_MENTIONS
from bot.services.members import Members

log = logging.getLogger(__name__)


class DiscordPublisher:
    def __init__(self, client: discord.Client, members: Members) -> None:
        self.client = client
        self._members = members

    def _guild(self, guild_id: int) -> discord.Guild:
        guild = self.client.get_guild(guild_id)
        if guild is None:
            raise ChannelGone("the bot is no longer in this server")
        return guild

    def _channel(self, guild_id: int, channel_id: int) -> discord.abc.Messageable:
        channel = self._guild(guild_id).get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise ChannelGone("the channel was deleted")
        return channel

    async def members(self, guild_id: int) -> list[LinkedMember]:
        return await self._members.linked_in(self._guild(guild_id))

    async def member_names(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, str]:
        return await self._members.names(self._guild(guild_id), user_ids)

    async def send(
        self,
        guild_id: int,
        channel_id: int,
        embed: discord.Embed,
        nonce: str,
        edit: int | None,
        image: bytes | None = None,
    ) -> int:
        channel = self._channel(guild_id, channel_id)
        name = getattr(channel, "name", "the channel")

        def files() -> list[discord.File]:  # a File is spent by one request
            return [attach(embed, image)] if image is not None else []

        try:
            if edit is not None and isinstance(channel, discord.TextChannel):
                try:
                    # The attachments given replace the previous post's picture.
                    await channel.get_partial_message(edit).edit(
                        embed=embed, attachments=files(), allowed_mentions=NO_MENTIONS
                    )
                    return edit
                except discord.NotFound:
                    log.info("the message kept for schedule edits was deleted: posting anew")
            message = await channel.send(
                embed=embed, files=files(), nonce=nonce, allowed_mentions=NO_MENTIONS
            )
            return message.id
        except discord.Forbidden:
            raise ChannelGone(
                f"the bot may no longer post embeds in #{name}: give it View Channel, "
                "Send Messages and Embed Links there, then schedule again"
            ) from None
        except discord.NotFound:
            raise ChannelGone("the channel was deleted") from None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise PostFailed(type(exc).__name__) from None

    async def find_post(self, guild_id: int, channel_id: int, marker: str) -> int | None:
        """A post of ours carrying `marker` among the channel's latest messages."""
        channel = self._channel(guild_id, channel_id)
        assert self.client.user is not None
        try:
            async for message in channel.history(limit=25):
                if message.author.id == self.client.user.id and any(
                    e.footer.text == marker for e in message.embeds
                ):
                    return message.id
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError):
            return None  # no Read Message History: the nonce still guards the retry
        return None
