"""/leaderboard show: linked members of this guild, ranked, paginated."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import fake_ulid


async def link(harness: Harness, user_id: int, ra_name: str) -> None:
    answer = await harness.answer("link", username=ra_name, user_id=user_id)
    assert answer["embeds"], answer
    await harness.bot.members.flush()


async def seed_members(harness: Harness, guild: int, count: int) -> list[int]:
    """`count` linked members of `guild`, RA user Pn having n*10 hardcore points on game 1."""
    ids = []
    for n in range(count):
        uid = harness.discord.add_member(guild, f"player{n:02}")
        harness.ra.add_user(f"P{n:02}")
        harness.ra.set_progress(
            f"P{n:02}", 1, achieved=n % 23, score=n * 10, achieved_hardcore=n % 23,
            score_hardcore=n * 10,
        )
        await harness.bot.store.links.set_link(uid, fake_ulid(f"P{n:02}"), f"P{n:02}")
        ids.append(uid)
    await harness.bot.store.links.mark_seen(guild, ids)
    return ids


def rows(answer: dict[str, Any]) -> list[str]:
    return answer["embeds"][0]["description"].splitlines()


async def test_nobody_linked(harness: Harness) -> None:
    answer = await harness.answer("leaderboard show", games="1")
    assert not answer["ephemeral"]
    assert answer["content"].startswith("Nobody in this server has linked")
    assert harness.ra.calls("API_GetUserProgress") == []


async def test_members_ranked_by_the_contracts_rule(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    owner, a, b = (harness.discord.member_id(guild, i) for i in range(3))
    harness.ra.add_user("Tied")
    # Scott: 340 HC pts on 228; MaxMilyin: 400+150 HC; Tied: same HC points as Scott, fewer
    # HC unlocks -> below Scott.
    harness.ra.set_progress("Tied", 228, achieved=30, score=340, achieved_hardcore=20,
                            score_hardcore=340)
    await link(harness, owner, "Scott")
    await link(harness, a, "MaxMilyin")
    await link(harness, b, "Tied")
    progress_calls = len(harness.ra.calls("API_GetUserProgress"))

    answer = await harness.answer("leaderboard show", games="1, 14402, 228")
    lines = rows(answer)
    assert lines[0].startswith("🥇 **member0-1** (MaxMilyin) · 550 pts · 35 HC")
    assert lines[1].startswith("🥈 **owner0** (Scott) · 340 pts · 35 HC")
    assert lines[2].startswith("🥉 **member0-2** (Tied) · 340 pts · 20 HC")
    # One call per member with all the games.
    calls = harness.ra.calls("API_GetUserProgress")[progress_calls:]
    assert len(calls) == 3
    assert all(c.params["i"].startswith("1,14402,228") for c in calls)
    fields = {f["name"]: f["value"] for f in answer["embeds"][0]["fields"]}
    assert "🥇 member0-1 400" in fields["Sonic the Hedgehog · Genesis/Mega Drive"]


async def test_a_member_who_left_is_not_on_the_board_and_is_forgotten(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    ids = await seed_members(harness, guild, 3)
    harness.discord.remove_member(guild, ids[1])
    answer = await harness.answer("leaderboard show", games="1")
    text = answer["embeds"][0]["description"]
    assert "player00" in text and "player02" in text and "player01" not in text
    members = await harness.bot.store.links.linked_members(guild)
    remaining = [link.discord_user_id for link, _ in members]
    assert ids[1] not in remaining


async def test_only_members_of_this_guild(harness: Harness) -> None:
    first, second = harness.discord.guild_ids[:2]
    await seed_members(harness, first, 2)
    answer = await harness.answer("leaderboard show", games="1", guild_id=second)
    assert answer["content"].startswith("Nobody in this server has linked")


async def test_long_boards_paginate_for_the_caller_only(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    ids = await seed_members(harness, guild, 25)
    caller = ids[3]  # 4th lowest score: rank 22, page 3
    interaction = await harness.command("leaderboard show", games="1", user_id=caller)
    answer = await interaction.wait_final()
    assert rows(answer)[0].startswith("🥇 **player24**")
    assert answer["embeds"][0]["footer"]["text"].startswith("Page 1/3 · 25 members")
    buttons = {c["label"]: c for row in answer["components"] for c in row["components"]}
    assert set(buttons) == {"⏮", "◀", "My position", "▶", "⏭"}
    assert buttons["◀"]["disabled"] and not buttons["▶"]["disabled"]
    message = interaction.original
    assert message is not None

    press = await harness.discord.press_button(message, buttons["▶"]["custom_id"], user_id=caller)
    page = (await press.wait_response())["data"]
    assert page["embeds"][0]["footer"]["text"].startswith("Page 2/3")
    assert page["embeds"][0]["description"].startswith("`#11`")

    other = ids[0]
    press = await harness.discord.press_button(message, buttons["⏭"]["custom_id"], user_id=other)
    refusal = await press.wait_response()
    assert refusal["type"] == 4 and refusal["data"]["flags"] & 64
    assert "Only the person who asked" in refusal["data"]["content"]

    press = await harness.discord.press_button(
        message, buttons["My position"]["custom_id"], user_id=caller
    )
    page = (await press.wait_response())["data"]
    assert page["embeds"][0]["footer"]["text"].startswith("Page 3/3")
    assert "**player03**" in page["embeds"][0]["description"]


async def test_a_game_set_name_and_unknown_games(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 2)
    await harness.bot.store.sets.create(guild, "Monthly", [1, 999999], 1)
    answer = await harness.answer("leaderboard show", games="monthly")
    embed = answer["embeds"][0]
    assert embed["title"] == "Leaderboard · Monthly"
    names = [f["name"] for f in embed["fields"]]
    assert "Game 999999 (unknown to RetroAchievements)" in names


async def test_leaderboard_is_guild_only_and_charges_the_budget(start_bot: Any) -> None:
    harness: Harness = await start_bot(guild_commands_per_minute=1)
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 1)
    assert not (await harness.answer("leaderboard show", games="1"))["ephemeral"]
    answer = await harness.answer("leaderboard show", games="1")
    assert answer["ephemeral"] and re.search(r"try again <t:\d+:R>", answer["content"])
