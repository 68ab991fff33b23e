"""Games by title through the real bot process: the catalogue fetched once, kept across a
restart, titles in commands and autocomplete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.test_progress import opts, text_of
from tests.fakes.catalogue import CONSOLES, seed_catalogue
from tests.fakes.fake_ra import FakeRA
from tests.fakes.fixtures import seed_sample_data

WITH_CATALOGUE = {"CATALOGUE_REFRESH_HOURS": "24"}


@pytest_asyncio.fixture
async def fake_ra() -> AsyncIterator[FakeRA]:
    fake = FakeRA()
    seed_sample_data(fake)
    seed_catalogue(fake, size=5000)
    async with fake:
        yield fake


async def answer_when_titles_load(
    fake: FakeDiscord, ra: FakeRA, command: str, **options: str
) -> dict[str, Any]:
    """The command's answer once the catalogue is in memory.

    Waits for RA to have been asked for the last console's games; what is left then is the
    bot's write to its database and reading it back, so a few tries (each answered at once,
    costing no budget while titles are still loading) are enough.
    """
    consoles = len(ra.calls("API_GetConsoleIDs"))
    if consoles:
        async with asyncio.timeout(30):
            await ra.wait_for_calls(len(CONSOLES), "API_GetGameList")
    for _ in range(50):
        interaction = await fake.send_interaction(command, opts(**options))
        answer = await interaction.wait_final()
        if "still loading" not in (answer.get("content") or ""):
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError("the catalogue never loaded")


async def suggest(fake: FakeDiscord, command: str, typed: str) -> list[dict[str, Any]]:
    interaction = await fake.send_interaction(
        command, [{"name": "games", "type": 3, "value": typed, "focused": True}],
        interaction_type=4,
    )
    started = time.monotonic()
    response = await interaction.wait_response()
    assert time.monotonic() - started < 1.0  # keyboard speed, far inside Discord's 3 s
    choices: list[dict[str, Any]] = response["data"]["choices"]
    return choices


async def test_titles_autocomplete_and_a_restart_that_does_not_fetch_again(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    bot: BotProcess = await spawn_bot(**WITH_CATALOGUE)
    async with asyncio.timeout(30):
        await fake_ra.wait_for_calls(1, "API_GetConsoleIDs")
    answer = await answer_when_titles_load(
        fake_discord, fake_ra, "progress", games="Super Metroid, 1", user="MaxMilyin"
    )
    assert not answer["ephemeral"], answer
    text = text_of(answer)
    assert "[Super Metroid](https://retroachievements.org/game/700)" in text
    assert "[Sonic the Hedgehog](https://retroachievements.org/game/1)" in text
    assert fake_ra.calls("API_GetGame") == []  # titles and icons came from the catalogue
    consoles_asked = len(fake_ra.calls("API_GetConsoleIDs"))
    lists_asked = len(fake_ra.calls("API_GetGameList"))
    assert consoles_asked == 1

    choices = await suggest(fake_discord, "progress", "1, 14402, metr")
    assert choices[0]["value"].startswith("1, 14402, ")
    assert {"name": "Metroid · NES/Famicom", "value": "1, 14402, 701"} in choices

    ambiguous = await answer_when_titles_load(fake_discord, fake_ra, "progress", games="Tetris")
    assert ambiguous["ephemeral"] and "`Tetris` is 3 games" in ambiguous["content"]

    # A restart reads the catalogue from the database: RA is not asked for it again.
    assert await bot.terminate() == 0
    await spawn_bot(**WITH_CATALOGUE)
    again = await answer_when_titles_load(
        fake_discord, fake_ra, "progress", games="Metroid Fusion", user="MaxMilyin"
    )
    assert "[Metroid Fusion](https://retroachievements.org/game/703)" in text_of(again)
    assert len(fake_ra.calls("API_GetConsoleIDs")) == consoles_asked
    assert len(fake_ra.calls("API_GetGameList")) == lists_asked
