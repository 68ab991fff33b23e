"""One scheduler per process: posts scheduled leaderboards, once per period.

It sleeps until the earliest schedule is due (woken early when schedules change), then runs the
due ones one after another, so many schedules due at the same minute do not burst RA (and each
has a fixed spread offset after its slot). Scheduled RA work goes through the shared limiter at
`Priority.SCHEDULED`, behind interactive commands.

One call per player: before the first of a group of boards due close together (within half of
the age a scheduled board may use), the scheduler gathers, for every RA user on any of them,
every game any of them needs, and asks RA once per user for all of them, in the background; the
boards are then built from those answers (or wait for the call already under way) as each comes
due, at its own spread offset.

Exactly once per period: the post is claimed in the database before anything is sent (the
(schedule, period) key lets one process win, across restarts and processes sharing PostgreSQL),
and marked posted after. A claim left "sending" by a process that died mid-send is taken over
after a lease: the retry first looks for the post in the channel, and sends with a nonce Discord
deduplicates, so a crash cannot double the post, and cannot lose it either.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import UserFacingError
from bot.formatting.leaderboard import (
    board_title,
    board_titles,
    change_notes,
    scheduled_board_embed,
)
from bot.formatting.leaderboard_picture import picture_title, scheduled_picture
from bot.formatting.urls import SiteUrls
from bot.models.boards import Board, board_from_snapshot, changes_since, snapshot_of
from bot.models.schedule_times import next_slot, period_start
from bot.models.schedules import Schedule
from bot.posting.due_loop import DueLoop
from bot.posting.once import ChannelGone, Due, PostOnce, Publisher
from bot.ra.errors import RAError
from bot.ra.limiter import Priority, command_order, new_ticket
from bot.ra.transport import queue_patience
from bot.services.leaderboard import FANOUT_PATIENCE, Leaderboards
from bot.services.pictures import BoardPictures
from bot.services.resolver import GameResolver
from bot.store.schedules import ScheduleStore, Shards

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=5)  # a post this long after its time says it is late
GATHER_LIMIT = 500  # schedules looked at ahead, at most, in one gathering
SCHEDULED = Priority.SCHEDULED


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
        games: GameResolver,
        leaderboards: Leaderboards,
        publisher: Publisher,
        *,
        owner: str,
        urls: SiteUrls,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        spread_seconds: float = 60.0,
        pictures: BoardPictures | None = None,
        shards: Shards | None = None,
    ) -> None:
        self.schedules = schedules
        self.games = games
        self.leaderboards = leaderboards
        self.publisher = publisher
        self.owner = owner
        self.posts = PostOnce(schedules, publisher, owner)
        self.urls = urls
        self.clock = clock
        self.spread_seconds = spread_seconds
        self.pictures = pictures
        # Only the schedules of this process's shards' guilds (the claims stay the safety net).
        self.shards = shards
        self._gathering: set[asyncio.Future[Any]] = set()
        self.loop = DueLoop("scheduler", clock)

    def wake(self) -> None:
        """Schedules changed: look again now."""
        self.loop.wake()

    def first_run(self, schedule_id: int, slot: datetime) -> datetime:
        return slot + spread_offset(schedule_id, self.spread_seconds)

    async def run_forever(self) -> None:
        await self.loop.run_forever(
            self.run_due, lambda: self.schedules.next_run_at(shards=self.shards)
        )

    @property
    def store_retry_max(self) -> float:
        return self.loop.retry_max

    @store_retry_max.setter
    def store_retry_max(self, seconds: float) -> None:
        self.loop.retry_max = seconds

    def gather_horizon(self) -> timedelta:
        """How far ahead gathering looks: half the age a scheduled board may use, so a board
        due at the far end still finds the answers fresh enough."""
        return timedelta(seconds=self.leaderboards.ra.scheduled_max_age / 2)

    async def gather(self, now: datetime) -> int:
        """Put one call per user in RA's queue for every game any board due by `now + horizon`
        needs from them, and return the number of users (fresh answers cost nothing).

        Does not wait for the answers (`gathered()` does): the boards built next find the calls
        under way and wait for them. Failures are left to each board's own build, which asks
        again or posts from cache.
        """
        ra = self.leaderboards.ra
        soon = await self.schedules.due(
            now + self.gather_horizon(), limit=GATHER_LIMIT, shards=self.shards
        )
        needs: dict[str, list[int]] = {}
        games: list[int] = []
        for schedule in soon:
            try:
                resolved = await self.games.resolve(schedule.guild_id, schedule.games)
                members = await self.publisher.members(schedule.guild_id)
            except (UserFacingError, ChannelGone):
                continue  # run_one pauses it when its time comes
            games.extend(resolved.game_ids)
            for member in members:
                needs.setdefault(member.link.ra_ulid, []).extend(resolved.game_ids)
        if not needs:
            return 0
        pending: set[asyncio.Future[Any]] = set()
        ticket = command_order.set(new_ticket())
        patient = queue_patience.set(FANOUT_PATIENCE)
        try:
            pending.update(ra.prefetch_games(games, SCHEDULED))  # titles first: boards need them
            for user, ids in needs.items():
                pending.update(ra.prefetch(user, list(dict.fromkeys(ids)), SCHEDULED))
        finally:
            queue_patience.reset(patient)
            command_order.reset(ticket)
        self._gathering = pending
        return len(needs)

    async def gathered(self) -> None:
        """Wait for the calls of the last gathering (tests, shutdown)."""
        if self._gathering:
            await asyncio.gather(*self._gathering, return_exceptions=True)

    async def _gather_for(self, now: datetime) -> None:
        if self.leaderboards.ra.scheduled_max_age <= 0:
            return  # boards may not share answers: nothing to gain
        if any(not f.done() for f in self._gathering):
            return  # the last one is still asking: its answers serve these boards too
        try:
            users = await self.gather(now)
        except Exception as exc:  # the boards ask for themselves
            log.warning("scheduler: gathering progress for the boards due failed: %r", exc)
        else:
            log.debug("scheduler: gathered progress of %d users for the boards due", users)

    async def run_due(self, now: datetime) -> list[RunResult]:
        """Run every schedule due at `now`, one after another."""
        due = await self.schedules.due(now, shards=self.shards)
        if due:
            await self._gather_for(now)
        return await self.loop.run_each(
            due, lambda schedule: self.run_one(schedule, now), lambda s: f"schedule #{s.id}"
        )

    async def run_one(self, schedule: Schedule, now: datetime) -> RunResult:
        command_order.set(new_ticket())  # one board's requests go out together
        cadence = schedule.cadence
        period = schedule.next_run
        if now >= next_slot(cadence, schedule.hour, schedule.minute, period):
            # Whole periods passed while no process ran: post the current one, once.
            period = period_start(cadence, schedule.hour, schedule.minute, now)
        end = period + cadence.length
        upcoming = self.first_run(schedule.id, end)

        done = f"posted {period:%Y-%m-%d %H:%M} UTC"

        def result(outcome: str) -> RunResult:
            return RunResult(schedule.id, period, outcome)

        due = Due(
            schedule.id,
            schedule.guild_id,
            schedule.channel_id,
            period,
            marker(schedule, period),
            nonce(schedule, period),
        )

        async def posted(
            message_id: int, text: str = done, snapshot: dict[str, Any] | None = None
        ) -> None:
            await self.schedules.posted(
                schedule,
                period,
                message_id,
                next_run=end,
                run_at=upcoming,
                result=text,
                snapshot=snapshot,
            )

        async def advance() -> None:
            await self.schedules.reschedule(schedule.id, next_run=end, run_at=upcoming)

        claimed = await self.posts.claim(due, now, advance=advance, recovered=posted)
        if claimed is not None:
            return result(claimed)

        previous = await self.schedules.snapshot(schedule.id)
        stale_since: datetime | None = None
        started = time.monotonic()
        try:
            board, set_name = await self._build(schedule)
        except UserFacingError as exc:  # the set was deleted, say
            return result(await self.posts.pause(due, exc.message))
        except ChannelGone as exc:
            return result(await self.posts.pause(due, exc.reason))
        except RAError as exc:
            retry_at = now + retry_delay(cadence.length)
            if retry_at < end - final_margin(cadence.length) or previous is None:
                await self.posts.release(due)
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

        changes = (
            {}
            if stale_since
            else change_notes(changes_since(previous[1] if previous else None, board), board)
        )
        # Late: boards that could not all be served at their time (the budget was busy, RA was
        # slow, or the bot was down) are posted later in the period, and say so.
        late_by = now - self.first_run(schedule.id, period) + timedelta(
            seconds=time.monotonic() - started
        )
        if late_by >= LATE_AFTER and stale_since is None:
            log.warning(
                "scheduler: schedule #%s posts %.0f min late (RA budget busy, RA slow, or the "
                "bot was down)", schedule.id, late_by.total_seconds() / 60,
            )
        else:
            late_by = timedelta(0)
        embed = scheduled_board_embed(
            board,
            board_title(set_name, board.game_ids, board_titles(board)),
            self.urls,
            changes=changes,
            stale_since=stale_since,
            footer=due.marker,
            late_by=late_by or None,
        )
        image = None
        if self.pictures is not None:
            picture = scheduled_picture(
                board,
                picture_title(set_name, len(board.game_ids)),
                previous=previous[1] if previous else None,
                stale_since=stale_since,
                footer=due.marker,
            )
            image = await self.pictures.render(picture)
        failed = await self.posts.send(
            due,
            now,
            embed,
            image,
            edit=schedule.message_id if schedule.edit_in_place else None,
            retry_in=retry_delay(cadence.length),
            posted=lambda message_id: posted(
                message_id,
                done
                + (" from cached figures (RetroAchievements unavailable)" if stale_since else ""),
                None if stale_since else snapshot_of(board),
            ),
        )
        if failed is not None:
            return result(failed)
        return result("stale" if stale_since else "posted")

    async def _build(self, schedule: Schedule) -> tuple[Board, str | None]:
        resolved = await self.games.resolve(schedule.guild_id, schedule.games)
        members = await self.publisher.members(schedule.guild_id)
        board = await self.leaderboards.build(
            members, resolved.game_ids, priority=Priority.SCHEDULED
        )
        return board, resolved.set_name


def retry_delay(length: timedelta) -> timedelta:
    """How long to wait before trying RA again within a period."""
    return min(timedelta(minutes=5), length / 6)


def final_margin(length: timedelta) -> timedelta:
    """Past this much before the period's end, post from cache rather than retry."""
    return min(timedelta(minutes=15), length / 4)
