"""Alembic migrations against schema.py, on SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.models.feeds import FeedState
from bot.store import Store, StoreError
from bot.store.schema import metadata
from bot.store.upgrade import MIGRATIONS, head_revision


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision is not None
    return revision


def schema_of(connection: Connection) -> dict[str, Any]:
    """Tables -> (columns, primary key, nullable columns), as the database reports them."""
    inspector = inspect(connection)
    return {
        table: (
            [column["name"] for column in inspector.get_columns(table)],
            sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            sorted(c["name"] for c in inspector.get_columns(table) if c["nullable"]),
        )
        for table in inspector.get_table_names()
    }


def expected_schema() -> dict[str, Any]:
    return {
        name: (
            [column.name for column in table.columns],
            sorted(column.name for column in table.primary_key.columns),
            sorted(column.name for column in table.columns if column.nullable),
        )
        for name, table in metadata.tables.items()
    }


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def run(store: Store, step: Callable[[Connection], Any]) -> Any:
    async with store.database.engine.begin() as conn:
        return await conn.run_sync(step)


async def test_upgrade_creates_exactly_the_schema(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        found = await run(store, schema_of)
        assert set(found) == {*metadata.tables, "alembic_version"}
        del found["alembic_version"]
        assert found == expected_schema()
        assert await run(store, current_revision) == head()
        # Nothing autogenerate would still want to add, drop or change (types included).
        diff = await run(store, lambda c: compare_metadata(MigrationContext.configure(c), metadata))
        assert diff == []
    finally:
        await store.close()


async def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.links.set_link(1, "01H00000000000000000000001", "Alice")
        await run(store, lambda c: command.downgrade(alembic_config(c), "base"))
        assert set(await run(store, schema_of)) <= {"alembic_version"}
        assert await run(store, current_revision) is None

        await run(store, lambda c: command.upgrade(alembic_config(c), "head"))
        assert await run(store, current_revision) == head()
        found = await run(store, schema_of)
        del found["alembic_version"]
        assert found == expected_schema()
        assert await store.links.get_link(1) is None  # a fresh schema, usable at once
        await store.links.set_link(1, "01H00000000000000000000002", "Alice")
    finally:
        await store.close()


async def test_alembic_version_is_at_head_after_open(database_url: str) -> None:
    for _ in range(2):  # a new database, then the same one again
        store = await Store.open(database_url)
        try:
            assert await run(store, current_revision) == head()
        finally:
            await store.close()


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_restart_on_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic costs ~9 MiB resident: a restart that has nothing to migrate never imports it."""
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    script = (
        "import asyncio, sys\n"
        "from bot.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({url!r})\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    runs = [
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]


async def test_the_bot_refuses_a_database_behind_its_schema_and_names_the_command(
    database_url: str,
) -> None:
    """The bot opens its store without migrating: a database that `python -m bot migrate` has
    not brought to the schema stops it with one sentence, and nothing is created."""
    with pytest.raises(StoreError) as raised:
        await Store.open(database_url, migrate=False)
    assert raised.value.message == (
        f"DATABASE_URL: the database's schema is empty, this bot needs {head_revision()}: "
        "run `python -m bot migrate`"
    )
    migrated = await Store.open(database_url)  # what `python -m bot migrate` does
    await migrated.close()
    store = await Store.open(database_url, migrate=False)
    try:
        assert await store.links.get_link(1) is None  # the schema is there and usable
    finally:
        await store.close()


FEED_TABLES = {"feeds", "feed_optouts", "feed_state", "feed_posts"}
MAX = datetime(2100, 1, 1, tzinfo=UTC)


async def test_the_feed_tables_go_down_to_0004_and_come_back(database_url: str) -> None:
    """0005 adds the feed tables (and the poller's state row) and takes only them away."""
    store = await Store.open(database_url)
    try:
        await store.links.set_link(1, "01H00000000000000000000001", "Alice")
        await store.feeds.set_announce(1, False, datetime(2025, 3, 1, tzinfo=UTC))
        assert await store.feeds.claim_lease("a", datetime(2025, 3, 1, tzinfo=UTC), MAX) is True
        await run(store, lambda c: command.downgrade(alembic_config(c), "0004"))
        assert await run(store, current_revision) == "0004"
        found = set(await run(store, schema_of))
        assert found == {*metadata.tables, "alembic_version"} - FEED_TABLES
        assert await store.links.get_link(1) is not None  # the tables before 0005 are kept

        await run(store, lambda c: command.upgrade(alembic_config(c), "head"))
        found = await run(store, schema_of)
        del found["alembic_version"]
        assert found == expected_schema()
        assert await store.feeds.announces(1) is True  # fresh tables
        assert await store.feeds.state() == FeedState(None, frozenset(), None, None, None, None)
        assert await store.feeds.claim_lease("b", datetime(2025, 3, 1, tzinfo=UTC), MAX) is True
    finally:
        await store.close()
