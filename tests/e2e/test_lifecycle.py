"""Start-up, command sync and shutdown of the real bot process."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FAKE_RA_KEY


def by_name(commands: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in commands}


async def test_start_up_syncs_the_contracts_commands(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    bot: BotProcess = await spawn_bot()
    await fake_discord.wait_for_request(lambda r: r.method == "PUT" and "commands" in r.path)
    commands = by_name(fake_discord.synced_global or [])
    assert {"progress", "status"} <= set(commands)
    progress = commands["progress"]["options"]
    assert [(o["name"], o["type"], o.get("required", False)) for o in progress] == [
        ("games", 3, True),
        ("user", 3, False),
        ("member", 6, False),
    ]
    assert commands["status"].get("options", []) == []
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
