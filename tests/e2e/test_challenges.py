"""A month's challenge through the real bot process: created, ranked, posted on its cadence,
and its final standings posted exactly once, across restarts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA

FAST = {"SCHEDULE_SPREAD_SECONDS": "0"}
EARNED = "API_GetAchievementsEarnedBetween"


async def command(
    fake: FakeDiscord, name: str, *options: dict[str, Any], user_id: int | None = None
) -> dict[str, Any]:
    interaction = await fake.send_interaction(name, list(options), user_id=user_id)
    return await interaction.wait_final()


def opt(name: str, value: Any, kind: int | None = None) -> dict[str, Any]:
    option = {"name": name, "value": value}
    if kind is not None:
        option["type"] = kind
    return option


def posts_to(fake: FakeDiscord, channel: int) -> list[Any]:
    path = f"/channels/{channel}/messages"
    return [r for r in fake.requests if r.method == "POST" and r.path == path]


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def set_times(database: Path, **columns: datetime) -> None:
    """Move the challenge's times as if the clock had moved on while the bot was down."""
    with sqlite3.connect(database) as db:
        assignments = ", ".join(f"{name} = ?" for name in columns)
        db.execute(
            f"UPDATE challenges SET {assignments} WHERE id = 1",  # noqa: S608 (names are ours)
            [stamp(value) for value in columns.values()],
        )


async def test_a_moderator_runs_a_months_challenge_end_to_end(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    guild = fake_discord.guild_ids[0]
    channel = fake_discord.channel_ids[guild]
    owner, member = fake_discord.member_id(guild, 0), fake_discord.member_id(guild, 1)
    now = datetime.now(UTC)
    today = now.date()
    fake_ra.add_unlock("Scott", 228, 11, points=25, at=now - timedelta(hours=1))
    fake_ra.add_unlock("Scott", 228, 12, points=50, at=now - timedelta(days=3))  # before
    fake_ra.add_unlock("MaxMilyin", 1, 21, points=10, at=now - timedelta(hours=2), hardcore=False)

    bot: BotProcess = await spawn_bot(**FAST)
    await command(fake_discord, "link", opt("username", "Scott"), user_id=owner)
    await command(fake_discord, "link", opt("username", "MaxMilyin"), user_id=member)
    start, end = today - timedelta(days=1), today + timedelta(days=29)
    answer = await command(
        fake_discord,
        "challenge create",
        opt("name", "Month"),
        opt("games", "1, 228"),
        opt("start", start.isoformat()),
        opt("end", end.isoformat()),
        opt("channel", channel, 7),
        opt("every", "daily"),
    )
    assert answer["ephemeral"] and answer["content"].startswith("Challenge **Month** on ")
    assert f"Standings go to <#{channel}> daily at 00:00 UTC" in answer["content"]

    answer = await command(fake_discord, "challenge standings", opt("name", "month"))
    lines = answer["embeds"][0]["description"].splitlines()
    assert lines[3].startswith("🥇 **owner0** (Scott) · 25 pts · 1 HC · 25 SC pts")
    assert lines[4].startswith("🥈 **member0-1** (MaxMilyin) · 0 pts · 0 HC · 10 SC pts")
    assert len(fake_ra.calls(EARNED)) == 2  # one call per member

    # Down over midnight: today's daily post is due when it comes back.
    assert await bot.terminate() == 0
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    set_times(tmp_path / "bot.sqlite3", next_run=midnight, run_at=midnight)
    bot = await spawn_bot(**FAST)
    (post,) = await fake_discord.wait_channel_messages(channel, 1, timeout=30)
    embed = post["embeds"][0]
    assert embed["title"] == "Challenge · Month"
    assert embed["footer"]["text"] == f"Challenge #1 · {midnight:%Y-%m-%d} 00:00 UTC"
    assert post["allowed_mentions"] == {"parse": []}

    # The window closes while the bot is down; an unlock after the end does not count.
    assert await bot.terminate() == 0
    closed = datetime.now(UTC) - timedelta(seconds=2)
    fake_ra.add_unlock("MaxMilyin", 228, 22, points=100, at=closed + timedelta(seconds=1))
    set_times(tmp_path / "bot.sqlite3", ends_at=closed, next_run=closed, run_at=closed)
    bot = await spawn_bot(**FAST)
    _, final = await fake_discord.wait_channel_messages(channel, 2, timeout=30)
    embed = final["embeds"][0]
    assert embed["title"] == "Final standings · Month"
    assert embed["footer"]["text"] == "Challenge #1 · final standings"
    assert embed["description"].splitlines()[1] == (
        "🏆 🥇 **owner0** 25 pts · 🥈 **member0-1** 10 SC pts"
    )

    # Once only: not again after another restart.
    for _ in range(100):
        listing = await command(fake_discord, "challenge list")
        value = listing["embeds"][0]["fields"][0]["value"]
        if "Last: final standings posted" in value:
            break
    assert listing["embeds"][0]["fields"][0]["name"] == "🏁 Finished · Month"
    assert await bot.terminate() == 0
    bot = await spawn_bot(**FAST)
    await command(fake_discord, "challenge list")
    assert len(posts_to(fake_discord, channel)) == 2

    answer = await command(fake_discord, "challenge delete", opt("name", "Month"))
    assert answer["content"].startswith("Challenge **Month** is deleted")
    assert await bot.terminate() == 0
    assert FAKE_RA_KEY not in bot.log
    assert "Traceback" not in bot.log
