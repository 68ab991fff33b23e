"""The Bot: owns the shared resources and wires them together in `setup_hook`; how it meets the
gateway (shards, IDENTIFY turns) is bot/gateway.py's.

interaction → BotTree (gate, errors) → cog (parse, check, defer) → a service (limits, cache,
coalescing) → RAClient (endpoints over one transport) → formatting (pure) → bot.replies.reply.
What the bot posts by itself (schedules, challenges) runs in bot/posting/.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from typing import cast

import aiohttp
import discord

from bot.config import Settings
from bot.formatting.urls import SiteUrls
from bot.gateway import GatewayBot
from bot.posting import feed
from bot.posting.challenges import ChallengePoster
from bot.posting.feed_poller import FeedPoller
from bot.posting.publisher import DiscordPublisher
from bot.posting.scheduler import Scheduler
from bot.ra.circuit import CircuitBreaker
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.shared_budget import SPARE, SharedBudget
from bot.ra.transport import USER_AGENT, RATransport
from bot.redis_link import RedisLink
from bot.services.catalogue import Catalogue
from bot.services.challenges import Challenges
from bot.services.game_sets import GameSets
from bot.services.guild_limits import GuildRateLimits
from bot.services.leaderboard import Leaderboards
from bot.services.members import Members
from bot.services.pictures import BoardPictures
from bot.services.ra import RAService
from bot.services.resolver import GameResolver
from bot.services.shared_cache import SharedCacheClient
from bot.stats import Stats
from bot.store import Store, StoreError
from bot.tree import BotTree

log = logging.getLogger(__name__)

MAX_CIRCUIT_OPEN = 30.0  # seconds: the longest the circuit refuses before asking RA again

# Loaded in this order; one feature a file.
EXTENSIONS = (
    "bot.cogs.progress",
    "bot.cogs.links",
    "bot.cogs.compare",
    "bot.cogs.leaderboard",
    "bot.cogs.game_sets",
    "bot.cogs.settings",
    "bot.cogs.status",
    "bot.cogs.challenges",
    "bot.cogs.feed",
)


class RABot(GatewayBot):
    session: aiohttp.ClientSession
    store: Store
    ra: RAService
    members: Members
    leaderboards: Leaderboards
    scheduler: Scheduler
    pictures: BoardPictures
    game_sets: GameSets
    catalogue: Catalogue
    resolver: GameResolver
    guild_limits: GuildRateLimits
    stats: Stats
    urls: SiteUrls
    challenges: Challenges
    challenge_poster: ChallengePoster
    feed_poller: FeedPoller
    feed_poster: feed.FeedPoster

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, tree_cls=BotTree)
        self._teardown: asyncio.Future[None] | None = None
        self.urls = SiteUrls(settings.ra_site_base_url, settings.ra_media_base_url)

    @property
    def command_tree(self) -> BotTree:
        """`tree`, as the BotTree it is (tree_cls)."""
        return cast(BotTree, self.tree)

    async def setup_hook(self) -> None:
        s = self.settings
        if s.discord_api_base_url:
            await self.use_gateway_of_api_base()
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT},
            connector=aiohttp.TCPConnector(limit=max(10, s.ra_max_in_flight * 2)),
        )
        self.stats = Stats()
        if s.redis_url:
            self.redis = RedisLink(s.redis_url, prefix=s.redis_key_prefix)
            budget = SharedBudget(
                self.redis,
                rate_per_second=s.ra_requests_per_second,
                max_in_flight=s.ra_max_in_flight,
                share=s.shard_share,
                lease_seconds=s.ra_timeout_seconds + 5,  # longer than any request may take
            )
            limiter = UpstreamLimiter(s.ra_requests_per_second, s.ra_max_in_flight, budget=budget)
            await self.redis.probe()  # not there: start on this process's share, said once
            if not s.discord_api_base_url:
                self.max_concurrency = await self.read_max_concurrency()
        else:
            limiter = local_limiter(s)
        log.info(
            "shards: %s of %s; RA budget and caches: %s",
            ", ".join(map(str, s.shard_ids)) if s.shard_ids is not None else "all",
            s.shard_count or "Discord's recommendation",
            "shared through Redis" if s.redis_url else "this process's",
        )
        transport = RATransport(
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
                open_seconds=s.ra_circuit_open_seconds, max_open_seconds=MAX_CIRCUIT_OPEN
            ),
        )
        client = (
            SharedCacheClient(
                transport,
                link=self.redis,
                progress_ttl=s.progress_cache_seconds,
                game_ttl=s.game_cache_seconds,
                profile_ttl=s.profile_cache_seconds,
            )
            if self.redis is not None
            else RAClient(transport)
        )
        self.guild_limits = GuildRateLimits(
            s.guild_commands_per_minute, s.guild_commands_per_minute_max
        )
        self.store = await Store.open(s.database_url, migrate=False)  # python -m bot migrate
        owner = f"{socket.gethostname()}:{os.getpid()}"
        self.catalogue = Catalogue(
            self.store.catalogue,
            client,
            owner=owner,
            refresh_seconds=s.catalogue_refresh_hours * 3600,
        )
        self.ra = RAService(
            client,
            stats=self.stats,
            progress_ttl=s.progress_cache_seconds,
            game_ttl=s.game_cache_seconds,
            profile_ttl=s.profile_cache_seconds,
            catalogue=self.catalogue.info,
            scheduled_max_age=s.scheduled_progress_max_age_seconds,
        )
        for guild_id, per_minute in (await self.store.guild_settings.guild_rates()).items():
            self.guild_limits.set_guild_limit(guild_id, per_minute)
        self.members = Members(self.store.links)
        self.command_tree.members = self.members
        self.game_sets = GameSets(self.store.sets, s.max_games_per_command)
        self.resolver = GameResolver(self.catalogue, self.store.sets, s.max_games_per_command)
        self.leaderboards = Leaderboards(self.ra)
        self.pictures = BoardPictures(enabled=s.leaderboard_images)
        # Schedules and challenges run by this process: those of its own shards' guilds.
        shards = (
            (s.shard_count, s.shard_ids)
            if s.shard_count is not None and s.shard_ids is not None
            else None
        )
        self.scheduler = Scheduler(
            self.store.schedules,
            self.resolver,
            self.leaderboards,
            DiscordPublisher(self, self.members),
            owner=owner,
            urls=self.urls,
            spread_seconds=s.schedule_spread_seconds,
            pictures=self.pictures,
            shards=shards,
        )
        self.challenges = Challenges(self.ra)
        self.challenge_poster = ChallengePoster(
            self.store.challenges,
            self.challenges,
            DiscordPublisher(self, self.members),
            owner=owner,
            urls=self.urls,
            spread_seconds=s.schedule_spread_seconds,
            pictures=self.pictures,
            shards=shards,
        )
        # The news feed: one poller for the bot (a lease among processes), a poster per process.
        self.feed_poller = FeedPoller(
            client,
            self.store.feeds,
            self.store.links,
            self.resolver,
            owner=owner,
            poll_seconds=s.feed_poll_seconds,
            catchup_hours=s.feed_catchup_hours,
        )
        self.feed_poster = feed.FeedPoster(
            self.store.feeds,
            DiscordPublisher(self, self.members),
            owner=owner,
            urls=self.urls,
            game_info=self.catalogue.info,
            catchup_hours=s.feed_catchup_hours,
            shards=shards,
        )
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if s.sync_commands and s.runs_shard_zero:
            await self.sync_commands()
        elif s.sync_commands:
            log.info("commands are synced by the process running shard 0")
        self._scheduler_task = asyncio.create_task(self._run_scheduler())
        # In the background: a command never waits for the catalogue.
        self._catalogue_task = asyncio.create_task(
            self.catalogue.run_forever(fetch=s.catalogue_refresh_hours > 0)
        )
        self._challenge_task = asyncio.create_task(self._run_challenge_poster())
        self._feed_task = asyncio.create_task(self._run_feed())

    async def _run_scheduler(self) -> None:
        await self.wait_until_ready()
        await self.scheduler.run_forever()

    async def _run_challenge_poster(self) -> None:
        await self.wait_until_ready()
        await self.challenge_poster.run_forever()

    async def _run_feed(self) -> None:
        await self.wait_until_ready()
        await feed.run_forever(self.feed_poller, self.feed_poster, self.settings.feed_poll_seconds)

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
        self.command_tree.closing = True
        await super().close()
        if self._teardown is None:
            self._teardown = asyncio.ensure_future(self._release())
        await asyncio.shield(self._teardown)

    async def _release(self) -> None:
        names = ("_scheduler_task", "_challenge_task", "_catalogue_task", "_feed_task")
        for task in [getattr(self, name, None) for name in names]:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        members = getattr(self, "members", None)
        if members is not None:
            await members.flush()
        poller = getattr(self, "feed_poller", None)
        if poller is not None:
            try:
                await poller.release()
            except StoreError as exc:
                log.warning("could not give the feed poller's lease back (%s)", exc.message)
        session = getattr(self, "session", None)
        if session is not None and not session.closed:
            await session.close()
        if self.redis is not None:
            client = getattr(getattr(self, "ra", None), "client", None)
            if isinstance(client, SharedCacheClient):
                log.info(
                    "shared cache: %d answers from Redis, %d fetched from RA",
                    client.shared_hits,
                    client.shared_misses,
                )
            await self.redis.close()
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()
        pictures = getattr(self, "pictures", None)
        if pictures is not None:
            pictures.close()


def local_limiter(settings: Settings) -> UpstreamLimiter:
    """The RA limiter without Redis: the whole budget, or with SHARD_IDS this process's share
    (rate and requests in flight times its shards / SHARD_COUNT, at least one in flight; starts
    spaced a little wider, as the shared budget does, since other processes run beside it)."""
    share = settings.shard_share
    if share >= 1:
        return UpstreamLimiter(settings.ra_requests_per_second, settings.ra_max_in_flight)
    return UpstreamLimiter(
        settings.ra_requests_per_second * share / (1 + SPARE),
        max(1, math.floor(settings.ra_max_in_flight * share)),
    )


