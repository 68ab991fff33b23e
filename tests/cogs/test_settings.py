"""/settings ratelimit driven through the fake Discord's gateway, answered by the real bot."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.bot_harness import Harness


async def ratelimit(harness: Harness, per_minute: int, **kw: Any) -> dict[str, Any]:
    interaction = await harness.discord.send_interaction(
        "settings ratelimit", [{"name": "per_minute", "value": per_minute}], **kw
    )
    return await interaction.wait_final()


async def progress(harness: Harness, guild_id: int) -> dict[str, Any]:
    return await harness.answer("progress", games="1", user="MaxMilyin", guild_id=guild_id)


async def test_a_lower_rate_is_stored_and_applies_at_once(start_bot: Any) -> None:
    harness: Harness = await start_bot(guild_commands_per_minute=20)
    first, second = harness.discord.guild_ids[:2]

    answer = await ratelimit(harness, 2, guild_id=first)

    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server's budget is now 2 a minute for commands that reach RetroAchievements "
        "(the bot's default is 20, the most allowed 60)."
    )
    assert answer["allowed_mentions"] == {"parse": []}
    assert await harness.bot.store.guild_settings.guild_rates() == {first: 2}
    assert harness.bot.guild_limits.limit_for(("guild", first)) == 2
    assert harness.ra.requests == []  # a setting costs no RA call...

    for _ in range(2):
        assert not (await progress(harness, first))["ephemeral"]
    answer = await progress(harness, first)
    assert answer["ephemeral"]
    assert re.search(r"used its RetroAchievements budget .*<t:\d+:R>", answer["content"])
    # ...and the other guild keeps the default.
    assert not (await progress(harness, second))["ephemeral"]


async def test_a_rate_above_the_ceiling_gets_the_ceiling_and_says_so(start_bot: Any) -> None:
    harness: Harness = await start_bot(
        guild_commands_per_minute=20, guild_commands_per_minute_max=60
    )
    guild = harness.discord.guild_ids[0]

    answer = await ratelimit(harness, 500)

    assert answer["ephemeral"]
    assert answer["content"] == (
        "The bot's operator allows at most 60 a minute per server, so that ceiling applies: "
        "this server's budget is now 60 a minute for commands that reach RetroAchievements."
    )
    assert await harness.bot.store.guild_settings.guild_rates() == {guild: 60}
    assert harness.bot.guild_limits.limit_for(("guild", guild)) == 60


async def test_the_rate_is_kept_across_a_restart(start_bot: Any, tmp_path: Any) -> None:
    database_url = f"sqlite:///{tmp_path}/kept.sqlite3"
    harness: Harness = await start_bot(database_url=database_url)
    guild = harness.discord.guild_ids[0]
    await ratelimit(harness, 3)
    await harness.bot.close()

    again: Harness = await start_bot(database_url=database_url)
    assert again.discord.guild_ids[0] == guild  # the fake's ids are the same every time
    assert again.bot.guild_limits.limit_for(("guild", guild)) == 3


async def test_members_without_manage_server_are_refused_and_nothing_changes(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    before = harness.bot.guild_limits.limit_for(("guild", guild))

    answer = await ratelimit(harness, 1, user_id=harness.discord.member_id(guild, 1))

    assert answer["source"] == "callback" and answer["ephemeral"]
    assert answer["content"] == "You need the Manage Server permission to do that."
    assert await harness.bot.store.guild_settings.guild_rates() == {}
    assert harness.bot.guild_limits.limit_for(("guild", guild)) == before


async def test_an_out_of_range_number_is_refused(harness: Harness) -> None:
    # Discord enforces 1..10000 in its client; the bot does not rely on it.
    answer = await ratelimit(harness, 0)
    assert answer["ephemeral"]
    assert answer["content"] == "Give a number of commands a minute from 1 to 10,000."
    assert await harness.bot.store.guild_settings.guild_rates() == {}


async def test_the_command_is_for_server_managers_in_guilds(harness: Harness) -> None:
    synced = {c["name"]: c for c in harness.discord.synced_global or []}
    settings = synced["settings"]
    assert str(settings["default_member_permissions"]) == "32"  # Manage Server
    assert settings["dm_permission"] is False
    (ratelimit_command,) = settings["options"]
    assert ratelimit_command["name"] == "ratelimit"
    (option,) = ratelimit_command["options"]
    assert (option["name"], option["type"], option["min_value"], option["max_value"]) == (
        "per_minute", 4, 1, 10000
    )
