"""Boards: members ranked over a list of games, and the board as stored after a post.

Ranking rule (the contract): hardcore points, then hardcore unlocks, then softcore points, then
name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models.members import Link, LinkedMember
from bot.models.ra import GameInfo, GameProgress


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


@dataclass(frozen=True)
class Change:
    """A member's change since the previous post (its snapshot): what the text and the picture
    of the next post both show."""

    move: int | None  # places gained (negative: lost); None: not on the previous post
    gained: int  # hardcore points gained (0 when none, or fewer)
    mastered: tuple[int, ...] = ()  # games mastered since

    @property
    def new(self) -> bool:
        return self.move is None


def changes_since(previous: Mapping[str, Any] | None, board: Board) -> dict[int, Change]:
    """Per member (Discord user id) on `board`, against the previous post's snapshot."""
    if previous is None:
        return {}
    before = previous.get("members", {})
    out: dict[int, Change] = {}
    for rank, s in enumerate(board.standings):
        old = before.get(str(s.member.user_id))
        if old is None:
            out[s.member.user_id] = Change(None, 0)
            continue
        had = set(old.get("mastered", []))
        out[s.member.user_id] = Change(
            move=int(old["rank"]) - rank,
            gained=max(0, s.hardcore_points - int(old["points"])),
            mastered=tuple(gid for gid, p in s.per_game.items() if p.mastered and gid not in had),
        )
    return out
