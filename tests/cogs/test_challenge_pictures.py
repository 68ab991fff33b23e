"""Challenge standings as pictures through the fake Discord (multipart `payload_json` +
`files[0]`): `/challenge standings` and its pages, and the challenge poster's posts."""

from __future__ import annotations

from typing import Any

from bot.formatting.board_image import BoardPicture, PictureRow
from tests.cogs.test_challenges import at_day, create, link_three
from tests.cogs.test_leaderboard_pictures import PICTURE, with_files
from tests.e2e.fake_discord import RecordedRequest
from tests.fakes.bot_harness import Harness
from tests.fakes.fake_ra import fake_ulid
from tests.formatting.test_board_image import decode, rows_drawn


def picture_rows(rec: RecordedRequest, count: int, lines: int) -> int:
    """Rows drawn in the request's one PNG under a header of `lines` lines (the window, the
    games, and who has not started when that page lists them)."""
    (upload,) = rec.files
    assert upload["field"] == "files[0]" and upload["filename"] == "leaderboard.png"
    assert upload["data"].startswith(b"\x89PNG\r\n\x1a\n")
    image = decode(upload["data"])
    shape = BoardPicture(
        title="", rows=(PictureRow(1, "", 0, 0),) * count, lines=("x",) * lines, footer="x"
    )
    return rows_drawn(image, shape)


async def seed_window(harness: Harness) -> None:
    """Scott 25 hardcore points, MaxMilyin 10 softcore, TestUser nothing: not started."""
    await link_three(harness)
    harness.ra.add_unlock("Scott", 228, 1, points=25, at=at_day(-3))
    harness.ra.add_unlock("MaxMilyin", 1, 3, points=10, at=at_day(-1), hardcore=False)


async def test_standings_attach_the_picture_the_embed_shows_and_keep_the_text(
    harness: Harness,
) -> None:
    await seed_window(harness)
    await create(harness)
    interaction = await harness.command("challenge standings", name="December")
    answer = await interaction.wait_final()
    assert answer["files"] == ["leaderboard.png"]
    embed = answer["embeds"][0]
    assert embed["image"]["url"] == PICTURE
    lines = embed["description"].splitlines()
    assert lines[3].startswith("🥇 **owner0** (Scott) · 25 pts")  # the text stays
    assert lines[-1] == "Not started: member0-2"
    (rec,) = with_files(harness, "PATCH", "/messages/@original")
    assert picture_rows(rec, 2, lines=3) == 2  # the two who earned; "Not started" in the header
    assert interaction.original is not None
    assert [a["filename"] for a in interaction.original["attachments"]] == ["leaderboard.png"]


async def test_page_buttons_send_the_picture_of_the_page_shown(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    ids = []
    for n in range(32):  # 30 who earned n + 1 points, 2 who earned nothing
        uid = harness.discord.add_member(guild, f"player{n:02}")
        harness.ra.add_user(f"P{n:02}")
        if n < 30:
            harness.ra.add_unlock(f"P{n:02}", 1, 1000 + n, points=n + 1, at=at_day(-2))
        await harness.bot.store.links.set_link(uid, fake_ulid(f"P{n:02}"), f"P{n:02}")
        ids.append(uid)
    await harness.bot.store.links.mark_seen(guild, ids)
    await create(harness)
    interaction = await harness.command("challenge standings", name="December", user_id=ids[0])
    answer = await interaction.wait_final()
    assert answer["embeds"][0]["image"]["url"] == PICTURE
    (first,) = with_files(harness, "PATCH", "/messages/@original")
    assert picture_rows(first, 25, lines=2) == 25
    buttons = {c["label"]: c for row in answer["components"] for c in row["components"]}
    assert interaction.original is not None

    press = await harness.discord.press_button(
        interaction.original, buttons["⏭"]["custom_id"], user_id=ids[0]
    )
    page = await press.wait_response()
    data = page["data"]
    assert page["type"] == 7 and data["embeds"][0]["image"]["url"] == PICTURE
    assert data["embeds"][0]["footer"]["text"].startswith("Page 2/2")
    (rec,) = with_files(harness, "POST", f"/interactions/{press.id}/")
    assert picture_rows(rec, 5, lines=3) == 5  # the last page lists who has not started
    assert [a.get("id") for a in data["attachments"]] == [0]  # replaces page 1's picture
    assert rec.files[0]["data"] != first.files[0]["data"]


async def test_posts_and_the_final_post_carry_the_picture(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    await seed_window(harness)
    await create(harness, channel=channel, every="weekly")
    (challenge,) = await harness.bot.store.challenges.for_guild(guild)
    assert challenge.run_at is not None

    result = await harness.bot.challenge_poster.run_one(challenge, challenge.run_at)
    assert result is not None and result.outcome == "posted"
    (post,) = with_files(harness, "POST", f"/channels/{channel}/messages")
    embed = post.json["embeds"][0]
    assert embed["image"]["url"] == PICTURE  # payload_json
    assert embed["title"] == "Challenge · December"
    assert embed["footer"]["text"].startswith(f"Challenge #{challenge.id} · ")
    assert picture_rows(post, 2, lines=3) == 2
    assert post.json["attachments"][0]["description"] == "Challenge · December"

    later = await harness.bot.store.challenges.get(challenge.id)
    assert later is not None
    result = await harness.bot.challenge_poster.run_one(later, later.ends_at)
    assert result is not None and result.outcome == "final"
    posts = with_files(harness, "POST", f"/channels/{channel}/messages")
    assert len(posts) == 2
    final = posts[1]
    assert final.json["embeds"][0]["title"] == "Final standings · December"
    assert final.json["embeds"][0]["image"]["url"] == PICTURE
    assert picture_rows(final, 2, lines=3) == 2
    assert final.files[0]["data"] != post.files[0]["data"]
    messages = harness.discord.channel_messages[channel]
    assert [[a["filename"] for a in m["attachments"]] for m in messages] == [
        ["leaderboard.png"],
        ["leaderboard.png"],
    ]


async def test_with_pictures_off_standings_and_posts_go_as_text(start_bot: Any) -> None:
    harness: Harness = await start_bot(leaderboard_images=False)
    guild = harness.discord.guild_ids[0]
    channel = harness.discord.channel_ids[guild]
    await seed_window(harness)
    await create(harness, channel=channel, every="weekly")
    answer = await harness.answer("challenge standings", name="December")
    assert answer["files"] == [] and "image" not in answer["embeds"][0]
    assert answer["embeds"][0]["description"].splitlines()[3].startswith("🥇 **owner0**")
    (challenge,) = await harness.bot.store.challenges.for_guild(guild)
    assert challenge.run_at is not None
    result = await harness.bot.challenge_poster.run_one(challenge, challenge.run_at)
    assert result is not None and result.outcome == "posted"
    (message,) = harness.discord.channel_messages[channel]
    assert message["attachments"] == [] and "image" not in message["embeds"][0]
    assert not [r for r in harness.discord.requests if r.files]
