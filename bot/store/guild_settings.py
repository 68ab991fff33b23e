"""Each guild's own settings (its command budget)."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.database import Database
from bot.store.schema import guild_settings


class GuildSettingsStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def set_guild_rate(self, guild_id: int, per_minute: int | None) -> None:
        stmt = self.database.insert(guild_settings).values(
            guild_id=guild_id, commands_per_minute=per_minute
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id"], set_={"commands_per_minute": per_minute}
        )
        async with self.database.transaction() as conn:
            await conn.execute(stmt)

    async def guild_rates(self) -> dict[int, int]:
        """Every guild's own rate (guilds on the default are left out)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(guild_settings).where(guild_settings.c.commands_per_minute.is_not(None))
            )
            return {row.guild_id: row.commands_per_minute for row in rows}
