"""Leaderboard pictures through the fake Discord: multipart `payload_json` + `files[n]`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.formatting.board_image import BoardPicture, PictureRow
from tests.cogs.test_leaderboard import seed_members
from tests.e2e.fake_discord import RecordedRequest
from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import fake_ulid
from tests.formatting.test_board_image import HOSTILE, decode, rows_drawn

PICTURE = "attachment://leaderboard.png"


def with_files(harness: Harness, method: str, path_part: str) -> list[RecordedRequest]:
    return [
        r for r in harness.discord.requests
        if r.method == method and path_part in r.path and r.files
    ]


def picture_rows(rec: RecordedRequest, count: int) -> int:
    """Rows drawn in the request's one PNG, which also checks it decodes and fits the budget."""
    (upload,) = rec.files
    assert upload["field"] == "files[0]" and upload["filename"] == "leaderboard.png"
    assert upload["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(upload["data"]) <= 250_000
    image = decode(upload["data"])
    return rows_drawn(image, BoardPicture(title="", rows=(PictureRow(1, "", 0, 0),) * count,
                                          lines=("x",), footer="x"))


async def test_show_attaches_the_picture_the_embed_shows_and_keeps_the_text(
    harness: Harness,
) -> None:
    guild = harness.discord.guild_ids[0]
    await seed_members(harness, guild, 3)
    interaction = await harness.command("leaderboard show", games="1")
    answer = await interaction.wait_final()
    assert answer["files"] == ["leaderboard.png"]
    embed = answer["embeds"][0]
    assert embed["image"]["url"] == PICTURE
    assert embed["description"].splitlines()[0].startswith("🥇 **player02**")  # text stays
    assert answer["attachments"][0]["filename"] == "leaderboard.png"
    (rec,) = with_files(harness, "PATCH", "/messages/@original")
    assert picture_rows(rec, 3) == 3
    assert interaction.original is not None
    assert [a["filename"] for a in interaction.original["attachments"]] == ["leaderboard.png"]


async def test_page_buttons_send_the_picture_of_the_page_shown(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    ids = await seed_members(harness, guild, 25)
    interaction = await harness.command("leaderboard show", games="1", user_id=ids[0])
    answer = await interaction.wait_final()
    assert answer["embeds"][0]["image"]["url"] == PICTURE
    (first,) = with_files(harness, "PATCH", "/messages/@original")
    assert picture_rows(first, 10) == 10
    buttons = {c["label"]: c for row in answer["components"] for c in row["components"]}
    message = interaction.original
    assert message is not None

    for label, rows in (("⏭", 5), ("◀", 10)):
        press = await harness.discord.press_button(
            message, buttons[label]["custom_id"], user_id=ids[0]
        )
        page = await press.wait_response()
        assert page["type"] == 7 and page["data"]["embeds"][0]["image"]["url"] == PICTURE
        (rec,) = with_files(harness, "POST", f"/interactions/{press.id}/")
        assert picture_rows(rec, rows) == rows
        # The new page's picture replaces the previous one (no attachment is kept).
        assert [a.get("id") for a in page["data"]["attachments"]] == [0]
        assert rec.files[0]["data"] != first.files[0]["data"]


async def test_hostile_names_are_drawn_and_written_escaped(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    ids = []
    for n, name in enumerate(HOSTILE.values()):
        uid = harness.discord.add_member(guild, name)
        harness.ra.add_user(f"H{n:02}")
        harness.ra.set_progress(f"H{n:02}", 1, achieved=n, score=n * 10, achieved_hardcore=n,
                                score_hardcore=n * 10)
        await harness.bot.store.links.set_link(uid, fake_ulid(f"H{n:02}"), f"H{n:02}")
        ids.append(uid)
    await harness.bot.store.links.mark_seen(guild, ids)
    answer = await harness.answer("leaderboard show", games="1")
    assert answer["files"] == ["leaderboard.png"]
    text = answer["embeds"][0]["description"]
    assert "\\*\\*@\u200beveryone\\*\\*" in text  # escaped, and no ping
    assert answer["allowed_mentions"] == {"parse": []}
    (rec,) = with_files(harness, "PATCH", "/messages/@original")
    assert picture_rows(rec, 10) == 10  # page 1 of the 14 members


async def test_with_pictures_off_nothing_is_attached(start_bot: Any) -> None:
    harness: Harness = await start_bot(leaderboard_images=False)
    guild = harness.discord.guild_ids[0]
    ids = await seed_members(harness, guild, 12)
    interaction = await harness.command("leaderboard show", games="1", user_id=ids[0])
    answer = await interaction.wait_final()
    assert answer["files"] == [] and "image" not in answer["embeds"][0]
    buttons = {c["label"]: c for row in answer["components"] for c in row["components"]}
    assert interaction.original is not None
    press = await harness.discord.press_button(
        interaction.original, buttons["▶"]["custom_id"], user_id=ids[0]
    )
    page = await press.wait_response()
    assert page["data"]["embeds"][0]["footer"]["text"].startswith("Page 2/2")
    assert "image" not in page["data"]["embeds"][0] and "attachments" not in page["data"]
    assert not [r for r in harness.discord.requests if r.files]


async def test_a_scheduled_post_and_its_edit_carry_the_picture(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    await seed_members(harness, guild, 4)
    later = datetime.now(UTC) + timedelta(hours=6)
    interaction = await harness.discord.send_interaction("leaderboard schedule", [
        {"name": "channel", "type": 7, "value": str(channel)},
        {"name": "games", "value": "1"},
        {"name": "every", "value": "daily"},
        {"name": "time", "value": f"{later:%H:%M}"},
        {"name": "edit_in_place", "value": True},
    ])
    assert (await interaction.wait_final())["content"].startswith("Schedule #")
    (schedule,) = await harness.bot.store.schedules.for_guild(guild)

    result = await harness.bot.scheduler.run_one(schedule, schedule.run_at)
    assert result.outcome == "posted"
    (post,) = with_files(harness, "POST", f"/channels/{channel}/messages")
    assert post.json["embeds"][0]["image"]["url"] == PICTURE  # payload_json
    assert post.json["embeds"][0]["footer"]["text"].startswith(f"Schedule #{schedule.id} · ")
    assert picture_rows(post, 4) == 4
    (message,) = harness.discord.channel_messages[channel]
    assert [a["filename"] for a in message["attachments"]] == ["leaderboard.png"]
    first_attachment = message["attachments"][0]["id"]

    # Next period: the same message is edited, and its picture replaced by the new one.
    again = await harness.bot.store.schedules.get(schedule.id)
    assert again is not None and again.message_id == int(message["id"])
    result = await harness.bot.scheduler.run_one(again, again.run_at)
    assert result.outcome == "posted"
    (edit,) = with_files(harness, "PATCH", f"/channels/{channel}/messages/{message['id']}")
    assert edit.json["embeds"][0]["image"]["url"] == PICTURE
    assert edit.json["attachments"] == [
        {
            "id": 0,
            "filename": "leaderboard.png",
            "description": "Leaderboard · Sonic the Hedgehog (1)",
        }
    ]
    assert picture_rows(edit, 4) == 4
    assert edit.files[0]["data"] != post.files[0]["data"]
    stored = harness.discord._channel_store[int(message["id"])]
    assert len(stored["attachments"]) == 1 and stored["attachments"][0]["id"] != first_attachment
    assert len(with_files(harness, "POST", f"/channels/{channel}/messages")) == 1
