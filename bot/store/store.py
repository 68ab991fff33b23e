"""The Store: the database, on SQLite or PostgreSQL alike, and the links, members and settings
in it (game sets, schedules, challenges and the catalogue each have a file of their own here).

SQLAlchemy Core over aiosqlite/asyncpg, so one code path serves both; Alembic migrations run at
start-up (serialised across processes). SQLite runs in WAL mode with synchronous=FULL, and every
write is a transaction committed before the caller answers the user, so a `kill -9` loses
nothing that was acknowledged.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import logging
import os
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, inspect, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.schema import guild_members, guild_settings, links

if TYPE_CHECKING:
    from bot.store.game_sets import GameSetStore

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT = 10.0  # seconds, PostgreSQL
PING_TIMEOUT = 1.5  # seconds: /status must answer within Discord's 3
_PG_MIGRATION_LOCK = 0x52414274  # "RABt": one migrating process at a time
_WRITE_LOCK = "ra_bot_write_lock"  # execution option: on SQLite, BEGIN IMMEDIATE


BUSY = "The bot's storage is busy right now: try again in a minute."
NOT_ANSWERING = "The bot's storage is not answering right now: try again in a minute."
CANNOT_WRITE = "The bot's storage cannot be used right now: try again later."


class StoreError(Exception):
    """The store cannot do what was asked; `message` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreUnavailable(StoreError):
    """The database is locked, read-only or unreachable right now."""


@dataclass(frozen=True)
class Link:
    discord_user_id: int
    ra_ulid: str
    ra_name: str
    linked_at: datetime


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def async_url(database_url: str) -> str:
    """DATABASE_URL as the operator writes it, with the async driver SQLAlchemy needs."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return str(url.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise StoreError(f"DATABASE_URL: {backend} is not supported (use sqlite or postgresql)")


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file's directory; refuse a read-only file or directory with a clear message."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"DATABASE_URL: cannot create the directory {path.parent} ({exc.strerror})"
        ) from None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"DATABASE_URL: the database file {path} is not writable")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(f"DATABASE_URL: the directory {path.parent} is not writable")


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # The driver's own (legacy) transaction control never BEGINs before a SELECT or DDL, so a
    # read-then-write was two transactions and a migration was not atomic: SQLAlchemy emits
    # BEGIN itself instead (_sqlite_begin), as its SQLite documentation recommends.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE (the write lock up front) for a read-then-write transaction."""
    immediate = conn.get_execution_options().get(_WRITE_LOCK, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def head_revision() -> str:
    """The newest migration's id, read from the scripts' text: no need to import Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = re.search(r'^revision = "(\w+)"', source, re.MULTILINE)
        parent = re.search(r'^down_revision = "(\w+)"', source, re.MULTILINE)
        if revision:
            revisions.add(revision.group(1))
        if parent:
            parents.add(parent.group(1))
    (head,) = revisions - parents
    return head


def _upgrade(connection: Connection) -> None:
    """Migrate to the head revision. Alembic (and its memory) is loaded only when there is
    something to do: a restart against an up-to-date database never imports it."""
    if inspect(connection).has_table("alembic_version"):
        current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if current == head_revision():
            return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Transactions that read, then write what they read: the write lock comes first.
        self._locking_engine = engine.execution_options(**{_WRITE_LOCK: True})
        # Since when the database has not been usable (None: it answers), and why.
        self.down_since: datetime | None = None
        self.problem = ""

    def __repr__(self) -> str:
        return f"<Store {self.dialect}>"

    @functools.cached_property
    def sets(self) -> GameSetStore:
        """The guilds' game sets (bot/store/game_sets.py), as the other tables have a file each."""
        from bot.store.game_sets import GameSetStore  # it imports this module

        return GameSetStore(self)

    @classmethod
    async def open(cls, database_url: str, *, busy_timeout: float = 5.0) -> Store:
        """Connect and migrate to the newest schema; StoreError with a clear message if not.

        `busy_timeout` (SQLite): how many seconds a write waits for another connection's lock
        before StoreUnavailable.
        """
        url = async_url(database_url)
        path = _sqlite_path(url) if url.startswith("sqlite") else None
        if path is not None:
            _prepare_sqlite_file(path)
        if url.startswith("sqlite"):
            engine = create_async_engine(url)
        else:
            # A server that never answers must not hang start-up for asyncpg's default minute.
            engine = create_async_engine(
                url, pool_pre_ping=True, connect_args={"timeout": CONNECT_TIMEOUT}
            )
        if engine.dialect.name == "sqlite":
            pragmas = functools.partial(_sqlite_pragmas, round(busy_timeout * 1000))
            event.listen(engine.sync_engine, "connect", pragmas)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        store = cls(engine)
        try:
            await store._migrate(path)
        except BaseException:
            await engine.dispose()
            raise
        return store

    async def _migrate(self, sqlite_path: Path | None) -> None:
        try:
            if sqlite_path is not None:
                # Two processes on one SQLite file: take turns (a lock file beside it).
                lock_path = sqlite_path.with_name(sqlite_path.name + ".migrate-lock")
                with lock_path.open("a") as lock:
                    await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
                    try:
                        async with self._locking_engine.begin() as conn:
                            await conn.run_sync(_upgrade)
                    finally:
                        fcntl.flock(lock, fcntl.LOCK_UN)
            else:
                async with self.engine.begin() as conn:
                    if self.dialect == "postgresql":
                        await conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                        )
                    await conn.run_sync(_upgrade)
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StoreError(
                f"DATABASE_URL: the database cannot be used ({_reason(exc)})"
            ) from None

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, *, write_lock: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction; a locked, full, read-only or unreachable database becomes
        StoreUnavailable with one sentence for the caller (and a log line for the operator).

        `write_lock`: the transaction reads rows and then writes them (take the lock first).
        """
        engine = self._locking_engine if write_lock else self.engine
        try:
            async with engine.begin() as conn:
                yield conn
        except (OperationalError, OSError) as exc:
            raise self._unavailable(exc) from None
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise self._unavailable(exc) from None
            raise
        if self.down_since is not None:
            log.warning("store: the database answers again")
            self.down_since = None

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        reason = _reason(exc)
        lowered = reason.lower()
        if "locked" in lowered or "busy" in lowered:
            log.warning("store busy: %s", reason)
            return StoreUnavailable(BUSY)
        if self.down_since is None:
            self.down_since = datetime.now(UTC)
        self.problem = reason
        file_problems = ("readonly", "read-only", "full", "disk i/o", "unable to open")
        if any(word in lowered for word in file_problems):
            log.error("store cannot use its file (free disk space, fix permissions): %s", reason)
            return StoreUnavailable(CANNOT_WRITE)
        log.warning("store unavailable: %s", reason)
        return StoreUnavailable(NOT_ANSWERING)

    async def ping(self) -> bool:
        """Whether the database answers a trivial query within PING_TIMEOUT (for /status);
        never raises."""
        try:
            async with asyncio.timeout(PING_TIMEOUT), self.transaction() as conn:
                await conn.execute(text("SELECT 1"))
        except (StoreError, TimeoutError):
            return False
        return True

    def insert(self, table: Any) -> Any:
        """INSERT with the dialect's ON CONFLICT (imported on use: each costs memory)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    # -- links -------------------------------------------------------------------------------------

    async def set_link(self, discord_user_id: int, ra_ulid: str, ra_name: str) -> Link:
        """Link (or re-link) a Discord user to an RA account."""
        now = datetime.now(UTC)
        values = {"ra_ulid": ra_ulid, "ra_name": ra_name, "linked_at": now}
        stmt = self.insert(links).values(discord_user_id=discord_user_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["discord_user_id"], set_=values)
        async with self.transaction() as conn:
            await conn.execute(stmt)
        return Link(discord_user_id, ra_ulid, ra_name, now)

    async def get_link(self, discord_user_id: int) -> Link | None:
        return (await self.get_links([discord_user_id])).get(discord_user_id)

    async def get_links(self, discord_user_ids: Iterable[int]) -> dict[int, Link]:
        ids = list(dict.fromkeys(discord_user_ids))
        if not ids:
            return {}
        async with self.transaction() as conn:
            rows = await conn.execute(select(links).where(links.c.discord_user_id.in_(ids)))
            return {
                row.discord_user_id: Link(
                    row.discord_user_id, row.ra_ulid, row.ra_name, as_utc(row.linked_at)
                )
                for row in rows
            }

    async def delete_link(self, discord_user_id: int) -> bool:
        async with self.transaction() as conn:
            result = await conn.execute(
                delete(links).where(links.c.discord_user_id == discord_user_id)
            )
        return bool(result.rowcount)

    async def rename_link(self, discord_user_id: int, ra_name: str) -> None:
        """RA names can change (the ULID cannot): keep the shown name current."""
        async with self.transaction() as conn:
            await conn.execute(
                update(links)
                .where(links.c.discord_user_id == discord_user_id)
                .values(ra_name=ra_name)
            )

    # -- guild membership --------------------------------------------------------------------------

    async def mark_seen(self, guild_id: int, discord_user_ids: Iterable[int]) -> None:
        """These users belong to the guild (they used the bot there, or were just confirmed)."""
        now = datetime.now(UTC)
        rows = [
            {"guild_id": guild_id, "discord_user_id": uid, "seen_at": now}
            for uid in dict.fromkeys(discord_user_ids)
        ]
        if not rows:
            return
        stmt = self.insert(guild_members).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id", "discord_user_id"], set_={"seen_at": stmt.excluded.seen_at}
        )
        async with self.transaction() as conn:
            await conn.execute(stmt)

    async def forget_members(self, guild_id: int, discord_user_ids: Iterable[int]) -> None:
        """These users have left the guild."""
        ids = list(discord_user_ids)
        if not ids:
            return
        async with self.transaction() as conn:
            await conn.execute(
                delete(guild_members).where(
                    guild_members.c.guild_id == guild_id,
                    guild_members.c.discord_user_id.in_(ids),
                )
            )

    async def linked_members(self, guild_id: int) -> list[tuple[Link, datetime]]:
        """Every linked user seen in the guild, with when they were last seen or confirmed."""
        query = (
            select(links, guild_members.c.seen_at)
            .join(guild_members, guild_members.c.discord_user_id == links.c.discord_user_id)
            .where(guild_members.c.guild_id == guild_id)
            .order_by(links.c.discord_user_id)
        )
        async with self.transaction() as conn:
            rows = await conn.execute(query)
            return [
                (
                    Link(row.discord_user_id, row.ra_ulid, row.ra_name, as_utc(row.linked_at)),
                    as_utc(row.seen_at),
                )
                for row in rows
            ]

    # -- guild settings --------------------------------------------------------------------------

    async def set_guild_rate(self, guild_id: int, per_minute: int | None) -> None:
        stmt = self.insert(guild_settings).values(guild_id=guild_id, commands_per_minute=per_minute)
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id"], set_={"commands_per_minute": per_minute}
        )
        async with self.transaction() as conn:
            await conn.execute(stmt)

    async def guild_rates(self) -> dict[int, int]:
        """Every guild's own rate (guilds on the default are left out)."""
        async with self.transaction() as conn:
            rows = await conn.execute(
                select(guild_settings).where(guild_settings.c.commands_per_minute.is_not(None))
            )
            return {row.guild_id: row.commands_per_minute for row in rows}


def _is_connection_error(exc: DBAPIError) -> bool:
    """PostgreSQL's connection failures (SQLSTATE class 08) and shutdowns and restarts (57P:
    admin or crash shutdown, "the database system is starting up")."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    return str(code).startswith(("08", "57P"))


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's first line, never the statement or params."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:200]
