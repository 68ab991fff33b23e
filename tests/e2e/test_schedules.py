"""Scheduled leaderboards through the real bot process: posted once, kept across restarts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord

FAST = {"SCHEDULE_SPREAD_SECONDS": "0"}


async def command(fake: FakeDiscord, name: str, *options: dict[str, Any]) -> dict[str, Any]:
    interaction = await fake.send_interaction(name, list(options))
    return await interaction.wait_final()


def opt(name: str, value: Any, kind: int | None = None) -> dict[str, Any]:
    option = {"name": name, "value": value}
    if kind is not None:
        option["type"] = kind
    return option


async def listing_once(fake: FakeDiscord, expected: str) -> str:
    """/leaderboard schedules until the first schedule's entry shows `expected` (the post is on
    the channel before the bot records it; each try is a full command round trip)."""
    value = ""
    for _ in range(100):
        listing = await command(fake, "leaderboard schedules")
        value = listing["embeds"][0]["fields"][0]["value"]
        if expected in value:
            return value
    raise AssertionError(f"{expected!r} never shown; last: {value!r}")


def posts_to(fake: FakeDiscord, channel: int) -> list[Any]:
    path = f"/channels/{channel}/messages"
    return [r for r in fake.requests if r.method == "POST" and r.path == path]


async def test_a_schedule_due_next_minute_posts_once_and_survives_a_restart(
    spawn_bot: Any, fake_discord: FakeDiscord
) -> None:
    guild = fake_discord.guild_ids[0]
    channel = fake_discord.channel_ids[guild]
    bot: BotProcess = await spawn_bot(**FAST)
    await command(fake_discord, "link", opt("username", "MaxMilyin"))
    minute = (datetime.now(UTC) + timedelta(minutes=1)).minute
    answer = await command(
        fake_discord,
        "leaderboard schedule",
        opt("channel", channel, 7),
        opt("games", "1, 14402"),
        opt("every", "hourly"),
        opt("time", f"00:{minute:02}"),
    )
    assert answer["content"].startswith("Schedule #1: "), answer

    # Restart before it is due: the schedule is kept.
    assert await bot.terminate() == 0
    bot = await spawn_bot(**FAST)
    listing = await command(fake_discord, "leaderboard schedules")
    assert listing["embeds"][0]["fields"][0]["name"] == "#1"

    (post,) = await fake_discord.wait_channel_messages(channel, 1, timeout=90)
    embed = post["embeds"][0]
    assert embed["title"] == "Leaderboard · Sonic the Hedgehog (1), Dragon Quest III (14402)"
    assert embed["description"].startswith("🥇 **owner0** (MaxMilyin) · 550 pts")
    assert embed["footer"]["text"].startswith("Schedule #1 · ")
    assert post["allowed_mentions"] == {"parse": []}
    # The board's picture came as files[0] of a multipart post, and the embed shows it.
    assert embed["image"]["url"] == "attachment://leaderboard.png"
    assert [f["filename"] for f in posts_to(fake_discord, channel)[0].files] == ["leaderboard.png"]

    await listing_once(fake_discord, "Last: posted ")
    assert len(posts_to(fake_discord, channel)) == 1

    answer = await command(fake_discord, "leaderboard unschedule", opt("id", 1))
    assert answer["content"] == "Schedule #1 is removed."
    listing = await command(fake_discord, "leaderboard schedules")
    assert listing["embeds"][0]["description"].startswith("None yet")
    assert await bot.terminate() == 0


def back_date(database: Path, schedule_id: int) -> None:
    """Pretend the bot was down when the schedule's slot came: it is due now, this period."""
    with sqlite3.connect(database) as db:
        (next_run,) = db.execute(
            "SELECT next_run FROM schedules WHERE id = ?", (schedule_id,)
        ).fetchone()
        slot = datetime.fromisoformat(next_run) - timedelta(days=1)
        value = slot.strftime("%Y-%m-%d %H:%M:%S.%f")
        db.execute(
            "UPDATE schedules SET next_run = ?, run_at = ? WHERE id = ?",
            (value, value, schedule_id),
        )


async def schedule_daily_then_stop(
    spawn_bot: Any, fake: FakeDiscord, channel: int
) -> None:
    bot: BotProcess = await spawn_bot(**FAST)
    now = datetime.now(UTC) - timedelta(minutes=2)
    answer = await command(
        fake,
        "leaderboard schedule",
        opt("channel", channel, 7),
        opt("games", "1"),
        opt("every", "daily"),
        opt("time", f"{now.hour:02}:{now.minute:02}"),
    )
    assert answer["content"].startswith("Schedule #1: ")
    assert await bot.terminate() == 0


async def test_a_period_missed_while_down_is_posted_once_when_the_bot_returns(
    spawn_bot: Any, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    channel = fake_discord.channel_ids[fake_discord.guild_ids[0]]
    await schedule_daily_then_stop(spawn_bot, fake_discord, channel)
    back_date(tmp_path / "bot.sqlite3", 1)

    bot: BotProcess = await spawn_bot(**FAST)
    await fake_discord.wait_channel_messages(channel, 1, timeout=30)
    await listing_once(fake_discord, "Last: posted ")
    assert await bot.terminate() == 0
    # And not again after another restart in the same period.
    bot = await spawn_bot(**FAST)
    await listing_once(fake_discord, "Last: posted ")
    assert len(posts_to(fake_discord, channel)) == 1
    assert await bot.terminate() == 0


async def test_a_channel_the_bot_may_not_post_in_pauses_the_schedule(
    spawn_bot: Any, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    channel = fake_discord.channel_ids[fake_discord.guild_ids[0]]
    await schedule_daily_then_stop(spawn_bot, fake_discord, channel)
    back_date(tmp_path / "bot.sqlite3", 1)
    fake_discord.fail_channel(channel, 403)

    bot: BotProcess = await spawn_bot(**FAST)
    await fake_discord.wait_for_request(
        lambda r: r.method == "POST" and r.path == f"/channels/{channel}/messages", timeout=30
    )
    await listing_once(fake_discord, "⏸️ Paused: the bot may no longer post embeds in #general")
    assert await bot.terminate() == 0
