"""Store fixtures: an empty database per test, on SQLite (a temp file) and on PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test): the
session creates a database of its own there (dropped at the end) and every test starts with its
`public` schema dropped and re-created, so no table, migration or alembic_version row leaks from
one test to the next. Policy: with CI=true a missing server is a failure; otherwise,
when nothing answers there, the PostgreSQL half of the suite is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from bot.store import Store

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT = 2.0
BACKENDS = ["sqlite", "postgresql"]
T = TypeVar("T")


def pg_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG_URL


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous, session-scoped code (its own thread and
    loop, so the tests' event loops are left alone)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _probe(url: str) -> str | None:
    """None when PostgreSQL answers at `url`; otherwise why nothing does."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:  # nothing listening, or unreachable
        return f"nothing answers at {_shown(url)} ({type(exc).__name__}: {exc})"
    except Exception as exc:
        refusal = f"{type(exc).__name__}: {exc}"
    else:
        await conn.close()
        return None
    # Something listens but refuses us: a misconfiguration, never a silent skip.
    pytest.fail(
        f"PostgreSQL at {_shown(url)} refused the test connection ({refusal});"
        " fix it or set TEST_POSTGRES_URL",
        pytrace=False,
    )


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A database of our own for this session (the URL); skipped or failed per the policy.

    Created once and dropped at the end; `pg_database` empties it before every test, which is
    much faster than a CREATE DATABASE per test.
    """
    admin_url = pg_admin_url()
    problem = _run(_probe(admin_url))
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs PostgreSQL: {problem}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {problem}; set TEST_POSTGRES_URL (CI=true fails)")
    name = f"test_store_{secrets.token_hex(6)}"
    _run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture
async def pg_database(pg_server: str) -> str:
    """The session's PostgreSQL database, emptied: no tables, no alembic_version, no sessions."""
    conn = await asyncpg.connect(pg_server, timeout=CONNECT_TIMEOUT)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return pg_server


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    """A SQLite URL for a file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, as DATABASE_URL would name it: on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_database"))
    return str(request.getfixturevalue("pg_database"))


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A freshly migrated Store on each backend."""
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture
async def second_store(database_url: str, store: Store) -> AsyncIterator[Store]:
    """Another engine on the same database: what a second bot process (or a restart) sees."""
    other = await Store.open(database_url)
    try:
        yield other
    finally:
        await other.close()
