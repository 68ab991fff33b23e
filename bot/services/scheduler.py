"""One scheduler per process: posts scheduled leaderboards, once per period.

It sleeps until the earliest schedule is due (woken early when schedules change), then runs the
due ones one after another, so many schedules due at the same minute do not burst RA (and each
has a fixed spread offset after its slot). Scheduled RA work goes through the shared limiter at
`Priority.SCHEDULED`, behind interactive commands.

Exactly once per period: the post is claimed in the database before anything is sent (the
(schedule, period) key lets one process win, across restarts and processes sharing PostgreSQL),
and marked posted after. A claim left "sending" by a process that died mid-send is taken over
after a lease: the retry first looks for the post in the channel, and sends with a nonce Discord
deduplicates, so a crash cannot double the post, and cannot lose it either.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import discord

from bot.errors import UserFacingError
from bot.formatting.leaderboard import board_title, scheduled_board_embed
from bot.formatting.progress import Links
from bot.ra.errors import RAError
from bot.ra.limiter import Priority, command_order, new_ticket
from bot.services.game_sets import GameSets
from bot.services.leaderboard import (
    Board,
    Leaderboards,
    board_from_snapshot,
    changes_since,
    snapshot_of,
)
from bot.services.members import LinkedMember
from bot.services.schedule_times import next_slot, period_start
from bot.store.schedules import POSTED, Schedule, ScheduleStore
from bot.store.store import StoreError

log = logging.getLogger(__name__)

MAX_SLEEP = 300.0  # look again at least this often (schedules another process changed)
LEASE = timedelta(seconds=90)
STORE_RETRY_MAX = 30.0  # seconds between looks at a database that is down (1, 2, 4... s)


class ChannelGone(Exception):
    """Posting is impossible until someone acts (channel deleted, permission lost)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PostFailed(Exception):
    """Posting failed this time (Discord 5xx, a timeout): try again later in the period."""


class Publisher(Protocol):
    """Where boards go: Discord in production, an in-memory channel in unit tests."""

    async def members(self, guild_id: int) -> list[LinkedMember]: ...

    async def send(
        self, guild_id: int, channel_id: int, embed: discord.Embed, nonce: str, edit: int | None
    ) -> int: ...

    async def find_post(self, guild_id: int, channel_id: int, marker: str) -> int | None: ...


@dataclass(frozen=True)
class RunResult:
    schedule_id: int
    period: datetime
    outcome: str  # posted | recovered | skipped | busy | retry | paused | stale


def spread_offset(schedule_id: int, spread_seconds: float) -> timedelta:
    """A fixed delay after the slot, different per schedule, so a minute's schedules fan out."""
    if spread_seconds <= 0:
        return timedelta(0)
    return timedelta(seconds=zlib.crc32(str(schedule_id).encode()) % int(spread_seconds))


def marker(schedule: Schedule, period: datetime) -> str:
    """Written in the post's footer: how a retry recognises a post already made."""
    return f"Schedule #{schedule.id} · {period:%Y-%m-%d %H:%M} UTC"


def nonce(schedule: Schedule, period: datetime) -> str:
    return f"s{schedule.id}p{int(period.timestamp())}"[:25]


class Scheduler:
    def __init__(
        self,
        schedules: ScheduleStore,
        game_sets: GameSets,
        leaderboards: Leaderboards,
        publisher: Publisher,
        *,
        owner: str,
        links: Links,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        spread_seconds: float = 60.0,
    ) -> None:
        self.schedules = schedules
        self.game_sets = game_sets
        self.leaderboards = leaderboards
        self.publisher = publisher
        self.owner = owner
        self.links = links
        self.clock = clock
        self.spread_seconds = spread_seconds
        self._wake = asyncio.Event()
        self._store_failed = False
        self.store_retry_max = STORE_RETRY_MAX

    def wake(self) -> None:
        """Schedules changed: look again now."""
        self._wake.set()

    def first_run(self, schedule_id: int, slot: datetime) -> datetime:
        return slot + spread_offset(schedule_id, self.spread_seconds)

    async def run_forever(self) -> None:
        store_retry = 0.0
        while True:
            self._wake.clear()
            self._store_failed = False
            try:
                await self.run_due(self.clock())
                next_at = await self.schedules.next_run_at()
            except StoreError as exc:
                log.warning("scheduler: store unavailable (%s); trying again soon", exc)
                self._store_failed = True
                next_at = None
            except Exception:
                log.exception("scheduler: a run failed")
                self._store_failed = True  # look again soon too, not in MAX_SLEEP
                next_at = None
            delay = MAX_SLEEP
            if next_at is not None:
                delay = min(MAX_SLEEP, max(0.0, (next_at - self.clock()).total_seconds()))
            if self._store_failed:
                # The database is down (or a run failed): look again soon, backing off, so a
                # period that came due meanwhile is posted within seconds of its return.
                store_retry = min(self.store_retry_max, max(1.0, store_retry * 2))
                delay = min(delay, store_retry)
            else:
                store_retry = 0.0
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    async def run_due(self, now: datetime) -> list[RunResult]:
        """Run every schedule due at `now`, one after another."""
        results = []
        for schedule in await self.schedules.due(now):
            try:
                results.append(await self.run_one(schedule, now))
            except StoreError as exc:
                log.warning("scheduler: schedule #%s: store unavailable (%s)", schedule.id, exc)
                self._store_failed = True
        return results

    async def run_one(self, schedule: Schedule, now: datetime) -> RunResult:
        command_order.set(new_ticket())  # one board's requests go out together
        cadence = schedule.cadence
        period = schedule.next_run
        if now >= next_slot(cadence, schedule.hour, schedule.minute, period):
            # Whole periods passed while no process ran: post the current one, once.
            period = period_start(cadence, schedule.hour, schedule.minute, now)
        end = period + cadence.length
        upcoming = self.first_run(schedule.id, end)

        def result(outcome: str) -> RunResult:
            return RunResult(schedule.id, period, outcome)

        claim = await self.schedules.claim(schedule.id, period, self.owner, now, LEASE)
        if claim is None:
            if await self.schedules.post_status(schedule.id, period) == POSTED:
                await self.schedules.reschedule(schedule.id, next_run=end, run_at=upcoming)
                return result("skipped")
            await self.schedules.reschedule(schedule.id, run_at=now + LEASE)
            return result("busy")
        if claim == "takeover":
            found = await self._find_post(schedule, period)
            if found is not None:
                await self.schedules.posted(
                    schedule,
                    period,
                    found,
                    next_run=end,
                    run_at=upcoming,
                    result=f"posted {period:%Y-%m-%d %H:%M} UTC",
                    snapshot=None,
                )
                return result("recovered")

        previous = await self.schedules.snapshot(schedule.id)
        stale_since: datetime | None = None
        try:
            board, set_name = await self._build(schedule)
        except UserFacingError as exc:  # the set was deleted, say
            await self.schedules.release(schedule.id, period, self.owner)
            await self.schedules.pause(schedule.id, exc.message)
            return result("paused")
        except ChannelGone as exc:
            await self.schedules.release(schedule.id, period, self.owner)
            await self.schedules.pause(schedule.id, exc.reason)
            return result("paused")
        except RAError as exc:
            retry_at = now + retry_delay(cadence.length)
            if retry_at < end - final_margin(cadence.length) or previous is None:
                await self.schedules.release(schedule.id, period, self.owner)
                if retry_at >= end:
                    await self.schedules.reschedule(
                        schedule.id,
                        next_run=end,
                        run_at=upcoming,
                        result="skipped: RetroAchievements unavailable and nothing cached",
                    )
                    return result("skipped")
                await self.schedules.reschedule(
                    schedule.id,
                    run_at=retry_at,
                    result=f"RetroAchievements unavailable ({type(exc).__name__}): retrying",
                )
                return result("retry")
            # Last chance in this period: post the last board, marked as such.
            taken, data = previous
            ra = self.leaderboards.ra
            games = {int(g): ra.cached_game(int(g)) for g in data["game_ids"]}
            board = board_from_snapshot(data, games, taken)
            set_name = None
            stale_since = taken

        changes = {} if stale_since else changes_since(previous[1] if previous else None, board)
        embed = scheduled_board_embed(
            board,
            board_title(set_name, len(board.game_ids)),
            self.links,
            changes=changes,
            stale_since=stale_since,
            footer=marker(schedule, period),
        )
        try:
            message_id = await self.publisher.send(
                schedule.guild_id,
                schedule.channel_id,
                embed,
                nonce(schedule, period),
                schedule.message_id if schedule.edit_in_place else None,
            )
        except ChannelGone as exc:
            await self.schedules.release(schedule.id, period, self.owner)
            await self.schedules.pause(schedule.id, exc.reason)
            return result("paused")
        except PostFailed as exc:
            await self.schedules.release(schedule.id, period, self.owner)
            await self.schedules.reschedule(
                schedule.id,
                run_at=now + retry_delay(cadence.length),
                result=f"Discord refused the post ({exc}): retrying",
            )
            return result("retry")
        await self.schedules.posted(
            schedule,
            period,
            message_id,
            next_run=end,
            run_at=upcoming,
            result=(
                f"posted {period:%Y-%m-%d %H:%M} UTC"
                + (" from cached figures (RetroAchievements unavailable)" if stale_since else "")
            ),
            snapshot=None if stale_since else snapshot_of(board),
        )
        return result("stale" if stale_since else "posted")

    async def _build(self, schedule: Schedule) -> tuple[Board, str | None]:
        resolved = await self.game_sets.resolve(schedule.guild_id, schedule.games)
        members = await self.publisher.members(schedule.guild_id)
        board = await self.leaderboards.build(
            members, resolved.game_ids, priority=Priority.SCHEDULED
        )
        return board, resolved.set_name

    async def _find_post(self, schedule: Schedule, period: datetime) -> int | None:
        try:
            return await self.publisher.find_post(
                schedule.guild_id, schedule.channel_id, marker(schedule, period)
            )
        except (ChannelGone, PostFailed):
            return None


def retry_delay(length: timedelta) -> timedelta:
    """How long to wait before trying RA again within a period."""
    return min(timedelta(minutes=5), length / 6)


def final_margin(length: timedelta) -> timedelta:
    """Past this much before the period's end, post from cache rather than retry."""
    return min(timedelta(minutes=15), length / 4)
