"""The feed's poster: sends the announcements the poller queued, each once per guild.

A process posts for the guilds of its own shards. Each announcement is claimed before it is sent
(bot/store/feeds.py: one claimant per (guild, award) across processes); a claim a dead process
left is taken over after its lease, looking in the channel first for the post it may have made
(its footer carries a marker), and every message goes with a nonce Discord de-duplicates, so a
crash between the claim and the post neither doubles it nor loses it. More than SUMMARY_AFTER
waiting for one guild at once (a catch-up after downtime) go as one summary that names them.
A channel the bot cannot post in is kept as the feed's problem (shown in `/feed show`) and its
posts wait; they expire, unsent, once older than FEED_CATCHUP_HOURS, as any post does.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import discord

from bot.formatting.feed import aotw_post_embed, award_embed, summary_embed
from bot.formatting.urls import SiteUrls
from bot.models.feeds import AOTW, Feed, QueuedPost
from bot.models.ra import GameInfo
from bot.posting.feed_poller import FeedPoller
from bot.posting.once import LEASE, ChannelGone, PostFailed, Publisher
from bot.store.database import StoreError
from bot.store.feeds import FeedStore
from bot.store.schedules import Shards

log = logging.getLogger(__name__)

SUMMARY_AFTER = 10  # more than this many waiting for one guild go as one summary
BATCH = 500  # posts looked at in one round, at most
KEEP = timedelta(days=8)  # posted rows kept this long: an AOTW's earners are keyed by its week


def _digest(keys: Sequence[str]) -> str:
    """The same for the same awards, whatever their order."""
    return hashlib.sha1("\n".join(sorted(keys)).encode(), usedforsecurity=False).hexdigest()


def marker(keys: Sequence[str]) -> str:
    """The footer that finds a post again after a crash: short, and no RA name in it."""
    return f"Feed · {_digest(keys)[:12]}"


def nonce(keys: Sequence[str]) -> str:
    """Discord drops a second message with the same nonce (at most 25 characters)."""
    return f"f{_digest(keys)[:24]}"


@dataclass(frozen=True)
class RoundResult:
    sent: int  # messages sent (a summary counts once)
    announced: int  # awards announced (a summary's each)
    waiting: int  # awards left for a later round (a channel gone, Discord refusing)

    def __add__(self, other: RoundResult) -> RoundResult:
        return RoundResult(
            self.sent + other.sent, self.announced + other.announced, self.waiting + other.waiting
        )


class FeedPoster:
    """One round (`run_once`) sends what waits for this process's guilds."""

    def __init__(
        self,
        feeds: FeedStore,
        publisher: Publisher,
        *,
        owner: str,
        urls: SiteUrls,
        game_info: Callable[[int], GameInfo | None] = lambda _game_id: None,
        catchup_hours: float = 24.0,
        shards: Shards | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.feeds = feeds
        self.publisher = publisher
        self.owner = owner
        self.urls = urls
        self.game_info = game_info  # the catalogue's title, console and icon of a game
        self.catchup = timedelta(hours=catchup_hours)
        self.shards = shards
        self.clock = clock

    async def run_once(self) -> RoundResult:
        now = self.clock()
        expired = await self.feeds.expire_older_than(now - self.catchup)
        if expired:
            log.info("feed: %d announcements waited past the catch-up and expired", expired)
        await self.feeds.prune(now - KEEP)
        waiting = await self.feeds.pending(now, LEASE, shards=self.shards, limit=BATCH)
        if not waiting:
            return RoundResult(0, 0, 0)
        feeds = {feed.guild_id: feed for feed in await self.feeds.all(self.shards)}
        by_guild: dict[int, list[QueuedPost]] = defaultdict(list)
        for post in waiting:
            by_guild[post.guild_id].append(post)
        result = RoundResult(0, 0, 0)
        for guild_id, posts in by_guild.items():
            feed = feeds.get(guild_id)
            if feed is not None:
                result += await self._post_guild(feed, posts, now)
        return result

    async def _post_guild(
        self, feed: Feed, posts: list[QueuedPost], now: datetime
    ) -> RoundResult:
        try:
            names = await self.publisher.member_names(feed.guild_id, [p.user_id for p in posts])
        except ChannelGone as exc:
            await self.feeds.record_problem(feed.guild_id, exc.reason, now)
            return RoundResult(0, 0, len(posts))
        # The RA name stands in for a Discord name that could not be read this time.
        members = {
            post.user_id: names[post.user_id] or str(post.data.get("ra_name", ""))
            for post in posts
            if post.user_id in names
        }
        # Only members the guild still has; the others' posts wait and expire with the catch-up.
        known = [post for post in posts if post.user_id in members]
        if len(known) > SUMMARY_AFTER:
            return await self._send(feed, known, members, now, summary=True)
        result = RoundResult(0, 0, len(posts) - len(known))
        for index, post in enumerate(known):
            one = await self._send(feed, [post], members, now, summary=False)
            result += one
            if one.waiting:  # the channel is gone or Discord refuses: the rest wait too
                return result + RoundResult(0, 0, len(known) - index - 1)
        return result

    async def _send(
        self,
        feed: Feed,
        posts: list[QueuedPost],
        names: dict[int, str],
        now: datetime,
        *,
        summary: bool,
    ) -> RoundResult:
        claimed = await self.feeds.claim(
            feed.guild_id, [p.award_key for p in posts], self.owner, now, LEASE
        )
        mine = [p for p in posts if p.award_key in set(claimed.keys)]
        if not mine:
            return RoundResult(0, 0, 0)  # another process is posting them
        keys = [p.award_key for p in mine]
        footer = marker(keys)
        if claimed.taken_over:
            found = await self._find(feed, footer)
            if found is not None:
                await self.feeds.posted(feed.guild_id, keys, found, now)
                return RoundResult(0, len(mine), 0)
        embed = self._embed(mine, names, footer, summary=summary)
        try:
            message_id = await self.publisher.send(
                feed.guild_id, feed.channel_id, embed, nonce(keys), None
            )
        except ChannelGone as exc:
            await self.feeds.release(feed.guild_id, keys, self.owner)
            await self.feeds.record_problem(feed.guild_id, exc.reason, now)
            log.info("feed of %s: cannot post (%s)", feed.guild_id, exc.reason)
            return RoundResult(0, 0, len(mine))
        except PostFailed as exc:
            await self.feeds.release(feed.guild_id, keys, self.owner)
            log.info("feed of %s: Discord refused a post (%s): later", feed.guild_id, exc)
            return RoundResult(0, 0, len(mine))
        await self.feeds.posted(feed.guild_id, keys, message_id, now)
        if feed.problem is not None:
            await self.feeds.record_problem(feed.guild_id, None, now)
        return RoundResult(1, len(mine), 0)

    def _embed(
        self, posts: list[QueuedPost], names: dict[int, str], footer: str, *, summary: bool
    ) -> discord.Embed:
        if summary:
            game_ids = {int(p.data.get("game_id", 0)) for p in posts}
            games = {game_id: self.game_info(game_id) for game_id in game_ids}
            return summary_embed(posts, names, games, self.urls, footer)
        (post,) = posts
        name = names.get(post.user_id, str(post.data.get("ra_name", "")))
        if post.kind == AOTW:
            return aotw_post_embed(post, name, self.urls, footer)
        game = self.game_info(int(post.data.get("game_id", 0)))
        return award_embed(post, name, game, self.urls, footer)

    async def _find(self, feed: Feed, footer: str) -> int | None:
        try:
            return await self.publisher.find_post(feed.guild_id, feed.channel_id, footer)
        except (ChannelGone, PostFailed):
            return None


async def run_forever(poller: FeedPoller, poster: FeedPoster, every_seconds: float) -> None:
    """Every `every_seconds` (the first time after one interval: a restart's catch-up comes from
    the cursor, not from hurrying), poll RA, then post what waits. A round that fails (the
    database down, a bug) is logged and the next one comes: what was queued stays queued."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await poller.poll()
            await poster.run_once()
        except StoreError as exc:
            log.warning("feed: storage unavailable (%s); trying again next round", exc)
        except Exception:
            log.exception("feed round failed")
