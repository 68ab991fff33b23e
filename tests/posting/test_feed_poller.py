"""The feed's poller: which awards become which guild's announcements (pure), how far back a poll
reads RA's site-wide awards (the fake RA, real HTTP), and one poll end to end on a real store
(SQLite and PostgreSQL): queued once, across repeated polls, two pollers and RA failing."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.models.awards import AchievementOfTheWeek, AwardKind, AwardsPage, GameAward, WeekUnlock
from bot.models.feeds import AOTW, Feed, FeedState
from bot.models.members import Link
from bot.posting.feed_poller import (
    Audience,
    FeedPoller,
    aotw_posts,
    award_posts,
    read_new_awards,
)
from bot.ra.client import RAClient
from bot.ra.errors import RAError
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.store import Store
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA, fake_ulid
from tests.fakes.resolving import resolver

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
GUILD, OTHER = 1000, 2000
ALICE, BOB = 11, 12


def feed(guild_id: int = GUILD, **kw: object) -> Feed:
    values: dict[str, object] = {
        "guild_id": guild_id,
        "channel_id": guild_id + 1,
        "masteries": True,
        "beaten": True,
        "aotw": True,
        "hardcore_only": False,
        "games": None,
        "since": T0 - timedelta(days=1),
        "created_by": 1,
        "last_post_at": None,
        "problem": None,
        "problem_at": None,
    }
    values.update(kw)
    return Feed(**values)  # type: ignore[arg-type]


def link(user_id: int, name: str) -> Link:
    return Link(user_id, fake_ulid(name), name, T0 - timedelta(days=30))


def award(name: str, kind: AwardKind, at: datetime = T0, game_id: int = 1) -> GameAward:
    return GameAward(name, fake_ulid(name), kind, at, game_id, "Sonic", 1, "Genesis")


def audience(*feeds: Feed, **kw: object) -> Audience:
    values: dict[str, object] = {
        "feeds": {f.guild_id: f for f in feeds},
        "games": {f.guild_id: None for f in feeds},
        "links": [link(ALICE, "Alice"), link(BOB, "Bob")],
        "guilds": {ALICE: {GUILD, OTHER}, BOB: {GUILD}},
        "opted_out": set(),
    }
    values.update(kw)
    return Audience(**values)  # type: ignore[arg-type]


# -- which guild hears of which award ------------------------------------------------------------


def test_an_award_goes_to_every_guild_of_its_member_whose_feed_takes_it() -> None:
    posts = award_posts(
        [award("Alice", AwardKind.MASTERED), award("Carol", AwardKind.MASTERED)],
        audience(feed(GUILD), feed(OTHER), feed(3000)),
    )
    assert [(p.guild_id, p.user_id, p.kind) for p in posts] == [
        (GUILD, ALICE, "mastered"),
        (OTHER, ALICE, "mastered"),
    ]  # not guild 3000 (Alice is not known there), not Carol (not linked)
    assert posts[0].award_key == award("Alice", AwardKind.MASTERED).key
    assert posts[0].data["game_title"] == "Sonic" and posts[0].data["hardcore"] is True


def test_kinds_hardcore_only_and_the_moment_the_feed_was_set_decide() -> None:
    awards = [
        award("Bob", AwardKind.MASTERED),
        award("Bob", AwardKind.COMPLETED, game_id=2),
        award("Bob", AwardKind.BEATEN_HARDCORE, game_id=3),
        award("Bob", AwardKind.BEATEN_SOFTCORE, game_id=4),
        award("Bob", AwardKind.MASTERED, at=T0 - timedelta(days=2), game_id=5),  # before `since`
    ]

    def kinds(**settings: object) -> list[str]:
        return [p.kind for p in award_posts(awards, audience(feed(**settings)))]

    assert kinds() == ["mastered", "completed", "beaten-hardcore", "beaten-softcore"]
    assert kinds(beaten=False) == ["mastered", "completed"]
    assert kinds(masteries=False) == ["beaten-hardcore", "beaten-softcore"]
    assert kinds(hardcore_only=True) == ["mastered", "beaten-hardcore"]
    assert kinds(masteries=False, beaten=False) == []


def test_an_award_of_the_second_the_feed_was_set_counts() -> None:
    """RA writes whole seconds: a feed set at 12:00:00.6 takes an award of 12:00:00."""
    set_at = feed(since=T0 + timedelta(microseconds=600_000))
    assert len(award_posts([award("Alice", AwardKind.MASTERED, at=T0)], audience(set_at))) == 1
    before = award("Alice", AwardKind.MASTERED, at=T0 - timedelta(seconds=1))
    assert award_posts([before], audience(set_at)) == []


def test_the_games_filter_and_opting_out() -> None:
    awards = [
        award("Alice", AwardKind.MASTERED, game_id=1),
        award("Bob", AwardKind.MASTERED, game_id=2),
    ]
    only_two = audience(feed(), games={GUILD: frozenset({2})})
    assert [p.user_id for p in award_posts(awards, only_two)] == [BOB]
    nothing = audience(feed(), games={GUILD: frozenset()})  # a filter that names nothing now
    assert award_posts(awards, nothing) == []
    quiet = audience(feed(), opted_out={BOB})
    assert [p.user_id for p in award_posts(awards, quiet)] == [ALICE]


def test_a_renamed_account_is_matched_by_its_ulid() -> None:
    renamed = GameAward("Alicia", fake_ulid("Alice"), AwardKind.MASTERED, T0, 1, "S", 1, "G")
    (post,) = award_posts([renamed], audience(feed()))
    assert post.user_id == ALICE and post.data["ra_name"] == "Alicia"


def aotw(*unlocks: WeekUnlock) -> AchievementOfTheWeek:
    return AchievementOfTheWeek(
        5, "Chaos Emerald", "Collect one", 10, "/Badge/00005.png", 1, "Sonic", 1, "Genesis",
        T0 - timedelta(days=1), list(unlocks), len(unlocks), 0, 100,
    )


def test_the_week_s_earners_by_ulid_or_by_name_once_per_guild() -> None:
    week = aotw(
        WeekUnlock("Alice", fake_ulid("Alice"), True, T0),
        WeekUnlock("BOB", "", False, T0),  # an older server: no ULID, another case
        WeekUnlock("Carol", "", True, T0),  # not linked
    )
    posts = aotw_posts(week, audience(feed(GUILD), feed(OTHER)))
    assert [(p.guild_id, p.user_id, p.kind) for p in posts] == [
        (GUILD, ALICE, AOTW),
        (OTHER, ALICE, AOTW),
        (GUILD, BOB, AOTW),
    ]
    assert len({p.award_key for p in posts if p.user_id == ALICE}) == 1  # one key a week and earner
    assert posts[2].data["hardcore"] is False and posts[2].data["title"] == "Chaos Emerald"
    # hardcore_only applies to the AOTW; the games filter does not; opting out hides it.
    strict = audience(feed(hardcore_only=True, games="228"), games={GUILD: frozenset({228})})
    assert [p.user_id for p in aotw_posts(week, strict)] == [ALICE]
    assert aotw_posts(week, audience(feed(aotw=False))) == []
    assert [p.user_id for p in aotw_posts(week, audience(feed(), opted_out={ALICE}))] == [BOB]


# -- how far back a poll reads --------------------------------------------------------------------


@pytest_asyncio.fixture
async def client(fake_ra: FakeRA) -> AsyncIterator[RAClient]:
    async with aiohttp.ClientSession() as session:
        yield RAClient(
            RATransport(
                session,
                api_key=FAKE_RA_KEY,
                limiter=UpstreamLimiter(1000.0, 8),
                base_url=fake_ra.base_url,
                timeout=1.0,
                retry_budget=0.2,
                rng=random.Random(1),
            )
        )


def state(at: datetime | None, *keys: str) -> FeedState:
    return FeedState(at, frozenset(keys), None, None, None, None)


async def test_a_poll_pages_back_to_the_cursor_and_reads_each_award_once(
    fake_ra: FakeRA, client: RAClient
) -> None:
    old = fake_ra.add_site_awards(5, T0 - timedelta(hours=1), every_seconds=1)
    first = await read_new_awards(client, state(None), T0 - timedelta(days=1))
    assert first.awards == [] and first.pages == 1  # the first poll starts from now
    assert first.cursor_at == max(a.at for a in old)
    fake_ra.add_site_awards(250, T0, every_seconds=1)
    floor = T0 - timedelta(days=1)
    new = await read_new_awards(client, state(first.cursor_at, *first.cursor_keys), floor)
    assert len(new.awards) == 250 and new.pages == 3
    assert len({a.key for a in new.awards}) == 250
    assert new.cursor_at == max(a.at for a in new.awards)
    again = await read_new_awards(client, state(new.cursor_at, *new.cursor_keys), floor)
    assert again.awards == [] and again.pages == 1 and again.cursor_at == new.cursor_at


async def test_awards_arriving_between_two_pages_shift_the_offsets_but_none_is_lost_or_doubled(
    fake_ra: FakeRA, client: RAClient
) -> None:
    """RA's offsets count from the newest award: 30 awards arriving after the first page push
    the first page's last 30 into the second. Read by key, each counts once."""
    before = fake_ra.add_site_awards(180, T0 - timedelta(minutes=30), every_seconds=1)
    asked = client.get_recent_game_awards

    async def busy_site(**kw: Any) -> AwardsPage:
        page = await asked(**kw)
        if kw.get("offset") == 0:
            fake_ra.add_site_awards(30, T0, every_seconds=1)
        return page

    client.get_recent_game_awards = busy_site  # type: ignore[method-assign]
    read = await read_new_awards(client, state(T0 - timedelta(hours=1)), T0 - timedelta(days=1))
    assert sorted(a.key for a in read.awards) == sorted(
        GameAward(a.user, a.ulid, AwardKind(a.kind), a.at, a.game_id, a.title, a.console_id,
                  a.console).key
        for a in before
    )  # the 30 newcomers wait for the next poll, which reads from the new cursor
    assert read.pages == 3  # 210 awards on the site by then


async def test_awards_sharing_the_cursor_s_second_are_read_once_each(
    fake_ra: FakeRA, client: RAClient
) -> None:
    fake_ra.add_award("Alice", 1, "mastered", at=T0)
    seen = await read_new_awards(client, state(T0 - timedelta(hours=1)), T0 - timedelta(days=1))
    assert [a.user for a in seen.awards] == ["Alice"] and seen.cursor_at == T0
    fake_ra.add_award("Bob", 1, "mastered", at=T0)  # the same second, after the poll
    later = await read_new_awards(
        client, state(seen.cursor_at, *seen.cursor_keys), T0 - timedelta(days=1)
    )
    assert [a.user for a in later.awards] == ["Bob"]
    assert later.cursor_keys == seen.cursor_keys | {later.awards[0].key}


async def test_awards_older_than_the_catch_up_are_not_read(
    fake_ra: FakeRA, client: RAClient
) -> None:
    fake_ra.add_site_awards(150, T0 - timedelta(hours=30), every_seconds=60)  # 30 h to 27.5 h ago
    fake_ra.add_award("Alice", 1, "mastered", at=T0)
    read = await read_new_awards(client, state(T0 - timedelta(days=3)), T0 - timedelta(hours=24))
    assert [a.user for a in read.awards] == ["Alice"] and read.pages == 1


async def test_on_a_site_with_no_award_yet_the_feed_starts_from_now(
    fake_ra: FakeRA, client: RAClient
) -> None:
    first = await read_new_awards(client, state(None), T0 - timedelta(days=1), now=T0)
    assert first.cursor_at == T0 and first.awards == []
    fake_ra.add_award("Alice", 1, "mastered", at=T0 + timedelta(seconds=5))
    later = await read_new_awards(client, state(first.cursor_at), T0 - timedelta(days=1), now=T0)
    assert [a.user for a in later.awards] == ["Alice"]


async def test_a_page_that_fails_returns_nothing(fake_ra: FakeRA, client: RAClient) -> None:
    fake_ra.add_site_awards(150, T0, every_seconds=1)
    fake_ra.fail_always(FakeFault("status", status=503), endpoint="API_GetRecentGameAwards")
    with pytest.raises(RAError):
        await read_new_awards(client, state(T0 - timedelta(hours=1)), T0 - timedelta(days=1))


# -- one poll on a real store ---------------------------------------------------------------------


def poller(store: Store, client: RAClient, owner: str = "a", now: datetime = T0) -> FeedPoller:
    return FeedPoller(
        client, store.feeds, store.links, resolver(), owner=owner, clock=lambda: now
    )


async def members(store: Store) -> None:
    await store.links.set_link(ALICE, fake_ulid("Alice"), "Alice")
    await store.links.set_link(BOB, fake_ulid("Bob"), "Bob")
    await store.links.mark_seen(GUILD, [ALICE, BOB])
    await store.feeds.set(
        GUILD, channel_id=GUILD + 1, masteries=True, beaten=False, aotw=True,
        hardcore_only=False, games=None, created_by=1, now=T0 - timedelta(hours=2),
    )


async def test_no_feed_no_request(store: Store, fake_ra: FakeRA, client: RAClient) -> None:
    assert await poller(store, client).poll() == 0
    assert fake_ra.calls() == []


async def test_a_poll_queues_each_member_award_once_for_the_guild(
    store: Store, fake_ra: FakeRA, client: RAClient
) -> None:
    await members(store)
    fake_ra.clear_aotw()
    fake_ra.add_site_awards(3, T0 - timedelta(hours=1), every_seconds=1)
    assert await poller(store, client).poll() == 0  # the first poll: from now on
    fake_ra.add_site_awards(120, T0 - timedelta(minutes=30), every_seconds=1)
    fake_ra.add_award("Alice", 1, "mastered", at=T0 - timedelta(minutes=20))
    fake_ra.add_award("Bob", 1, "beaten-hardcore", at=T0 - timedelta(minutes=10))  # not taken
    fake_ra.add_award("Bob", 228, "completed", at=T0 - timedelta(minutes=5))
    assert await poller(store, client).poll() == 2
    queued = await store.feeds.pending(T0, timedelta(minutes=1))
    assert [(p.user_id, p.kind, p.data["game_id"]) for p in queued] == [
        (ALICE, "mastered", 1),
        (BOB, "completed", 228),
    ]
    again = poller(store, client)
    assert await again.poll() == 0  # read again: nothing new, nothing twice
    assert again.requests_last_hour() == 2  # one page of awards, the AOTW
    assert await store.feeds.count(GUILD) == {"pending": 2, "sending": 0, "posted": 0, "expired": 0}


async def test_a_failing_page_loses_nothing_and_the_next_poll_reads_it(
    store: Store, fake_ra: FakeRA, client: RAClient
) -> None:
    await members(store)
    fake_ra.clear_aotw()
    fake_ra.add_site_awards(1, T0 - timedelta(hours=1))
    await poller(store, client).poll()
    cursor = (await store.feeds.state()).cursor_at
    assert cursor == T0 - timedelta(hours=1)
    fake_ra.add_award("Alice", 1, "mastered", at=T0 - timedelta(minutes=1))
    fake_ra.fail_always(FakeFault("status", status=503), endpoint="API_GetRecentGameAwards")
    assert await poller(store, client).poll() is None
    assert (await store.feeds.state()).cursor_at == cursor
    fake_ra.fail_always(None, endpoint="API_GetRecentGameAwards")
    assert await poller(store, client).poll() == 1


async def test_one_poller_at_a_time_and_the_week_s_earners_once(
    store: Store, second_store: Store, fake_ra: FakeRA, client: RAClient
) -> None:
    await members(store)
    fake_ra.set_aotw(5, "Chaos Emerald", game_id=1, starts_at=T0 - timedelta(days=1))
    fake_ra.add_aotw_unlock("Bob", hardcore=False, at=T0 - timedelta(minutes=3))
    first, second = poller(store, client, "a"), poller(second_store, client, "b")
    assert await first.poll() == 1  # Bob's AOTW
    assert await second.poll() is None  # a's lease holds
    await first.release()  # a clean shutdown gives it back
    assert await second.poll() == 0
    await second.release()
    assert await first.poll() == 0  # the same earner is not queued again
    (post,) = await store.feeds.pending(T0, timedelta(minutes=1))
    assert (post.user_id, post.kind, post.data["title"]) == (BOB, AOTW, "Chaos Emerald")
