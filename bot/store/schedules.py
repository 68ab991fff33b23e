"""Schedules of leaderboard posts, and the claims that make each period's post happen once.

A period's post is claimed by inserting (schedule_id, period) before anything is sent: the primary
key lets one process win. A claim still "sending" after `lease` (its process died mid-send) may
be taken over; the message nonce and a look at the channel keep the retry from doubling the post.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, delete, func, literal, select, true, update

from bot.models.schedule_times import Cadence
from bot.models.schedules import Schedule
from bot.store.database import Database, as_utc
from bot.store.post_claims import POSTED, SENDING, PostClaims
from bot.store.schema import schedule_posts, schedule_snapshots, schedules

__all__ = ["POSTED", "SENDING", "Schedule", "ScheduleStore", "Shards", "on_shards"]


# (SHARD_COUNT, the shard ids of this process): only those guilds' schedules; None: all.
Shards = tuple[int, tuple[int, ...]]


def on_shards(
    shards: Shards | None, guild_id: ColumnElement[int] = schedules.c.guild_id
) -> ColumnElement[bool]:
    """Rows (schedules, or those of `guild_id`'s table) of guilds on these shards (Discord's
    rule: (guild_id >> 22) % shard_count)."""
    if shards is None:
        return true()
    count, ids = shards
    # PostgreSQL has bigint >> integer (not bigint >> bigint): the shift is typed Integer.
    return (guild_id.op(">>")(literal(22, Integer)) % count).in_(ids)


def _schedule(row: Any) -> Schedule:
    return Schedule(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        games=row.games,
        cadence=Cadence(row.cadence),
        hour=row.hour,
        minute=row.minute,
        edit_in_place=bool(row.edit_in_place),
        message_id=row.message_id,
        next_run=as_utc(row.next_run),
        run_at=as_utc(row.run_at),
        paused_reason=row.paused_reason,
        last_result=row.last_result,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


class ScheduleStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.claims = PostClaims(database, schedule_posts, "schedule_id")

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        games: str,
        cadence: Cadence,
        hour: int,
        minute: int,
        edit_in_place: bool,
        next_run: datetime,
        run_at: datetime,
        created_by: int,
    ) -> Schedule:
        values = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "games": games,
            "cadence": cadence.value,
            "hour": hour,
            "minute": minute,
            "edit_in_place": edit_in_place,
            "message_id": None,
            "next_run": next_run,
            "run_at": run_at,
            "paused_reason": None,
            "last_result": None,
            "created_by": created_by,
            "created_at": datetime.now(UTC),
        }
        async with self.database.transaction() as conn:
            result = await conn.execute(
                schedules.insert().values(**values).returning(schedules.c.id)
            )
            schedule_id = result.scalar_one()
        created = await self.get(schedule_id)
        assert created is not None
        return created

    async def get(self, schedule_id: int) -> Schedule | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(schedules).where(schedules.c.id == schedule_id))
            ).first()
        return _schedule(row) if row is not None else None

    async def for_guild(self, guild_id: int) -> list[Schedule]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(schedules).where(schedules.c.guild_id == guild_id).order_by(schedules.c.id)
            )
            return [_schedule(row) for row in rows]

    async def count_for_guild(self, guild_id: int) -> int:
        async with self.database.transaction() as conn:
            return int(
                (
                    await conn.execute(select(func.count()).where(schedules.c.guild_id == guild_id))
                ).scalar_one()
            )

    async def delete(self, guild_id: int, schedule_id: int) -> bool:
        """Remove one of this guild's schedules (another guild's id removes nothing)."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                delete(schedules).where(
                    schedules.c.id == schedule_id, schedules.c.guild_id == guild_id
                )
            )
        return bool(result.rowcount)

    async def due(
        self, now: datetime, limit: int = 50, shards: Shards | None = None
    ) -> list[Schedule]:
        """Active schedules whose run time has come, earliest first (of `shards`' guilds)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(schedules)
                .where(
                    schedules.c.paused_reason.is_(None),
                    schedules.c.run_at <= now,
                    on_shards(shards),
                )
                .order_by(schedules.c.run_at, schedules.c.id)
                .limit(limit)
            )
            return [_schedule(row) for row in rows]

    async def active(self) -> list[Schedule]:
        """Every schedule not paused, of every guild (for the budget estimate)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(schedules)
                .where(schedules.c.paused_reason.is_(None))
                .order_by(schedules.c.id)
            )
            return [_schedule(row) for row in rows]

    async def next_run_at(self, shards: Shards | None = None) -> datetime | None:
        """When the earliest active schedule (of `shards`' guilds) is to run."""
        async with self.database.transaction() as conn:
            value = (
                await conn.execute(
                    select(func.min(schedules.c.run_at)).where(
                        schedules.c.paused_reason.is_(None), on_shards(shards)
                    )
                )
            ).scalar_one()
        return as_utc(value) if value is not None else None

    # -- one period's post ------------------------------------------------------------------------

    async def claim(
        self, schedule_id: int, period: datetime, owner: str, now: datetime, lease: timedelta
    ) -> str | None:
        """Claim the period's post: "new", "takeover" (a stale claim) or None (PostClaims)."""
        return await self.claims.claim(schedule_id, period, owner, now, lease)

    async def post_status(self, schedule_id: int, period: datetime) -> str | None:
        return await self.claims.status(schedule_id, period)
    async def release(self, schedule_id: int, period: datetime, owner: str) -> None:
        """Give a claim back (nothing was sent): the period may be tried again."""
        await self.claims.release(schedule_id, period, owner)
    async def posted(
        self,
        schedule: Schedule,
        period: datetime,
        message_id: int,
        *,
        next_run: datetime,
        run_at: datetime,
        result: str,
        snapshot: dict[str, Any] | None,
    ) -> None:
        """Record the post, move the schedule to its next period and keep the snapshot, in one
        transaction."""
        async with self.database.transaction() as conn:
            await conn.execute(
                update(schedule_posts)
                .where(
                    schedule_posts.c.schedule_id == schedule.id,
                    schedule_posts.c.period == period,
                )
                .values(status=POSTED, message_id=message_id)
            )
            values: dict[str, Any] = {
                "next_run": next_run,
                "run_at": run_at,
                "last_result": result,
            }
            if schedule.edit_in_place:
                values["message_id"] = message_id
            await conn.execute(
                update(schedules).where(schedules.c.id == schedule.id).values(**values)
            )
            if snapshot is not None:
                row = {"period": period, "data": json.dumps(snapshot, separators=(",", ":"))}
                stmt = self.database.insert(schedule_snapshots).values(
                    schedule_id=schedule.id, **row
                )
                await conn.execute(
                    stmt.on_conflict_do_update(index_elements=["schedule_id"], set_=row)
                )

    async def reschedule(
        self,
        schedule_id: int,
        *,
        run_at: datetime,
        next_run: datetime | None = None,
        result: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"run_at": run_at}
        if next_run is not None:
            values["next_run"] = next_run
        if result is not None:
            values["last_result"] = result
        async with self.database.transaction() as conn:
            await conn.execute(
                update(schedules).where(schedules.c.id == schedule_id).values(**values)
            )

    async def pause(self, schedule_id: int, reason: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id)
                .values(paused_reason=reason, last_result=f"paused: {reason}")
            )

    async def snapshot(self, schedule_id: int) -> tuple[datetime, dict[str, Any]] | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(schedule_snapshots).where(
                        schedule_snapshots.c.schedule_id == schedule_id
                    )
                )
            ).first()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row.data)
        return as_utc(row.period), data
