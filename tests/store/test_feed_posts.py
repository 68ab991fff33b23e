"""The feed's queue of announcements: what waits, the claims that make each post happen once
(across connections, and after a process died mid-send), summaries, expiry and pruning."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.models.feeds import Claimed, NewPost, QueuedPost
from bot.store import Store
from bot.store.feeds import FeedStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
ALICE = 900000000000000001


def post(n: int, guild_id: int = GUILD, at: datetime = T0) -> NewPost:
    data = {"user": "Ålice", "game_id": n, "title": "Pokémon ✨", "hardcore": n % 2 == 0}
    return NewPost(guild_id, f"award-{n:03d}", ALICE, "beaten-hardcore", at, data)


def keys(*numbers: int) -> list[str]:
    return [f"award-{n:03d}" for n in numbers]


@pytest.fixture
async def feed_store(store: Store) -> FeedStore:
    for guild_id in (GUILD, OTHER_GUILD):
        await store.feeds.set(
            guild_id,
            channel_id=5000,
            masteries=True,
            beaten=True,
            aotw=True,
            hardcore_only=False,
            games=None,
            created_by=ALICE,
            now=T0 - timedelta(days=1),
        )
    return store.feeds


async def queue(feed_store: FeedStore, *posts: NewPost, now: datetime = T0) -> None:
    await feed_store.advance(cursor_at=None, posts=posts, now=now)


def counts(pending: int = 0, sending: int = 0, posted: int = 0, expired: int = 0) -> dict[str, int]:
    return {"pending": pending, "sending": sending, "posted": posted, "expired": expired}


# -- what waits ------------------------------------------------------------------------------------


async def test_pending_posts_oldest_first_as_queued(feed_store: FeedStore) -> None:
    await queue(
        feed_store, post(1, at=T0), post(2, at=T0 - timedelta(hours=1)), post(3, OTHER_GUILD)
    )
    waiting = await feed_store.pending(T0, LEASE)
    assert [(p.guild_id, p.award_key) for p in waiting] == [
        (GUILD, "award-002"),
        (GUILD, "award-001"),
        (OTHER_GUILD, "award-003"),
    ]
    assert waiting[1] == QueuedPost(
        guild_id=GUILD,
        award_key="award-001",
        user_id=ALICE,
        kind="beaten-hardcore",
        at=T0,
        data={"user": "Ålice", "game_id": 1, "title": "Pokémon ✨", "hardcore": False},
        status="pending",
        claimed_by=None,
        claimed_at=None,
    )
    assert waiting[1].at.utcoffset() == timedelta(0)
    assert len(await feed_store.pending(T0, LEASE, limit=2)) == 2


async def test_pending_posts_of_these_shards_and_guilds_with_a_feed(
    store: Store, feed_store: FeedStore
) -> None:
    shard_zero = (2 << 22) + 5  # shard 0 of 2 (GUILD and OTHER_GUILD are on shard 1 of 2)
    assert (GUILD >> 22) % 2 == 1 and (OTHER_GUILD >> 22) % 2 == 1
    await queue(feed_store, post(1), post(2, shard_zero), post(3, OTHER_GUILD))
    assert [p.guild_id for p in await feed_store.pending(T0, LEASE, shards=(2, (1,)))] == [
        GUILD,
        OTHER_GUILD,
    ]
    assert await feed_store.pending(T0, LEASE, shards=(2, (0,))) == []  # no feed there
    await store.feeds.set(
        shard_zero,
        channel_id=1,
        masteries=True,
        beaten=True,
        aotw=True,
        hardcore_only=False,
        games=None,
        created_by=ALICE,
        now=T0,
    )
    assert [p.guild_id for p in await feed_store.pending(T0, LEASE, shards=(2, (0,)))] == [
        shard_zero
    ]
    await feed_store.stop(OTHER_GUILD)
    await queue(feed_store, post(4, OTHER_GUILD))  # a poll racing /feed stop
    assert [p.guild_id for p in await feed_store.pending(T0, LEASE)] == [shard_zero, GUILD]


async def test_a_claim_being_sent_waits_out_its_lease(feed_store: FeedStore) -> None:
    await queue(feed_store, post(1), post(2))
    await feed_store.claim(GUILD, keys(1), "a", T0, LEASE)
    assert [p.award_key for p in await feed_store.pending(T0 + LEASE, LEASE)] == keys(2)
    stale = await feed_store.pending(T0 + LEASE + timedelta(seconds=1), LEASE)
    assert [(p.award_key, p.status, p.claimed_by) for p in stale] == [
        ("award-001", "sending", "a"),
        ("award-002", "pending", None),
    ]
    assert stale[0].claimed_at == T0


# -- claims ---------------------------------------------------------------------------------------


async def test_claim_holds_the_pending_keys_asked_for(feed_store: FeedStore) -> None:
    await queue(feed_store, post(1), post(2), post(3), post(1, OTHER_GUILD))
    got = await feed_store.claim(GUILD, keys(3, 1, 9, 1), "a", T0, LEASE)
    assert got == Claimed(new=keys(1, 3), taken_over=[])
    assert got.keys == keys(1, 3)
    assert await feed_store.claim(GUILD, keys(1, 2, 3), "b", T0, LEASE) == Claimed(keys(2), [])
    assert await feed_store.claim(GUILD, keys(1, 2), "a", T0, LEASE) == Claimed([], [])
    assert await feed_store.count(GUILD) == counts(sending=3)
    assert await feed_store.count(OTHER_GUILD) == counts(pending=1)
    assert await feed_store.claim(GUILD, [], "a", T0, LEASE) == Claimed([], [])


async def test_of_two_processes_claiming_at_once_one_wins_each_post(
    feed_store: FeedStore, second_store: Store
) -> None:
    await queue(feed_store, *(post(n) for n in range(40)))
    wanted = keys(*range(40))
    for _ in range(3):
        got = await asyncio.gather(
            feed_store.claim(GUILD, wanted, "a", T0, LEASE),
            second_store.feeds.claim(GUILD, wanted[::-1], "b", T0, LEASE),
        )
        held = [claimed.keys for claimed in got]
        assert sorted(held[0] + held[1]) == wanted
        assert not set(held[0]) & set(held[1])
        for owner, mine in zip(("a", "b"), held, strict=True):
            await feed_store.release(GUILD, mine, owner)
    assert await feed_store.count() == counts(pending=40)


async def test_a_stale_claim_is_taken_over_and_says_so(feed_store: FeedStore) -> None:
    await queue(feed_store, post(1), post(2))
    await feed_store.claim(GUILD, keys(1), "dead", T0, LEASE)
    assert await feed_store.claim(GUILD, keys(1), "b", T0 + LEASE, LEASE) == Claimed([], [])
    later = T0 + LEASE + timedelta(seconds=1)
    got = await feed_store.claim(GUILD, keys(1, 2), "b", later, LEASE)
    assert got == Claimed(new=keys(2), taken_over=keys(1))
    await feed_store.release(GUILD, keys(1), "dead")  # the dead process's claim is gone
    assert await feed_store.claim(GUILD, keys(1), "c", later, LEASE) == Claimed([], [])
    assert [p.claimed_by for p in await feed_store.pending(later + LEASE * 2, LEASE)] == ["b", "b"]


async def test_several_posts_go_as_one_summary_message(feed_store: FeedStore) -> None:
    await queue(feed_store, *(post(n) for n in range(12)), post(1, OTHER_GUILD))
    held = (await feed_store.claim(GUILD, keys(*range(12)), "a", T0, LEASE)).keys
    sent = T0 + timedelta(seconds=3)
    await feed_store.posted(GUILD, held, 4242, sent)
    assert await feed_store.count(GUILD) == counts(posted=12)
    assert [p.guild_id for p in await feed_store.pending(sent, LEASE)] == [OTHER_GUILD]
    assert await feed_store.claim(GUILD, held, "b", sent + LEASE * 2, LEASE) == Claimed([], [])
    feed = await feed_store.get(GUILD)
    assert feed is not None and feed.last_post_at == sent
    other = await feed_store.get(OTHER_GUILD)
    assert other is not None and other.last_post_at is None


async def test_release_gives_only_the_owners_claims_back(feed_store: FeedStore) -> None:
    await queue(feed_store, post(1), post(2))
    await feed_store.claim(GUILD, keys(1, 2), "a", T0, LEASE)
    await feed_store.release(GUILD, keys(1, 2), "b")
    assert await feed_store.count(GUILD) == counts(sending=2)
    await feed_store.release(GUILD, keys(1), "a")
    assert await feed_store.count(GUILD) == counts(pending=1, sending=1)
    waiting = await feed_store.pending(T0, LEASE)
    assert [(p.award_key, p.claimed_by, p.claimed_at) for p in waiting] == [
        ("award-001", None, None)
    ]
    assert await feed_store.claim(GUILD, keys(1), "b", T0, LEASE) == Claimed(keys(1), [])


# -- expiry and pruning -------------------------------------------------------------------------


async def test_posts_waiting_too_long_expire(feed_store: FeedStore) -> None:
    cutoff = T0 - timedelta(hours=24)
    await queue(
        feed_store,
        post(1, at=cutoff - timedelta(seconds=1)),  # too old: expires
        post(2, at=cutoff),  # just young enough
        post(3, at=cutoff - timedelta(hours=1)),  # too old, but posted already
        post(4, at=cutoff - timedelta(hours=1)),  # claimed long ago by a process that died
        post(5, at=cutoff - timedelta(hours=1)),  # claimed just now
        now=cutoff - timedelta(hours=2),
    )
    await feed_store.claim(GUILD, keys(3, 4), "a", cutoff - timedelta(minutes=1), LEASE)
    await feed_store.posted(GUILD, keys(3), 1, cutoff)
    await feed_store.claim(GUILD, keys(5), "a", T0, LEASE)
    assert await feed_store.expire_older_than(cutoff) == 2
    assert await feed_store.count(GUILD) == counts(pending=1, sending=1, posted=1, expired=2)
    assert [p.award_key for p in await feed_store.pending(T0, LEASE)] == keys(2)
    assert await feed_store.claim(GUILD, keys(1, 4), "b", T0 + LEASE * 2, LEASE) == Claimed([], [])
    assert await feed_store.expire_older_than(cutoff) == 0


async def test_prune_deletes_old_posted_and_expired_rows_only(feed_store: FeedStore) -> None:
    old, new = T0 - timedelta(days=30), T0
    await queue(feed_store, post(1, at=old), post(2, at=old), post(3, at=old), now=old)
    await queue(feed_store, post(4), post(5), now=new)
    await feed_store.claim(GUILD, keys(1, 3, 4), "a", new, LEASE)
    await feed_store.posted(GUILD, keys(1, 4), 9, new)
    assert await feed_store.expire_older_than(T0 - timedelta(days=1)) == 1  # post 2
    assert await feed_store.count() == counts(pending=1, sending=1, posted=2, expired=1)
    assert await feed_store.prune(T0 - timedelta(days=7)) == 2  # posts 1 and 2
    assert await feed_store.count() == counts(pending=1, sending=1, posted=1)
    assert await feed_store.prune(T0 - timedelta(days=7)) == 0
    # A pruned award's key is free again: the cursor and `since` are what keep it out.
    await queue(feed_store, post(1, at=old), now=new)
    assert (await feed_store.count())["pending"] == 2


async def test_count_by_guild(feed_store: FeedStore) -> None:
    await queue(feed_store, post(1), post(2), post(1, OTHER_GUILD))
    await feed_store.claim(GUILD, keys(2), "a", T0, LEASE)
    assert await feed_store.count(GUILD) == counts(pending=1, sending=1)
    assert await feed_store.count(OTHER_GUILD) == counts(pending=1)
    assert await feed_store.count() == counts(pending=2, sending=1)
    assert await feed_store.count(333) == counts()
