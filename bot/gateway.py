"""The bot's side of the gateway and of being invited: shards, IDENTIFY turns shared by every
process (through Redis), a custom REST base and its gateway, the intents, and the invite URL
with the permissions the bot needs. `RABot` (bot/bot.py) is a GatewayBot with its parts wired in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot.config import Settings
from bot.redis_link import RedisLink

log = logging.getLogger(__name__)

# Discord allows `max_concurrency` IDENTIFYs per 5 seconds, bucketed by shard_id % that.
IDENTIFY_SPACING = 5.0


def use_discord_api_base(base_url: str) -> None:
    """Send discord.py's REST calls (interaction callbacks and webhooks too) to `base_url`."""
    discord.http.Route.BASE = base_url.rstrip("/")


def intents() -> discord.Intents:
    """Only what slash commands need: guilds. No privileged intents, no member cache."""
    return discord.Intents(guilds=True)


# The bot never joins voice: silence discord.py's start-up warnings about voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class GatewayBot(commands.AutoShardedBot):
    """An AutoShardedBot with the settings' shards, only the guilds intent and no caches it
    does not need, whose IDENTIFYs take turns with the other processes' through `redis`."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            **shard_options(settings),
            **options,
        )
        self.settings = settings
        self.redis: RedisLink | None = None  # REDIS_URL: shared with the bot's other processes
        self.max_concurrency = 1
        if settings.discord_api_base_url:
            use_discord_api_base(settings.discord_api_base_url)

    async def use_gateway_of_api_base(self) -> None:
        """With a custom REST base, take the gateway URL from that base's /gateway/bot."""
        data = await self.http.request(discord.http.Route("GET", "/gateway/bot"))
        self.max_concurrency = max_concurrency_of(data.get("session_start_limit"))
        url = yarl.URL(data["url"])
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url
        log.info("using the gateway of DISCORD_API_BASE_URL: %s", url.with_query(None))

    async def read_max_concurrency(self) -> int:
        try:
            _, _, limits = await self.http.get_bot_gateway()
        except discord.DiscordException as exc:
            log.warning("could not read max_concurrency from /gateway/bot (%s)", exc)
            return 1
        return max_concurrency_of(limits)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """With Redis, IDENTIFYs of every process take turns per max_concurrency bucket: a lock
        that expires after IDENTIFY_SPACING and is never released early."""
        link = self.redis
        if link is None or not await link.usable():
            await super().before_identify_hook(shard_id, initial=initial)
            return
        bucket = (shard_id or 0) % max(1, self.max_concurrency)
        key = link.key("identify", bucket)
        owner = f"{socket.gethostname()}:{os.getpid()}:{shard_id}"
        try:
            for _ in range(1000):
                if await link.client.set(key, owner, nx=True, px=int(IDENTIFY_SPACING * 1000)):
                    return
                wait = await link.client.pttl(key)
                log.debug("shard %s waits %d ms for its IDENTIFY turn", shard_id, wait)
                await asyncio.sleep(max(0.05, wait / 1000))
        except link.errors as exc:
            link.failed(exc)
        await super().before_identify_hook(shard_id, initial=initial)


def shard_options(settings: Settings) -> dict[str, Any]:
    """SHARD_COUNT and SHARD_IDS for AutoShardedBot (neither: Discord's recommendation)."""
    options: dict[str, Any] = {}
    if settings.shard_count is not None:
        options["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


def max_concurrency_of(limits: Any) -> int:
    try:
        return max(1, int(limits["max_concurrency"]))
    except (KeyError, TypeError, ValueError):
        return 1


def required_permissions() -> discord.Permissions:
    """What the bot needs in a channel: see it, post embeds there, read its own posts back."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,  # to find a scheduled post a crash left unrecorded
    )


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id,
        permissions=required_permissions(),
        scopes=("bot", "applications.commands"),
    )
