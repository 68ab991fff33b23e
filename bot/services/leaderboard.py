"""Boards: every member's progress over a list of games, ranked.

One RA progress call per member carrying all the games (through the shared limiter and the
caches), all members at once: the limiter, not this code, decides the pace. Ranking rule (the
contract): hardcore points, then hardcore unlocks, then softcore points, then name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.models.boards import Board, Standing, rank_key
from bot.models.members import LinkedMember
from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import Priority
from bot.ra.transport import queue_patience
from bot.services.ra import RAService

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], Awaitable[None]]
FANOUT_PATIENCE = 600.0


class Leaderboards:
    def __init__(self, ra: RAService) -> None:
        self.ra = ra

    async def build(
        self,
        members: Sequence[LinkedMember],
        game_ids: Sequence[int],
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_progress: ProgressCallback | None = None,
    ) -> Board:
        """Fetch every member's progress (one RA call each at most) and rank them."""
        done = 0
        fetched_at: list[datetime] = []
        standings: list[Standing] = []
        missing: list[LinkedMember] = []

        async def fetch(member: LinkedMember) -> None:
            nonlocal done
            try:
                progress = await self.ra.progress(member.link.ra_ulid, game_ids, priority)
            except RAUserNotFound:
                missing.append(member)
            else:
                standings.append(
                    Standing(member, {gid: progress[gid].progress for gid in game_ids})
                )
                fetched_at.extend(progress[gid].at for gid in game_ids)
            done += 1
            if on_progress is not None:
                await on_progress(done, len(members))

        # Hundreds of members queue at the limiter's rate: let them wait for their turn (the
        # caller sees a progress note), within the 15 minutes an interaction lasts.
        patient = queue_patience.set(FANOUT_PATIENCE)
        try:
            # Titles first: a /progress on the same games waits for these calls, which must
            # not sit behind the members' calls (they are a handful, often cached).
            games = await self.ra.games(game_ids, priority)
            await asyncio.gather(*(fetch(member) for member in members))
        finally:
            queue_patience.reset(patient)
        standings.sort(key=rank_key)
        missing.sort(key=lambda m: m.display_name.casefold())
        return Board(
            list(game_ids), games, standings, missing, min(fetched_at) if fetched_at else None
        )


# -- snapshots: a board as stored after a scheduled post -------------------------------------------


