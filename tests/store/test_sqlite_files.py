"""SQLite on disk: missing directories, read-only files, locks, PRAGMAs and `kill -9` durability."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store import Store, StoreError, StoreUnavailable
from bot.store import database as database_module

ROOT = Path(__file__).resolve().parents[2]
BUSY = "The bot's storage is busy right now: try again in a minute."
USER = 900000000000000001


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True)  # noqa: S603


def url(path: Path) -> str:
    return f"sqlite:///{path}"


async def make_database(path: Path) -> None:
    store = await Store.open(url(path))
    await store.links.set_link(USER, "01H00000000000000000000001", "Alice")
    await store.close()


def assert_clear_error(exc: StoreError, *words: str) -> None:
    """One line for the operator, naming DATABASE_URL; no chained traceback behind it."""
    assert exc.message.startswith("DATABASE_URL: "), exc.message
    assert "\n" not in exc.message
    for word in words:
        assert word in exc.message, exc.message
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


# -- directories and permissions -------------------------------------------------------------------


async def test_missing_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "bot.sqlite3"
    store = await Store.open(url(path))
    try:
        await store.links.set_link(USER, "01H00000000000000000000001", "Alice")
    finally:
        await store.close()
    assert path.is_file()


async def test_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError) as info:
        await Store.open(url(tmp_path / "file" / "bot.sqlite3"))
    assert_clear_error(info.value, "cannot create the directory", str(tmp_path / "file"))


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or directory read-only for real, even for root (the immutable attribute)."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0:
            mode = path.stat().st_mode
            path.chmod(0o555 if path.is_dir() else 0o444)
            undo.append(lambda: path.chmod(mode))
            return
        # root ignores permission bits; `chattr +i` binds root too (needs CAP_LINUX_IMMUTABLE
        # and a file system that supports it, e.g. ext4 but not tmpfs or overlayfs).
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: cannot make anything read-only")
        done = subprocess.run(  # noqa: S603
            [chattr, "+i", str(path)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"running as root and `chattr +i` failed: {done.stderr.strip()}")
        undo.append(lambda: _run([chattr, "-i", str(path)]))

    yield make
    for step in reversed(undo):
        step()


async def test_read_only_file(tmp_path: Path, read_only: Callable[[Path], None]) -> None:
    path = tmp_path / "bot.sqlite3"
    await make_database(path)
    read_only(path)
    with pytest.raises(StoreError) as info:
        await Store.open(url(path))
    assert_clear_error(info.value, str(path), "not writable")


async def test_read_only_directory(tmp_path: Path, read_only: Callable[[Path], None]) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    read_only(directory)
    with pytest.raises(StoreError) as info:
        await Store.open(url(directory / "bot.sqlite3"))
    assert_clear_error(info.value, str(directory), "not writable")


async def test_read_only_directory_holding_a_database(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    """WAL mode needs to create -wal and -shm files beside the database."""
    directory = tmp_path / "data"
    await make_database(directory / "bot.sqlite3")
    read_only(directory)
    with pytest.raises(StoreError) as info:
        await Store.open(url(directory / "bot.sqlite3"))
    assert_clear_error(info.value, str(directory), "not writable")


async def test_read_only_directory_caught_by_sqlite_itself(
    tmp_path: Path, read_only: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the up-front check, SQLite's own refusal is still one clear line."""
    directory = tmp_path / "data"
    await make_database(directory / "bot.sqlite3")
    read_only(directory)
    monkeypatch.setattr(database_module, "_prepare_sqlite_file", lambda _path: None)
    with pytest.raises(StoreError) as info:
        await Store.open(url(directory / "bot.sqlite3"))
    assert_clear_error(info.value, "the database cannot be used")


# -- locking and PRAGMAs ---------------------------------------------------------------------------


async def test_locked_database_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(url(path), busy_timeout=0.2)
    await store.sets.create(1, "Faves", [1], USER)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            await store.links.set_link(USER, "01H00000000000000000000001", "Alice")
        waited = time.monotonic() - started
        assert info.value.message == BUSY
        assert info.value.__cause__ is None and info.value.__suppress_context__  # from None
        assert 0.15 <= waited < 3, waited  # it waited busy_timeout, then gave up
        with pytest.raises(StoreUnavailable):
            await store.sets.modify(1, "faves", lambda ids: [*ids, 2])
        # WAL: readers are not blocked by a writer.
        assert await store.links.get_link(USER) is None
        faves = await store.sets.get(1, "faves")
        assert faves is not None and faves.game_ids == [1]
        holder.execute("ROLLBACK")
        await store.links.set_link(USER, "01H00000000000000000000001", "Alice")
        assert await store.sets.modify(1, "faves", lambda ids: [*ids, 2]) is not None
    finally:
        holder.close()
        await store.close()


async def test_opening_a_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    """Start-up takes the write lock to migrate: held by another for too long, a clear error."""
    path = tmp_path / "bot.sqlite3"
    await make_database(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError) as info:
            await Store.open(url(path), busy_timeout=0.2)
        assert_clear_error(info.value, "database is locked")
    finally:
        holder.close()


async def test_lock_held_briefly_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(url(path), busy_timeout=5)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        asyncio.get_running_loop().call_later(0.2, holder.execute, "COMMIT")
        await store.links.set_link(USER, "01H00000000000000000000001", "Alice")
        assert await store.links.get_link(USER) is not None
    finally:
        holder.close()
        await store.close()


async def test_wal_and_synchronous_full_on_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(url(path), busy_timeout=1.5)
    try:
        # distinct pooled connections
        conns = [await store.database.engine.connect() for _ in range(3)]
        try:
            for conn in conns:
                pragma = {
                    name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
                }
                assert pragma == {
                    "journal_mode": "wal",
                    "synchronous": 2,  # FULL
                    "busy_timeout": 1500,
                    "foreign_keys": 1,
                }
        finally:
            for conn in conns:
                await conn.close()
    finally:
        await store.close()
    # WAL is a property of the file: any other reader sees it too.
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


# -- durability ------------------------------------------------------------------------------------

WRITER = """
import asyncio, sys
from bot.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    base = int(sys.argv[2])
    for n in range(base, base + 100000):
        await store.links.set_link(n, f"01H{n:023d}", f"user{n}")
        await store.sets.create(1, f"set{n}", [n], n)
        print("ACK", n, flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("acks", [[1, 4, 9]])
async def test_acknowledged_writes_survive_kill_9(tmp_path: Path, acks: list[int]) -> None:
    """A writer prints ACK after each write returns; SIGKILL right after an ACK loses nothing."""
    path = tmp_path / "bot.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    acknowledged: list[int] = []
    for round_, wanted in enumerate(acks):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            url(path),
            str(1000 * (round_ + 1)),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for _ in range(wanted):
                line = await asyncio.wait_for(proc.stdout.readline(), 15)
                if not line:
                    raise AssertionError((await proc.stderr.read()).decode())
                acknowledged.append(int(line.split()[1]))
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL

    store = await Store.open(url(path))
    try:
        links = await store.links.get_links(acknowledged)
        assert sorted(links) == sorted(acknowledged)
        for n in acknowledged:
            assert links[n].ra_name == f"user{n}"
            faves = await store.sets.get(1, f"SET{n}")
            assert faves is not None and faves.game_ids == [n]
        async with store.database.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
    finally:
        await store.close()
