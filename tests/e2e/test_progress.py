"""/progress through the real bot process: what a Discord user sees, and what RA is asked."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA


def opts(**options: str) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in options.items()]


def text_of(answer: dict[str, Any]) -> str:
    parts = [answer.get("content") or ""]
    for embed in answer.get("embeds") or []:
        parts.append(embed.get("description", ""))
        parts.extend(f["value"] for f in embed.get("fields", []))
    return "\n".join(parts)


async def progress(fake: FakeDiscord, guild: int | None = None, **options: str) -> dict[str, Any]:
    interaction = await fake.send_interaction("progress", opts(**options), guild_id=guild)
    return await interaction.wait_final()


def sent_to_discord(fake: FakeDiscord) -> str:
    return json.dumps([(r.path, r.query, r.json) for r in fake.requests])


@pytest.fixture
async def bot(spawn_bot: Any) -> BotProcess:
    process: BotProcess = await spawn_bot()
    return process


async def test_happy_path_every_figure_one_ra_call(
    bot: BotProcess, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    interaction = await fake_discord.send_interaction(
        "progress", opts(games="1, 14402, 228", user="MaxMilyin")
    )
    answer = await interaction.wait_final()
    assert interaction.callbacks[0]["type"] == 5
    assert not answer["ephemeral"]
    text = text_of(answer)
    for line in (
        "[Sonic the Hedgehog](https://retroachievements.org/game/1)** · Genesis/Mega Drive",
        "HC **23/23** · 400/400 pts · 100%",
        "[Dragon Quest III](https://retroachievements.org/game/14402)** · SNES/Super Famicom",
        "HC **12/69** · 150/950 pts · 17%",
        "SC **30/69** · 410/950 pts · 43%",
        "[Super Mario World](https://retroachievements.org/game/228)",
        "HC **0/96** · 0/1,000 pts · 0%",
        "HC **35/188** · 550/2,350 pts · 18%",
    ):
        assert line in text
    assert [c.params["i"] for c in fake_ra.calls("API_GetUserProgress")] == ["1,14402,228"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"games": "1, @two", "user": "MaxMilyin"}, "`@two` is not a game id"),
        ({"games": "-5", "user": "MaxMilyin"}, "`-5` is not a game id"),
        ({"games": "1", "user": "no spaces allowed"}, "cannot be a RetroAchievements user name"),
    ],
)
async def test_malformed_input_is_answered_ephemerally_with_no_ra_call(
    bot: BotProcess,
    fake_discord: FakeDiscord,
    fake_ra: FakeRA,
    options: dict[str, str],
    expected: str,
) -> None:
    answer = await progress(fake_discord, **options)
    assert answer["ephemeral"] and answer["source"] == "callback"
    assert expected in answer["content"]
    assert fake_ra.requests == []


@pytest.mark.parametrize(
    ("fault", "times", "expected"),
    [
        (FakeFault("status", 401), None, "refused the bot's API key"),
        (FakeFault("status", 422), None, "refused that user name"),
        (FakeFault("status", 429, headers={"Retry-After": "1"}), 1, None),
        (FakeFault("status", 500), 1, None),
        (FakeFault("status", 503), None, "not answering right now"),
        (FakeFault("hang"), None, "not answering right now"),
        (FakeFault("malformed_json"), None, "could not read"),
        (FakeFault("html"), None, "could not read"),
        (FakeFault("reset"), None, "not answering right now"),
    ],
    ids=["401", "422", "429-then-ok", "500-then-ok", "503-long", "hang", "json", "html", "reset"],
)
async def test_ra_faults_are_answered_and_the_bot_keeps_serving(
    bot: BotProcess,
    fake_discord: FakeDiscord,
    fake_ra: FakeRA,
    fault: FakeFault,
    times: int | None,
    expected: str | None,
) -> None:
    if times is None:
        fake_ra.fail_always(fault)
    else:
        fake_ra.fail_next(fault, times=times)
    answer = await progress(fake_discord, games="1", user="MaxMilyin")
    if expected is None:  # retried within the budget: the user never notices
        assert not answer["ephemeral"] and "Sonic the Hedgehog" in text_of(answer)
    else:
        assert answer["ephemeral"] and expected in answer["content"]

    fake_ra.fail_always(None)
    # After RA was down for good the bot pauses before asking again (RA_CIRCUIT_OPEN_SECONDS
    # is 0.5 s here), answering "not answering" meanwhile: within a few seconds it serves.
    deadline = time.monotonic() + 10
    while True:
        answer = await progress(fake_discord, games="228", user="Scott")
        if not answer["ephemeral"] or time.monotonic() > deadline:
            break
        assert "not answering right now" in answer["content"]
        await asyncio.sleep(0.2)
    assert not answer["ephemeral"] and "Super Mario World" in text_of(answer)
    assert FAKE_RA_KEY not in sent_to_discord(fake_discord)


async def test_one_guild_flooded_another_served(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    await spawn_bot(GUILD_COMMANDS_PER_MINUTE="3")
    flooded, other = fake_discord.guild_ids[:2]
    answers = await asyncio.gather(
        *(progress(fake_discord, flooded, games="1", user="MaxMilyin") for _ in range(6))
    )
    limited = [a for a in answers if a["ephemeral"]]
    assert len(limited) == 3
    assert all(re.search(r"try again <t:\d+:R>", a["content"]) for a in limited)
    answer = await progress(fake_discord, other, games="1", user="MaxMilyin")
    assert not answer["ephemeral"]


async def test_twenty_identical_concurrent_commands_make_one_progress_call(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    await spawn_bot(GUILD_COMMANDS_PER_MINUTE="60")
    fake_ra.response_delay = 0.3
    answers = await asyncio.gather(
        *(progress(fake_discord, games="1, 14402", user="MaxMilyin") for _ in range(20))
    )
    assert all(not a["ephemeral"] for a in answers)
    assert len(fake_ra.calls("API_GetUserProgress")) <= 2
    assert len(fake_ra.calls("API_GetUserProfile")) <= 2


async def test_the_key_is_in_nothing_sent_to_discord_and_in_no_log_line(
    bot: BotProcess, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    fake_ra.fail_next(FakeFault("reset"), times=2)
    await progress(fake_discord, games="1", user="MaxMilyin")
    fake_ra.fail_always(FakeFault("status", 401))
    await progress(fake_discord, games="14402", user="Scott")
    fake_ra.fail_always(FakeFault("html"))
    await progress(fake_discord, games="228", user="TestUser")
    assert await bot.terminate() == 0
    assert fake_ra.requests and all(r.params["y"] == FAKE_RA_KEY for r in fake_ra.requests)
    assert FAKE_RA_KEY not in sent_to_discord(fake_discord)
    assert FAKE_RA_KEY not in bot.log
    assert "API_GetUserProgress {" in bot.log  # the log did talk about those requests


@pytest.mark.parametrize("code", [1006, 4000])
async def test_the_bot_resumes_after_a_gateway_drop_and_answers(
    bot: BotProcess, fake_discord: FakeDiscord, code: int
) -> None:
    resumes = fake_discord.resume_count
    await fake_discord.drop_gateway(code)
    await fake_discord.wait_resume_count(resumes + 1)
    answer = await progress(fake_discord, games="1", user="MaxMilyin")
    assert not answer["ephemeral"] and "Sonic the Hedgehog" in text_of(answer)
