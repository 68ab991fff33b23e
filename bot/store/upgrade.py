"""Bring a database to the newest schema (Alembic migrations in bot/store/migrations/).

`python -m bot migrate` runs `upgrade`; the bot itself only reads the schema's revision
(`current_revision`, no Alembic) and, when it is behind, has that command run in a child process,
so Alembic's memory (about 12 MB that would stay imported) never loads into the bot.
One process migrates at a time: a lock file beside a SQLite database, an advisory lock on
PostgreSQL. Alembic is loaded only when there is something to do.
"""

from __future__ import annotations

import asyncio
import fcntl
import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.store.database import Database, StoreError, reason

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x52414274  # "RABt": one migrating process at a time


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


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return str(current) if current is not None else None


def _upgrade(connection: Connection) -> None:
    """Migrate to the head revision. Alembic (and its memory) is loaded only when there is
    something to do: a restart against an up-to-date database never imports it."""
    if _revision(connection) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(database: Database) -> None:
    """Migrate to the head revision; StoreError naming DATABASE_URL if the database cannot be
    used."""
    try:
        if database.sqlite_path is not None:
            # Two processes on one SQLite file: take turns (a lock file beside it).
            path = database.sqlite_path
            lock_path = path.with_name(path.name + ".migrate-lock")
            with lock_path.open("a") as lock:
                await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
                try:
                    async with database.locking_engine.begin() as conn:
                        await conn.run_sync(_upgrade)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        else:
            async with database.engine.begin() as conn:
                if database.dialect == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                await conn.run_sync(_upgrade)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StoreError(f"DATABASE_URL: the database cannot be used ({reason(exc)})") from None


async def current_revision(database: Database) -> str | None:
    """The schema's revision (None: an empty database), read without Alembic; StoreError
    naming DATABASE_URL if the database cannot be used."""
    try:
        async with database.engine.connect() as conn:
            return await conn.run_sync(_revision)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StoreError(f"DATABASE_URL: the database cannot be used ({reason(exc)})") from None


async def check_current(database: Database) -> None:
    """StoreError unless the schema is the one this code knows (the bot does not migrate in its
    own process: `python -m bot` runs `python -m bot migrate` first when it is behind)."""
    current, head = await current_revision(database), head_revision()
    if current != head:
        raise StoreError(
            f"DATABASE_URL: the database's schema is {current or 'empty'}, this bot needs "
            f"{head}: run `python -m bot migrate`"
        )
