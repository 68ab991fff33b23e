"""Challenges: what each member earned inside a window, ranked, and the posts of a challenge.

Standings cost one API_GetAchievementsEarnedBetween call per member (start → min(now, end); more
only for a member past 500 unlocks in the window), through the shared limiter and cached like
progress (bot.services.ra.RAService.earned_between), filtered here to the challenge's games. A
hardcore unlock counts for hardcore and softcore alike, and each achievement counts at most once
per mode, even where RA lists it once per mode (servers before 2023-10 did).

Standings map onto the leaderboard's own `Board`/`Standing` (rank, name, hardcore points,
unlocks, softcore points), so the same formatting, deltas and pictures apply.

Posts go through the scheduler's exactly-once machinery: a post is claimed in the database
before anything is sent (`ChallengeStore.claim`, as `ScheduleStore.claim`), a claim left by a
process that died mid-send is taken over after the lease, looking for the post first, and sent
with a nonce Discord de-duplicates. The final post's period is the end of the window, so it is
made once, even across restarts, and nothing is posted after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.formatting.challenges import standings_embed, standings_picture
from bot.formatting.leaderboard import changes_since
from bot.formatting.progress import Links
from bot.models.boards import Board, Standing, rank_key, snapshot_of
from bot.models.challenge_times import next_post, query_bounds, state
from bot.models.challenges import Challenge, ChallengeBoard
from bot.models.members import LinkedMember
from bot.models.ra import EarnedAchievement, GameProgress
from bot.models.schedule_times import period_start
from bot.ra.client import queue_patience
from bot.ra.errors import RAError
from bot.ra.limiter import Priority, command_order, new_ticket
from bot.services.due_loop import DueLoop
from bot.services.leaderboard import FANOUT_PATIENCE, ProgressCallback
from bot.services.pictures import BoardPictures
from bot.services.posting import ChannelGone, Due, PostOnce, Publisher
from bot.services.ra import RAService
from bot.services.scheduler import RunResult, retry_delay, spread_offset
from bot.store.challenges import ChallengeStore
from bot.store.schedules import Shards

log = logging.getLogger(__name__)


def tally(unlocks: Sequence[EarnedAchievement], game_ids: Sequence[int]) -> dict[int, GameProgress]:
    """Per game of the challenge: unlocks and points earned, softcore counts including hardcore.

    An achievement counts once for softcore, and once for hardcore if any of its entries is
    hardcore, however many times RA lists it.
    """
    wanted = set(game_ids)
    softcore: dict[int, EarnedAchievement] = {}
    hardcore: dict[int, EarnedAchievement] = {}
    for unlock in unlocks:
        if unlock.game_id not in wanted:
            continue
        softcore.setdefault(unlock.achievement_id, unlock)
        if unlock.hardcore:
            hardcore.setdefault(unlock.achievement_id, unlock)
    out = {}
    for game_id in game_ids:
        sc = [u for u in softcore.values() if u.game_id == game_id]
        hc = [u for u in hardcore.values() if u.game_id == game_id]
        out[game_id] = GameProgress(
            game_id=game_id,
            possible=0,  # a window counts what was earned, not what is left
            possible_score=0,
            achieved=len(sc),
            score=sum(u.points for u in sc),
            achieved_hardcore=len(hc),
            score_hardcore=sum(u.points for u in hc),
        )
    return out


class Challenges:
    def __init__(self, ra: RAService) -> None:
        self.ra = ra

    async def standings(
        self,
        challenge: Challenge,
        members: Sequence[LinkedMember],
        now: datetime,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_progress: ProgressCallback | None = None,
    ) -> ChallengeBoard:
        """Each member's earnings in the window up to `now` (frozen at the end), ranked."""
        bounds = query_bounds(challenge.starts_at, challenge.ends_at, now)
        game_ids = challenge.game_ids
        end = int(challenge.ends_at.timestamp()) - 1
        standings: list[Standing] = []
        not_started: list[LinkedMember] = []
        fetched_at: list[datetime] = []
        done = 0

        async def fetch(member: LinkedMember) -> None:
            nonlocal done
            per_game = tally([], game_ids)
            if bounds is not None:
                window = await self.ra.earned_between(
                    member.link.ra_ulid, bounds[0], bounds[1], end, priority
                )
                fetched_at.append(window.at)
                per_game = tally(window.unlocks, game_ids)
            if any(p.achieved for p in per_game.values()):
                standings.append(Standing(member, per_game))
            else:
                not_started.append(member)
            done += 1
            if on_progress is not None:
                await on_progress(done, len(members))

        patient = queue_patience.set(FANOUT_PATIENCE)
        try:
            games_task = asyncio.ensure_future(self.ra.games(game_ids, priority))
            try:
                await asyncio.gather(*(fetch(member) for member in members))
                games = await games_task
            finally:
                if not games_task.done():
                    games_task.cancel()
        finally:
            queue_patience.reset(patient)
        standings.sort(key=rank_key)
        not_started.sort(key=lambda m: (m.display_name.casefold(), m.user_id))
        board = Board(list(game_ids), games, standings, [], min(fetched_at) if fetched_at else None)
        until = None
        if bounds is not None:
            until = datetime.fromtimestamp(bounds[1], UTC)
        return ChallengeBoard(
            challenge, board, not_started, state(challenge.starts_at, challenge.ends_at, now), until
        )


# -- posts ----------------------------------------------------------------------------------------


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
        links: Links,
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
        self.links = links
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
            self.links,
            changes=changes_since(previous, standings.board),
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
