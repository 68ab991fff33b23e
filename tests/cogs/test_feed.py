"""/feed set|stop|show|me and /aotw through the fake Discord, and the feed from an award on RA to
its post in the channel (the real bot's poller and poster, run a round at a time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from tests.cogs.test_leaderboard import seed_members
from tests.cogs.test_schedules import channel_option
from tests.fakes.bot_harness import Harness


async def feed_set(harness: Harness, channel_id: int, **options: Any) -> dict[str, Any]:
    opts = [channel_option(channel_id)] + [{"name": k, "value": v} for k, v in options.items()]
    interaction = await harness.discord.send_interaction("feed set", opts)
    return await interaction.wait_final()


def channel(harness: Harness) -> int:
    return harness.discord.channel_ids[harness.discord.guild_ids[0]]


async def test_set_show_and_stop(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    answer = await feed_set(harness, channel(harness), beaten=False, hardcore_only=True)
    assert answer["ephemeral"]
    assert answer["content"].startswith(
        "From now on, masteries and the Achievement of the Week earned in hardcore"
    )
    feed = await harness.bot.store.feeds.get(guild)
    assert feed is not None and (feed.masteries, feed.beaten, feed.hardcore_only) == (
        True, False, True,
    )
    shown = await harness.answer("feed show")
    assert shown["ephemeral"] and f"<#{channel(harness)}>" in str(shown["embeds"][0])
    stopped = await harness.answer("feed stop")
    assert stopped["content"] == "The feed is stopped: nothing more is announced."
    assert await harness.bot.store.feeds.get(guild) is None
    again = await harness.answer("feed stop")
    assert again["ephemeral"] and again["content"].startswith("This server has no feed")
    assert (await harness.answer("feed show"))["content"].startswith("This server has no feed")


async def test_a_channel_the_bot_cannot_post_in_is_refused_and_nothing_saved(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    muted = await harness.discord.add_channel(
        guild, "news", deny_bot=discord.Permissions(embed_links=True).value
    )
    answer = await feed_set(harness, muted)
    assert answer["ephemeral"] and answer["source"] == "callback"  # before any defer
    assert answer["content"].startswith(f"The bot cannot post embeds in <#{muted}>")
    assert await harness.bot.store.feeds.get(guild) is None


async def test_a_games_filter_that_names_nothing_is_refused(harness: Harness) -> None:
    answer = await feed_set(harness, channel(harness), games="No Such Set Or Title At All")
    assert answer["ephemeral"]
    assert await harness.bot.store.feeds.get(harness.discord.guild_ids[0]) is None


async def test_feed_me_is_remembered_for_every_server(harness: Harness) -> None:
    user = harness.discord.add_member(harness.discord.guild_ids[0], "quiet")
    answer = await harness.answer("feed me", announce=False, user_id=user)
    assert answer["ephemeral"] and "no longer announced" in answer["content"]
    assert not await harness.bot.store.feeds.announces(user)
    await harness.answer("feed me", announce=True, user_id=user)
    assert await harness.bot.store.feeds.announces(user)


async def test_an_award_on_ra_is_announced_in_the_channel_once(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 1)
    harness.ra.clear_aotw()
    harness.ra.add_site_awards(2, datetime.now(UTC) - timedelta(minutes=5), every_seconds=1)
    await feed_set(harness, channel(harness))
    await harness.bot.feed_poller.poll()  # the first poll: the feed starts from now
    harness.ra.add_award("P00", 1, "mastered", at=datetime.now(UTC))
    assert await harness.bot.feed_poller.poll() == 1
    result = await harness.bot.feed_poster.run_once()
    assert (result.sent, result.announced) == (1, 1)
    posts = harness.discord.channel_messages[channel(harness)]
    (post,) = [p for p in posts if p.get("embeds")]
    text = str(post["embeds"][0])
    assert "player00" in text and "P00" in text
    assert "<@" not in str(post.get("content") or "")
    await harness.bot.feed_poller.poll()
    assert (await harness.bot.feed_poster.run_once()).sent == 0  # once
    shown = await harness.answer("feed show")
    cost = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
    # What the feed cost: three polls of one page of awards and the AOTW each.
    assert cost["RetroAchievements requests (last hour)"].startswith("6: one poll serves")


async def test_aotw_names_the_guild_s_earners_and_counts_the_others(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 3)
    harness.ra.set_aotw(
        5, "Chaos Emerald", game_id=1, starts_at=datetime.now(UTC) - timedelta(days=1)
    )
    harness.ra.add_aotw_unlock("P01", hardcore=True, at=datetime.now(UTC) - timedelta(hours=1))
    answer = await harness.answer("aotw")
    text = str(answer["embeds"][0])
    assert "Chaos Emerald" in text and "player01" in text and "player00" not in text
    harness.ra.clear_aotw()
