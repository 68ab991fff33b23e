"""The /status reply. Pure: figures in, embed out."""

from __future__ import annotations

import math
from datetime import datetime

import discord

from bot.formatting.text import escape
from bot.models.feeds import Feed
from bot.stats import StatsSnapshot


def status_embed(
    *,
    latency: float,
    guilds: int,
    shards: int,
    stats: StatsSnapshot,
    budget_per_hour: int | None = None,
    waiting: int = 0,
    queue_wait: float = 0.0,
    storage_down_since: datetime | None = None,
    ra_down_since: datetime | None = None,
    feed_requests: int | None = None,
    feed: Feed | None = None,
) -> discord.Embed:
    """`budget_per_hour`: RA requests the key may make in an hour (the limiter's rate);
    `waiting` and `queue_wait`: requests waiting for a turn now, and the longest wait so far;
    `storage_down_since` / `ra_down_since`: since when the database / RA has not answered
    (None: it answers); `feed_requests`: the news feed's RA requests in the last hour (the
    whole bot's); `feed`: this server's feed, for its last post and last problem."""
    embed = discord.Embed(title="Bot status", colour=discord.Colour.blurple())
    latency_text = (
        "not connected"
        if math.isinf(latency) or math.isnan(latency)
        else (f"{latency * 1000:.0f} ms")
    )
    embed.add_field(name="Gateway latency", value=latency_text)
    embed.add_field(name="Storage", value=_health(storage_down_since))
    embed.add_field(name="RetroAchievements", value=_health(ra_down_since))
    embed.add_field(name="Servers", value=f"{guilds:,}")
    embed.add_field(name="Shards", value=f"{shards:,}")
    embed.add_field(name="RA requests (last hour)", value=f"{stats.ra_requests:,}")
    embed.add_field(name="RA errors (last hour)", value=f"{stats.ra_errors:,}")
    if budget_per_hour:
        embed.add_field(
            name="RA budget (last hour)",
            value=(
                f"{stats.ra_requests:,} of {budget_per_hour:,} "
                f"({stats.ra_requests / budget_per_hour:.0%}): "
                f"{stats.ra_interactive:,} interactive, {stats.ra_scheduled:,} scheduled"
            ),
            inline=False,
        )
    embed.add_field(
        name="Waited for a turn (last hour)",
        value=f"{stats.ra_delayed:,} delayed 1 s or more, {stats.ra_refused:,} refused",
    )
    embed.add_field(
        name="RA queue now",
        value=(
            "empty"
            if waiting == 0
            else f"{waiting:,} waiting, the longest for {queue_wait:.1f} s"
        ),
    )
    rate = stats.cache_hit_rate
    embed.add_field(
        name="Cache hit rate (last hour)",
        value="no look-ups yet" if rate is None else f"{rate:.0%}",
    )
    if feed_requests is not None:
        embed.add_field(name="News feed", value=_feed(feed_requests, feed), inline=False)
    return embed


def _feed(requests: int, feed: Feed | None) -> str:
    """What the feed costs (one poll for every server), and this server's feed's last post and
    last problem."""
    text = f"{requests:,} RA requests in the last hour, for every server"
    if feed is None:
        return text
    last = (
        f"last post <t:{int(feed.last_post_at.timestamp())}:R>"
        if feed.last_post_at is not None
        else "nothing posted yet"
    )
    text += f"; this server's: {last}"
    if feed.problem is not None:
        text += f"; last problem: {escape(feed.problem, 200)}"
    return text


def _health(down_since: datetime | None) -> str:
    if down_since is None:
        return "ok"
    return f"⚠️ not answering since <t:{int(down_since.timestamp())}:R>"
