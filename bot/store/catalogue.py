"""RA's game catalogue in the database: the games of each console, and who refreshes them.

The catalogue is written a console at a time (one transaction each: a console's games are
replaced whole or not at all), so a refresh that fails half-way keeps every console it did not
reach as it was. One lease row lets one process of several refresh it; the others read it back.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from bot.models.ra import CatalogueGame, CatalogueRow, compact_icon
from bot.models.titles import search_key
from bot.store.database import Database, as_utc
from bot.store.schema import catalogue_games, catalogue_state

STATE_ROW = 1
_INSERT_CHUNK = 500  # rows per INSERT (PostgreSQL's 32,767 parameters, SQLite's 32,766)
_READ_CHUNK = 1000  # rows fetched at a time when the catalogue is read


@dataclass(frozen=True)
class CatalogueState:
    refreshed_at: datetime | None  # the last refresh that reached every console
    refresh_owner: str | None
    lease_until: datetime | None


class CatalogueStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def games(self) -> list[CatalogueGame]:
        """Every stored game as an object (the bot itself packs `rows` as they come instead)."""
        return [CatalogueGame(*row) async for chunk in self.rows() for row in chunk]

    async def rows(self) -> AsyncGenerator[list[CatalogueRow], None]:
        """Every stored game as plain values, a chunk at a time, read from the database as the
        chunks are taken: the whole catalogue is never held as rows (tens of thousands of row
        objects and tuples, freed at once, leave the heap fragmented and the process larger).

        A transaction is open until the last chunk is taken: use it with `contextlib.aclosing`.
        """
        query = select(
            catalogue_games.c.game_id,
            catalogue_games.c.title,
            catalogue_games.c.console_id,
            catalogue_games.c.console,
            catalogue_games.c.icon,
            catalogue_games.c.achievements,
            catalogue_games.c.points,
        ).order_by(catalogue_games.c.game_id)  # the index's order: it need not sort them
        consoles: dict[str, str] = {}  # one string per console, not one per game
        async with self.database.transaction() as conn:
            result = await conn.stream(query)
            async for chunk in result.partitions(_READ_CHUNK):
                yield [
                    (
                        game_id,
                        title,
                        console_id,
                        consoles.setdefault(console, console),
                        compact_icon(icon),
                        achievements,
                        points,
                    )
                    for game_id, title, console_id, console, icon, achievements, points in chunk
                ]

    async def state(self) -> CatalogueState:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(catalogue_state).where(catalogue_state.c.id == STATE_ROW))
            ).first()
        if row is None:
            return CatalogueState(None, None, None)
        return CatalogueState(
            as_utc(row.refreshed_at) if row.refreshed_at else None,
            row.refresh_owner,
            as_utc(row.lease_until) if row.lease_until else None,
        )

    async def claim_refresh(
        self, owner: str, now: datetime, *, fresh_for: timedelta, lease: timedelta
    ) -> bool:
        """Take the refresh if the catalogue is older than `fresh_for` and nobody else holds
        a live lease. One UPDATE: of several processes asking at once, one wins."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(catalogue_state)
                .where(
                    catalogue_state.c.id == STATE_ROW,
                    or_(
                        catalogue_state.c.refreshed_at.is_(None),
                        catalogue_state.c.refreshed_at < now - fresh_for,
                    ),
                    or_(
                        catalogue_state.c.lease_until.is_(None),
                        catalogue_state.c.lease_until < now,
                        catalogue_state.c.refresh_owner == owner,
                    ),
                )
                .values(refresh_owner=owner, lease_until=now + lease)
            )
        return bool(result.rowcount)

    async def extend_lease(self, owner: str, until: datetime) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(catalogue_state)
                .where(catalogue_state.c.id == STATE_ROW, catalogue_state.c.refresh_owner == owner)
                .values(lease_until=until)
            )

    async def replace_console(self, console_id: int, games: Sequence[CatalogueGame]) -> None:
        """The console's games become exactly `games` (a game that moved console moves)."""
        ids = [game.game_id for game in games]
        async with self.database.transaction(write_lock=True) as conn:
            await conn.execute(
                delete(catalogue_games).where(catalogue_games.c.console_id == console_id)
            )
            for start in range(0, len(ids), _INSERT_CHUNK):
                await conn.execute(
                    delete(catalogue_games).where(
                        catalogue_games.c.game_id.in_(ids[start : start + _INSERT_CHUNK])
                    )
                )
            rows = [
                {
                    "game_id": game.game_id,
                    "title": game.title,
                    "console_id": console_id,
                    "console": game.console[:64],
                    "icon": game.icon_path[:128],
                    "achievements": game.achievements,
                    "points": game.points,
                    "search_key": search_key(game.title)[:400],
                }
                for game in games
            ]
            for start in range(0, len(rows), _INSERT_CHUNK):
                await conn.execute(catalogue_games.insert(), rows[start : start + _INSERT_CHUNK])

    async def finish_refresh(self, owner: str, refreshed_at: datetime | None) -> None:
        """Give the lease back; `refreshed_at` when every console was reached, else None (the
        catalogue stays as old as it was, so the next try refreshes it again)."""
        values: dict[str, object] = {"refresh_owner": None, "lease_until": None}
        if refreshed_at is not None:
            values["refreshed_at"] = refreshed_at
        async with self.database.transaction() as conn:
            await conn.execute(
                update(catalogue_state)
                .where(catalogue_state.c.id == STATE_ROW, catalogue_state.c.refresh_owner == owner)
                .values(**values)
            )
