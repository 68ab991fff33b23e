"""Boards: every member's progress over a list of games, ranked.

One RA progress call per member carrying all the games (through the shared limiter and the
caches), all members at once: the limiter, not this code, decides the pace. Ranking rule (the
contract): hardcore points, then hardcore unlocks, then softcore points, then name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.formatting.text import escape
from bot.ra.client import queue_patience
from bot.ra.errors import RAUserNotFound
from bot.ra.limiter import Priority
from bot.ra.models import GameInfo, GameProgress
from bot.services.members import LinkedMember
from bot.services.ra import RAService
from bot.store import Link

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], Awaitable[None]]
FANOUT_PATIENCE = 600.0


@dataclass(frozen=True)
class Standing:
    """One member's place on a board."""

    member: LinkedMember
    per_game: dict[int, GameProgress]

    @property
    def name(self) -> str:
        return self.member.display_name

    def _sum(self, field: str) -> int:
        return sum(getattr(p, field) for p in self.per_game.values())

    @property
    def hardcore_points(self) -> int:
        return self._sum("score_hardcore")

    @property
    def hardcore_unlocks(self) -> int:
        return self._sum("achieved_hardcore")

    @property
    def softcore_points(self) -> int:
        return self._sum("score")

    @property
    def softcore_unlocks(self) -> int:
        return self._sum("achieved")

    @property
    def mastered(self) -> int:
        return sum(p.mastered for p in self.per_game.values())

    @property
    def completed(self) -> int:
        return sum(p.completed and not p.mastered for p in self.per_game.values())


def rank_key(standing: Standing) -> tuple[int, int, int, str, int]:
    return (
        -standing.hardcore_points,
        -standing.hardcore_unlocks,
        -standing.softcore_points,
        standing.name.casefold(),
        standing.member.user_id,
    )


def game_rank_key(game_id: int) -> Callable[[Standing], tuple[int, int, int, str, int]]:
    """The same rule, on one game."""

    def key(standing: Standing) -> tuple[int, int, int, str, int]:
        p = standing.per_game[game_id]
        return (
            -p.score_hardcore,
            -p.achieved_hardcore,
            -p.score,
            standing.name.casefold(),
            standing.member.user_id,
        )

    return key


@dataclass(frozen=True)
class Board:
    game_ids: list[int]
    games: dict[int, GameInfo | None]
    standings: list[Standing]  # ranked
    missing: list[LinkedMember]  # linked to an RA account that no longer exists
    fetched_at: datetime | None

    def position_of(self, user_id: int) -> int | None:
        """0-based rank of a Discord user on the board."""
        for index, standing in enumerate(self.standings):
            if standing.member.user_id == user_id:
                return index
        return None

    def ranked_on(self, game_id: int) -> list[Standing]:
        return sorted(self.standings, key=game_rank_key(game_id))


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

_FIELDS = (
    "possible",
    "possible_score",
    "achieved",
    "score",
    "achieved_hardcore",
    "score_hardcore",
)


def snapshot_of(board: Board) -> dict[str, Any]:
    """What the next post needs to say what changed, or to stand in when RA is unreachable."""
    return {
        "game_ids": board.game_ids,
        "members": {
            str(s.member.user_id): {
                "rank": rank,
                "name": s.member.display_name,
                "ra_ulid": s.member.link.ra_ulid,
                "ra_name": s.member.link.ra_name,
                "points": s.hardcore_points,
                "mastered": sorted(gid for gid, p in s.per_game.items() if p.mastered),
                "games": {
                    str(gid): [getattr(p, f) for f in _FIELDS] for gid, p in s.per_game.items()
                },
            }
            for rank, s in enumerate(board.standings)
        },
    }


def board_from_snapshot(
    data: dict[str, Any], games: dict[int, GameInfo | None], taken: datetime
) -> Board:
    """The board as it was posted last (for a post from cache, marked as such)."""
    standings = []
    for uid, row in data["members"].items():
        link = Link(int(uid), row["ra_ulid"], row["ra_name"], taken)
        per_game = {
            int(gid): GameProgress(int(gid), *numbers) for gid, numbers in row["games"].items()
        }
        standings.append(Standing(LinkedMember(int(uid), link, row["name"]), per_game))
    standings.sort(key=rank_key)
    game_ids = [int(g) for g in data["game_ids"]]
    return Board(game_ids, {g: games.get(g) for g in game_ids}, standings, [], taken)


def changes_since(previous: dict[str, Any] | None, board: Board) -> dict[int, str]:
    """Per member: rank move (▲▼, 🆕), hardcore points gained, new masteries."""
    if previous is None:
        return {}
    before = previous.get("members", {})
    out: dict[int, str] = {}
    for rank, s in enumerate(board.standings):
        old = before.get(str(s.member.user_id))
        parts = []
        if old is None:
            parts.append("🆕")
        else:
            move = int(old["rank"]) - rank
            if move > 0:
                parts.append(f"▲{move}")
            elif move < 0:
                parts.append(f"▼{-move}")
            gained = s.hardcore_points - int(old["points"])
            if gained > 0:
                parts.append(f"+{gained:,} pts")
            new_masteries = [
                gid
                for gid, p in s.per_game.items()
                if p.mastered and gid not in set(old.get("mastered", []))
            ]
            for gid in new_masteries:
                info = board.games.get(gid)
                parts.append(f"👑 {escape(info.title, 60) if info else f'game {gid}'}")
        if parts:
            out[s.member.user_id] = " · ".join(parts)
    return out
