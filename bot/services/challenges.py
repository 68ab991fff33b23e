"""Challenges: what each member earned inside a window, ranked, and the posts of a challenge.

Standings cost one API_GetAchievementsEarnedBetween call per member (start → min(now, end); more
only for a member past 500 unlocks in the window), through the shared limiter and cached like
progress (bot.services.ra.RAService.earned_between), filtered here to the challenge's games. A
hardcore unlock counts for hardcore and softcore alike, and each achievement counts at most once
per mode, even where RA lists it once per mode (servers before 2023-10 did).

Standings map onto the leaderboard's own `Board`/`Standing` (rank, name, hardcore points,
unlocks, softcore points), so the same formatting, deltas and pictures apply.
The posts of a challenge are bot/posting/challenges.py's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.models.boards import Board, Standing, rank_key
from bot.models.challenge_times import query_bounds, state
from bot.models.challenges import Challenge, ChallengeBoard
from bot.models.members import LinkedMember
from bot.models.ra import EarnedAchievement, GameProgress
from bot.ra.limiter import Priority
from bot.ra.transport import queue_patience
from bot.services.leaderboard import FANOUT_PATIENCE, ProgressCallback
from bot.services.ra import RAService

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
