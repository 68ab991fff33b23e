"""Members through the real bot process: link, compare, leaderboard, game sets, budgets."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA


async def run(
    fake: FakeDiscord,
    command: str,
    caller: int | None = None,
    guild: int | None = None,
    /,
    **options: Any,
) -> dict[str, Any]:
    opts = [{"name": k, "value": v} for k, v in options.items()]
    interaction = await fake.send_interaction(command, opts, user_id=caller, guild_id=guild)
    return await interaction.wait_final()


async def test_link_compare_and_a_leaderboard_of_a_game_set(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA
) -> None:
    bot: BotProcess = await spawn_bot()
    guild = fake_discord.guild_ids[0]
    owner, member = fake_discord.member_id(guild, 0), fake_discord.member_id(guild, 1)

    assert (await run(fake_discord, "link", owner, username="Scott"))["ephemeral"]
    assert (await run(fake_discord, "link", member, username="MaxMilyin"))["ephemeral"]
    answer = await run(fake_discord, "gameset create", owner, name="Monthly", games="1, 228")
    assert answer["ephemeral"] and "Monthly" in answer["content"]

    answer = await run(fake_discord, "progress", member, games="Monthly")
    assert "Sonic the Hedgehog" in answer["embeds"][0]["description"]

    answer = await run(fake_discord, "leaderboard show", member, games="Monthly")
    embed = answer["embeds"][0]
    assert embed["title"] == "Leaderboard · Monthly"
    rows = embed["description"].splitlines()
    assert rows[0].startswith("🥇 **member0-1** (MaxMilyin) · 400 pts")
    assert rows[1].startswith("🥈 **owner0** (Scott) · 340 pts")

    answer = await run(fake_discord, "compare", owner, games="Monthly",
                       members=f"<@{owner}> <@{member}>")
    assert answer["embeds"][0]["title"] == "Comparing 2 members on 2 games"

    # A member who left is not on the server's next board (membership is confirmed again when
    # the last confirmation is older than ten minutes; here, no board was built yet).
    other = fake_discord.guild_ids[1]
    stayer, leaver = fake_discord.member_id(other, 1), fake_discord.member_id(other, 2)
    assert (await run(fake_discord, "link", stayer, other, username="TestUser"))["ephemeral"]
    assert (await run(fake_discord, "link", leaver, other, username="Scott"))["ephemeral"]
    fake_discord.remove_member(other, leaver)
    answer = await run(fake_discord, "leaderboard show", stayer, other, games="228")
    rows = answer["embeds"][0]["description"].splitlines()
    assert len(rows) == 1 and rows[0].startswith("🥇 **member1-1** (TestUser)")

    answer = await run(fake_discord, "unlink", owner)
    assert "Your link to Scott is removed" in answer["content"]
    assert await bot.terminate() == 0


async def test_a_lower_guild_rate_applies_and_survives_a_restart(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    bot: BotProcess = await spawn_bot()
    answer = await run(fake_discord, "settings ratelimit", per_minute=1)
    assert answer["ephemeral"]
    assert await bot.terminate() == 0

    bot = await spawn_bot()
    first = await run(fake_discord, "progress", None, games="1", user="MaxMilyin")
    second = await run(fake_discord, "progress", None, games="1", user="MaxMilyin")
    assert not first["ephemeral"]
    assert second["ephemeral"] and "try again <t:" in second["content"]
    assert await bot.terminate() == 0
