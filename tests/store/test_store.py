"""The Store's reads and writes, on SQLite and PostgreSQL alike (the `store` fixture runs both)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select, text

from bot.models.game_sets import GameSet
from bot.models.members import Link
from bot.store import Store, StoreError
from bot.store.game_sets import SetExists
from bot.store.schema import guild_members, links

ROOT = Path(__file__).resolve().parents[2]

GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
ALICE = 900000000000000001
BOB = 900000000000000002
CAROL = 900000000000000003


def ulid(n: int) -> str:
    return f"01H{n:023d}"


async def count(store: Store, table: Table) -> int:
    async with store.database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def append(n: int) -> Callable[[list[int]], list[int]]:
    return lambda ids: [*ids, n]



# -- links -----------------------------------------------------------------------------------------


async def test_set_link_then_get_link(store: Store) -> None:
    before = datetime.now(UTC)
    made = await store.links.set_link(ALICE, ulid(1), "Alice")
    assert made == Link(ALICE, ulid(1), "Alice", made.linked_at)
    assert before <= made.linked_at <= datetime.now(UTC)
    got = await store.links.get_link(ALICE)
    assert got == made
    assert got.linked_at.tzinfo is not None
    assert got.linked_at.utcoffset() == UTC.utcoffset(None)
    assert await store.links.get_link(BOB) is None


async def test_relink_replaces_the_old_account(store: Store) -> None:
    await store.links.set_link(ALICE, ulid(1), "Alice")
    second = await store.links.set_link(ALICE, ulid(2), "AliceToo")
    assert await store.links.get_link(ALICE) == second
    assert await count(store, links) == 1


async def test_get_links_in_one_batch(store: Store) -> None:
    alice = await store.links.set_link(ALICE, ulid(1), "Alice")
    bob = await store.links.set_link(BOB, ulid(2), "Bob")
    assert await store.links.get_links([ALICE, BOB, CAROL, ALICE]) == {ALICE: alice, BOB: bob}
    assert await store.links.get_links(iter([CAROL])) == {}
    assert await store.links.get_links([]) == {}


async def test_delete_link(store: Store) -> None:
    assert await store.links.delete_link(ALICE) is False  # never linked
    await store.links.set_link(ALICE, ulid(1), "Alice")
    await store.links.set_link(BOB, ulid(2), "Bob")
    assert await store.links.delete_link(ALICE) is True
    assert await store.links.get_link(ALICE) is None
    assert await store.links.delete_link(ALICE) is False  # not linked any more
    assert await store.links.get_link(BOB) is not None


async def test_rename_link_keeps_the_account(store: Store) -> None:
    made = await store.links.set_link(ALICE, ulid(1), "Alice")
    await store.links.rename_link(ALICE, "Alicia")
    assert await store.links.get_link(ALICE) == Link(ALICE, ulid(1), "Alicia", made.linked_at)
    await store.links.rename_link(BOB, "Nobody")  # not linked: nothing to rename, nothing created
    assert await store.links.get_link(BOB) is None


async def test_two_members_link_at_once(store: Store, second_store: Store) -> None:
    users = range(ALICE, ALICE + 20)
    await asyncio.gather(
        *(
            (store if i % 2 else second_store).links.set_link(uid, ulid(i), f"user{i}")
            for i, uid in enumerate(users)
        )
    )
    got = await store.links.get_links(users)
    assert {uid: (link.ra_ulid, link.ra_name) for uid, link in got.items()} == {
        uid: (ulid(i), f"user{i}") for i, uid in enumerate(users)
    }


async def test_one_member_relinking_at_once_last_write_wins(
    store: Store, second_store: Store
) -> None:
    written = await asyncio.gather(
        *(
            (store if i % 2 else second_store).links.set_link(ALICE, ulid(i), f"name{i}")
            for i in range(20)
        )
    )
    final = await store.links.get_link(ALICE)
    assert final in written  # one whole write, never a mix of two
    assert await second_store.links.get_link(ALICE) == final
    assert await count(store, links) == 1
    last = await second_store.links.set_link(ALICE, ulid(99), "Latest")
    assert await store.links.get_link(ALICE) == last


# -- guild membership ------------------------------------------------------------------------------


async def seen_at(store: Store, guild_id: int, user_id: int) -> datetime | None:
    async with store.database.engine.connect() as conn:
        return (
            await conn.execute(
                select(guild_members.c.seen_at).where(
                    guild_members.c.guild_id == guild_id,
                    guild_members.c.discord_user_id == user_id,
                )
            )
        ).scalar_one_or_none()


async def test_mark_seen_upserts(store: Store) -> None:
    await store.links.mark_seen(GUILD, [ALICE, BOB, ALICE])
    first = await seen_at(store, GUILD, ALICE)
    await asyncio.sleep(0.002)
    await store.links.mark_seen(GUILD, [ALICE])
    again = await seen_at(store, GUILD, ALICE)
    assert first is not None and again is not None and again > first
    assert await count(store, guild_members) == 2
    await store.links.mark_seen(GUILD, [])  # nothing to do
    assert await count(store, guild_members) == 2


async def test_linked_members_are_the_linked_users_seen_in_that_guild(store: Store) -> None:
    alice = await store.links.set_link(ALICE, ulid(1), "Alice")
    carol = await store.links.set_link(CAROL, ulid(3), "Carol")
    await store.links.set_link(BOB, ulid(2), "Bob")  # linked, never seen in GUILD
    before = datetime.now(UTC)
    await store.links.mark_seen(GUILD, [CAROL, ALICE, 555])  # 555: seen, never linked
    await store.links.mark_seen(OTHER_GUILD, [BOB])
    members = await store.links.linked_members(GUILD)
    assert [link for link, _ in members] == [alice, carol]  # by user id
    for _, seen in members:
        assert seen.tzinfo is not None and before <= seen <= datetime.now(UTC)
    others = await store.links.linked_members(OTHER_GUILD)
    assert [link.discord_user_id for link, _ in others] == [BOB]
    assert await store.links.linked_members(333) == []


async def test_forget_members(store: Store) -> None:
    await store.links.set_link(ALICE, ulid(1), "Alice")
    await store.links.set_link(BOB, ulid(2), "Bob")
    await store.links.mark_seen(GUILD, [ALICE, BOB])
    await store.links.mark_seen(OTHER_GUILD, [ALICE])
    await store.links.forget_members(GUILD, [ALICE, CAROL])
    await store.links.forget_members(GUILD, [])
    assert [link.discord_user_id for link, _ in await store.links.linked_members(GUILD)] == [BOB]
    others = await store.links.linked_members(OTHER_GUILD)
    assert [link.discord_user_id for link, _ in others] == [ALICE]
    assert await store.links.get_link(ALICE) is not None  # leaving a guild keeps the link


# -- guild settings --------------------------------------------------------------------------------


async def test_linked_accounts_by_ulid_or_by_name_ignoring_case(store: Store) -> None:
    alice = await store.links.set_link(ALICE, ulid(1), "Alice")
    bob = await store.links.set_link(BOB, ulid(2), "Bob")
    await store.links.set_link(333, ulid(3), "Carol")
    assert await store.links.linked_accounts() == []
    assert await store.links.linked_accounts(ulids=[ulid(2), ulid(9)]) == [bob]
    assert await store.links.linked_accounts(names=["ALICE", "nobody"]) == [alice]
    both = await store.links.linked_accounts(ulids=[ulid(2)], names=["alice", "Alice"])
    assert both == [alice, bob]
    # A renamed account is still found by its ULID, and no longer by its old name.
    await store.links.rename_link(ALICE, "Alicia")
    assert [link.ra_name for link in await store.links.linked_accounts(ulids=[ulid(1)])] == [
        "Alicia"
    ]
    assert await store.links.linked_accounts(names=["Alice"]) == []


async def test_guilds_of_users_as_boards_count_them(store: Store) -> None:
    await store.links.mark_seen(GUILD, [ALICE, BOB])
    await store.links.mark_seen(OTHER_GUILD, [ALICE])
    assert await store.links.guilds_of([ALICE, BOB, 333]) == {
        ALICE: {GUILD, OTHER_GUILD},
        BOB: {GUILD},
    }
    await store.links.forget_members(GUILD, [ALICE])
    assert await store.links.guilds_of([ALICE]) == {ALICE: {OTHER_GUILD}}
    assert await store.links.guilds_of([]) == {}


async def test_guild_rates(store: Store) -> None:
    assert await store.guild_settings.guild_rates() == {}
    await store.guild_settings.set_guild_rate(GUILD, 10)
    await store.guild_settings.set_guild_rate(OTHER_GUILD, 3)
    await store.guild_settings.set_guild_rate(GUILD, 20)
    assert await store.guild_settings.guild_rates() == {GUILD: 20, OTHER_GUILD: 3}
    await store.guild_settings.set_guild_rate(GUILD, None)  # back to the default
    await store.guild_settings.set_guild_rate(333, None)
    assert await store.guild_settings.guild_rates() == {OTHER_GUILD: 3}


# -- game sets -------------------------------------------------------------------------------------


async def test_create_and_get_set_by_any_case(store: Store) -> None:
    made = await store.sets.create(GUILD, "SNES Faves", [228, 14402, 1], ALICE)
    assert made == GameSet(GUILD, "SNES Faves", [228, 14402, 1], ALICE, made.updated_at)
    for name in ("SNES Faves", "snes faves", "SNES FAVES", "sNeS fAvEs"):
        assert await store.sets.get(GUILD, name) == made
    assert await store.sets.get(OTHER_GUILD, "SNES Faves") is None
    assert await store.sets.get(GUILD, "other") is None
    empty = await store.sets.create(GUILD, "empty", [], BOB)
    assert await store.sets.get(GUILD, "EMPTY") == empty
    assert empty.game_ids == []


async def test_duplicate_set_name_any_case_raises_set_exists(store: Store) -> None:
    made = await store.sets.create(GUILD, "Faves", [1], ALICE)
    with pytest.raises(SetExists) as info:
        await store.sets.create(GUILD, "FAVES", [2], BOB)
    assert isinstance(info.value, StoreError)
    assert "FAVES" in info.value.message
    assert await store.sets.get(GUILD, "faves") == made  # untouched
    assert (await store.sets.create(OTHER_GUILD, "faves", [3], BOB)).game_ids == [3]
    assert await store.sets.get(GUILD, "faves") == made  # the store still works after the error


async def test_modify_set(store: Store) -> None:
    made = await store.sets.create(GUILD, "Faves", [1, 2], ALICE)
    assert await store.sets.modify(GUILD, "nope", lambda ids: [*ids, 3]) is None
    changed = await store.sets.modify(GUILD, "FAVES", lambda ids: [*ids, 3])
    assert changed is not None
    assert changed == GameSet(GUILD, "Faves", [1, 2, 3], ALICE, changed.updated_at)
    assert changed.updated_at >= made.updated_at
    assert await store.sets.get(GUILD, "faves") == changed
    removed = await store.sets.modify(GUILD, "faves", lambda ids: [i for i in ids if i != 2])
    assert removed is not None and removed.game_ids == [1, 3]
    assert (await store.sets.get(GUILD, "faves")) == removed


async def test_modify_set_failing_change_writes_nothing(store: Store) -> None:
    made = await store.sets.create(GUILD, "Faves", [1], ALICE)

    def boom(ids: list[int]) -> list[int]:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await store.sets.modify(GUILD, "faves", boom)
    assert await store.sets.get(GUILD, "faves") == made
    after = await asyncio.wait_for(store.sets.modify(GUILD, "faves", lambda ids: [*ids, 2]), 5)
    assert after is not None and after.game_ids == [1, 2]


async def test_concurrent_modify_set_appends_all_land(store: Store) -> None:
    await store.sets.create(GUILD, "Faves", [], ALICE)
    await asyncio.gather(*(store.sets.modify(GUILD, "faves", append(n)) for n in range(20)))
    got = await store.sets.get(GUILD, "faves")
    assert got is not None and sorted(got.game_ids) == list(range(20))


async def test_concurrent_modify_set_from_two_processes_all_land(
    store: Store, second_store: Store
) -> None:
    """Two engines (as two bot processes would): the read and the write are one transaction."""
    await store.sets.create(GUILD, "Faves", [], ALICE)
    await asyncio.gather(
        *(
            (store if n % 2 else second_store).sets.modify(GUILD, "faves", append(n))
            for n in range(20)
        )
    )
    got = await store.sets.get(GUILD, "faves")
    assert got is not None and sorted(got.game_ids) == list(range(20))


async def test_delete_set(store: Store) -> None:
    await store.sets.create(GUILD, "Faves", [1], ALICE)
    await store.sets.create(OTHER_GUILD, "Faves", [2], ALICE)
    assert await store.sets.delete(GUILD, "nope") is False
    assert await store.sets.delete(GUILD, "FAVES") is True
    assert await store.sets.get(GUILD, "faves") is None
    assert await store.sets.delete(GUILD, "faves") is False
    assert await store.sets.get(OTHER_GUILD, "faves") is not None
    await store.sets.create(GUILD, "faves", [3], BOB)  # the name is free again


async def test_list_sets_by_name_ignoring_case(store: Store) -> None:
    for name in ("mario", "Zelda", "ALPHA", "beta"):
        await store.sets.create(GUILD, name, [1], ALICE)
    await store.sets.create(OTHER_GUILD, "aaa", [1], ALICE)
    names = [s.name for s in await store.sets.for_guild(GUILD)]
    assert names == ["ALPHA", "beta", "mario", "Zelda"]
    assert [s.name for s in await store.sets.for_guild(OTHER_GUILD)] == ["aaa"]
    assert await store.sets.for_guild(333) == []


# -- opening ---------------------------------------------------------------------------------------


async def test_reopening_runs_no_migration_and_keeps_data(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alembic")
    first = await Store.open(database_url)
    await first.links.set_link(ALICE, ulid(1), "Alice")
    await first.sets.create(GUILD, "Faves", [1, 2], ALICE)
    await first.close()
    assert any("Running upgrade" in r.getMessage() for r in caplog.records)
    caplog.clear()

    again = await Store.open(database_url)
    try:
        assert not [r.getMessage() for r in caplog.records if "Running upgrade" in r.getMessage()]
        assert (await again.links.get_link(ALICE)) is not None
        faves = await again.sets.get(GUILD, "faves")
        assert faves is not None and faves.game_ids == [1, 2]
        async with again.database.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert len(versions) == 1
    finally:
        await again.close()


async def test_engines_opening_one_new_database_at_once(database_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(database_url) for _ in range(3)))
    try:
        await stores[0].links.set_link(ALICE, ulid(1), "Alice")
        assert await stores[2].links.get_link(ALICE) is not None
        async with stores[1].database.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert len(versions) == 1
    finally:
        for opened in stores:
            await opened.close()


OPEN_AND_LINK = """
import asyncio, sys
from bot.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    uid = sys.argv[2]
    await store.links.set_link(int(uid), "01H" + uid[-23:].zfill(23), "P" + uid)
    await store.close()
    print("OK", flush=True)

asyncio.run(main())
"""


async def test_processes_opening_one_new_database_at_once(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            OPEN_AND_LINK,
            database_url,
            str(uid),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for uid in (ALICE, BOB)
    ]
    results = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 30)
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == "OK"
    store = await Store.open(database_url)
    try:
        assert set(await store.links.get_links([ALICE, BOB])) == {ALICE, BOB}
    finally:
        await store.close()
