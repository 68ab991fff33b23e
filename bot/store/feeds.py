"""News feeds: each guild's feed, the members opted out, the poller's cursor and lease, and the
queue of announcements with their claims.

One poller (whoever holds the lease) reads the site's awards and `advance`s: in one transaction
it queues the new announcements (a (guild, award) already queued is left as it is, so a repeated
poll or a second poller never doubles one) and moves the cursor, so a crash loses neither. The
posters take their guilds' `pending` posts and `claim` them before sending; the conditional
UPDATE lets one claimant win each post. A claim still "sending" after its lease (its process
died mid-send) may be taken over; the caller then looks in the channel before sending again.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update

from bot.models.feeds import (
    EXPIRED,
    PENDING,
    POSTED,
    SENDING,
    STATUSES,
    Claimed,
    Feed,
    FeedState,
    NewPost,
    QueuedPost,
)
from bot.store.database import Database, as_utc
from bot.store.schedules import Shards, on_shards
from bot.store.schema import feed_optouts, feed_posts, feed_state, feeds

__all__ = ["FeedStore"]

STATE_ROW = 1
_INSERT_CHUNK = 500  # rows per INSERT (11 columns: far below either database's parameter cap)
_KEYS_CHUNK = 500  # keys per IN (...)


def _opt(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _feed(row: Any) -> Feed:
    return Feed(
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        masteries=bool(row.masteries),
        beaten=bool(row.beaten),
        aotw=bool(row.aotw),
        hardcore_only=bool(row.hardcore_only),
        games=row.games,
        since=as_utc(row.since),
        created_by=row.created_by,
        last_post_at=_opt(row.last_post_at),
        problem=row.problem,
        problem_at=_opt(row.problem_at),
    )


def _queued(row: Any) -> QueuedPost:
    return QueuedPost(
        guild_id=row.guild_id,
        award_key=row.award_key,
        user_id=row.user_id,
        kind=row.kind,
        at=as_utc(row.at),
        data=json.loads(row.data),
        status=row.status,
        claimed_by=row.claimed_by,
        claimed_at=_opt(row.claimed_at),
    )


def _stale(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    """Claims of a process that died mid-send: "sending" for longer than `lease`."""
    return and_(feed_posts.c.status == SENDING, feed_posts.c.claimed_at < now - lease)


def _chunks(keys: Iterable[str]) -> list[list[str]]:
    """The distinct keys, sorted (rows are locked in one order by everyone), a chunk per IN."""
    unique = sorted(set(keys))
    return [unique[start : start + _KEYS_CHUNK] for start in range(0, len(unique), _KEYS_CHUNK)]


class FeedStore:
    """Reads and writes of the feed tables (`store.feeds`)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- a guild's feed -------------------------------------------------------------------------

    async def set(
        self,
        guild_id: int,
        *,
        channel_id: int,
        masteries: bool,
        beaten: bool,
        aotw: bool,
        hardcore_only: bool,
        games: str | None,
        created_by: int,
        now: datetime,
    ) -> Feed:
        """Create or replace the guild's feed; it announces awards earned from `now` on. A
        problem shown so far is cleared (the moderators have just set it); its last post stays."""
        values: dict[str, Any] = {
            "channel_id": channel_id,
            "masteries": masteries,
            "beaten": beaten,
            "aotw": aotw,
            "hardcore_only": hardcore_only,
            "games": games,
            "since": now,
            "created_by": created_by,
            "problem": None,
            "problem_at": None,
        }
        stmt = self.database.insert(feeds).values(guild_id=guild_id, last_post_at=None, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["guild_id"], set_=values)
        async with self.database.transaction() as conn:
            await conn.execute(stmt)
            row = (await conn.execute(select(feeds).where(feeds.c.guild_id == guild_id))).one()
        return _feed(row)

    async def stop(self, guild_id: int) -> bool:
        """Remove the guild's feed and what it had not sent yet; False if it had none."""
        async with self.database.transaction() as conn:
            result = await conn.execute(delete(feeds).where(feeds.c.guild_id == guild_id))
            await conn.execute(
                delete(feed_posts).where(
                    feed_posts.c.guild_id == guild_id,
                    feed_posts.c.status.in_([PENDING, SENDING]),
                )
            )
        return bool(result.rowcount)

    async def get(self, guild_id: int) -> Feed | None:
        async with self.database.transaction() as conn:
            row = (await conn.execute(select(feeds).where(feeds.c.guild_id == guild_id))).first()
        return _feed(row) if row is not None else None

    async def all(self, shards: Shards | None = None) -> list[Feed]:
        """Every guild's feed (of `shards`' guilds; None: every guild), by guild id."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(feeds).where(on_shards(shards, feeds.c.guild_id)).order_by(feeds.c.guild_id)
            )
            return [_feed(row) for row in rows]

    async def record_post(self, guild_id: int, at: datetime) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(feeds).where(feeds.c.guild_id == guild_id).values(last_post_at=at)
            )

    async def record_problem(self, guild_id: int, problem: str | None, at: datetime) -> None:
        """The last problem posting (the channel is gone, ...); None: it posts again."""
        async with self.database.transaction() as conn:
            await conn.execute(
                update(feeds)
                .where(feeds.c.guild_id == guild_id)
                .values(problem=problem, problem_at=at if problem is not None else None)
            )

    # -- who is announced ---------------------------------------------------------------------

    async def set_announce(self, discord_user_id: int, announce: bool, now: datetime) -> None:
        """`/feed me announce:`: False hides the member's awards in every guild."""
        async with self.database.transaction() as conn:
            if announce:
                await conn.execute(
                    delete(feed_optouts).where(feed_optouts.c.discord_user_id == discord_user_id)
                )
            else:
                stmt = self.database.insert(feed_optouts).values(
                    discord_user_id=discord_user_id, since=now
                )
                await conn.execute(stmt.on_conflict_do_nothing())

    async def opted_out(self, user_ids: Iterable[int]) -> builtins.set[int]:
        """Those of `user_ids` whose awards are announced nowhere."""
        ids = list(dict.fromkeys(user_ids))
        found: builtins.set[int] = set()
        async with self.database.transaction() as conn:
            for start in range(0, len(ids), _KEYS_CHUNK):
                rows = await conn.execute(
                    select(feed_optouts.c.discord_user_id).where(
                        feed_optouts.c.discord_user_id.in_(ids[start : start + _KEYS_CHUNK])
                    )
                )
                found.update(rows.scalars())
        return found

    async def announces(self, discord_user_id: int) -> bool:
        return not await self.opted_out([discord_user_id])

    # -- the poller -----------------------------------------------------------------------------

    async def state(self) -> FeedState:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(select(feed_state).where(feed_state.c.id == STATE_ROW))
            ).first()
        if row is None:
            return FeedState(None, frozenset(), None, None, None, None)
        return FeedState(
            cursor_at=_opt(row.cursor_at),
            cursor_keys=frozenset(json.loads(row.cursor_keys)),
            aotw_key=row.aotw_key,
            polled_at=_opt(row.polled_at),
            lease_owner=row.lease_owner,
            lease_until=_opt(row.lease_until),
        )

    async def claim_lease(self, owner: str, now: datetime, until: datetime) -> bool:
        """Become (or stay) the poller until `until`: taken when free, expired or already ours.
        One conditional UPDATE: of several processes asking at once, one wins."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(feed_state)
                .where(
                    feed_state.c.id == STATE_ROW,
                    or_(
                        feed_state.c.lease_owner.is_(None),
                        feed_state.c.lease_until.is_(None),
                        feed_state.c.lease_until < now,
                        feed_state.c.lease_owner == owner,
                    ),
                )
                .values(lease_owner=owner, lease_until=until)
            )
        return bool(result.rowcount)

    async def release_lease(self, owner: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(feed_state)
                .where(feed_state.c.id == STATE_ROW, feed_state.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def advance(
        self,
        *,
        cursor_at: datetime | None,
        cursor_keys: Collection[str] = (),
        posts: Sequence[NewPost] = (),
        aotw_key: str | None = None,
        now: datetime,
    ) -> int:
        """Queue `posts` as pending and move the cursor, in one transaction; the number of
        posts newly queued (one already there is left as it is).

        `cursor_at` None leaves the cursor as it is (an AOTW-only step); the cursor never moves
        back (a poller that lost its lease cannot undo a newer one's progress), and at the same
        time the keys seen by both are kept. `aotw_key` None leaves it as it is.
        """
        rows = {
            (post.guild_id, post.award_key): {
                "guild_id": post.guild_id,
                "award_key": post.award_key,
                "user_id": post.user_id,
                "kind": post.kind,
                "at": post.at,
                "data": _json(post.data),
                "status": PENDING,
                "claimed_by": None,
                "claimed_at": None,
                "message_id": None,
                "created_at": now,
            }
            for post in posts
        }
        values: dict[str, Any] = {"polled_at": now}
        if aotw_key is not None:
            values["aotw_key"] = aotw_key
        async with self.database.transaction(write_lock=True) as conn:
            if cursor_at is not None:
                current = (
                    await conn.execute(
                        select(feed_state.c.cursor_at, feed_state.c.cursor_keys)
                        .where(feed_state.c.id == STATE_ROW)
                        .with_for_update()
                    )
                ).one()
                seen_at = _opt(current.cursor_at)
                if seen_at is None or seen_at < cursor_at:
                    values["cursor_at"] = cursor_at
                    values["cursor_keys"] = _json(sorted(set(cursor_keys)))
                elif seen_at == cursor_at:
                    keys = set(json.loads(current.cursor_keys)) | set(cursor_keys)
                    values["cursor_keys"] = _json(sorted(keys))
            await conn.execute(
                update(feed_state).where(feed_state.c.id == STATE_ROW).values(**values)
            )
            queued = 0
            batch = list(rows.values())
            for start in range(0, len(batch), _INSERT_CHUNK):
                stmt = self.database.insert(feed_posts).values(batch[start : start + _INSERT_CHUNK])
                result = await conn.execute(stmt.on_conflict_do_nothing())
                queued += max(result.rowcount, 0)
        return queued

    # -- the posts ------------------------------------------------------------------------------

    async def pending(
        self,
        now: datetime,
        lease: timedelta,
        *,
        shards: Shards | None = None,
        limit: int = 500,
    ) -> list[QueuedPost]:
        """Posts to send, oldest award first: pending ones, and those "sending" for longer than
        `lease` (their process died), of guilds that have a feed (of `shards`' guilds)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(feed_posts)
                .join(feeds, feeds.c.guild_id == feed_posts.c.guild_id)
                .where(
                    or_(feed_posts.c.status == PENDING, _stale(now, lease)),
                    on_shards(shards, feed_posts.c.guild_id),
                )
                .order_by(feed_posts.c.at, feed_posts.c.guild_id, feed_posts.c.award_key)
                .limit(limit)
            )
            return [_queued(row) for row in rows]

    async def claim(
        self,
        guild_id: int,
        award_keys: Iterable[str],
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> Claimed:
        """Claim these posts of the guild before sending them: the pending ones, and the stale
        "sending" ones of a process that died (`taken_over`: they may be in the channel
        already). A key posted, expired, or being sent by a live claim is not returned."""
        new: list[str] = []
        taken_over: list[str] = []
        claimed = {"status": SENDING, "claimed_by": owner, "claimed_at": now}
        async with self.database.transaction(write_lock=True) as conn:
            for chunk in _chunks(award_keys):
                mine = and_(feed_posts.c.guild_id == guild_id, feed_posts.c.award_key.in_(chunk))
                # PostgreSQL: lock the rows in key order first, so claimants asking for the same
                # keys in another order wait for one another instead of deadlocking.
                await conn.execute(
                    select(feed_posts.c.award_key)
                    .where(mine)
                    .order_by(feed_posts.c.award_key)
                    .with_for_update()
                )
                result = await conn.execute(
                    update(feed_posts)
                    .where(mine, _stale(now, lease))
                    .values(**claimed)
                    .returning(feed_posts.c.award_key)
                )
                taken_over.extend(result.scalars())
                result = await conn.execute(
                    update(feed_posts)
                    .where(mine, feed_posts.c.status == PENDING)
                    .values(**claimed)
                    .returning(feed_posts.c.award_key)
                )
                new.extend(result.scalars())
        return Claimed(new=sorted(new), taken_over=sorted(taken_over))

    async def posted(
        self, guild_id: int, award_keys: Iterable[str], message_id: int, now: datetime
    ) -> None:
        """These posts went out in message `message_id` (several: one summary message), and
        the feed's last post is now, in one transaction."""
        async with self.database.transaction() as conn:
            for chunk in _chunks(award_keys):
                await conn.execute(
                    update(feed_posts)
                    .where(feed_posts.c.guild_id == guild_id, feed_posts.c.award_key.in_(chunk))
                    .values(status=POSTED, message_id=message_id)
                )
            await conn.execute(
                update(feeds).where(feeds.c.guild_id == guild_id).values(last_post_at=now)
            )

    async def release(self, guild_id: int, award_keys: Iterable[str], owner: str) -> None:
        """Give claims back (nothing was sent): the posts are pending again."""
        async with self.database.transaction() as conn:
            for chunk in _chunks(award_keys):
                await conn.execute(
                    update(feed_posts)
                    .where(
                        feed_posts.c.guild_id == guild_id,
                        feed_posts.c.award_key.in_(chunk),
                        feed_posts.c.status == SENDING,
                        feed_posts.c.claimed_by == owner,
                    )
                    .values(status=PENDING, claimed_by=None, claimed_at=None)
                )

    async def expire_older_than(self, cutoff: datetime) -> int:
        """Pending awards earned before `cutoff` (FEED_CATCHUP_HOURS ago) are never sent, nor
        are claims left "sending" since before it; how many expired."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(feed_posts)
                .where(
                    or_(
                        and_(feed_posts.c.status == PENDING, feed_posts.c.at < cutoff),
                        and_(feed_posts.c.status == SENDING, feed_posts.c.claimed_at < cutoff),
                    )
                )
                .values(status=EXPIRED)
            )
        return int(result.rowcount)

    async def prune(self, before: datetime) -> int:
        """Delete the posted and expired rows queued before `before`; how many."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                delete(feed_posts).where(
                    feed_posts.c.status.in_([POSTED, EXPIRED]), feed_posts.c.created_at < before
                )
            )
        return int(result.rowcount)

    async def count(self, guild_id: int | None = None) -> dict[str, int]:
        """Posts by status (every status, 0 when none), of one guild or all."""
        query = select(feed_posts.c.status, func.count()).group_by(feed_posts.c.status)
        if guild_id is not None:
            query = query.where(feed_posts.c.guild_id == guild_id)
        counts = dict.fromkeys(STATUSES, 0)
        async with self.database.transaction() as conn:
            for status, number in await conn.execute(query):
                counts[status] = int(number)
        return counts
