"""Autocomplete of `games` options, through the gateway: cached titles and game sets."""

from __future__ import annotations

from typing import Any

from tests.fakes.bot_harness import Harness


async def suggest(harness: Harness, command: str, typed: str) -> list[dict[str, Any]]:
    interaction = await harness.discord.send_interaction(
        command,
        [{"name": "games", "type": 3, "value": typed, "focused": True}],
        interaction_type=4,
    )
    response = await interaction.wait_response()
    assert response["type"] == 8
    choices: list[dict[str, Any]] = response["data"]["choices"]
    return choices


async def test_titles_the_bot_has_seen_are_suggested_without_asking_ra(harness: Harness) -> None:
    await harness.answer("progress", games="1, 228", user="MaxMilyin")
    asked = len(harness.ra.requests)

    choices = await suggest(harness, "progress", "son")
    assert {"name": "Sonic the Hedgehog · Genesis/Mega Drive", "value": "1"} in choices

    choices = await suggest(harness, "compare", "14402, super m")
    assert choices[0]["value"] == "14402, 228"
    assert len(harness.ra.requests) == asked


async def test_game_sets_are_suggested(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await harness.bot.store.sets.create(guild, "Monthly Challenge", [1, 228], 1)
    choices = await suggest(harness, "leaderboard show", "month")
    assert {"name": "Set Monthly Challenge (2 games)", "value": "Monthly Challenge"} in choices


async def test_ids_being_typed_are_echoed(harness: Harness) -> None:
    choices = await suggest(harness, "progress", "1, 14402")
    assert choices[0]["value"] == "1, 14402"
