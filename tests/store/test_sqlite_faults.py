"""SQLite's disk filling up, and its file system turning read-only, while the bot runs: what
cannot be done is refused with one clear sentence (on a full disk reads are still served),
nothing acknowledged is lost, the database stays intact (`PRAGMA integrity_check`), and writes
are accepted again once the disk is fixed, without a restart.

The database lives on a small tmpfs this test mounts (root only: skipped with the reason
otherwise); `mount -o remount,ro` makes it read-only even for root.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store, StoreUnavailable
from bot.store.database import CANNOT_WRITE

ULID = "01H00000000000000000000001"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - mount(8) with our own arguments
        ["mount", *args], capture_output=True, text=True, check=False  # noqa: S607
    )


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 3 MiB file system of our own, unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    point = Path(tempfile.mkdtemp(prefix="ra-bot-disk-"))
    done = _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(point))
    if done.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield point
    finally:
        _mount("-o", "remount,rw", str(point))
        subprocess.run(["umount", "-l", str(point)], check=False)  # noqa: S603, S607
        point.rmdir()


def fill(directory: Path) -> Path:
    """Fill the file system to the last byte."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


def intact(path: Path) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def write_until_refused(store: Store, acked: dict[int, str]) -> StoreUnavailable:
    """Writes (links, growing game sets) until one is refused; records those acknowledged."""
    for n in range(2000):
        user = 10_000 + n
        try:
            await store.links.set_link(user, ULID, f"user{n}" + "x" * 200)
            await store.sets.create(1, f"set {n}", list(range(1, 51)), user)
        except StoreUnavailable as refused:
            return refused
        acked[user] = f"user{n}" + "x" * 200
    raise AssertionError("the disk never filled")


async def test_disk_full_mid_run(small_disk: Path) -> None:
    path = small_disk / "bot.sqlite3"
    store = await Store.open(f"sqlite:///{path}")
    acked: dict[int, str] = {}
    try:
        await store.links.set_link(1, ULID, "Alice")
        acked[1] = "Alice"
        filler = fill(small_disk)
        refused = await write_until_refused(store, acked)
        assert refused.message == CANNOT_WRITE
        assert refused.__cause__ is None and refused.__suppress_context__
        with pytest.raises(StoreUnavailable) as again:
            await store.links.set_link(2, ULID, "Bob")
        assert again.value.message == CANNOT_WRITE
        assert store.database.down_since is not None
        # Reads are still served.
        assert (await store.links.get_link(1)) is not None

        filler.unlink()  # the operator frees space: writes work again, no restart
        await store.links.set_link(2, ULID, "Bob")
        acked[2] = "Bob"
        assert store.database.down_since is None
        links = await store.links.get_links(list(acked))
        assert {u: link.ra_name for u, link in links.items()} == acked
    finally:
        await store.close()
    intact(path)


async def test_file_system_turning_read_only_mid_run(small_disk: Path) -> None:
    path = small_disk / "bot.sqlite3"
    store = await Store.open(f"sqlite:///{path}")
    try:
        await store.links.set_link(1, ULID, "Alice")
        await store.sets.create(7, "Faves", [1, 2], 1)
        # The kernel refuses a read-only remount while files are open for writing: the pool's
        # connections close first (as they do when recycled); the store reconnects on its own.
        await store.database.engine.dispose()
        done = _mount("-o", "remount,ro", str(small_disk))
        assert done.returncode == 0, done.stderr
        for write in (
            store.links.set_link(2, ULID, "Bob"),
            store.sets.create(7, "More", [3], 1),
            store.links.delete_link(1),
        ):
            with pytest.raises(StoreUnavailable) as refused:
                await write
            assert refused.value.message == CANNOT_WRITE
        # SQLite cannot even open a WAL database on a read-only file system (it needs its
        # -shm file): reads get the same sentence.
        with pytest.raises(StoreUnavailable) as refused:
            await store.links.get_link(1)
        assert refused.value.message == CANNOT_WRITE

        assert _mount("-o", "remount,rw", str(small_disk)).returncode == 0
        await store.links.set_link(2, ULID, "Bob")
        assert (await store.links.get_link(2)) is not None
        assert [s.name for s in await store.sets.for_guild(7)] == ["Faves"]
        assert (await store.links.get_link(1)) is not None  # the refused delete did nothing
    finally:
        await store.close()
    intact(path)
