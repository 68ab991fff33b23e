"""The feed store: guilds' feeds, opt-outs, and the poller's lease and cursor (SQLite and
PostgreSQL through the `store` fixture). The queue of posts is tests/store/test_feed_posts.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from bot.models.awards import AwardKind
from bot.models.feeds import Feed, FeedState, NewPost
from bot.store import Store
from bot.store.feeds import FeedStore
from bot.store.schema import feed_optouts, feeds

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
ALICE = 900000000000000001
BOB = 900000000000000002
MOD = 900000000000000009


@pytest.fixture
def feed_store(store: Store) -> FeedStore:
    return store.feeds


async def set_feed(feed_store: FeedStore, guild_id: int, now: datetime = T0, **kw: object) -> Feed:
    options: dict[str, object] = {
        "channel_id": 5000,
        "masteries": True,
        "beaten": True,
        "aotw": True,
        "hardcore_only": False,
        "games": None,
        "created_by": MOD,
    }
    options.update(kw)
    return await feed_store.set(guild_id, now=now, **options)  # type: ignore[arg-type]


def post(n: int, guild_id: int = GUILD, user_id: int = ALICE, at: datetime = T0) -> NewPost:
    data = {"user": "Ålice", "ulid": "01H0000000000000000000000A", "game_id": n, "hardcore": True}
    return NewPost(guild_id, f"award-{n}", user_id, AwardKind.MASTERED.value, at, data)


async def rows(store: Store, table: Table) -> int:
    async with store.database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# -- a guild's feed -----------------------------------------------------------------------------


async def test_a_new_database_has_no_feeds_and_a_blank_state(feed_store: FeedStore) -> None:
    assert await feed_store.get(GUILD) is None
    assert await feed_store.all() == []
    assert await feed_store.state() == FeedState(None, frozenset(), None, None, None, None)
    assert await feed_store.count() == {"pending": 0, "sending": 0, "posted": 0, "expired": 0}


async def test_set_then_get(feed_store: FeedStore) -> None:
    made = await set_feed(feed_store, GUILD, beaten=False, hardcore_only=True, games="faves")
    assert made == Feed(
        guild_id=GUILD,
        channel_id=5000,
        masteries=True,
        beaten=False,
        aotw=True,
        hardcore_only=True,
        games="faves",
        since=T0,
        created_by=MOD,
        last_post_at=None,
        problem=None,
        problem_at=None,
    )
    got = await feed_store.get(GUILD)
    assert got == made
    assert got.since.utcoffset() == timedelta(0)
    assert await feed_store.get(OTHER_GUILD) is None


async def test_setting_again_replaces_the_feed_and_clears_its_problem(
    store: Store, feed_store: FeedStore
) -> None:
    await set_feed(feed_store, GUILD)
    await feed_store.record_post(GUILD, T0 + timedelta(minutes=1))
    await feed_store.record_problem(GUILD, "the channel is gone", T0 + timedelta(minutes=2))
    later = T0 + timedelta(hours=1)
    again = await set_feed(feed_store, GUILD, later, channel_id=6000, aotw=False, created_by=BOB)
    assert (again.channel_id, again.aotw, again.created_by) == (6000, False, BOB)
    assert again.since == later  # never an award earned before it was set (again)
    assert (again.problem, again.problem_at) == (None, None)
    assert again.last_post_at == T0 + timedelta(minutes=1)  # its history stays
    assert await feed_store.get(GUILD) == again
    assert await rows(store, feeds) == 1


async def test_record_post_and_problem(feed_store: FeedStore) -> None:
    await set_feed(feed_store, GUILD)
    await feed_store.record_post(GUILD, T0 + timedelta(minutes=1))
    await feed_store.record_problem(GUILD, "Missing Access", T0 + timedelta(minutes=2))
    got = await feed_store.get(GUILD)
    assert got is not None and got.last_post_at == T0 + timedelta(minutes=1)
    assert (got.problem, got.problem_at) == ("Missing Access", T0 + timedelta(minutes=2))
    await feed_store.record_problem(GUILD, None, T0 + timedelta(minutes=3))
    got = await feed_store.get(GUILD)
    assert got is not None and (got.problem, got.problem_at) == (None, None)
    await feed_store.record_post(OTHER_GUILD, T0)  # no feed: nothing to record, no error
    assert await feed_store.get(OTHER_GUILD) is None


async def test_stop_removes_the_feed_and_what_it_had_not_sent(feed_store: FeedStore) -> None:
    assert await feed_store.stop(GUILD) is False
    await set_feed(feed_store, GUILD)
    await set_feed(feed_store, OTHER_GUILD)
    await feed_store.advance(
        cursor_at=T0, posts=[post(1), post(2), post(3), post(1, OTHER_GUILD)], now=T0
    )
    await feed_store.claim(GUILD, ["award-2"], "a", T0, timedelta(minutes=5))
    await feed_store.claim(GUILD, ["award-3"], "a", T0, timedelta(minutes=5))
    await feed_store.posted(GUILD, ["award-3"], 77, T0)
    assert await feed_store.stop(GUILD) is True
    assert await feed_store.get(GUILD) is None
    assert await feed_store.count(GUILD) == {"pending": 0, "sending": 0, "posted": 1, "expired": 0}
    assert (await feed_store.count(OTHER_GUILD))["pending"] == 1
    assert await feed_store.stop(GUILD) is False


async def test_all_feeds_of_these_shards(feed_store: FeedStore) -> None:
    guilds = [(n << 22) + 7 for n in (3, 0, 1, 2)]  # shard n of 2: n % 2
    for guild_id in guilds:
        await set_feed(feed_store, guild_id)
    assert [f.guild_id for f in await feed_store.all()] == sorted(guilds)
    assert [f.guild_id for f in await feed_store.all((2, (0,)))] == [7, (2 << 22) + 7]
    assert [f.guild_id for f in await feed_store.all((2, (1,)))] == [(1 << 22) + 7, (3 << 22) + 7]
    assert len(await feed_store.all((2, (0, 1)))) == 4
    assert await feed_store.all((4, ())) == []


# -- who is announced ---------------------------------------------------------------------------


async def test_members_opt_out_and_back_in(store: Store, feed_store: FeedStore) -> None:
    assert await feed_store.announces(ALICE) is True
    await feed_store.set_announce(ALICE, False, T0)
    await feed_store.set_announce(ALICE, False, T0 + timedelta(days=1))  # once is enough
    assert await feed_store.announces(ALICE) is False
    assert await feed_store.announces(BOB) is True
    assert await feed_store.opted_out([ALICE, BOB, ALICE]) == {ALICE}
    assert await feed_store.opted_out(iter([])) == set()
    assert await rows(store, feed_optouts) == 1
    await feed_store.set_announce(ALICE, True, T0)
    await feed_store.set_announce(BOB, True, T0)  # was never out
    assert await feed_store.opted_out([ALICE, BOB]) == set()


async def test_opted_out_answers_for_many_members(feed_store: FeedStore) -> None:
    members = [ALICE + n for n in range(1200)]
    for member in members[::100]:
        await feed_store.set_announce(member, False, T0)
    assert await feed_store.opted_out(members) == set(members[::100])


# -- the poller's lease ---------------------------------------------------------------------------


async def test_the_lease_is_held_until_it_expires(feed_store: FeedStore) -> None:
    until = T0 + timedelta(minutes=2)
    assert await feed_store.claim_lease("a", T0, until) is True
    state = await feed_store.state()
    assert (state.lease_owner, state.lease_until) == ("a", until)
    assert await feed_store.claim_lease("b", T0 + timedelta(minutes=1), T0) is False
    extended = until + timedelta(minutes=1)
    assert await feed_store.claim_lease("a", T0 + timedelta(minutes=1), extended) is True
    assert await feed_store.claim_lease("b", until + timedelta(seconds=30), T0) is False
    assert await feed_store.claim_lease("b", extended + timedelta(seconds=1), T0) is True
    assert (await feed_store.state()).lease_owner == "b"


async def test_only_the_owner_releases_the_lease(feed_store: FeedStore) -> None:
    await feed_store.claim_lease("a", T0, T0 + timedelta(minutes=2))
    await feed_store.release_lease("b")
    assert (await feed_store.state()).lease_owner == "a"
    await feed_store.release_lease("a")
    state = await feed_store.state()
    assert (state.lease_owner, state.lease_until) == (None, None)
    assert await feed_store.claim_lease("b", T0, T0 + timedelta(minutes=2)) is True


async def test_of_two_processes_claiming_the_lease_at_once_one_wins(
    feed_store: FeedStore, second_store: Store
) -> None:
    other = second_store.feeds
    for round_ in range(5):
        now = T0 + timedelta(minutes=10 * round_)
        until = now + timedelta(minutes=2)
        won = await asyncio.gather(
            feed_store.claim_lease("a", now, until), other.claim_lease("b", now, until)
        )
        assert sorted(won) == [False, True]
        assert (await other.state()).lease_owner == ("a" if won[0] else "b")


# -- the cursor and the queue, in one step ---------------------------------------------------------


async def test_advance_queues_the_posts_and_moves_the_cursor(feed_store: FeedStore) -> None:
    await set_feed(feed_store, GUILD)
    queued = await feed_store.advance(
        cursor_at=T0,
        cursor_keys=["k1", "k2", "k1"],
        posts=[post(1), post(2)],
        now=T0,
        aotw_key="w1",
    )
    assert queued == 2
    assert await feed_store.state() == FeedState(T0, frozenset({"k1", "k2"}), "w1", T0, None, None)
    assert (await feed_store.count())["pending"] == 2
    later = T0 + timedelta(minutes=1)
    assert await feed_store.advance(cursor_at=later, cursor_keys=["k3"], now=later) == 0
    state = await feed_store.state()
    assert (state.cursor_at, state.cursor_keys, state.aotw_key) == (later, {"k3"}, "w1")
    assert state.polled_at == later


async def test_a_repeated_poll_and_a_second_poller_never_double_a_post(
    feed_store: FeedStore, second_store: Store
) -> None:
    await set_feed(feed_store, GUILD)
    await set_feed(feed_store, OTHER_GUILD)
    first = [post(n) for n in range(0, 30)] + [post(1, OTHER_GUILD)]
    second = [post(n) for n in range(20, 50)] + [post(1, OTHER_GUILD), post(2, OTHER_GUILD)]
    queued = await asyncio.gather(
        feed_store.advance(cursor_at=T0, cursor_keys=["a"], posts=first, now=T0),
        second_store.feeds.advance(cursor_at=T0, cursor_keys=["b"], posts=second, now=T0),
    )
    assert sum(queued) == 52
    assert await feed_store.advance(cursor_at=T0, posts=first + second, now=T0) == 0
    assert (await feed_store.count(GUILD))["pending"] == 50
    assert (await feed_store.count(OTHER_GUILD))["pending"] == 2
    assert (await feed_store.state()).cursor_keys == {"a", "b"}  # both saw T0's awards


async def test_a_post_already_queued_is_left_as_it_is(feed_store: FeedStore) -> None:
    await set_feed(feed_store, GUILD)
    await feed_store.advance(cursor_at=T0, posts=[post(1)], now=T0)
    await feed_store.claim(GUILD, ["award-1"], "a", T0, timedelta(minutes=5))
    await feed_store.posted(GUILD, ["award-1"], 77, T0)
    assert await feed_store.advance(cursor_at=T0, posts=[post(1, user_id=BOB)], now=T0) == 0
    assert await feed_store.count(GUILD) == {"pending": 0, "sending": 0, "posted": 1, "expired": 0}


async def test_the_cursor_never_moves_back(feed_store: FeedStore) -> None:
    later = T0 + timedelta(minutes=5)
    await feed_store.advance(cursor_at=later, cursor_keys=["new"], now=later)
    # A poller that lost its lease finishes late: its posts land, its cursor does not.
    await set_feed(feed_store, GUILD)
    await feed_store.advance(cursor_at=T0, cursor_keys=["old"], posts=[post(1)], now=later)
    state = await feed_store.state()
    assert (state.cursor_at, state.cursor_keys) == (later, {"new"})
    assert (await feed_store.count())["pending"] == 1
    await feed_store.advance(cursor_at=None, aotw_key="w2", now=later)  # the AOTW only
    state = await feed_store.state()
    assert (state.cursor_at, state.cursor_keys, state.aotw_key) == (later, {"new"}, "w2")


async def test_a_failing_insert_leaves_the_cursor_and_the_queue_as_they_were(
    feed_store: FeedStore,
) -> None:
    await set_feed(feed_store, GUILD)
    await feed_store.advance(cursor_at=T0, cursor_keys=["k"], posts=[post(1)], now=T0)
    before = await feed_store.state()
    later = T0 + timedelta(minutes=1)
    broken = NewPost(GUILD, "award-3", None, "mastered", later, {})  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        await feed_store.advance(
            cursor_at=later, cursor_keys=["k2"], posts=[post(2), broken], aotw_key="w", now=later
        )
    assert await feed_store.state() == before
    assert (await feed_store.count())["pending"] == 1
    assert await feed_store.advance(cursor_at=later, posts=[post(2)], now=later) == 1
