"""The guilds' game sets: named lists of games, one row per set (unique per guild, by name
whatever its case)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.models.game_sets import GameSet
from bot.store.database import Database, StoreError, as_utc
from bot.store.schema import game_sets


class SetExists(StoreError):
    """A game set by that name exists already in the guild."""


def _ids(csv: str) -> list[int]:
    return [int(part) for part in csv.split(",") if part]


class GameSetStore:
    """Reads and writes of the game sets table (`store.sets`)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = asyncio.Lock()  # writes to a set take turns within the process

    @staticmethod
    def _set(row: Any) -> GameSet:
        return GameSet(
            row.guild_id, row.name, _ids(row.game_ids), row.created_by, as_utc(row.updated_at)
        )

    async def create(
        self, guild_id: int, name: str, game_ids: Sequence[int], created_by: int
    ) -> GameSet:
        now = datetime.now(UTC)
        try:
            async with self.database.transaction() as conn:
                await conn.execute(
                    game_sets.insert().values(
                        guild_id=guild_id,
                        name_key=name.casefold(),
                        name=name,
                        game_ids=",".join(map(str, game_ids)),
                        created_by=created_by,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise SetExists(f"set {name!r} exists") from None
        return GameSet(guild_id, name, list(game_ids), created_by, now)

    async def get(self, guild_id: int, name: str) -> GameSet | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(game_sets).where(
                        game_sets.c.guild_id == guild_id,
                        game_sets.c.name_key == name.casefold(),
                    )
                )
            ).first()
        return self._set(row) if row is not None else None

    async def modify(
        self, guild_id: int, name: str, change: Callable[[list[int]], list[int]]
    ) -> GameSet | None:
        """Read a set's games, apply `change`, write them back, in one transaction.

        None if there is no such set. Concurrent changes never lose one another: the row is
        locked on PostgreSQL (SELECT ... FOR UPDATE), the database is on SQLite (BEGIN
        IMMEDIATE), and writes to a set take turns within the process.
        """
        async with self._lock, self.database.transaction(write_lock=True) as conn:
            row = (
                await conn.execute(
                    select(game_sets)
                    .where(
                        game_sets.c.guild_id == guild_id,
                        game_sets.c.name_key == name.casefold(),
                    )
                    .with_for_update()
                )
            ).first()
            if row is None:
                return None
            game_ids = change(_ids(row.game_ids))
            now = datetime.now(UTC)
            await conn.execute(
                update(game_sets)
                .where(game_sets.c.guild_id == guild_id, game_sets.c.name_key == row.name_key)
                .values(game_ids=",".join(map(str, game_ids)), updated_at=now)
            )
        return GameSet(guild_id, row.name, game_ids, row.created_by, now)

    async def delete(self, guild_id: int, name: str) -> bool:
        async with self.database.transaction() as conn:
            result = await conn.execute(
                delete(game_sets).where(
                    game_sets.c.guild_id == guild_id, game_sets.c.name_key == name.casefold()
                )
            )
        return bool(result.rowcount)

    async def for_guild(self, guild_id: int) -> list[GameSet]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(game_sets)
                .where(game_sets.c.guild_id == guild_id)
                .order_by(game_sets.c.name_key)
            )
            return [self._set(row) for row in rows]
