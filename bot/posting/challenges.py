"""Challenge posts: standings on their cadence and the final standings once.

Posts go through the scheduler's exactly-once steps (bot/posting/once.py): a post is claimed in
the database before anything is sent (bot/store/post_claims.py, as a schedule's), a claim left by
a process that died mid-send is taken over after the lease, looking for the post first, and sent
with a nonce Discord de-duplicates. The final post's period is the end of the window, so it is
made once, even across restarts, and nothing is posted after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.formatting.challenges import standings_embed, standings_picture
from bot.formatting.leaderboard import change_notes
from bot.formatting.urls import SiteUrls
from bot.models.boards import changes_since, snapshot_of
from bot.models.challenge_times import next_post
from bot.models.challenges import Challenge
from bot.models.schedule_times import period_start
from bot.posting.due_loop import DueLoop
from bot.posting.once import ChannelGone, Due, PostOnce, Publisher
from bot.posting.scheduler import RunResult, retry_delay, spread_offset
from bot.ra.errors import RAError
from bot.ra.limiter import Priority, command_order, new_ticket
from bot.services.challenges import Challenges
from bot.services.pictures import BoardPictures
from bot.store.challenges import ChallengeStore
from bot.store.schedules import Shards

log = logging.getLogger(__name__)


def marker(challenge: Challenge, period: datetime) -> str:
    """Written in the post's footer: how a retry recognises a post already made."""
    if period >= challenge.ends_at:
        return f"Challenge #{challenge.id} · final standings"
    return f"Challenge #{challenge.id} · {period:%Y-%m-%d %H:%M} UTC"


def nonce(challenge: Challenge, period: datetime) -> str:
    return f"c{challenge.id}p{int(period.timestamp())}"[:25]


def due_period(challenge: Challenge, now: datetime) -> datetime | None:
    """The post to make at `now`: the final one once the window is over (it covers any missed
    before it), else the latest cadence slot not yet posted."""
    if challenge.next_run is None:
        return None
    if now >= challenge.ends_at or challenge.next_run >= challenge.ends_at:
        return challenge.ends_at
    if challenge.cadence is not None:
        latest = period_start(challenge.cadence, 0, 0, now)
        return max(challenge.next_run, latest)
    return challenge.next_run


class ChallengePoster:
    """Posts challenge standings on their cadence, and the final standings once, each with the
    board's picture when `pictures` draws one; with `shards`, only the challenges of those
    shards' guilds (as the Scheduler: the claims stay the safety net)."""

    def __init__(
        self,
        store: ChallengeStore,
        challenges: Challenges,
        publisher: Publisher,
        *,
        owner: str,
        urls: SiteUrls,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        spread_seconds: float = 60.0,
        pictures: BoardPictures | None = None,
        shards: Shards | None = None,
    ) -> None:
        self.store = store
        self.challenges = challenges
        self.publisher = publisher
        self.owner = owner
        self.posts = PostOnce(store, publisher, owner)
        self.urls = urls
        self.clock = clock
        self.spread_seconds = spread_seconds
        self.pictures = pictures
        # Only the challenges of this process's shards' guilds (the claims stay the safety net).
        self.shards = shards
        self.loop = DueLoop("challenges", clock)

    def wake(self) -> None:
        self.loop.wake()

    def run_time(self, challenge_id: int, slot: datetime) -> datetime:
        return slot + spread_offset(challenge_id, self.spread_seconds)

    async def run_forever(self) -> None:
        await self.loop.run_forever(
            self.run_due, lambda: self.store.next_run_at(shards=self.shards)
        )

    async def run_due(self, now: datetime) -> list[RunResult]:
        return await self.loop.run_each(
            await self.store.due(now, shards=self.shards),
            lambda challenge: self.run_one(challenge, now),
            lambda c: f"challenge #{c.id}",
        )

    async def run_one(self, challenge: Challenge, now: datetime) -> RunResult | None:
        command_order.set(new_ticket())  # one post's requests go out together
        period = due_period(challenge, now)
        if period is None or challenge.channel_id is None:
            await self.store.reschedule(challenge.id, run_at=None)
            return None
        final = period >= challenge.ends_at
        upcoming = next_post(challenge.cadence, challenge.starts_at, challenge.ends_at, period)
        upcoming_run = self.run_time(challenge.id, upcoming) if upcoming is not None else None
        done = "final standings posted" if final else f"posted {period:%Y-%m-%d %H:%M} UTC"

        def result(outcome: str) -> RunResult:
            return RunResult(challenge.id, period, outcome)

        due = Due(
            challenge.id,
            challenge.guild_id,
            challenge.channel_id,
            period,
            marker(challenge, period),
            nonce(challenge, period),
        )

        async def posted(message_id: int, snapshot: dict[str, Any] | None = None) -> None:
            await self.store.posted(
                challenge.id,
                period,
                message_id,
                next_run=upcoming,
                run_at=upcoming_run,
                result=done,
                snapshot=snapshot,
            )

        async def advance() -> None:
            await self.store.reschedule(
                challenge.id, next_run=upcoming, run_at=upcoming_run, move=True
            )

        claimed = await self.posts.claim(due, now, advance=advance, recovered=posted)
        if claimed is not None:
            return result(claimed)

        previous = await self.store.snapshot(challenge.id)
        try:
            members = await self.publisher.members(challenge.guild_id)
            standings = await self.challenges.standings(
                challenge, members, min(now, challenge.ends_at), priority=Priority.SCHEDULED
            )
        except ChannelGone as exc:
            return result(await self.posts.pause(due, exc.reason))
        except RAError as exc:
            await self.posts.release(due)
            length = challenge.cadence.length if challenge.cadence and not final else None
            retry_at = now + retry_delay(length or timedelta(days=1))
            if length is not None and upcoming is not None and retry_at >= upcoming:
                await self.store.reschedule(
                    challenge.id,
                    next_run=upcoming,
                    run_at=upcoming_run,
                    move=True,
                    result="skipped: RetroAchievements unavailable",
                )
                return result("skipped")
            await self.store.reschedule(
                challenge.id,
                run_at=retry_at,
                result=f"RetroAchievements unavailable ({type(exc).__name__}): retrying",
            )
            return result("retry")

        embed = standings_embed(
            standings,
            self.urls,
            changes=change_notes(changes_since(previous, standings.board), standings.board),
            footer=due.marker,
        )
        image = None
        if self.pictures is not None:
            picture = standings_picture(
                standings, previous=previous, footer=due.marker
            )
            image = await self.pictures.render(picture)
        failed = await self.posts.send(
            due,
            now,
            embed,
            image,
            edit=None,
            retry_in=retry_delay(timedelta(days=1)),
            posted=lambda message_id: posted(message_id, snapshot_of(standings.board)),
        )
        if failed is not None:
            return result(failed)
        return result("final" if final else "posted")
