"""Start-up, command sync and shutdown of the real bot process."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FAKE_RA_KEY


def by_name(commands: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in commands}


def shape(command: dict[str, Any]) -> Any:
    """A command as (name, [(option, type, required) or (subcommand, [...])])."""
    options = []
    for option in command.get("options", []):
        if option["type"] in (1, 2):  # subcommand (group)
            options.append((option["name"], shape(option)[1]))
        else:
            options.append((option["name"], option["type"], option.get("required", False)))
    return command["name"], options


# The contract's commands and options (product.md), as Discord receives them.
STRING, INTEGER, BOOLEAN, USER, CHANNEL = 3, 4, 5, 6, 7
CONTRACT = {
    "progress": [("games", STRING, True), ("user", STRING, False), ("member", USER, False)],
    "link": [("username", STRING, True)],
    "unlink": [],
    "compare": [("games", STRING, True), ("members", STRING, True)],
    "leaderboard": [
        ("show", [("games", STRING, True)]),
        ("schedule", [
            ("channel", CHANNEL, True), ("games", STRING, True), ("every", STRING, True),
            ("time", STRING, False), ("edit_in_place", BOOLEAN, False),
        ]),
        ("schedules", []),
        ("unschedule", [("id", INTEGER, True)]),
    ],
    "gameset": [
        ("create", [("name", STRING, True), ("games", STRING, True)]),
        ("add", [("name", STRING, True), ("games", STRING, True)]),
        ("remove", [("name", STRING, True), ("games", STRING, True)]),
        ("delete", [("name", STRING, True)]),
        ("list", []),
    ],
    "settings": [("ratelimit", [("per_minute", INTEGER, True)])],
    "status": [],
    "challenge": [
        ("create", [
            ("name", STRING, True), ("games", STRING, True), ("start", STRING, True),
            ("end", STRING, True), ("channel", CHANNEL, False), ("every", STRING, False),
        ]),
        ("standings", [("name", STRING, True)]),
        ("list", []),
        ("delete", [("name", STRING, True)]),
    ],
    "feed": [
        ("set", [
            ("channel", CHANNEL, True), ("masteries", BOOLEAN, False), ("beaten", BOOLEAN, False),
            ("aotw", BOOLEAN, False), ("hardcore_only", BOOLEAN, False), ("games", STRING, False),
        ]),
        ("stop", []),
        ("show", []),
        ("me", [("announce", BOOLEAN, True)]),
    ],
    "aotw": [],
}


async def test_start_up_syncs_the_contracts_commands(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    bot: BotProcess = await spawn_bot()
    await fake_discord.wait_for_request(lambda r: r.method == "PUT" and "commands" in r.path)
    commands = by_name(fake_discord.synced_global or [])
    assert {name: shape(c)[1] for name, c in commands.items()} == CONTRACT
    every = {o["name"]: o for o in commands["leaderboard"]["options"]}["schedule"]["options"][2]
    assert [c["value"] for c in every["choices"]] == ["hourly", "daily", "weekly"]
    create = {o["name"]: o for o in commands["challenge"]["options"]}["create"]["options"]
    assert [c["value"] for c in create[5]["choices"]] == ["daily", "weekly"]
    assert sorted(create[4]["channel_types"]) == [0, 5]  # text and announcement channels
    # Guild-only commands are not offered in direct messages.
    for name in ("compare", "leaderboard", "gameset", "settings", "challenge"):
        assert commands[name].get("contexts") == [0] or commands[name].get("dm_permission") is False
    assert await bot.terminate() == 0


async def test_sigterm_closes_the_gateway_and_exits_0(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    bot: BotProcess = await spawn_bot()
    interaction = await fake_discord.send_interaction("status")
    assert (await interaction.wait_final())["ephemeral"]
    assert fake_discord.open_gateways == 1

    assert await bot.terminate() == 0
    assert fake_discord.open_gateways == 0
    log = bot.log
    assert "stopping: closing the gateway" in log and "stopped" in log
    assert "Traceback" not in log
    assert "Unclosed" not in log  # the aiohttp session was closed
    assert FAKE_RA_KEY not in log


async def test_a_dev_guild_gets_the_commands_at_once(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    guild = fake_discord.guild_ids[1]
    bot: BotProcess = await spawn_bot(DEV_GUILD_ID=str(guild))
    await fake_discord.wait_for_request(lambda r: r.method == "PUT" and "guilds" in r.path)
    assert "progress" in by_name(fake_discord.synced_guild[guild])
    assert not fake_discord.synced_global
    assert await bot.terminate() == 0


async def test_a_database_it_cannot_use_stops_start_up_with_one_line(
    spawn_bot: Any, tmp_path: Any
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's directory should be")
    bot: BotProcess = await spawn_bot(
        wait_ready=False, DATABASE_URL=f"sqlite:///{blocker}/bot.sqlite3"
    )
    assert await bot.process.wait() == 2
    lines = [line for line in bot.log.splitlines() if line.startswith("DATABASE_URL")]
    assert lines == [f"DATABASE_URL: cannot create the directory {blocker} (File exists)"]
    assert "Traceback" not in bot.log
