"""Boards due together: RA progress calls per distinct player, and when the posts arrive.

Through the real process (`python -m bot` against the fake Discord and the fake RA), production
RA settings (3 requests a second, 3 in flight), FakeRA answering after 50 ms: 20 servers, each
with 15 linked members (60 distinct RA players, each in 5 servers) and an hourly board of 3 of 6
games (seeded), all at the same minute, SCHEDULE_SPREAD_SECONDS=60. The bench waits for that
minute and for the 20 posts.

Variants, run at the same time on the same slot: "before" is `bot/` at BENCH_BASELINE_REF
(each board asked for its own games), "ours" the working tree.

Goal: progress calls <= 1.05 x the distinct players, and all 20 posts within the spread.

    python -m bench.bench_shared_boards
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BASELINE_REF,
    BOT_SRC,
    PRODUCTION,
    Bench,
    export_bot,
    match_schema,
    table,
    title,
    verdict,
    wait_connected,
)
from bot.models.schedule_times import Cadence
from bot.posting.scheduler import spread_offset
from bot.store import Store
from tests.e2e.conftest import bot_environment
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.fake_ra import FakeRA, fake_ulid

SERVERS = 20
PER_SERVER = 15
PLAYERS = 60
GAMES = [1, 2, 3, 4, 5, 6]
GAMES_EACH = 3
SPREAD = 60
RA_DELAY = 0.05
TARGET = 1.05
SEED = 9
LEAD = 25.0  # seconds at least between start-up and the slot


def plan() -> list[tuple[list[int], list[int]]]:
    """Per server: (player numbers, game ids). Player k is in 5 servers."""
    rng = random.Random(SEED)
    step = PLAYERS // SERVERS
    return [
        ([(s * step + k) % PLAYERS for k in range(PER_SERVER)],
         sorted(rng.sample(GAMES, GAMES_EACH)))
        for s in range(SERVERS)
    ]


async def seed(database: Path, fake: FakeDiscord, fake_ra: FakeRA, slot: datetime) -> None:
    for game in GAMES:
        fake_ra.add_game(game, f"Shared Game {game}", num_achievements=30, points=300)
    for k in range(PLAYERS):
        fake_ra.add_user(f"Player{k:02d}")
        for game in GAMES:
            fake_ra.set_progress(f"Player{k:02d}", game, achieved=(k + game) % 30,
                                 score=(k + game) % 30 * 10)
    store = await Store.open(f"sqlite:///{database}")
    schedules = store.schedules
    for guild, (players, games) in zip(fake.guild_ids, plan(), strict=True):
        uids = []
        for k in players:
            uid = fake.add_member(guild, f"player{k:02d}")
            await store.links.set_link(uid, fake_ulid(f"Player{k:02d}"), f"Player{k:02d}")
            uids.append(uid)
        await store.links.mark_seen(guild, uids)
        created = await schedules.create(
            guild_id=guild, channel_id=fake.channel_ids[guild],
            games=", ".join(map(str, games)), cadence=Cadence.HOURLY, hour=0,
            minute=slot.minute, edit_in_place=False, next_run=slot, run_at=slot,
            created_by=uids[0],
        )
        await schedules.reschedule(created.id, run_at=slot + spread_offset(created.id, SPREAD))
    await store.close()


SEEDING = asyncio.Lock()  # Alembic's migration context is per process: one at a time


async def variant(name: str, src: Path, slot: datetime, slot_mono: float) -> dict[str, Any]:
    fake_ra = FakeRA()
    async with fake_ra, FakeDiscord(guilds=SERVERS) as fake, Bench() as bench:
        fake_ra.response_delay = RA_DELAY
        database = bench.dir / "bot.sqlite3"
        async with SEEDING:
            await seed(database, fake, fake_ra, slot)
            match_schema(database, src)
        env = bot_environment(fake, fake_ra, **{
            **PRODUCTION, "DATABASE_URL": f"sqlite:///{database}",
            "SCHEDULE_SPREAD_SECONDS": str(SPREAD),
        })
        env["PYTHONPATH"] = str(src)
        proc = await bench.spawn(name, ["-m", "bot"], env)
        await wait_connected(fake, proc)
        channels = set(fake.channel_ids.values())

        def posted() -> list[float]:
            return [r.at for r in fake.requests if r.method == "POST" and r.status == 200
                    and r.path.startswith("/channels/") and r.path.endswith("/messages")
                    and int(r.path.split("/")[2]) in channels]

        wait = slot_mono + SPREAD + 120 - time.monotonic()
        try:
            await fake._wait(lambda: len(posted()) >= SERVERS, wait, "20 posts")
        except TimeoutError as exc:
            print(f"{name}: {exc}", flush=True)
        times = sorted(t - slot_mono for t in posted())
        calls = fake_ra.calls("API_GetUserProgress")
        return {
            "posts": len(times),
            "first": times[0] if times else float("nan"),
            "last": times[-1] if times else float("nan"),
            "calls": len(calls),
            "players": len({c.params["u"] for c in calls}),
            "ids": sum(len(c.params["i"].split(",")) for c in calls),
        }


async def run() -> bool:
    title(f"shared boards: {SERVERS} servers x {PER_SERVER} members over {PLAYERS} RA players, "
          f"{GAMES_EACH} of {len(GAMES)} games each, all hourly at one minute, spread {SPREAD} s")
    now = datetime.now(UTC)
    slot = (now + timedelta(seconds=LEAD + 60)).replace(second=0, microsecond=0)
    slot_mono = time.monotonic() + (slot - now).total_seconds()
    print(f"slot {slot:%H:%M} UTC, in {(slot - now).total_seconds():.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="ra-baseline-") as tmp:
        baseline = export_bot(BASELINE_REF, Path(tmp))
        before, ours = await asyncio.gather(
            variant("before", baseline, slot, slot_mono),
            variant("ours", BOT_SRC, slot, slot_mono),
        )
    rows = [
        ["progress calls", before["calls"], ours["calls"]],
        ["distinct players asked", before["players"], ours["players"]],
        ["calls / distinct players", f"{before['calls'] / PLAYERS:.2f}",
         f"{ours['calls'] / PLAYERS:.2f}"],
        ["game ids asked in all", before["ids"], ours["ids"]],
        ["posts", before["posts"], ours["posts"]],
        ["first post after the slot s", f"{before['first']:.1f}", f"{ours['first']:.1f}"],
        ["last post after the slot s", f"{before['last']:.1f}", f"{ours['last']:.1f}"],
    ]
    print(table(["", f"before ({BASELINE_REF})", "ours"], rows))
    ratio = ours["calls"] / PLAYERS
    ok = ratio <= TARGET and ours["posts"] == SERVERS and ours["last"] <= SPREAD
    print(verdict(ok, f"{ours['calls']} progress calls for {PLAYERS} players = {ratio:.2f}x "
                      f"(target <= {TARGET}; before {before['calls'] / PLAYERS:.2f}x); "
                      f"{ours['posts']}/{SERVERS} posts, the last {ours['last']:.1f} s after the "
                      f"slot (spread {SPREAD} s)"), flush=True)
    return ok


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
