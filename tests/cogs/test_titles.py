"""Games by title through the gateway: the real bot with its catalogue fetched from the fake RA."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from tests.cogs.test_autocomplete import suggest
from tests.cogs.test_challenges import create as create_challenge
from tests.cogs.test_game_sets import admin
from tests.cogs.test_schedules import schedule
from tests.fakes.bot_harness import Harness
from tests.fakes.catalogue import seed_catalogue
from tests.fakes.fake_ra import FakeRA
from tests.fakes.fixtures import seed_sample_data

CATALOGUE_CALLS = ("API_GetConsoleIDs", "API_GetGameList")


@pytest_asyncio.fixture
async def fake_ra() -> AsyncIterator[FakeRA]:
    """The sample users and games, inside a realistic catalogue of 3,000 titles."""
    fake = FakeRA()
    seed_sample_data(fake)
    seed_catalogue(fake, size=3000)
    async with fake:
        yield fake


@pytest_asyncio.fixture
async def harness(start_bot: Callable[..., Any]) -> Harness:
    started: Harness = await start_bot(catalogue_refresh_hours=24.0)
    await started.bot.catalogue.wait_ready()
    return started


def asked(harness: Harness) -> list[str]:
    """RA endpoints asked so far, leaving out the catalogue's own calls."""
    return [r.endpoint for r in harness.ra.requests if r.endpoint not in CATALOGUE_CALLS]


def content(answer: dict[str, Any]) -> str:
    return str(answer.get("content") or "") + "".join(
        str(e.get("description", "")) + str(e.get("title", "")) for e in answer.get("embeds", [])
    )


async def test_the_catalogue_is_fetched_once_at_start_at_scheduled_priority(
    harness: Harness,
) -> None:
    consoles = harness.ra.calls("API_GetConsoleIDs")
    assert len(consoles) == 1 and consoles[0].params["g"] == "1"
    lists = harness.ra.calls("API_GetGameList")
    assert {c.params["f"] for c in lists} == {"1"}
    assert "100" not in {c.params["i"] for c in lists}  # hubs are not games
    assert len(harness.bot.catalogue) > 2900


async def test_progress_by_title_is_one_round_trip_without_game_calls(harness: Harness) -> None:
    answer = await harness.answer(
        "progress", games="Sonic the Hedgehog, Legend of Zelda, The: A Link to the Past",
        user="MaxMilyin",
    )
    text = content(answer)
    assert "[Sonic the Hedgehog](https://retroachievements.org/game/1)" in text
    assert "Legend of Zelda, The: A Link to the Past" in text
    # Titles, consoles and icons came from the catalogue: no API_GetGame.
    assert sorted(asked(harness)) == ["API_GetUserProfile", "API_GetUserProgress"]
    assert harness.ra.calls("API_GetUserProgress")[0].params["i"] == "1,710"


async def test_an_ambiguous_title_lists_candidates_and_costs_nothing(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    before = harness.bot.guild_limits.limit_for(guild)
    answer = await harness.answer("progress", games="Tetris", user="MaxMilyin")
    assert answer["ephemeral"]
    assert "`Tetris` is 3 games" in answer["content"]
    assert "Tetris · Game Boy · 730" in answer["content"]
    assert asked(harness) == []
    assert answer["allowed_mentions"] == {"parse": []}
    # Nothing charged: a whole budget's worth of commands still goes through afterwards.
    for _ in range(before):
        ok = await harness.answer("progress", games="730", user="MaxMilyin")
        assert not ok["ephemeral"]


async def test_a_title_that_names_no_game_offers_the_closest(harness: Harness) -> None:
    answer = await harness.answer(
        "compare", games="Super Metriod", members="<@123456789012345678>"
    )
    assert answer["ephemeral"]
    assert "No game is titled `Super Metriod`; the closest are Super Metroid" in answer["content"]
    assert asked(harness) == []


async def test_a_game_ra_has_since_dropped_is_said_plainly(harness: Harness) -> None:
    del harness.ra.games[700]  # still in the catalogue; RA now answers all six figures 0
    answer = await harness.answer("progress", games="Super Metroid", user="MaxMilyin")
    text = content(answer)
    assert "Super Metroid" in text
    assert "no achievements for this game now" in text
    assert "0%" not in text


async def test_autocomplete_completes_the_title_being_typed(harness: Harness) -> None:
    choices = await suggest(harness, "progress", "1, 14402, metr")
    assert choices[0] == {"name": "Metroid · NES/Famicom", "value": "1, 14402, 701"}
    assert {"name": "Super Metroid · SNES/Super Famicom", "value": "1, 14402, 700"} in choices
    assert len(choices) <= 25

    zelda = await suggest(harness, "leaderboard show", "Legend of Zelda, The: A Li")
    assert zelda[0]["value"] == "710"
    assert asked(harness) == []


async def test_autocomplete_ranks_this_guilds_games_first(harness: Harness) -> None:
    assert (await suggest(harness, "progress", "metr"))[0]["value"] == "701"
    await harness.answer("progress", games="Super Metroid", user="MaxMilyin")
    assert (await suggest(harness, "progress", "metr"))[0]["value"] == "700"


async def test_schedules_and_sets_take_titles_and_show_them_with_ids(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    answer = await schedule(harness, channel, games="Super Metroid, 1", every="daily")
    assert "the leaderboard of Super Metroid (700), Sonic the Hedgehog (1) goes to" in (
        answer["content"]
    )
    (stored,) = await harness.bot.store.schedules.for_guild(guild)
    assert stored.games == "700, 1"  # resolved once: the post never depends on the catalogue
    listing = await harness.answer("leaderboard schedules")
    assert "Games: Super Metroid (700), Sonic the Hedgehog (1)" in (
        listing["embeds"][0]["fields"][0]["value"]
    )

    created = await admin(harness, "gameset create", name="Metroids", games="Metroid Fusion, 701")
    assert "Metroid Fusion (703), Metroid (701)" in created["content"]
    listed = await harness.answer("gameset list")
    assert "Metroid Fusion (703)" in content(listed)
    removed = await admin(harness, "gameset remove", name="Metroids", games="Metroid Fusion")
    assert "Metroid Fusion (703)" in removed["content"]
    assert asked(harness) == []


async def test_challenges_name_their_games_by_title_with_ids(harness: Harness) -> None:
    created = await create_challenge(harness, games="Super Metroid, 1")
    assert created["content"].startswith(
        "Challenge **December** on Super Metroid (700), Sonic the Hedgehog (1): "
    )
    listing = await harness.answer("challenge list")
    assert "Games: Super Metroid (700), Sonic the Hedgehog (1)" in (
        listing["embeds"][0]["fields"][0]["value"]
    )
    assert asked(harness) == []  # the titles came from the catalogue
