"""Fair turns: /progress answer times while a 200-member board is being built, against idle.

Through the real process (`python -m bot` against the fake Discord and the fake RA), RA at 5
requests a second (3 in flight), FakeRA answering after 50 ms. Each variant, in a fresh process:
1. idle: 10 `/progress` (each for an RA user not asked before, so 2-3 RA calls each), one a second;
2. a `/leaderboard show` of 200 linked members (one progress call each, about 40 s of budget),
   and once it is under way, 10 more `/progress` the same way.
Variants: "before" is `bot/` at BENCH_BASELINE_REF (today's behaviour, first come first served
by command), "ours" the working tree.

Goal: the p90 answer time of /progress during the board <= its idle p90 + 2 s, no /progress told
RA is busy, and the board completes with all 200 members.

    python -m bench.bench_fair_turns
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    BASELINE_REF,
    BOT_SRC,
    PRODUCTION,
    Bench,
    export_bot,
    match_schema,
    percentile,
    table,
    title,
    verdict,
    wait_connected,
)
from bot.store import Store
from tests.e2e.conftest import bot_environment
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import FakeRA, fake_ulid

MEMBERS = 200
PROGRESSES = 10
SPACING = 1.0
RATE = "5"
RA_DELAY = 0.05
SLACK = 2.0


async def seed(database: Path, fake: FakeDiscord, fake_ra: FakeRA) -> list[int]:
    guild = fake.guild_ids[0]
    store = await Store.open(f"sqlite:///{database}")
    uids = []
    for n in range(MEMBERS):
        name = f"Board{n:03d}"
        fake_ra.add_user(name)
        fake_ra.set_progress(name, 1, achieved=n % 20, score=n * 5)
        uid = fake.add_member(guild, f"board{n:03d}")
        await store.links.set_link(uid, fake_ulid(name), name)
        uids.append(uid)
    await store.links.mark_seen(guild, uids)
    await store.close()
    for n in range(2 * PROGRESSES):
        fake_ra.add_user(f"Solo{n:02d}")
        fake_ra.set_progress(f"Solo{n:02d}", 1, achieved=n, score=n * 5)
    return uids


async def progress_burst(fake: FakeDiscord, first: int) -> tuple[list[float], int]:
    """PROGRESSES /progress, one every SPACING s; (answer times, answers that were errors)."""
    sent: list[Interaction] = []
    for n in range(first, first + PROGRESSES):
        sent.append(await fake.send_interaction(
            "progress", [{"name": "games", "value": "1"},
                         {"name": "user", "value": f"Solo{n:02d}"}]))
        await asyncio.sleep(SPACING)
    answers = [await it.wait_final(timeout=60) for it in sent]
    times = [a["received_at"] - it.sent_at for a, it in zip(answers, sent, strict=True)]
    errors = sum(1 for a in answers if not a.get("embeds"))
    return times, errors


async def variant(name: str, src: Path) -> dict[str, float]:
    fake_ra = FakeRA()
    async with fake_ra, FakeDiscord(guilds=1) as fake, Bench() as bench:
        fake_ra.response_delay = RA_DELAY
        database = bench.dir / "bot.sqlite3"
        uids = await seed(database, fake, fake_ra)
        match_schema(database, src)
        env = bot_environment(fake, fake_ra, **{
            **PRODUCTION, "RA_REQUESTS_PER_SECOND": RATE, "DATABASE_URL": f"sqlite:///{database}",
        })
        env["PYTHONPATH"] = str(src)
        proc = await bench.spawn(name, ["-m", "bot"], env)
        await wait_connected(fake, proc)
        idle, idle_errors = await progress_burst(fake, 0)

        board = await fake.send_interaction(
            "leaderboard show", [{"name": "games", "value": "1"}], user_id=uids[0])
        started = time.monotonic()
        async with asyncio.timeout(30):
            await fake_ra.wait_for_calls(20, "API_GetUserProgress")  # under way
        busy, busy_errors = await progress_burst(fake, PROGRESSES)
        await board.wait_until(lambda it: any(e.get("embeds") for e in it.edits), 600, "board")
        board_s = time.monotonic() - started
        asked = {c.params["u"] for c in fake_ra.calls("API_GetUserProgress")}
        on_board = len(asked & {fake_ulid(f"Board{n:03d}") for n in range(MEMBERS)})
        return {
            "idle p50": percentile(idle, 50), "idle p90": percentile(idle, 90),
            "board p50": percentile(busy, 50), "board p90": percentile(busy, 90),
            "board max": max(busy), "errors": idle_errors + busy_errors,
            "board s": board_s, "board members": on_board,
        }


async def run() -> bool:
    title(f"fair turns: {PROGRESSES} /progress idle and during a {MEMBERS}-member board, RA at "
          f"{RATE} requests/s, through python -m bot")
    with tempfile.TemporaryDirectory(prefix="ra-baseline-") as tmp:
        baseline = export_bot(BASELINE_REF, Path(tmp))
        before = await variant("before", baseline)
        ours = await variant("ours", BOT_SRC)
    rows = []
    for key in ("idle p50", "idle p90", "board p50", "board p90", "board max"):
        rows.append([f"/progress {key} s", f"{before[key]:.2f}", f"{ours[key]:.2f}"])
    rows.append(["/progress answered with an error", int(before["errors"]), int(ours["errors"])])
    rows.append(["board built in s", f"{before['board s']:.1f}", f"{ours['board s']:.1f}"])
    rows.append(["board members fetched", int(before["board members"]),
                 int(ours["board members"])])
    print(table(["", f"before ({BASELINE_REF})", "ours"], rows))
    goal = ours["idle p90"] + SLACK
    ok = ours["board p90"] <= goal and ours["errors"] == 0 and ours["board members"] == MEMBERS
    print(verdict(ok, f"/progress p90 during the board {ours['board p90']:.2f} s <= idle p90 "
                      f"{ours['idle p90']:.2f} s + {SLACK:g} s = {goal:.2f} s "
                      f"(before: {before['board p90']:.2f} s against {before['idle p90']:.2f} s, "
                      f"{int(before['errors'])} errors); board built in {ours['board s']:.1f} s"),
          flush=True)
    return ok


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
