"""/link, /unlink, and /progress for linked accounts."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import fake_ulid


def member_option(user_id: int) -> dict[str, Any]:
    return {"name": "member", "type": 6, "value": str(user_id)}


async def test_link_checks_the_account_and_stores_its_ulid(harness: Harness) -> None:
    owner = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    interaction = await harness.command("link", username="maxmilyin")
    answer = await interaction.wait_final()
    assert interaction.callbacks[0]["type"] == 5  # deferred...
    assert answer["ephemeral"]  # ...ephemerally
    (embed,) = answer["embeds"]
    assert "MaxMilyin" in embed["description"]  # RA's display name, not what was typed
    assert embed["thumbnail"]["url"].endswith("/UserPic/MaxMilyin.png")
    assert [c.endpoint for c in harness.ra.requests] == ["API_GetUserProfile"]

    link = await harness.bot.store.links.get_link(owner)
    assert link is not None
    assert (link.ra_ulid, link.ra_name) == (fake_ulid("MaxMilyin"), "MaxMilyin")


async def test_progress_without_user_uses_the_callers_link_by_ulid(harness: Harness) -> None:
    await harness.answer("link", username="MaxMilyin")
    answer = await harness.answer("progress", games="1")
    assert not answer["ephemeral"]
    assert "Sonic the Hedgehog" in answer["embeds"][0]["description"]
    (call,) = harness.ra.calls("API_GetUserProgress")
    assert call.params["u"] == fake_ulid("MaxMilyin")  # survives an RA rename


async def test_progress_for_a_member_uses_their_link(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    other = harness.discord.member_id(guild, 1)
    await harness.answer("link", username="Scott", user_id=other)
    interaction = await harness.discord.send_interaction(
        "progress", [{"name": "games", "value": "228"}, member_option(other)]
    )
    answer = await interaction.wait_final()
    assert not answer["ephemeral"]
    assert answer["embeds"][0]["author"]["name"] == "Scott"


async def test_progress_for_an_unlinked_member_says_so(harness: Harness) -> None:
    other = harness.discord.member_id(harness.discord.guild_ids[0], 2)
    interaction = await harness.discord.send_interaction(
        "progress", [{"name": "games", "value": "1"}, member_option(other)]
    )
    answer = await interaction.wait_final()
    assert answer["ephemeral"]
    assert "has not linked a RetroAchievements account yet" in answer["content"]
    assert harness.ra.calls("API_GetUserProgress") == []


async def test_linking_an_account_that_does_not_exist(harness: Harness) -> None:
    owner = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    answer = await harness.answer("link", username="NoSuchUser")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "There is no RetroAchievements user named NoSuchUser: check the spelling."
    )
    assert await harness.bot.store.links.get_link(owner) is None


async def test_a_name_ra_would_refuse_is_caught_before_the_call(harness: Harness) -> None:
    answer = await harness.answer("link", username="not a name!")
    assert answer["ephemeral"] and answer["source"] == "callback"
    assert "cannot be a RetroAchievements user name" in answer["content"]
    assert harness.ra.requests == []


async def test_relinking_replaces_the_link(harness: Harness) -> None:
    owner = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    await harness.answer("link", username="MaxMilyin")
    answer = await harness.answer("link", username="Scott")
    assert "replaces your link to MaxMilyin" in answer["embeds"][0]["description"]
    link = await harness.bot.store.links.get_link(owner)
    assert link is not None and link.ra_name == "Scott"


async def test_unlink(harness: Harness) -> None:
    owner = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    answer = await harness.answer("unlink")
    assert answer["ephemeral"]
    assert answer["content"].startswith("You have no linked RetroAchievements account")

    await harness.answer("link", username="MaxMilyin")
    answer = await harness.answer("unlink")
    assert answer["ephemeral"] and "Your link to MaxMilyin is removed" in answer["content"]
    assert await harness.bot.store.links.get_link(owner) is None
    answer = await harness.answer("progress", games="1")
    assert answer["content"].startswith("You have not linked")


async def test_two_members_linking_at_once(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    a, b = harness.discord.member_id(guild, 1), harness.discord.member_id(guild, 2)
    answers = await asyncio.gather(
        harness.answer("link", username="MaxMilyin", user_id=a),
        harness.answer("link", username="Scott", user_id=b),
    )
    assert all(x["ephemeral"] and x["embeds"] for x in answers)
    links = await harness.bot.store.links.get_links([a, b])
    assert (links[a].ra_name, links[b].ra_name) == ("MaxMilyin", "Scott")


async def test_an_ra_rename_updates_the_stored_name(harness: Harness) -> None:
    owner = harness.discord.member_id(harness.discord.guild_ids[0], 0)
    await harness.answer("link", username="MaxMilyin")
    harness.ra.users["maxmilyin"].display_name = "MaxTheGreat"
    harness.bot.ra._profiles.pop(fake_ulid("MaxMilyin").lower())
    answer = await harness.answer("progress", games="1")
    assert answer["embeds"][0]["author"]["name"] == "MaxTheGreat"
    link = await harness.bot.store.links.get_link(owner)
    assert link is not None and link.ra_name == "MaxTheGreat"


async def test_a_404_that_is_not_an_unknown_user_is_said_as_the_operator_s_problem(
    harness: Harness,
) -> None:
    """A wrong RA_API_BASE_URL answers 404 with a page, not RA's `[]`: members are not told the
    account does not exist, and nothing is remembered as "no such user"."""
    from tests.fakes.fake_ra import FakeFault

    harness.ra.fail_next(
        FakeFault("status", 404, body='{"message": "Not Found"}'), endpoint="API_GetUserProfile"
    )
    answer = await harness.answer("link", username="MaxMilyin")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "RetroAchievements cannot be reached as the bot is set up: this is for the bot's "
        "operator to fix, so please let them know."
    )
    again = await harness.answer("link", username="MaxMilyin")
    assert "MaxMilyin" in again["embeds"][0]["description"]
