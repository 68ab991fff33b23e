"""/leaderboard schedule, schedules, unschedule through the fake Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import discord

from tests.cogs.test_leaderboard import seed_members
from tests.fakes.bot_harness import Harness


def channel_option(channel_id: int) -> dict[str, Any]:
    return {"name": "channel", "type": 7, "value": str(channel_id)}


async def schedule(
    harness: Harness, channel_id: int, *, user_id: int | None = None, guild_id: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    opts = [channel_option(channel_id)] + [{"name": k, "value": v} for k, v in options.items()]
    interaction = await harness.discord.send_interaction(
        "leaderboard schedule", opts, user_id=user_id, guild_id=guild_id
    )
    return await interaction.wait_final()


async def test_schedule_answers_with_its_id_and_next_run(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    answer = await schedule(harness, channel, games="1, 228", every="daily", time="18:30")
    assert answer["ephemeral"]
    match = re.fullmatch(
        r"Schedule #(\d+): the leaderboard of 1, 228 goes to <#(\d+)> daily at 18:30 UTC\. "
        r"First post <t:(\d+):F> \(<t:\d+:R>\)\.\n"
        r"Cost: nothing yet \(nobody here has linked an RA account\); one RA call per linked "
        r"member each day once they do\.",
        answer["content"],
    )
    assert match, answer["content"]
    assert int(match.group(2)) == channel
    first = datetime.fromtimestamp(int(match.group(3)), UTC)
    assert (first.hour, first.minute) == (18, 30)
    assert first > datetime.now(UTC)

    listing = await harness.answer("leaderboard schedules")
    (field,) = listing["embeds"][0]["fields"]
    assert field["name"] == f"#{match.group(1)}"
    assert f"<#{channel}> · daily at 18:30 UTC" in field["value"]
    assert "Games: 1, 228" in field["value"] and "Next: <t:" in field["value"]


async def test_a_channel_where_the_bot_cannot_post_is_refused(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    muted = await harness.discord.add_channel(
        guild, "announcements", deny_bot=discord.Permissions(send_messages=True).value
    )
    answer = await schedule(harness, muted, games="1", every="weekly")
    assert answer["ephemeral"] and answer["source"] == "callback"
    assert answer["content"] == (
        f"The bot cannot post embeds in <#{muted}>: give it View Channel, Send Messages and "
        "Embed Links there, then try again."
    )
    assert await harness.bot.store.schedules.for_guild(guild) == []


async def test_bad_time_games_or_unknown_set_are_refused(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    answer = await schedule(harness, channel, games="1", every="daily", time="25:00")
    assert "HH:MM" in answer["content"]
    answer = await schedule(harness, channel, games="1, x", every="daily")
    assert "`x` is not a game id" in answer["content"]
    answer = await schedule(harness, channel, games="No Such Set", every="daily")
    assert answer["ephemeral"] and "No Such Set" in answer["content"]
    assert await harness.bot.store.schedules.for_guild(guild) == []


async def test_members_without_manage_server_are_refused(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    member = harness.discord.member_id(guild, 1)
    channel = harness.discord.channel_ids[guild]
    answer = await schedule(harness, channel, games="1", every="daily", user_id=member)
    assert answer["ephemeral"] and "Manage Server" in answer["content"]
    for name in ("leaderboard schedules", "leaderboard unschedule"):
        opts = [{"name": "id", "value": 1}] if name.endswith("unschedule") else []
        interaction = await harness.discord.send_interaction(name, opts, user_id=member)
        assert "Manage Server" in (await interaction.wait_final())["content"]
    assert await harness.bot.store.schedules.for_guild(guild) == []


async def test_unschedule_removes_this_guilds_schedule_only(harness: Harness) -> None:
    first, second = harness.discord.guild_ids[:2]
    await schedule(harness, harness.discord.channel_ids[first], games="1", every="hourly")
    (created,) = await harness.bot.store.schedules.for_guild(first)

    interaction = await harness.discord.send_interaction(
        "leaderboard unschedule", [{"name": "id", "value": created.id}], guild_id=second
    )
    answer = await interaction.wait_final()
    assert answer["ephemeral"]
    assert answer["content"] == (
        f"This server has no schedule #{created.id}: `/leaderboard schedules` lists them."
    )
    assert len(await harness.bot.store.schedules.for_guild(first)) == 1

    interaction = await harness.discord.send_interaction(
        "leaderboard unschedule", [{"name": "id", "value": created.id}], guild_id=first
    )
    assert (await interaction.wait_final())["content"] == f"Schedule #{created.id} is removed."
    assert await harness.bot.store.schedules.for_guild(first) == []
    listing = await harness.answer("leaderboard schedules", guild_id=first)
    assert listing["embeds"][0]["description"].startswith("None yet")


async def test_a_paused_schedule_shows_its_reason(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await schedule(harness, harness.discord.channel_ids[guild], games="1", every="daily")
    (created,) = await harness.bot.store.schedules.for_guild(guild)
    await harness.bot.store.schedules.pause(created.id, "the channel was deleted")
    listing = await harness.answer("leaderboard schedules")
    assert "⏸️ Paused: the channel was deleted" in listing["embeds"][0]["fields"][0]["value"]


async def test_schedule_says_what_it_costs_shared_calls_counted_once(harness: Harness) -> None:
    first, second = harness.discord.guild_ids[:2]
    await seed_members(harness, first, 6)  # P00..P05
    ids = await seed_members(harness, second, 4)  # P00..P03: the same RA players, other members
    assert len(ids) == 4
    answer = await schedule(
        harness, harness.discord.channel_ids[first], games="1", every="daily", time="18:00"
    )
    assert "Cost: about 6 RA calls a post (one per linked member), 6 RA calls a day more" in (
        answer["content"]
    )
    answer = await schedule(
        harness, harness.discord.channel_ids[second], games="1", every="daily", time="18:00",
        guild_id=second,
    )
    content = answer["content"]
    assert (
        "Cost: about 4 RA calls a post (one per linked member, 4 of them shared with other "
        "boards due at the same time), 0 RA calls a day more for the bot; all scheduled boards "
        "together need about 6 RA calls of the 8,640,000 RA calls a day"
    ) in content
    assert "⚠️" not in content


async def test_schedule_warns_when_the_boards_need_more_than_the_budget(
    start_bot: Any, caplog: Any
) -> None:
    harness: Harness = await start_bot(ra_requests_per_second=0.001)  # 43 calls a day to spare
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 3)
    answer = await schedule(harness, harness.discord.channel_ids[guild], games="1", every="hourly")
    content = answer["content"]
    assert "all scheduled boards together need about 72 RA calls of the 43 RA calls a day" in (
        content
    )
    assert "⚠️ That is more than the bot's RetroAchievements budget allows" in content
    # ...and the three calls of one post do not fit in an hour's share (1.8) either.
    assert "⚠️ The boards due at this time need 3 RA calls" in content
    assert any("scheduled boards need about 72 RA calls a day" in r.message for r in caplog.records)
    assert len(await harness.bot.store.schedules.for_guild(guild)) == 1  # made all the same
