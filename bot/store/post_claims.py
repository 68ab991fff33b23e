"""The claim that makes one period's post happen once: scheduled boards and challenges alike.

A post is claimed by inserting (owner id, period) before anything is sent; the primary key lets
one process win. A claim still "sending" after `lease` (its process died mid-send) may be taken
over; the message nonce and a look at the channel keep the retry from doubling the post.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, and_, delete, select, update

from bot.store.database import Database

SENDING = "sending"
POSTED = "posted"


class PostClaims:
    """Claims in `table`, whose post owner (a schedule, a challenge) is the column `key`."""

    def __init__(self, database: Database, table: Table, key: str) -> None:
        self.database = database
        self.table = table
        self.key = table.c[key]

    def _post(self, owner_id: int, period: datetime) -> ColumnElement[bool]:
        return and_(self.key == owner_id, self.table.c.period == period)

    async def claim(
        self, owner_id: int, period: datetime, owner: str, now: datetime, lease: timedelta
    ) -> str | None:
        """Claim the period's post. Returns "new", "takeover" (a stale claim of a process that
        died mid-send: the post may exist already), or None (posted, or being posted)."""
        stmt = self.database.insert(self.table).values(
            {
                self.key.name: owner_id,
                "period": period,
                "status": SENDING,
                "claimed_by": owner,
                "claimed_at": now,
                "message_id": None,
            }
        )
        async with self.database.transaction() as conn:
            result = await conn.execute(stmt.on_conflict_do_nothing())
            if result.rowcount:
                return "new"
            taken = await conn.execute(
                update(self.table)
                .where(
                    self._post(owner_id, period),
                    self.table.c.status == SENDING,
                    self.table.c.claimed_at < now - lease,
                )
                .values(claimed_by=owner, claimed_at=now)
            )
            return "takeover" if taken.rowcount else None

    async def status(self, owner_id: int, period: datetime) -> str | None:
        async with self.database.transaction() as conn:
            return (
                await conn.execute(
                    select(self.table.c.status).where(self._post(owner_id, period))
                )
            ).scalar_one_or_none()

    async def release(self, owner_id: int, period: datetime, owner: str) -> None:
        """Give a claim back (nothing was sent): the period may be tried again."""
        async with self.database.transaction() as conn:
            await conn.execute(
                delete(self.table).where(
                    self._post(owner_id, period),
                    self.table.c.status == SENDING,
                    self.table.c.claimed_by == owner,
                )
            )
