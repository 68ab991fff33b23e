"""The news feed at scale: what it costs RA, how soon an award is announced, what it holds, and
whether a burst of announcements slows people's commands.

Through the real process (`python -m bot` against the fake Discord and the fake RA), production
RA settings (3 requests a second, 3 in flight), FakeRA answering after 50 ms, and
FEED_POLL_SECONDS=5 (the minimum; production's default is 60) to keep the run short. Three bots
run side by side on their own fakes, each seeded (SQLite, before it starts) with the same 10,000
linked members (5 per guild, known there):
- "2,000 feeds": 2,000 guilds, each with a feed (set before the run);
- "1 feed": 1 guild with a feed (its 5 members);
- "no feed": 2,000 guilds and no feed (the RSS baseline).
For STREAM_SECONDS the site earns one award a second (RA's API_GetRecentGameAwards), 1 % of them
linked members' (every 100th), added to both feeds' fake RAs at the same moments.

1. Scale: the feed's RA requests an hour (awards pages and the Achievement of the Week, counted
   over the stream and extrapolated), against the bound computed from the same run (polls an
   hour x (the award pages the measured rate needs + 1 AOTW request)); the same for 1 guild;
   the time from each member award's AwardDate to its post on the fake Discord; the `feed_posts`
   rows per feed guild; RSS against the same bot without feeds, per feed guild.
2. Interference (the 2,000-feed bot, afterwards): 10 `/progress` (one a second, each for an RA
   user not asked before) idle, then 10 more while the feed announces a burst of BURST awards of
   linked members added at once across BURST guilds (one post each), started when the poll
   that finds them begins. The burst's posts are awaited BURST_WAIT s at most: those still
   waiting then count as that late (the figures are then lower bounds, marked ">=").

Goals: RA requests <= the bound, and the same (within 5 %) for 1 and 2,000 guilds; award to post
p99 <= the poll interval + 5 s, for the stream's member awards (at 1 % of 1 a second, only one or
two in the run) and for the burst's; /progress p90 during the burst <= idle p90 + 0.5 s.

    python -m bench.bench_feed
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import (
    BOT_SRC,
    PRODUCTION,
    Bench,
    BotProc,
    mib,
    percentile,
    stable_rss,
    table,
    title,
    verdict,
    wait_connected,
    wait_on_ready,
)
from bot.posting.feed import marker
from bot.store import Store
from bot.store.schema import feeds, guild_members, links
from tests.e2e.conftest import bot_environment
from tests.e2e.fake_discord import FakeDiscord, Interaction
from tests.fakes.fake_ra import AWARD_KINDS, FakeRA, fake_ulid

GUILDS = 2_000
MEMBERS = 10_000  # member m is known in guild m % GUILDS
POLL = 5  # FEED_POLL_SECONDS
RATE = 1.0  # site awards a second
MEMBER_EVERY = 100  # 1 % of them are linked members'
STREAM_SECONDS = 150
HISTORY = 300  # older site awards the fake RA holds before the run
PAGE = 100  # API_GetRecentGameAwards' page
BURST = 500
PROGRESSES = 10
BURST_WAIT = 75  # seconds after the burst is added: what is not posted by then is counted as late
SPACING = 1.0
RA_DELAY = 0.05
GAMES = [1, 2, 3, 4, 5, 6]
SAME_COST = 1.05
LATENCY_SLACK = 5.0
PROGRESS_SLACK = 0.5
FEED_ENDPOINTS = ("API_GetRecentGameAwards", "API_GetAchievementOfTheWeek")
SEEDING = asyncio.Lock()  # Alembic's migration context is per process: one at a time


def member_name(m: int) -> str:
    return f"Member{m:05d}"


@dataclass
class Variant:
    name: str
    guilds: int
    with_feeds: bool
    fake_ra: FakeRA
    fake: FakeDiscord
    database: Path
    proc: BotProc | None = None
    uids: dict[int, int] = field(default_factory=dict)  # member -> Discord user id

    def feed_calls(self) -> int:
        return sum(1 for r in self.fake_ra.requests if r.endpoint in FEED_ENDPOINTS)

    def aotw_calls(self) -> int:
        return len(self.fake_ra.calls("API_GetAchievementOfTheWeek"))

    def page_calls(self) -> int:
        return len(self.fake_ra.calls("API_GetRecentGameAwards"))

    def posted(self) -> dict[str, float]:
        """Each feed post's footer marker -> when it reached the fake Discord (monotonic)."""
        out: dict[str, float] = {}
        for r in self.fake.requests:
            if not (r.method == "POST" and r.status == 200 and r.path.startswith("/channels/")
                    and r.path.endswith("/messages")):
                continue
            for embed in (r.json or {}).get("embeds") or []:
                text = (embed.get("footer") or {}).get("text") or ""
                if text.startswith("Feed"):
                    out.setdefault(text, r.at)
        return out

    def feed_rows(self) -> int:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return int(db.execute("SELECT count(*) FROM feed_posts").fetchone()[0])


async def seed(v: Variant, since: datetime) -> None:
    """Links of every member, memberships in the guilds this fake has, feeds if any: bulk rows
    straight into the tables, before the bot starts."""
    now = datetime.now(UTC)
    link_rows, member_rows = [], []
    for m in range(MEMBERS):
        index = m % GUILDS
        if index < v.guilds:
            gid = v.fake.guild_ids[index]
            uid = v.fake.add_member(gid, f"member{m:05d}")
            member_rows.append({"guild_id": gid, "discord_user_id": uid, "seen_at": now})
        else:
            uid = 9 * 10**17 + m  # linked, known in none of this fake's guilds
        v.uids[m] = uid
        link_rows.append({"discord_user_id": uid, "ra_ulid": fake_ulid(member_name(m)),
                          "ra_name": member_name(m), "linked_at": now})
    feed_rows = [
        {"guild_id": gid, "channel_id": v.fake.channel_ids[gid], "masteries": True,
         "beaten": True, "aotw": True, "hardcore_only": False, "games": None, "since": since,
         "created_by": v.fake.member_id(gid), "last_post_at": None, "problem": None,
         "problem_at": None}
        for gid in v.fake.guild_ids
    ] if v.with_feeds else []
    async with SEEDING:
        store = await Store.open(f"sqlite:///{v.database}")
        try:
            async with store.database.transaction() as conn:
                for tbl, rows in ((links, link_rows), (guild_members, member_rows),
                                  (feeds, feed_rows)):
                    for start in range(0, len(rows), 1000):
                        await conn.execute(insert(tbl), rows[start:start + 1000])
        finally:
            await store.close()
    for game in GAMES:
        v.fake_ra.add_game(game, f"Feed Game {game}", num_achievements=20, points=200)
    v.fake_ra.add_site_awards(HISTORY, now - timedelta(hours=1), every_seconds=10)
    for n in range(2 * PROGRESSES):
        v.fake_ra.add_user(f"Solo{n:02d}")
        v.fake_ra.set_progress(f"Solo{n:02d}", 1, achieved=n, score=n * 5)


async def start(v: Variant, bench: Bench) -> None:
    env = bot_environment(v.fake, v.fake_ra, **{
        **PRODUCTION, "DATABASE_URL": f"sqlite:///{v.database}",
        "FEED_POLL_SECONDS": str(POLL),
    })
    env["PYTHONPATH"] = str(BOT_SRC)
    v.proc = await bench.spawn(v.name.replace(" ", "-").replace(",", ""), ["-m", "bot"], env)
    await wait_connected(v.fake, v.proc, timeout=120)
    await wait_on_ready(v.proc, timeout=120)


@dataclass(frozen=True)
class Added:
    key: str  # the bot's award key (bot/models/awards.py GameAward.key)
    award_date: float  # the award's AwardDate (whole seconds) on the monotonic clock


def add_award(ras: list[FakeRA], name: str, ulid: str, game: int, kind: str) -> Added:
    at = datetime.now(UTC)
    mono = time.monotonic()
    for ra in ras:
        ra.add_award(name, game, kind, at=at, ulid=ulid)
    key = f"{ulid}:{game}:{kind}:{int(at.timestamp())}"
    return Added(key, mono - at.microsecond / 1e6)


async def stream(ras: list[FakeRA], seconds: float) -> tuple[int, list[Added]]:
    """RATE awards a second for `seconds`; every MEMBER_EVERY-th (from the 25th) a linked
    member's. Returns (awards added, the members' awards)."""
    begin = time.monotonic()
    members: list[Added] = []
    i = 0
    while i / RATE < seconds:
        await asyncio.sleep(max(0.0, begin + i / RATE - time.monotonic()))
        kind, game = AWARD_KINDS[i % len(AWARD_KINDS)], GAMES[i % len(GAMES)]
        if i % MEMBER_EVERY == MEMBER_EVERY // 4:
            m = MEMBERS - 1 - len(members) * 7  # guilds far from the burst's
            members.append(add_award(ras, member_name(m), fake_ulid(member_name(m)), game, kind))
        else:
            name = f"Site{i:05d}"
            add_award(ras, name, fake_ulid(f"site:{name}"), game, kind)
        i += 1
    return i, members


def latencies(v: Variant, added: list[Added]) -> list[float]:
    posted = v.posted()
    return [posted[marker([a.key])] - a.award_date for a in added if marker([a.key]) in posted]


async def progress_burst(fake: FakeDiscord, first: int) -> tuple[list[float], list[float], int]:
    """PROGRESSES /progress, one every SPACING s; (sent at, answer times, error answers)."""
    sent: list[Interaction] = []
    for n in range(first, first + PROGRESSES):
        sent.append(await fake.send_interaction(
            "progress", [{"name": "games", "value": "1"},
                         {"name": "user", "value": f"Solo{n:02d}"}]))
        await asyncio.sleep(SPACING)
    answers = [await it.wait_final(timeout=120) for it in sent]
    times = [a["received_at"] - it.sent_at for a, it in zip(answers, sent, strict=True)]
    errors = sum(1 for a in answers if not a.get("embeds"))
    return [it.sent_at for it in sent], times, errors


async def wait_for(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return bool(check())


def cost(v: Variant, before: int, after: int, window: float, awards: int) -> dict[str, float]:
    """The feed's RA requests over the stream, an hour's worth, and the bound of this run."""
    rate = awards / window
    pages_needed = int(rate * POLL // PAGE) + 1  # a poll reads until a page reaches the cursor
    bound = 3600 / POLL * (pages_needed + 1)  # + the Achievement of the Week
    per_hour = (after - before) / window * 3600
    return {"requests": after - before, "per hour": per_hour, "bound": bound,
            "ratio": per_hour / bound, "pages needed": pages_needed}


async def run() -> bool:
    title(f"news feed: {GUILDS:,} guilds with a feed, {MEMBERS:,} linked members, the site's "
          f"awards {RATE:g}/s ({100 / MEMBER_EVERY:g} % members') for {STREAM_SECONDS} s, "
          f"FEED_POLL_SECONDS={POLL} (production default 60), through python -m bot")
    t_start = time.monotonic()
    since = datetime.now(UTC) - timedelta(minutes=1)
    async with contextlib.AsyncExitStack() as stack:
        bench = await stack.enter_async_context(Bench())
        variants = []
        for name, guilds, with_feeds in (("2,000 feeds", GUILDS, True), ("1 feed", 1, True),
                                         ("no feed", GUILDS, False)):
            fake_ra = await stack.enter_async_context(FakeRA())
            fake_ra.response_delay = RA_DELAY
            fake = await stack.enter_async_context(FakeDiscord(guilds=guilds))
            v = Variant(name, guilds, with_feeds, fake_ra, fake,
                        bench.dir / f"{name.replace(' ', '-').replace(',', '')}.sqlite3")
            await seed(v, since)
            variants.append(v)
        big, one, none = variants
        await asyncio.gather(*(start(v, bench) for v in variants))
        print(f"3 bots ready in {time.monotonic() - t_start:.0f} s; streaming awards for "
              f"{STREAM_SECONDS} s", flush=True)

        # 1. scale: the stream, to both feeds' RAs at the same moments
        await asyncio.sleep(POLL + 1)  # past the first poll (it only places the cursor)
        before = {v.name: v.feed_calls() for v in variants}
        t0 = time.monotonic()
        awards, member_awards = await stream([big.fake_ra, one.fake_ra], STREAM_SECONDS)
        window = time.monotonic() - t0
        after = {v.name: v.feed_calls() for v in variants}
        aotw_polls = {v.name: v.aotw_calls() for v in variants}
        await wait_for(lambda: len(latencies(big, member_awards)) == len(member_awards),
                       POLL + 30)
        stream_lat = latencies(big, member_awards)
        rss_big, rss_none = await asyncio.gather(stable_rss(big.proc), stable_rss(none.proc))
        rows_stream = big.feed_rows()
        costs = {v.name: cost(v, before[v.name], after[v.name], window, awards)
                 for v in (big, one)}
        polls = {v.name: aotw_polls[v.name] for v in variants}
        await one.proc.stop()
        await none.proc.stop()

        # 2. interference: /progress idle, then during a burst of BURST posts
        _, idle, idle_errors = await progress_burst(big.fake, 0)
        pages_before = big.page_calls()
        burst = [add_award([big.fake_ra], member_name(m), fake_ulid(member_name(m)),
                           GAMES[m % len(GAMES)], "mastered") for m in range(BURST)]
        burst_mono = time.monotonic()
        await wait_for(lambda: big.page_calls() > pages_before, POLL + 10)
        poll_began = time.monotonic()
        sent_at, busy, busy_errors = await progress_burst(big.fake, PROGRESSES)
        done = await wait_for(lambda: len(latencies(big, burst)) == BURST,
                              burst_mono + BURST_WAIT - time.monotonic())
        cutoff = time.monotonic()
        burst_lat = latencies(big, burst)
        # the awards still waiting count as late as the cut-off (a lower bound)
        sent_posts = big.posted()
        burst_bound = [sent_posts.get(marker([a.key]), cutoff) - a.award_date for a in burst]
        log = big.proc.log
        gateway_waits = log.count("is ratelimited")
        lookups_failed = log.count("member look-up failed")
        burst_posts = sorted(sent_posts[marker([a.key])] for a in burst
                             if marker([a.key]) in sent_posts)
        last_post = burst_posts[-1] if burst_posts else float("nan")
        during = sum(1 for t in sent_at if t <= last_post)
        rows_end = big.feed_rows()
        total_s = time.monotonic() - t_start

    print(table(["feed's RA requests", "2,000 feeds", "1 feed", "no feed"], [
        ["awards pages + AOTW asked during the stream", costs[big.name]["requests"],
         costs[one.name]["requests"], after[none.name] - before[none.name]],
        ["polls (AOTW asks) since start", polls[big.name], polls[one.name], polls[none.name]],
        ["per hour, extrapolated", f"{costs[big.name]['per hour']:.0f}",
         f"{costs[one.name]['per hour']:.0f}", "-"],
        [f"bound: {3600 / POLL:.0f} polls/h x ({costs[big.name]['pages needed']} page + 1 AOTW)",
         f"{costs[big.name]['bound']:.0f}", f"{costs[one.name]['bound']:.0f}", "-"],
        ["ratio to the bound", f"{costs[big.name]['ratio']:.2f}",
         f"{costs[one.name]['ratio']:.2f}", "-"],
    ]))
    print(f"stream: {awards} site awards in {window:.0f} s ({awards / window:.2f}/s), "
          f"{len(member_awards)} of them linked members'")
    goal = POLL + LATENCY_SLACK
    late = "" if done else ">="  # awards not posted by the cut-off count as that late
    lat_rows = [
        ["stream (1 % members')", f"{len(stream_lat)}/{len(member_awards)}",
         f"{percentile(stream_lat, 50):.1f}", f"{percentile(stream_lat, 99):.1f}",
         f"{max(stream_lat, default=float('nan')):.1f}"],
        [f"burst ({BURST} at once, {BURST} guilds)", f"{len(burst_lat)}/{BURST}",
         f"{late}{percentile(burst_bound, 50):.1f}", f"{late}{percentile(burst_bound, 99):.1f}",
         f"{late}{max(burst_bound):.1f}"],
    ]
    print(table(["AwardDate -> post (2,000 feeds)", "posted", "p50 s", "p99 s", "max s"],
                lat_rows))
    print(f"feed_posts rows: {rows_stream} after the stream = {rows_stream / GUILDS:.4f} per "
          f"feed guild; {rows_end} after the burst = {rows_end / GUILDS:.3f} per feed guild")
    per_guild = (rss_big - rss_none) / GUILDS
    print(f"RSS after the stream: {mib(rss_big)} MiB with {GUILDS:,} feeds, {mib(rss_none)} MiB "
          f"without (same guilds, members, links): {per_guild:+.2f} KiB per feed guild")
    print(table(["/progress (2,000 feeds)", "idle", "during the burst"], [
        ["p50 s", f"{percentile(idle, 50):.2f}", f"{percentile(busy, 50):.2f}"],
        ["p90 s", f"{percentile(idle, 90):.2f}", f"{percentile(busy, 90):.2f}"],
        ["max s", f"{max(idle):.2f}", f"{max(busy):.2f}"],
        ["errors", idle_errors, busy_errors],
    ]))
    if burst_posts:
        print(f"burst: added at 0 s, its poll began at {poll_began - burst_mono:.1f} s, posts "
              f"from {burst_posts[0] - burst_mono:.1f} s to {last_post - burst_mono:.1f} s "
              f"({len(burst_posts)} posts); {during}/{PROGRESSES} /progress sent before the "
              f"last post")
    if not done and burst_posts:
        span = cutoff - burst_posts[0]
        print(f"burst cut off {cutoff - burst_mono:.0f} s after it was added with "
              f"{BURST - len(burst_posts)} posts still waiting: {len(burst_posts)} posted in "
              f"the {span:.0f} s since the first")
    print(f"the 2,000-feed bot's log: {gateway_waits} discord.py 'WebSocket ... is ratelimited' "
          f"waits (at most 110 gateway commands a minute; the poster names its members over "
          f"REST, so none should come from it), {lookups_failed} 'member look-up failed'")
    print(f"(run took {total_s:.0f} s)")

    big_c, one_c = costs[big.name], costs[one.name]
    same = max(big_c["per hour"], one_c["per hour"]) / min(big_c["per hour"], one_c["per hour"])
    ok_cost = big_c["ratio"] <= 1.0 and one_c["ratio"] <= 1.0 and same <= SAME_COST
    print(verdict(ok_cost, f"feed RA requests/h {big_c['per hour']:.0f} with {GUILDS:,} guilds, "
                           f"{one_c['per hour']:.0f} with 1 (x{same:.3f}, target <= {SAME_COST}); "
                           f"{big_c['ratio']:.2f}x the bound {big_c['bound']:.0f}/h "
                           f"(target <= 1)"))
    ok_lat = len(stream_lat) == len(member_awards) and percentile(stream_lat, 99) <= goal
    print(verdict(ok_lat, f"AwardDate -> post in the stream p50 {percentile(stream_lat, 50):.1f}"
                          f" s, p99 {percentile(stream_lat, 99):.1f} s (n={len(stream_lat)}: "
                          f"{RATE:g}/s x {100 / MEMBER_EVERY:g} % x {STREAM_SECONDS} s) <= "
                          f"{POLL} + {LATENCY_SLACK:g} = {goal:g} s"))
    ok_burst = done and percentile(burst_bound, 99) <= goal
    print(verdict(ok_burst, f"AwardDate -> post in the burst of {BURST}: p50 "
                            f"{late}{percentile(burst_bound, 50):.1f} s, p99 "
                            f"{late}{percentile(burst_bound, 99):.1f} s, {len(burst_lat)}/{BURST}"
                            f" posted within {BURST_WAIT} s <= {goal:g} s"))
    progress_goal = percentile(idle, 90) + PROGRESS_SLACK
    ok_progress = percentile(busy, 90) <= progress_goal and busy_errors == 0
    print(verdict(ok_progress, f"/progress p90 during the burst {percentile(busy, 90):.2f} s <= "
                               f"idle p90 {percentile(idle, 90):.2f} s + {PROGRESS_SLACK:g} s = "
                               f"{progress_goal:.2f} s; {during}/{PROGRESSES} sent while posts "
                               f"were still going out"), flush=True)
    return ok_cost and ok_lat and ok_burst and ok_progress


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
