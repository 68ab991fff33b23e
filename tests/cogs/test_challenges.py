"""/challenge create, standings, list and delete through the fake Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import discord

from bot.bot import RABot
from tests.e2e.fake_discord import FAKE_DISCORD_TOKEN, FakeDiscord
from tests.fakes.bot_harness import Harness, bot_settings, migrate
from tests.fakes.fake_ra import FakeRA, fake_ulid

EARNED = "API_GetAchievementsEarnedBetween"
TODAY = datetime.now(UTC).date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def at_day(offset: int, hour: int = 12) -> datetime:
    d: date = TODAY + timedelta(days=offset)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


async def create(
    harness: Harness,
    *,
    channel: int | None = None,
    user_id: int | None = None,
    resolved: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "December",
        "games": "1, 228",
        "start": day(-10),
        "end": day(10),
    }
    values.update(options)
    opts = [{"name": k, "value": v} for k, v in values.items()]
    if channel is not None:
        opts.append({"name": "channel", "type": 7, "value": str(channel)})
    interaction = await harness.discord.send_interaction(
        "challenge create", opts, user_id=user_id, resolved=resolved
    )
    return await interaction.wait_final()


async def link_three(harness: Harness) -> tuple[int, int, int]:
    guild = harness.discord.guild_ids[0]
    ids = tuple(harness.discord.member_id(guild, i) for i in range(3))
    for uid, name in zip(ids, ("Scott", "MaxMilyin", "TestUser"), strict=True):
        answer = await harness.answer("link", username=name, user_id=uid)
        assert answer["embeds"], answer
    await harness.bot.members.flush()
    return ids  # type: ignore[return-value]


async def test_create_answers_with_the_window_and_the_posts(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    answer = await create(harness, channel=channel, every="weekly")
    assert answer["ephemeral"]
    content = answer["content"]
    start, end = TODAY - timedelta(days=10), TODAY + timedelta(days=10)
    assert content.startswith("Challenge **December** on ")
    assert f"{start.day} {start:%b %Y} → {end.day} {end:%b %Y} (UTC, end day included)" in content
    assert f"Standings go to <#{channel}> weekly at 00:00 UTC (first <t:" in content
    assert f"final standings go to <#{channel}> once it ends." in content
    (stored,) = await harness.bot.store.challenges.for_guild(guild)
    assert stored.game_ids == [1, 228] and stored.channel_id == channel
    assert harness.ra.calls(EARNED) == []  # creating costs RA nothing


async def test_every_bad_input_is_one_clear_sentence_and_nothing_is_stored(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    gone = 987654321987654321
    gone_channel = {
        "channels": {
            str(gone): {
                "id": str(gone),
                "type": 0,
                "name": "old-news",
                "guild_id": str(guild),
                "permissions": "0",
                "position": 0,
                "parent_id": None,
                "nsfw": False,
            }
        }
    }
    cases = [
        ({"start": "2026-13-40"}, "`2026-13-40` is not a date: give the start as"),
        ({"end": "soon"}, "`soon` is not a date: give the end as `YYYY-MM-DD` (UTC)"),
        ({"start": day(5), "end": day(4)}, "The challenge would end before it starts"),
        ({"start": day(0), "end": day(400)}, "A challenge lasts at most a year"),
        ({"games": "1, x"}, "`x` is not a game id"),
        ({"games": "No Such Set"}, "No Such Set"),
        ({"every": "daily"}, "Give a channel to post the standings in, or leave out `every`."),
        ({"name": "   "}, "Give the challenge a name."),
        ({"name": "x" * 41}, "Challenge names are at most 40 characters"),
    ]
    for options, expected in cases:
        answer = await create(harness, **options)
        assert answer["ephemeral"], options
        assert expected in answer["content"], (options, answer["content"])
    answer = await create(harness, channel=gone, resolved=gone_channel)
    assert answer["ephemeral"]
    assert answer["content"] == "That channel no longer exists: pick another one."
    muted = await harness.discord.add_channel(
        guild, "quiet", deny_bot=discord.Permissions(embed_links=True).value
    )
    answer = await create(harness, channel=muted)
    assert answer["content"].startswith(f"The bot cannot post embeds in <#{muted}>")
    assert await harness.bot.store.challenges.for_guild(guild) == []

    assert (await create(harness, channel=channel))["content"].startswith("Challenge **")
    answer = await create(harness, name="DECEMBER")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server already has a challenge named DECEMBER: pick another name, or "
        "`/challenge delete` that one first."
    )
    (kept,) = await harness.bot.store.challenges.for_guild(guild)
    assert kept.name == "December" and kept.channel_id == channel


async def test_members_without_manage_server_may_look_but_not_create_or_delete(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    member = harness.discord.member_id(guild, 1)
    answer = await create(harness, user_id=member)
    assert answer["ephemeral"] and "Manage Server" in answer["content"]
    await create(harness)
    interaction = await harness.discord.send_interaction(
        "challenge delete", [{"name": "name", "value": "December"}], user_id=member
    )
    assert "Manage Server" in (await interaction.wait_final())["content"]
    interaction = await harness.discord.send_interaction("challenge list", [], user_id=member)
    listing = await interaction.wait_final()
    assert not listing["ephemeral"]
    assert listing["embeds"][0]["fields"][0]["name"] == "🟢 Running · December"
    assert len(await harness.bot.store.challenges.for_guild(guild)) == 1


async def test_standings_rank_what_each_member_earned_inside_the_window(
    harness: Harness,
) -> None:
    await link_three(harness)
    harness.ra.add_unlock("Scott", 228, 1, points=25, at=at_day(-3))
    harness.ra.add_unlock("Scott", 228, 2, points=5, at=at_day(-20))  # before the start
    harness.ra.add_unlock("MaxMilyin", 1, 3, points=10, at=at_day(-1), hardcore=False)
    harness.ra.add_unlock("MaxMilyin", 14402, 4, points=50, at=at_day(-1))  # not its game
    created = await create(harness, name="Winter *Cup*")
    assert created["content"].endswith(
        "Anyone can see it with `/challenge standings name:Winter *Cup*`."
    )
    before = len(harness.ra.calls(EARNED))

    answer = await harness.answer("challenge standings", name="winter *cup*")
    assert not answer["ephemeral"]
    embed = answer["embeds"][0]
    assert embed["title"] == "Challenge · Winter \\*Cup\\*"
    lines = embed["description"].splitlines()
    assert lines[3].startswith("🥇 **owner0** (Scott) · 25 pts · 1 HC · 25 SC pts")
    assert lines[4].startswith("🥈 **member0-1** (MaxMilyin) · 0 pts · 0 HC · 10 SC pts")
    assert lines[-1] == "Not started: member0-2"
    assert len(harness.ra.calls(EARNED)) == before + 3  # one per member


async def test_unknown_names_are_said_plainly(harness: Harness) -> None:
    answer = await harness.answer("challenge standings", name="Nope")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server has no challenge named Nope: `/challenge list` shows them."
    )
    answer = await harness.answer("challenge delete", name="Nope")
    assert answer["ephemeral"] and answer["content"].startswith("This server has no challenge")


async def test_list_groups_running_upcoming_finished_and_delete_removes_one(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    await create(harness, name="Past", start=day(-40), end=day(-35))
    await create(harness, name="Next", start=day(3), end=day(9), channel=channel, every="daily")
    await create(harness, name="Now", start="now", end=day(0))
    listing = await harness.answer("challenge list")
    names = [f["name"] for f in listing["embeds"][0]["fields"]]
    assert names == ["🟢 Running · Now", "🕒 Upcoming · Next", "🏁 Finished · Past"]
    upcoming = listing["embeds"][0]["fields"][1]["value"]
    assert f"Posted in <#{channel}> daily at 00:00 UTC, then final standings" in upcoming

    answer = await harness.answer("challenge delete", name="next")
    assert answer["ephemeral"]
    assert (
        answer["content"]
        == "Challenge **Next** is deleted, and nothing more will be posted for it."
    )
    assert [c.name for c in await harness.bot.store.challenges.for_guild(guild)] == ["Past", "Now"]
    other = await harness.answer("challenge list", guild_id=harness.discord.guild_ids[1])
    assert other["embeds"][0]["description"].startswith("None yet")


async def test_names_autocomplete_from_this_servers_challenges(harness: Harness) -> None:
    await create(harness, name="December")
    await create(harness, name="Winter Cup")
    interaction = await harness.discord.send_interaction(
        "challenge standings",
        [{"name": "name", "value": "dec", "focused": True}],
        interaction_type=4,
    )
    response = await interaction.wait_response()
    assert response["type"] == 8
    assert [c["value"] for c in response["data"]["choices"]] == ["December"]


async def test_long_standings_page_for_the_caller_and_not_started_come_last(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    ids = []
    for n in range(32):  # 30 who earned n + 1 points, 2 who earned nothing
        uid = harness.discord.add_member(guild, f"player{n:02}")
        harness.ra.add_user(f"P{n:02}")
        if n < 30:
            harness.ra.add_unlock(f"P{n:02}", 1, 1000 + n, points=n + 1, at=at_day(-2))
        await harness.bot.store.links.set_link(uid, fake_ulid(f"P{n:02}"), f"P{n:02}")
        ids.append(uid)
    await harness.bot.store.links.mark_seen(guild, ids)
    await create(harness)
    caller = ids[0]  # 1 point: rank 30, page 2
    interaction = await harness.command("challenge standings", name="December", user_id=caller)
    answer = await interaction.wait_final()
    embed = answer["embeds"][0]
    assert embed["footer"]["text"].startswith("Page 1/2 · Earned inside the window")
    assert embed["description"].splitlines()[3].startswith("🥇 **player29** (P29) · 30 pts")
    assert "Not started" not in embed["description"]
    buttons = {c["label"]: c for row in answer["components"] for c in row["components"]}
    message = interaction.original
    assert message is not None
    press = await harness.discord.press_button(
        message, buttons["My position"]["custom_id"], user_id=caller
    )
    page = (await press.wait_response())["data"]["embeds"][0]
    assert page["footer"]["text"].startswith("Page 2/2")
    lines = page["description"].splitlines()
    assert lines[3].startswith("`#26` **player04** (P04) · 5 pts")
    assert lines[-1] == "Not started: player30, player31"
    assert len(harness.ra.calls(EARNED)) == 32


async def test_a_channel_discord_could_not_resolve_is_said_plainly(harness: Harness) -> None:
    answer = await create(harness, channel=123456789012345678)
    assert answer["ephemeral"]
    assert answer["content"] == "That channel no longer exists: pick another one."
    assert await harness.bot.store.challenges.for_guild(harness.discord.guild_ids[0]) == []


async def test_create_offers_the_games_autocomplete(harness: Harness) -> None:
    await harness.bot.store.sets.create(harness.discord.guild_ids[0], "Monthly", [1], 1)
    interaction = await harness.discord.send_interaction(
        "challenge create",
        [{"name": "name", "value": "x"}, {"name": "games", "value": "Mon", "focused": True}],
        interaction_type=4,
    )
    response = await interaction.wait_response()
    assert "Monthly" in [c["value"] for c in response["data"]["choices"]]


async def test_a_process_with_shard_ids_posts_only_its_shards_challenges(
    fake_ra: FakeRA, tmp_path: Path
) -> None:
    """The real bot running shard 0 of 2: a challenge of a guild on shard 1 is left alone (its
    own process posts it); the poster gets SHARD_COUNT/SHARD_IDS as the Scheduler does."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake_discord = FakeDiscord(guilds=4, shards=2)
    await fake_discord.start()
    settings = bot_settings(
        fake_ra, fake_discord, f"sqlite:///{tmp_path}/shard0.sqlite3",
        shard_count=2, shard_ids=(0,),
    )
    await migrate(settings.database_url)
    bot = RABot(settings)
    task = asyncio.create_task(bot.start(FAKE_DISCORD_TOKEN))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        assert bot.challenge_poster.shards == bot.scheduler.shards == (2, (0,))
        # Due in an hour: the poster's own loop leaves them to the explicit run below.
        over = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
        made = {}
        for guild in fake_discord.guild_ids[:2]:  # one guild on each shard
            made[(guild >> 22) % 2] = await bot.store.challenges.create(
                guild_id=guild, name="December", game_ids=[1], set_name=None,
                starts_at=over - timedelta(days=7), ends_at=over,
                channel_id=fake_discord.channel_ids[guild], cadence=None, next_run=over,
                created_by=1,
            )
        assert set(made) == {0, 1}
        (ran,) = await bot.challenge_poster.run_due(over)
        assert (ran.schedule_id, ran.outcome) == (made[0].id, "final")
        assert len(fake_discord.channel_messages[made[0].channel_id or 0]) == 1
        assert await bot.challenge_poster.run_due(over + timedelta(days=1)) == []
        assert await bot.store.challenges.next_run_at(shards=(2, (0,))) is None
        other = made[1]  # not posted, and not paused as "no longer in that server" either
        assert fake_discord.channel_messages.get(other.channel_id or 0, []) == []
        left = await bot.store.challenges.get(other.id)
        assert left is not None and left.run_at == over and left.paused_reason is None
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
        await fake_discord.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
