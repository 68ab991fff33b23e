"""A board and a /progress at once, through the real process: the /progress does not wait for
the board's turn."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.store import Store
from tests.e2e.conftest import BotProcess
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA, fake_ulid

MEMBERS = 40
RATE = 10  # requests a second: the board takes about 4 s of RA's budget


async def test_a_progress_typed_during_a_board_is_answered_before_the_board(
    spawn_bot: Any, fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> None:
    guild = fake_discord.guild_ids[0]
    store = await Store.open(f"sqlite:///{tmp_path}/bot.sqlite3")
    uids = []
    for n in range(MEMBERS):
        name = f"Board{n:02}"
        fake_ra.add_user(name)
        fake_ra.set_progress(name, 1, achieved=n % 20, score=n * 5)
        uid = fake_discord.add_member(guild, f"board{n:02}")
        await store.links.set_link(uid, fake_ulid(name), name)
        uids.append(uid)
    await store.links.mark_seen(guild, uids)
    await store.close()

    bot: BotProcess = await spawn_bot(RA_REQUESTS_PER_SECOND=str(RATE))
    board = await fake_discord.send_interaction(
        "leaderboard show", [{"name": "games", "value": "1"}], user_id=uids[0]
    )
    async with asyncio.timeout(10):
        await fake_ra.wait_for_calls(8, "API_GetUserProgress")  # the board is under way
    asked = time.monotonic()
    progress = await fake_discord.send_interaction(
        "progress", [{"name": "games", "value": "1"}, {"name": "user", "value": "MaxMilyin"}]
    )
    answer = await progress.wait_final()
    answered = time.monotonic() - asked
    board_calls_by_then = len(fake_ra.calls("API_GetUserProgress")) - 1
    assert "Sonic the Hedgehog" in answer["embeds"][0]["description"]

    # The board's answer is the edit with its embed (after "Fetching progress…" notes).
    await board.wait_until(lambda it: any(e.get("embeds") for e in it.edits), 30, "the board")
    final = next(e for e in board.edits if e.get("embeds"))
    rows = final["embeds"][0]["description"].splitlines()
    assert rows[0].startswith("🥇 **board39**") and len(rows) >= 10
    # First come first served, /progress would have waited for the board's ~30 remaining
    # calls (3 s at this rate): it went within a few turns instead.
    assert board_calls_by_then < MEMBERS - 10, board_calls_by_then
    assert answered < 2.0, answered
    assert await bot.terminate() == 0
