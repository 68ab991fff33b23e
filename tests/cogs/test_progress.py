"""/progress driven through the fake Discord's gateway, answered by the real bot and RA client."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import pytest

from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault


def description(answer: dict[str, Any]) -> str:
    return "\n".join(e.get("description", "") for e in answer.get("embeds", []))


def everything_sent(harness: Harness) -> str:
    return json.dumps([r.json for r in harness.discord.requests if r.json is not None])


async def test_progress_defers_before_any_ra_call_then_shows_the_embed(harness: Harness) -> None:
    interaction = await harness.command("progress", games="1, 14402", user="MaxMilyin")
    answer = await interaction.wait_final()

    # Acknowledged with a public defer, before RA was asked anything.
    assert interaction.callbacks[0]["type"] == 5
    assert interaction.callback_at is not None
    assert interaction.callback_at < harness.ra.request_times[0]
    # One progress call for both games.
    progress_calls = harness.ra.calls("API_GetUserProgress")
    assert [c.params["i"] for c in progress_calls] == ["1,14402"]
    assert progress_calls[0].params["u"] == "MaxMilyin"

    assert answer["source"] == "edit" and not answer["ephemeral"]
    (embed,) = answer["embeds"]
    assert embed["author"]["name"] == "MaxMilyin"
    assert embed["author"]["icon_url"].endswith("/UserPic/MaxMilyin.png")
    text = embed["description"]
    assert "[Sonic the Hedgehog](https://retroachievements.org/game/1)" in text
    assert "Genesis/Mega Drive" in text and "👑 Mastered" in text
    assert "HC **23/23** · 400/400 pts · 100%" in text
    assert "HC **12/69** · 150/950 pts · 17%" in text
    assert "SC **30/69** · 410/950 pts · 43%" in text
    assert text.index("Sonic") < text.index("Dragon Quest III")
    assert embed["fields"][0]["name"] == "Totals"
    assert "timestamp" in embed
    assert answer["allowed_mentions"] == {"parse": []}


async def test_unknown_game_is_said_plainly(harness: Harness) -> None:
    answer = await harness.answer("progress", games="999999", user="MaxMilyin")
    assert not answer["ephemeral"]
    assert "does not know this game id" in description(answer)
    assert "0%" not in description(answer)


@pytest.mark.parametrize(
    ("games", "expected", "at_once"),
    [
        ("a,b", "`a` is not a game id", False),  # may be a set's name: looked up first
        ("1, 0", "`0` is not a valid game id", True),
        ("https://example.com/game/1", "`https://example.com/game/1` is not a game id", True),
        (", ,", "Give at least one game", True),
        (" ".join(str(i) for i in range(1, 60)), "more than 50 games", True),
        ("1 @everyone", "`1 @\u200beveryone` is not a game id", True),
    ],
)
async def test_malformed_games_answer_ephemerally_without_calling_ra(
    harness: Harness, games: str, expected: str, at_once: bool
) -> None:
    interaction = await harness.command("progress", games=games, user="MaxMilyin")
    answer = await interaction.wait_final()
    assert answer["ephemeral"]
    assert (answer["source"] == "callback") is at_once
    assert expected in answer["content"]
    assert answer["allowed_mentions"] == {"parse": []}
    assert harness.ra.requests == []


@pytest.mark.parametrize("user", ["a", "bad name", "x" * 21, "Max_Milyin", "ünïcode"])
async def test_a_user_name_ra_would_refuse_is_caught_before_any_call(
    harness: Harness, user: str
) -> None:
    answer = await harness.answer("progress", games="1", user=user)
    assert answer["ephemeral"]
    assert "cannot be a RetroAchievements user name" in answer["content"]
    assert harness.ra.requests == []


async def test_without_user_or_link_says_how_to_link(harness: Harness) -> None:
    answer = await harness.answer("progress", games="1")
    assert answer["ephemeral"]
    assert answer["content"].startswith("You have not linked your RetroAchievements account yet")
    assert harness.ra.requests == []


async def test_unknown_ra_user_is_said_plainly_and_only_to_the_caller(harness: Harness) -> None:
    interaction = await harness.command("progress", games="1", user="NoSuchUser")
    answer = await interaction.wait_final()
    assert interaction.callbacks[0]["type"] == 5  # deferred first...
    assert interaction.deletes  # ...then the public "thinking" was removed
    assert answer["source"] == "followup" and answer["ephemeral"]
    assert answer["content"] == (
        "There is no RetroAchievements user named NoSuchUser: check the spelling."
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (FakeFault("status", 401), "refused the bot's API key"),
        (FakeFault("status", 503), "not answering right now"),
        (FakeFault("hang"), "not answering right now"),
        (FakeFault("malformed_json"), "could not read"),
        (FakeFault("html"), "could not read"),
        (FakeFault("reset"), "not answering right now"),
    ],
)
async def test_every_ra_fault_gets_a_clear_ephemeral_reply_and_the_bot_keeps_serving(
    harness: Harness, fault: FakeFault, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.ra.fail_always(fault)
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert answer["ephemeral"] and expected in answer["content"]

    # The report's other fetches may still be retrying; a command now would join them.
    await harness.bot.ra.wait_idle()
    harness.ra.fail_always(None)
    circuit = harness.bot.ra.client.circuit
    assert circuit is not None
    await asyncio.sleep(circuit.probe_in())  # RA was down: the bot asks again after a pause
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert not answer["ephemeral"] and "Sonic the Hedgehog" in description(answer)

    assert FAKE_RA_KEY not in everything_sent(harness)
    for record in caplog.records:
        assert FAKE_RA_KEY not in record.getMessage()
        assert FAKE_RA_KEY not in (logging.Formatter().format(record))


async def test_429_then_ok_is_retried_within_the_budget(harness: Harness) -> None:
    harness.ra.fail_next(FakeFault("status", 429, headers={"Retry-After": "0"}), times=2)
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert not answer["ephemeral"] and "Sonic the Hedgehog" in description(answer)


async def test_a_long_retry_after_holds_every_command_without_asking_ra(harness: Harness) -> None:
    harness.ra.fail_next(FakeFault("status", 429, headers={"Retry-After": "120"}), times=2)
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert answer["ephemeral"]
    assert re.fullmatch(r"RetroAchievements is busy right now: try again <t:\d+:R>\.",
                        answer["content"])
    asked = len(harness.ra.requests)

    # RA said two minutes: the next command waits for no turn and says so, RA is not asked.
    answer = await harness.answer("progress", games="14402", user="Scott")
    assert answer["ephemeral"] and "busy right now" in answer["content"]
    when = int(re.findall(r"<t:(\d+):R>", answer["content"])[0])
    assert when - time.time() > 100
    assert len(harness.ra.requests) == asked


async def test_guild_budget_runs_out_with_a_retry_time_and_other_guilds_are_served(
    start_bot: Any,
) -> None:
    harness: Harness = await start_bot(guild_commands_per_minute=2)
    first, second = harness.discord.guild_ids[:2]
    for _ in range(2):
        answer = await harness.answer("progress", games="1", user="MaxMilyin", guild_id=first)
        assert not answer["ephemeral"]
    calls = len(harness.ra.requests)

    answer = await harness.answer("progress", games="1", user="MaxMilyin", guild_id=first)
    assert answer["ephemeral"] and answer["source"] == "callback"
    assert re.search(r"used its RetroAchievements budget .*try again <t:\d+:R>", answer["content"])
    assert len(harness.ra.requests) == calls

    answer = await harness.answer("progress", games="1", user="MaxMilyin", guild_id=second)
    assert not answer["ephemeral"]


async def test_a_name_that_is_no_set_of_this_server(harness: Harness) -> None:
    answer = await harness.answer("progress", games="Monthly Challenge", user="MaxMilyin")
    assert answer["ephemeral"]
    assert "Monthly" in answer["content"] and "not a game id" in answer["content"]
    assert harness.ra.requests == []


async def test_bad_input_costs_no_budget(start_bot: Any) -> None:
    harness: Harness = await start_bot(guild_commands_per_minute=1)
    for games in ("nope", "1,x", "Not A Set"):
        answer = await harness.answer("progress", games=games, user="MaxMilyin")
        assert "not a game id" in answer["content"]
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert not answer["ephemeral"]


async def test_an_unexpected_error_is_logged_and_the_caller_gets_an_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the service")

    monkeypatch.setattr(harness.bot.ra, "progress_report", broken)
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert answer["ephemeral"]
    assert answer["content"].startswith("Something went wrong on the bot's side")
    (record,) = [r for r in caplog.records if r.getMessage() == "command /progress failed"]
    assert record.exc_info is not None and "a bug in the service" in str(record.exc_info[1])

    monkeypatch.undo()
    answer = await harness.answer("progress", games="1", user="MaxMilyin")
    assert not answer["ephemeral"]


async def test_ra_text_is_escaped(harness: Harness) -> None:
    harness.ra.add_game(4242, "**Bold** @everyone [x](https://evil.example)", console="<@123>")
    answer = await harness.answer("progress", games="4242", user="MaxMilyin")
    text = description(answer)
    assert "**Bold**" not in text and "\\*\\*Bold\\*\\*" in text
    assert "@everyone" not in text
    assert "\\[x\\](https://evil.example)" in text  # shown, not a link
    assert answer["allowed_mentions"] == {"parse": []}


async def test_a_long_game_list_is_split_within_discords_limits(harness: Harness) -> None:
    for game_id in range(1000, 1050):
        harness.ra.add_game(game_id, f"A rather long game title number {game_id} " * 3)
    games = ",".join(str(i) for i in range(1000, 1050))
    interaction = await harness.command("progress", games=games, user="MaxMilyin")
    first = await interaction.wait_final()
    await interaction.wait_until(lambda it: len(it.followups) >= 1)
    messages = [first, *interaction.followups]
    assert [c.params["i"] for c in harness.ra.calls("API_GetUserProgress")] == [games]
    shown = "".join(e.get("description", "") for m in messages for e in m["embeds"])
    for game_id in range(1000, 1050):
        assert f"/game/{game_id})" in shown
    for message in messages:
        assert len(message["embeds"]) <= 10
        assert all(len(e.get("description", "")) <= 4096 for e in message["embeds"])
