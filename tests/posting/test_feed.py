"""The feed's poster on a real store (SQLite and PostgreSQL), with an in-memory channel standing
in for Discord and explicit times standing in for the clock: each award once, a summary for a
catch-up, crashes between the claim and the post, a channel gone, shards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.formatting.urls import SiteUrls
from bot.models.feeds import NewPost
from bot.models.members import LinkedMember
from bot.posting.feed import SUMMARY_AFTER, FeedPoster, marker
from bot.posting.once import ChannelGone
from bot.store import Store
from tests.fakes.fake_ra import fake_ulid
from tests.fakes.publisher import Crash, FakeChannel, FakePublisher

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
GUILD = 1000
ALICE, BOB = 11, 12


async def setup(store: Store, channel: FakeChannel, guild_id: int = GUILD) -> None:
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
        link = await store.links.set_link(user_id, fake_ulid(name), name)
        channel.members.append(LinkedMember(user_id, link, f"member {name}"))
    await store.feeds.set(
        guild_id, channel_id=guild_id + 1, masteries=True, beaten=True, aotw=True,
        hardcore_only=False, games=None, created_by=1, now=T0 - timedelta(days=1),
    )


def award(n: int, user_id: int = ALICE, guild_id: int = GUILD, at: datetime = T0) -> NewPost:
    name = "Alice" if user_id == ALICE else "Bob"
    return NewPost(
        guild_id=guild_id,
        award_key=f"{fake_ulid(name)}:{n}:mastered:{int(at.timestamp())}",
        user_id=user_id,
        kind="mastered",
        at=at,
        data={"ra_name": name, "ulid": fake_ulid(name), "game_id": n, "game_title": f"Game {n}",
              "console_id": 1, "console": "Genesis", "hardcore": True},
    )


async def queue(store: Store, *posts: NewPost) -> None:
    await store.feeds.advance(cursor_at=T0, posts=list(posts), now=T0)


def poster(store: Store, channel: FakeChannel, owner: str = "a", now: datetime = T0,
           **kw: object) -> FeedPoster:
    return FeedPoster(store.feeds, FakePublisher(channel), owner=owner, urls=SiteUrls(),
                      clock=lambda: now, **kw)  # type: ignore[arg-type]


async def test_each_award_is_posted_once(store: Store) -> None:
    channel = FakeChannel()
    await setup(store, channel)
    await queue(store, award(1), award(2, BOB))
    result = await poster(store, channel).run_once()
    assert (result.sent, result.announced, result.waiting) == (2, 2, 0)
    texts = [p.embed.to_dict() for p in channel.posts]
    assert "member Alice" in str(texts[0]) and "Game 1" in str(texts[0])
    assert "member Bob" in str(texts[1])
    assert (await poster(store, channel).run_once()).sent == 0  # nothing twice
    assert len(channel.posts) == 2
    assert await store.feeds.count(GUILD) == {"pending": 0, "sending": 0, "posted": 2,
                                              "expired": 0}
    feed = await store.feeds.get(GUILD)
    assert feed is not None and feed.last_post_at == T0


async def test_more_than_ten_waiting_go_as_one_summary_that_names_them(store: Store) -> None:
    channel = FakeChannel()
    await setup(store, channel)
    await queue(store, *(award(n) for n in range(SUMMARY_AFTER + 2)))
    result = await poster(store, channel).run_once()
    assert (result.sent, result.announced) == (1, SUMMARY_AFTER + 2)
    (post,) = channel.posts
    text = str(post.embed.to_dict())
    assert all(f"Game {n}" in text for n in range(SUMMARY_AFTER + 2))


async def test_a_crash_after_sending_is_found_again_not_doubled(store: Store) -> None:
    channel = FakeChannel(crash_after_send=True)
    await setup(store, channel)
    await queue(store, award(1))
    try:
        await poster(store, channel, "a").run_once()
    except Crash:
        pass
    assert len(channel.posts) == 1
    channel.crash_after_send = False
    # Within the lease, another process leaves it alone; after it, takes over and finds it.
    assert (await poster(store, channel, "b", T0 + timedelta(seconds=30)).run_once()).sent == 0
    later = await poster(store, channel, "b", T0 + timedelta(minutes=5)).run_once()
    assert (later.sent, later.announced) == (0, 1)
    assert len(channel.posts) == 1
    assert channel.posts[0].embed.footer.text == marker([award(1).award_key])


async def test_a_crash_before_sending_loses_nothing(store: Store) -> None:
    channel = FakeChannel(crash_before_send=True)
    await setup(store, channel)
    await queue(store, award(1))
    try:
        await poster(store, channel, "a").run_once()
    except Crash:
        pass
    channel.crash_before_send = False
    assert (await poster(store, channel, "b", T0 + timedelta(minutes=5)).run_once()).sent == 1
    assert len(channel.posts) == 1


async def test_a_channel_gone_is_the_feed_s_problem_and_its_posts_wait(store: Store) -> None:
    channel = FakeChannel(fail=ChannelGone("the channel was deleted"))
    await setup(store, channel)
    await queue(store, award(1), award(2))
    result = await poster(store, channel).run_once()
    assert (result.sent, result.waiting) == (0, 2)
    feed = await store.feeds.get(GUILD)
    assert feed is not None and feed.problem == "the channel was deleted"
    channel.fail = None
    assert (await poster(store, channel, now=T0 + timedelta(minutes=1)).run_once()).sent == 2
    feed = await store.feeds.get(GUILD)
    assert feed is not None and feed.problem is None


async def test_members_who_left_and_awards_past_the_catch_up_are_not_posted(
    store: Store,
) -> None:
    channel = FakeChannel()
    await setup(store, channel)
    channel.members = [m for m in channel.members if m.user_id != BOB]  # Bob left the server
    await queue(store, award(1, BOB), award(2, at=T0 - timedelta(hours=30)), award(3))
    result = await poster(store, channel, catchup_hours=24).run_once()
    assert (result.sent, result.waiting) == (1, 1)
    assert "Game 3" in str(channel.posts[0].embed.to_dict())
    assert (await store.feeds.count(GUILD))["expired"] == 1


async def test_a_process_posts_only_its_shards_guilds(store: Store) -> None:
    channel = FakeChannel()
    shard_one = (1 << 22) | 7  # (id >> 22) % 2 == 1
    await setup(store, channel, shard_one)
    await queue(store, award(1, guild_id=shard_one))
    assert (await poster(store, channel, shards=(2, (0,))).run_once()).sent == 0
    assert (await poster(store, channel, shards=(2, (1,))).run_once()).sent == 1
