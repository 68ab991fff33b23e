"""`python -m bot check`: the configuration checked without opening the gateway."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord

from tests.e2e.conftest import bot_environment
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA


async def run_check(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check",
        cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_good_configuration_prints_the_invite_url(
    fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    code, out, err = await run_check(bot_environment(fake_discord, fake_ra), tmp_path)
    assert code == 0, err
    (invite,) = [line for line in out.splitlines() if line.startswith("invite: ")]
    query = parse_qs(urlparse(invite.split()[1]).query)
    assert query["client_id"] == [str(fake_discord.application_id)]
    assert query["scope"] == ["bot applications.commands"]
    permissions = discord.Permissions(int(query["permissions"][0]))
    assert permissions.send_messages and permissions.embed_links and permissions.view_channel
    assert not permissions.administrator
    assert fake_discord.identify_count == 0  # never connected to the gateway
    assert [r.endpoint for r in fake_ra.requests] == ["API_GetAchievementOfTheWeek"]


async def test_every_problem_is_one_line_and_the_exit_status_is_1(
    fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    env = bot_environment(
        fake_discord,
        fake_ra,
        RA_API_KEY="WrongKeyWrongKeyWrongKeyWrongKey",
        DISCORD_TOKEN="MTAwMDAwMDAwMDAwMDAwMDAw.d3Jvbmc.d3JvbmctdG9rZW4td3JvbmctdG9rZW4",
    )
    code, out, err = await run_check(env, tmp_path)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("RA_API_KEY was refused by RetroAchievements")
    assert lines[1].startswith("DISCORD_TOKEN was refused by Discord")
    assert "Traceback" not in err and "WrongKey" not in err + out
