"""Account links (a Discord user to an RA account, by its ULID) and who belongs to which guild
(the linked members a guild's boards count)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update

from bot.models.members import Link
from bot.store.database import Database, as_utc
from bot.store.schema import guild_members, links


class LinkStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def set_link(self, discord_user_id: int, ra_ulid: str, ra_name: str) -> Link:
        """Link (or re-link) a Discord user to an RA account."""
        now = datetime.now(UTC)
        values = {"ra_ulid": ra_ulid, "ra_name": ra_name, "linked_at": now}
        stmt = self.database.insert(links).values(discord_user_id=discord_user_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["discord_user_id"], set_=values)
        async with self.database.transaction() as conn:
            await conn.execute(stmt)
        return Link(discord_user_id, ra_ulid, ra_name, now)

    async def get_link(self, discord_user_id: int) -> Link | None:
        return (await self.get_links([discord_user_id])).get(discord_user_id)

    async def get_links(self, discord_user_ids: Iterable[int]) -> dict[int, Link]:
        ids = list(dict.fromkeys(discord_user_ids))
        if not ids:
            return {}
        async with self.database.transaction() as conn:
            rows = await conn.execute(select(links).where(links.c.discord_user_id.in_(ids)))
            return {
                row.discord_user_id: Link(
                    row.discord_user_id, row.ra_ulid, row.ra_name, as_utc(row.linked_at)
                )
                for row in rows
            }

    async def linked_accounts(
        self, *, ulids: Iterable[str] = (), names: Iterable[str] = ()
    ) -> list[Link]:
        """The links to any of these RA accounts: by ULID (a renamed account stays linked), or
        by name ignoring case (the Achievement of the Week of older servers names its earners
        only). One query, whatever the number of accounts."""
        wanted_ulids = list(dict.fromkeys(ulids))
        wanted_names = list(dict.fromkeys(name.lower() for name in names))
        if not wanted_ulids and not wanted_names:
            return []
        query = select(links).where(
            or_(links.c.ra_ulid.in_(wanted_ulids), func.lower(links.c.ra_name).in_(wanted_names))
        )
        async with self.database.transaction() as conn:
            rows = await conn.execute(query.order_by(links.c.discord_user_id))
            return [
                Link(row.discord_user_id, row.ra_ulid, row.ra_name, as_utc(row.linked_at))
                for row in rows
            ]

    async def delete_link(self, discord_user_id: int) -> bool:
        async with self.database.transaction() as conn:
            result = await conn.execute(
                delete(links).where(links.c.discord_user_id == discord_user_id)
            )
        return bool(result.rowcount)

    async def rename_link(self, discord_user_id: int, ra_name: str) -> None:
        """RA names can change (the ULID cannot): keep the shown name current."""
        async with self.database.transaction() as conn:
            await conn.execute(
                update(links)
                .where(links.c.discord_user_id == discord_user_id)
                .values(ra_name=ra_name)
            )

    # -- who belongs to which guild ----------------------------------------------------------

    async def mark_seen(self, guild_id: int, discord_user_ids: Iterable[int]) -> None:
        """These users belong to the guild (they used the bot there, or were just confirmed)."""
        now = datetime.now(UTC)
        rows = [
            {"guild_id": guild_id, "discord_user_id": uid, "seen_at": now}
            for uid in dict.fromkeys(discord_user_ids)
        ]
        if not rows:
            return
        stmt = self.database.insert(guild_members).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id", "discord_user_id"], set_={"seen_at": stmt.excluded.seen_at}
        )
        async with self.database.transaction() as conn:
            await conn.execute(stmt)

    async def forget_members(self, guild_id: int, discord_user_ids: Iterable[int]) -> None:
        """These users have left the guild."""
        ids = list(discord_user_ids)
        if not ids:
            return
        async with self.database.transaction() as conn:
            await conn.execute(
                delete(guild_members).where(
                    guild_members.c.guild_id == guild_id,
                    guild_members.c.discord_user_id.in_(ids),
                )
            )

    async def guilds_of(self, discord_user_ids: Iterable[int]) -> dict[int, set[int]]:
        """The guilds each of these users is known in (seen or confirmed there), in one query."""
        ids = list(dict.fromkeys(discord_user_ids))
        if not ids:
            return {}
        query = select(guild_members.c.discord_user_id, guild_members.c.guild_id).where(
            guild_members.c.discord_user_id.in_(ids)
        )
        out: dict[int, set[int]] = {}
        async with self.database.transaction() as conn:
            for user_id, guild_id in await conn.execute(query):
                out.setdefault(user_id, set()).add(guild_id)
        return out

    async def linked_members(self, guild_id: int) -> list[tuple[Link, datetime]]:
        """Every linked user seen in the guild, with when they were last seen or confirmed."""
        query = (
            select(links, guild_members.c.seen_at)
            .join(guild_members, guild_members.c.discord_user_id == links.c.discord_user_id)
            .where(guild_members.c.guild_id == guild_id)
            .order_by(links.c.discord_user_id)
        )
        async with self.database.transaction() as conn:
            rows = await conn.execute(query)
            return [
                (
                    Link(row.discord_user_id, row.ra_ulid, row.ra_name, as_utc(row.linked_at)),
                    as_utc(row.seen_at),
                )
                for row in rows
            ]
