"""A leaderboard as a `BoardPicture` (see board_image.py), and the picture put in an embed."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import discord

from bot.formatting.board_image import FILENAME, BoardPicture, PictureRow
from bot.formatting.leaderboard import ROWS_PER_PAGE, SCHEDULED_ROWS, game_title
from bot.models.boards import Board, Change, Standing, changes_since
from bot.models.ra import GameInfo

RANKING_RULE = "hardcore points, then hardcore unlocks, then softcore points"
GAMES_NAMED = 4


def picture_title(set_name: str | None, game_count: int) -> str:
    """board_title without the markdown escapes: a picture shows text as it is."""
    if set_name:
        return f"Leaderboard · {set_name}"
    return f"Leaderboard · {game_count} game{'s' if game_count != 1 else ''}"


def games_line(game_ids: Sequence[int], games: Mapping[int, GameInfo | None]) -> str:
    """The first games' titles (and consoles), then how many more."""
    named = []
    for game_id in game_ids[:GAMES_NAMED]:
        info = games.get(game_id)
        console = f" ({info.console})" if info is not None and info.console else ""
        named.append(game_title(game_id, None) if info is None else info.title + console)
    more = len(game_ids) - len(named)
    return " · ".join(named) + (f"  +{more} more" if more > 0 else "")


def row_of(rank: int, standing: Standing, change: Change | None) -> PictureRow:
    """A member's row: hardcore figures, or softcore ones (marked so) for a member who has
    nothing in hardcore, as the text's podium does, rather than a row of zeros."""
    softcore = standing.hardcore_unlocks == 0 and standing.softcore_unlocks > 0
    return PictureRow(
        rank=rank,
        name=standing.name,
        fallback_name=standing.member.link.ra_name,
        points=standing.softcore_points if softcore else standing.hardcore_points,
        unlocks=standing.softcore_unlocks if softcore else standing.hardcore_unlocks,
        softcore=softcore,
        possible=sum(p.possible for p in standing.per_game.values()),
        mastered=standing.mastered,
        completed=standing.completed,
        # With no previous post to compare with: no move and not new.
        move=change.move if change is not None else None,
        gained=change.gained if change is not None else 0,
        new=change.new if change is not None else False,
    )


def _when(at: datetime | None) -> str:
    return f"figures of {at:%Y-%m-%d %H:%M} UTC · " if at is not None else ""


def page_picture(board: Board, page: int, title: str) -> BoardPicture:
    """Page `page` (0-based) of `/leaderboard show`, as in board_page."""
    pages = max(1, -(-len(board.standings) // ROWS_PER_PAGE))
    page = max(0, min(page, pages - 1))
    first = page * ROWS_PER_PAGE
    rows = tuple(
        row_of(first + i + 1, s, None)
        for i, s in enumerate(board.standings[first : first + ROWS_PER_PAGE])
    )
    return BoardPicture(
        title=title + (f" · page {page + 1}/{pages}" if pages > 1 else ""),
        rows=rows,
        lines=(games_line(board.game_ids, board.games),),
        footer=f"{len(board.standings)} members · {_when(board.fetched_at)}{RANKING_RULE}",
        empty="Nobody on this board yet.",
    )


def scheduled_picture(
    board: Board,
    title: str,
    *,
    previous: Mapping[str, Any] | None,
    stale_since: datetime | None,
    footer: str,
    rows: int = SCHEDULED_ROWS,
) -> BoardPicture:
    """A scheduled post's top `rows`, with what changed since the previous post."""
    changes = {} if stale_since else changes_since(previous, board)
    more = len(board.standings) - rows
    note = ""
    if stale_since is not None:
        note = f"Figures from {stale_since:%Y-%m-%d %H:%M} UTC: RA was unreachable"
    return BoardPicture(
        title=title,
        rows=tuple(
            row_of(i + 1, s, changes.get(s.member.user_id))
            for i, s in enumerate(board.standings[:rows])
        ),
        lines=(games_line(board.game_ids, board.games),),
        note=note,
        footer=footer
        + (f" · {more} more on /leaderboard show" if more > 0 else "")
        + f" · {RANKING_RULE}",
        empty="Nobody on this board yet: members join it by using /link here.",
    )


def attach(embed: discord.Embed, png: bytes) -> discord.File:
    """Show `png` in `embed`; the file to send with it."""
    embed.set_image(url=f"attachment://{FILENAME}")
    return discord.File(
        io.BytesIO(png), filename=FILENAME, description=(embed.title or "Leaderboard")[:1000]
    )
