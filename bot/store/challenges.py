"""Challenges, and the claims that make each of their posts happen once.

The claims work exactly as a schedule's (bot/store/schedules.py): a post is claimed by inserting
(challenge_id, period) before anything is sent, the primary key lets one process win, and a claim
still "sending" after the lease (its process died mid-send) may be taken over. The final post's
period is the challenge's end, so it too is made once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.models.challenges import Challenge
from bot.models.schedule_times import Cadence
from bot.store.database import Database, StoreError, as_utc
from bot.store.post_claims import POSTED, SENDING, PostClaims
from bot.store.schedules import Shards, on_shards
from bot.store.schema import challenge_posts, challenge_snapshots, challenges

__all__ = ["POSTED", "SENDING", "Challenge", "ChallengeExists", "ChallengeStore"]


class ChallengeExists(StoreError):
    """A challenge by that name exists already in the guild."""


def _opt(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _challenge(row: Any) -> Challenge:
    return Challenge(
        id=row.id,
        guild_id=row.guild_id,
        name=row.name,
        game_ids=[int(part) for part in row.game_ids.split(",") if part],
        set_name=row.set_name,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        channel_id=row.channel_id,
        cadence=Cadence(row.cadence) if row.cadence else None,
        next_run=_opt(row.next_run),
        run_at=_opt(row.run_at),
        paused_reason=row.paused_reason,
        last_result=row.last_result,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


class ChallengeStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.claims = PostClaims(database, challenge_posts, "challenge_id")

    async def create(
        self,
        *,
        guild_id: int,
        name: str,
        game_ids: Sequence[int],
        set_name: str | None,
        starts_at: datetime,
        ends_at: datetime,
        channel_id: int | None,
        cadence: Cadence | None,
        next_run: datetime | None,
        created_by: int,
    ) -> Challenge:
        """A new challenge; ChallengeExists if the guild has one by that name (any case)."""
        values = {
            "guild_id": guild_id,
            "name_key": name.casefold(),
            "name": name,
            "game_ids": ",".join(map(str, game_ids)),
            "set_name": set_name,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "channel_id": channel_id,
            "cadence": cadence.value if cadence else None,
            "next_run": next_run,
            "run_at": next_run,
            "paused_reason": None,
            "last_result": None,
            "created_by": created_by,
            "created_at": datetime.now(UTC),
        }
        try:
            async with self.database.transaction() as conn:
                result = await conn.execute(
                    challenges.insert().values(**values).returning(challenges.c.id)
                )
                challenge_id = result.scalar_one()
        except IntegrityError:
            raise ChallengeExists(f"challenge {name!r} exists") from None
        created = await self.get(challenge_id)
        assert created is not None
        return created

    async def get(self, challenge_id: int) -> Challenge | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(challenges).where(challenges.c.id == challenge_id))
            ).first()
        return _challenge(row) if row is not None else None

    async def named(self, guild_id: int, name: str) -> Challenge | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(challenges).where(
                        challenges.c.guild_id == guild_id,
                        challenges.c.name_key == name.casefold(),
                    )
                )
            ).first()
        return _challenge(row) if row is not None else None

    async def for_guild(self, guild_id: int) -> list[Challenge]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(challenges)
                .where(challenges.c.guild_id == guild_id)
                .order_by(challenges.c.starts_at, challenges.c.id)
            )
            return [_challenge(row) for row in rows]

    async def count_for_guild(self, guild_id: int) -> int:
        async with self.database.transaction() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).where(challenges.c.guild_id == guild_id)
                    )
                ).scalar_one()
            )

    async def delete(self, guild_id: int, name: str) -> Challenge | None:
        """Remove one of this guild's challenges with its posts' claims and snapshot."""
        found = await self.named(guild_id, name)
        if found is None:
            return None
        async with self.database.transaction() as conn:
            result = await conn.execute(delete(challenges).where(challenges.c.id == found.id))
        return found if result.rowcount else None

    async def due(
        self, now: datetime, limit: int = 50, shards: Shards | None = None
    ) -> list[Challenge]:
        """Challenges with a post to make whose time has come, earliest first (of `shards`'
        guilds; None: every guild)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(challenges)
                .where(
                    challenges.c.paused_reason.is_(None),
                    challenges.c.run_at.is_not(None),
                    challenges.c.run_at <= now,
                    on_shards(shards, challenges.c.guild_id),
                )
                .order_by(challenges.c.run_at, challenges.c.id)
                .limit(limit)
            )
            return [_challenge(row) for row in rows]

    async def next_run_at(self, shards: Shards | None = None) -> datetime | None:
        """When the earliest post (of `shards`' guilds) is to be made."""
        async with self.database.transaction() as conn:
            value = (
                await conn.execute(
                    select(func.min(challenges.c.run_at)).where(
                        challenges.c.paused_reason.is_(None),
                        on_shards(shards, challenges.c.guild_id),
                    )
                )
            ).scalar_one()
        return as_utc(value) if value is not None else None

    # -- one period's post (as ScheduleStore's) -------------------------------------------------

    async def claim(
        self, challenge_id: int, period: datetime, owner: str, now: datetime, lease: timedelta
    ) -> str | None:
        """Claim the period's post: "new", "takeover" (a stale claim) or None (PostClaims)."""
        return await self.claims.claim(challenge_id, period, owner, now, lease)

    async def post_status(self, challenge_id: int, period: datetime) -> str | None:
        return await self.claims.status(challenge_id, period)
    async def posts(self, challenge_id: int) -> list[tuple[datetime, str]]:
        """(period, status) of every claimed post, oldest first."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(challenge_posts.c.period, challenge_posts.c.status)
                .where(challenge_posts.c.challenge_id == challenge_id)
                .order_by(challenge_posts.c.period)
            )
            return [(as_utc(row.period), row.status) for row in rows]

    async def release(self, challenge_id: int, period: datetime, owner: str) -> None:
        """Give a claim back (nothing was sent): the period may be tried again."""
        await self.claims.release(challenge_id, period, owner)
    async def posted(
        self,
        challenge_id: int,
        period: datetime,
        message_id: int,
        *,
        next_run: datetime | None,
        result: str,
        run_at: datetime | None,
        snapshot: dict[str, Any] | None,
    ) -> None:
        """Record the post, move to the next one and keep the snapshot, in one transaction."""
        async with self.database.transaction() as conn:
            await conn.execute(
                update(challenge_posts)
                .where(
                    challenge_posts.c.challenge_id == challenge_id,
                    challenge_posts.c.period == period,
                )
                .values(status=POSTED, message_id=message_id)
            )
            await conn.execute(
                update(challenges)
                .where(challenges.c.id == challenge_id)
                .values(next_run=next_run, run_at=run_at, last_result=result)
            )
            if snapshot is not None:
                row = {"period": period, "data": json.dumps(snapshot, separators=(",", ":"))}
                stmt = self.database.insert(challenge_snapshots).values(
                    challenge_id=challenge_id, **row
                )
                await conn.execute(
                    stmt.on_conflict_do_update(index_elements=["challenge_id"], set_=row)
                )

    async def reschedule(
        self,
        challenge_id: int,
        *,
        run_at: datetime | None,
        next_run: datetime | None = None,
        result: str | None = None,
        move: bool = False,
    ) -> None:
        """Try again at `run_at`; with `move`, the next post is `next_run` (None: no more)."""
        values: dict[str, Any] = {"run_at": run_at}
        if move:
            values["next_run"] = next_run
        if result is not None:
            values["last_result"] = result
        async with self.database.transaction() as conn:
            await conn.execute(
                update(challenges).where(challenges.c.id == challenge_id).values(**values)
            )

    async def pause(self, challenge_id: int, reason: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(challenges)
                .where(challenges.c.id == challenge_id)
                .values(paused_reason=reason, last_result=f"paused: {reason}")
            )

    async def snapshot(self, challenge_id: int) -> dict[str, Any] | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(challenge_snapshots.c.data).where(
                        challenge_snapshots.c.challenge_id == challenge_id
                    )
                )
            ).first()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row.data)
        return data
