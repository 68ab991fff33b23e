"""The database: one async code path for SQLite and PostgreSQL (SQLAlchemy Core over
aiosqlite/asyncpg), its transactions, and how its failures read.

SQLite runs in WAL mode with synchronous=FULL, and every write is a transaction committed before
the caller answers the user, so a `kill -9` loses nothing that was acknowledged. A locked, full,
read-only or unreachable database becomes StoreUnavailable with one sentence for the caller.
The tables' reads and writes live in a file each beside this one; `bot/store/upgrade.py` brings
the schema to the newest migration.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds, PostgreSQL
PING_TIMEOUT = 1.5  # seconds: /status must answer within Discord's 3
WRITE_LOCK = "ra_bot_write_lock"  # execution option: on SQLite, BEGIN IMMEDIATE


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
    immediate = conn.get_execution_options().get(WRITE_LOCK, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")



class Database:
    """The engine and its transactions; `down_since`/`problem` say since when and why the
    database has not been usable (None: it answers)."""

    def __init__(self, engine: AsyncEngine, sqlite_path: Path | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sqlite_path = sqlite_path
        # Transactions that read, then write what they read: the write lock comes first.
        self.locking_engine = engine.execution_options(**{WRITE_LOCK: True})
        self.down_since: datetime | None = None
        self.problem = ""

    def __repr__(self) -> str:
        return f"<Database {self.dialect}>"

    @classmethod
    def connect(cls, database_url: str, *, busy_timeout: float = 5.0) -> Database:
        """An engine for DATABASE_URL (nothing is sent yet); StoreError with a clear message
        for a URL that cannot be used.

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
        return cls(engine, path)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, *, write_lock: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction; a locked, full, read-only or unreachable database becomes
        StoreUnavailable with one sentence for the caller (and a log line for the operator).

        `write_lock`: the transaction reads rows and then writes them (take the lock first).
        """
        engine = self.locking_engine if write_lock else self.engine
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
        problem = reason(exc)
        lowered = problem.lower()
        if "locked" in lowered or "busy" in lowered:
            log.warning("store busy: %s", problem)
            return StoreUnavailable(BUSY)
        if self.down_since is None:
            self.down_since = datetime.now(UTC)
        self.problem = problem
        file_problems = ("readonly", "read-only", "full", "disk i/o", "unable to open")
        if any(word in lowered for word in file_problems):
            log.error("store cannot use its file (free disk space, fix permissions): %s", problem)
            return StoreUnavailable(CANNOT_WRITE)
        log.warning("store unavailable: %s", problem)
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


def _is_connection_error(exc: DBAPIError) -> bool:
    """PostgreSQL's connection failures (SQLSTATE class 08) and shutdowns and restarts (57P:
    admin or crash shutdown, "the database system is starting up")."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    return str(code).startswith(("08", "57P"))


def reason(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's first line, never the statement or params."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:200]
