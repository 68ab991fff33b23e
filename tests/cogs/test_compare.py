"""/compare: mentions in, members side by side per game."""

from __future__ import annotations

from tests.cogs.test_leaderboard import link
from tests.fakes.bot_harness import Harness


def mentions(*ids: int) -> str:
    return " ".join(f"<@{i}>" for i in ids)


async def test_members_ranked_per_game_with_medals(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    a, b = harness.discord.member_id(guild, 1), harness.discord.member_id(guild, 2)
    await link(harness, a, "MaxMilyin")
    await link(harness, b, "Scott")
    calls = len(harness.ra.calls("API_GetUserProgress"))
    answer = await harness.answer("compare", games="1, 228", members=mentions(a, b))
    assert not answer["ephemeral"]
    head, games = answer["embeds"]
    assert head["title"] == "Comparing 2 members on 2 games"
    assert head["description"].splitlines()[0].startswith("🥇 **member0-1** (MaxMilyin)")
    fields = {f["name"]: f["value"] for f in games["fields"]}
    sonic = fields["Sonic the Hedgehog · Genesis/Mega Drive"].splitlines()
    assert sonic[1] == "🥇 **member0-1** (MaxMilyin) · HC 23/23 · 400 pts 👑"
    assert sonic[2].startswith("🥈 **member0-2** (Scott) · HC 0/23")
    mario = fields["Super Mario World · SNES/Super Famicom"].splitlines()
    assert mario[1].startswith("🥇 **member0-2** (Scott) · HC 35/96 · 340 pts · SC 40/96")
    assert len(harness.ra.calls("API_GetUserProgress")) - calls <= 2


async def test_unlinked_members_bots_and_strangers_are_named_not_compared(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    a, b = harness.discord.member_id(guild, 1), harness.discord.member_id(guild, 2)
    robot = harness.discord.add_member(guild, "robot", bot=True)
    stranger = 123456789012345678
    await link(harness, a, "MaxMilyin")
    answer = await harness.answer(
        "compare", games="1", members=mentions(a, b, robot, stranger)
    )
    text = answer["embeds"][0]["description"]
    assert "Not linked yet (they can use `/link`): member0-2" in text
    assert "Bots are left out: robot" in text
    assert "1 mentioned user is not in this server." in text


async def test_one_mention_compares_the_caller_with_them(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    owner, a = harness.discord.member_id(guild, 0), harness.discord.member_id(guild, 1)
    await link(harness, owner, "Scott")
    await link(harness, a, "MaxMilyin")
    answer = await harness.answer("compare", games="228", members=mentions(a))
    assert answer["embeds"][0]["title"] == "Comparing 2 members on 1 game"


async def test_no_mentions_or_too_many_are_refused_at_once(harness: Harness) -> None:
    answer = await harness.answer("compare", games="1", members="everyone please")
    assert answer["ephemeral"] and answer["source"] == "callback"
    assert "Mention the members to compare" in answer["content"]
    eleven = mentions(*range(100000000000000000, 100000000000000011))
    answer = await harness.answer("compare", games="1", members=eleven)
    assert answer["ephemeral"] and "at most 10 members" in answer["content"]
    caller = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    answer = await harness.answer("compare", games="1", members=mentions(caller))
    assert "Mention the members to compare" in answer["content"]
    assert harness.ra.requests == []


async def test_nobody_linked(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    a, b = harness.discord.member_id(guild, 1), harness.discord.member_id(guild, 2)
    answer = await harness.answer("compare", games="1", members=mentions(a, b))
    assert answer["ephemeral"]
    assert answer["content"].startswith("None of those members has linked")
    assert harness.ra.requests == []
