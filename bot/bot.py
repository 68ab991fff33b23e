"""The Bot: owns the shared resources and wires them together in `setup_hook`.

interaction → cog (parse, check, defer) → RAService (limits, cache, coalescing) → RAClient (HTTP)
→ formatting (pure) → bot.replies.reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.config import Settings
from bot.formatting.progress import Links
from bot.ra.circuit import CircuitBreaker
from bot.ra.client import USER_AGENT, RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.services.game_sets import GameSets
from bot.services.guild_limits import GuildRateLimits
from bot.services.leaderboard import Leaderboards
from bot.services.members import Members
from bot.services.publisher import DiscordPublisher
from bot.services.ra import RAService
from bot.services.scheduler import Scheduler
from bot.stats import Stats
from bot.store import Store
from bot.store.schedules import ScheduleStore
from bot.tree import BotTree

log = logging.getLogger(__name__)

# Loaded in this order; one feature a file.
EXTENSIONS = (
    "bot.cogs.progress",
    "bot.cogs.links",
    "bot.cogs.compare",
    "bot.cogs.leaderboard",
    "bot.cogs.gamesets",
    "bot.cogs.settings",
    "bot.cogs.status",
)


def use_discord_api_base(base_url: str) -> None:
    """Send discord.py's REST calls (interaction callbacks and webhooks too) to `base_url`."""
    discord.http.Route.BASE = base_url.rstrip("/")


def intents() -> discord.Intents:
    """Only what slash commands need: guilds. No privileged intents, no member cache."""
    return discord.Intents(guilds=True)


# The bot never joins voice: silence discord.py's start-up warnings about voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class RABot(commands.AutoShardedBot):
    session: aiohttp.ClientSession
    store: Store
    ra: RAService
    members: Members
    leaderboards: Leaderboards
    schedules: ScheduleStore
    scheduler: Scheduler
    game_sets: GameSets
    guild_limits: GuildRateLimits
    stats: Stats
    links: Links

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            tree_cls=BotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
        )
        self.settings = settings
        self.closing = False
        self._teardown: asyncio.Future[None] | None = None
        self.links = Links(settings.ra_site_base_url, settings.ra_media_base_url)
        if settings.discord_api_base_url:
            use_discord_api_base(settings.discord_api_base_url)

    async def setup_hook(self) -> None:
        s = self.settings
        if s.discord_api_base_url:
            await self._use_gateway_of_api_base()
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT},
            connector=aiohttp.TCPConnector(limit=max(10, s.ra_max_in_flight * 2)),
        )
        self.stats = Stats()
        limiter = UpstreamLimiter(s.ra_requests_per_second, s.ra_max_in_flight)
        client = RAClient(
            self.session,
            api_key=s.ra_api_key,
            username=s.ra_username,
            base_url=s.ra_api_base_url,
            limiter=limiter,
            timeout=s.ra_timeout_seconds,
            retry_budget=s.ra_retry_budget_seconds,
            stats=self.stats,
            # Refuses at once while RA does not answer.
            circuit=CircuitBreaker(
                open_seconds=s.ra_circuit_open_seconds,
                max_open_seconds=3 * s.ra_circuit_open_seconds,
            ),
        )
        self.ra = RAService(
            client,
            stats=self.stats,
            progress_ttl=s.progress_cache_seconds,
            game_ttl=s.game_cache_seconds,
            profile_ttl=s.profile_cache_seconds,
        )
        self.guild_limits = GuildRateLimits(
            s.guild_commands_per_minute, s.guild_commands_per_minute_max
        )
        self.store = await Store.open(s.database_url)
        for guild_id, per_minute in (await self.store.guild_rates()).items():
            self.guild_limits.set_guild_limit(guild_id, per_minute)
        self.members = Members(self.store)
        self.game_sets = GameSets(self.store, s.max_games_per_command)
        self.leaderboards = Leaderboards(self.ra)
        self.schedules = ScheduleStore(self.store)
        self.scheduler = Scheduler(
            self.schedules,
            self.game_sets,
            self.leaderboards,
            DiscordPublisher(self),
            owner=f"{socket.gethostname()}:{os.getpid()}",
            links=self.links,
            spread_seconds=s.schedule_spread_seconds,
        )
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if s.sync_commands:
            await self.sync_commands()
        self._scheduler_task = asyncio.create_task(self._run_scheduler())

    async def _run_scheduler(self) -> None:
        await self.wait_until_ready()
        await self.scheduler.run_forever()

    async def _use_gateway_of_api_base(self) -> None:
        """With a custom REST base, take the gateway URL from that base's /gateway/bot."""
        data = await self.http.request(discord.http.Route("GET", "/gateway/bot"))
        url = yarl.URL(data["url"])
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url
        log.info("using the gateway of DISCORD_API_BASE_URL: %s", url.with_query(None))

    async def sync_commands(self) -> None:
        guild_id = self.settings.dev_guild_id
        if guild_id:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        """Close the gateway, then the HTTP session and the store; safe to call twice."""
        self.closing = True
        await super().close()
        if self._teardown is None:
            self._teardown = asyncio.ensure_future(self._release())
        await asyncio.shield(self._teardown)

    async def _release(self) -> None:
        task = getattr(self, "_scheduler_task", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        members = getattr(self, "members", None)
        if members is not None:
            await members.flush()
        session = getattr(self, "session", None)
        if session is not None and not session.closed:
            await session.close()
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()


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
