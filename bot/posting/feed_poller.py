"""The news feed's poller: one for the whole bot, whatever the number of guilds.

Each poll reads the site's awards newest first (API_GetRecentGameAwards, 100 a page) and pages
back until it reaches the awards it has already seen (the cursor: the newest award time fully
read, and the keys of the awards at exactly that time, since awards share timestamps), or the
oldest it may still announce (FEED_CATCHUP_HOURS). New awards arriving between two pages shift
the offsets, so a page may repeat the end of the one before: awards are kept by key, once. A page
that fails stops the poll before anything is written: the next poll reads again from the same
cursor, so nothing is lost. The Achievement of the Week is one more request.

The awards of linked members then become one announcement per guild whose feed takes them
(`feed_posts`), queued in the same transaction that moves the cursor: a crash loses neither, and a
repeated poll (or a second process's) never queues one twice. With several processes, a lease
lets one poll at a time. Sending the queued posts (a poster per shard, through once.py's steps)
is bot/posting/feed.py's. While no guild has a feed, RA is not asked at all.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import UserFacingError
from bot.models.awards import AchievementOfTheWeek, GameAward
from bot.models.feeds import AOTW, Feed, FeedState, NewPost
from bot.models.members import Link
from bot.ra.client import AWARDS_PAGE, RAClient
from bot.ra.errors import RAError
from bot.ra.limiter import Priority
from bot.services.resolver import GameResolver
from bot.store.feeds import FeedStore
from bot.store.links import LinkStore

log = logging.getLogger(__name__)

MAX_PAGES = 500  # one poll reads at most this many pages (50,000 awards) before it moves on


@dataclass(frozen=True)
class Audience:
    """Who may hear of the awards of one poll, read once for all of them."""

    feeds: dict[int, Feed]  # by guild
    games: dict[int, frozenset[int] | None]  # a guild's games filter (None: every game)
    links: Sequence[Link]  # the links to the accounts that earned something
    guilds: dict[int, set[int]]  # the guilds each linked user is known in
    opted_out: set[int]  # users announced nowhere

    def listeners(self, link: Link, at: datetime) -> Iterable[Feed]:
        """The feeds that may announce this member's award earned at `at`."""
        if link.discord_user_id in self.opted_out:
            return
        for guild_id in sorted(self.guilds.get(link.discord_user_id, ())):
            feed = self.feeds.get(guild_id)
            # RA's times are whole seconds: an award of the second the feed was set counts.
            if feed is not None and at >= feed.since.replace(microsecond=0):
                yield feed


def award_posts(awards: Iterable[GameAward], audience: Audience) -> list[NewPost]:
    """One announcement per (guild, award) that a feed takes: its member known in the guild,
    not opted out, the kind and mode wanted, the game in the guild's filter."""
    by_ulid: dict[str, list[Link]] = {}
    for link in audience.links:
        by_ulid.setdefault(link.ra_ulid, []).append(link)
    posts = []
    for award in awards:
        for link in by_ulid.get(award.ulid, []):
            for feed in audience.listeners(link, award.at):
                if not feed.takes(award.kind.value, award.kind.hardcore):
                    continue
                games = audience.games.get(feed.guild_id)
                if games is not None and award.game_id not in games:
                    continue
                posts.append(
                    NewPost(
                        guild_id=feed.guild_id,
                        award_key=award.key,
                        user_id=link.discord_user_id,
                        kind=award.kind.value,
                        at=award.at,
                        data={
                            "ra_name": award.user,
                            "ulid": award.ulid,
                            "game_id": award.game_id,
                            "game_title": award.game_title,
                            "console_id": award.console_id,
                            "console": award.console,
                            "hardcore": award.kind.hardcore,
                        },
                    )
                )
    return posts


def aotw_posts(aotw: AchievementOfTheWeek, audience: Audience) -> list[NewPost]:
    """The week's earners among linked members, once per guild whose feed takes the AOTW (the
    games filter does not apply: the site picks the game). Earners without a ULID (older
    servers) are matched by name, ignoring case."""
    by_ulid = {link.ra_ulid: link for link in audience.links}
    by_name = {link.ra_name.casefold(): link for link in audience.links}
    posts = []
    for unlock in aotw.unlocks:
        link = by_ulid.get(unlock.ulid) if unlock.ulid else by_name.get(unlock.user.casefold())
        if link is None:
            continue
        for feed in audience.listeners(link, unlock.at):
            if not feed.takes(AOTW, unlock.hardcore):
                continue
            posts.append(
                NewPost(
                    guild_id=feed.guild_id,
                    award_key=f"{aotw.key}:{link.ra_ulid}",
                    user_id=link.discord_user_id,
                    kind=AOTW,
                    at=unlock.at,
                    data={
                        "ra_name": unlock.user,
                        "ulid": link.ra_ulid,
                        "hardcore": unlock.hardcore,
                        "achievement_id": aotw.achievement_id,
                        "title": aotw.title,
                        "description": aotw.description,
                        "points": aotw.points,
                        "badge_url": aotw.badge_url,
                        "game_id": aotw.game_id,
                        "game_title": aotw.game_title,
                        "console_id": aotw.console_id,
                        "console": aotw.console,
                    },
                )
            )
    return posts


@dataclass(frozen=True)
class NewAwards:
    awards: list[GameAward]  # newest first, each once
    cursor_at: datetime | None
    cursor_keys: frozenset[str]
    pages: int


async def read_new_awards(
    client: RAClient,
    state: FeedState,
    floor: datetime,
    *,
    now: datetime | None = None,
    max_pages: int = MAX_PAGES,
) -> NewAwards:
    """The awards newer than the cursor (and not older than `floor`), paging back from the
    newest. A first poll (no cursor) reads one page: the feed starts from its newest award, or
    from `now` on a site with none yet. RAError if a page fails: nothing is returned, so nothing
    of a half-read poll is written."""
    seen_at, seen_keys = state.cursor_at, state.cursor_keys
    found: dict[str, GameAward] = {}
    pages = 0
    while pages < max_pages:
        page = await client.get_recent_game_awards(
            offset=pages * AWARDS_PAGE, count=AWARDS_PAGE, priority=Priority.SCHEDULED
        )
        pages += 1
        if seen_at is None:  # a first poll: the feed starts from the newest award
            break
        reached = False
        for award in page.awards:
            if award.at < seen_at or (award.at == seen_at and award.key in seen_keys):
                reached = True
            elif award.at < floor:
                reached = True
            else:
                found.setdefault(award.key, award)
        if reached or len(page.awards) < AWARDS_PAGE:
            break
    else:
        log.warning("feed: %d pages of new awards in one poll: the rest wait", max_pages)
    awards = sorted(found.values(), key=lambda a: a.at, reverse=True)
    newest = max((a.at for a in awards), default=None)
    if newest is None:
        if seen_at is None and page.awards:  # a first poll: start from the newest award
            newest = max(a.at for a in page.awards)
            keys = frozenset(a.key for a in page.awards if a.at == newest)
            return NewAwards([], newest, keys, pages)
        if seen_at is None and now is not None:  # a site with no award yet: from now on
            return NewAwards([], now.replace(microsecond=0), frozenset(), pages)
        return NewAwards([], seen_at, seen_keys, pages)
    keys = frozenset(a.key for a in awards if a.at == newest)
    if newest == seen_at:
        keys |= seen_keys
    return NewAwards(awards, newest, keys, pages)


class FeedPoller:
    """Polls RA for the site's awards and queues the announcements of every guild's feed."""

    def __init__(
        self,
        client: RAClient,
        feeds: FeedStore,
        links: LinkStore,
        resolver: GameResolver,
        *,
        owner: str,
        poll_seconds: float = 60.0,
        catchup_hours: float = 24.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.feeds = feeds
        self.links = links
        self.resolver = resolver
        self.owner = owner
        self.poll_seconds = poll_seconds
        self.catchup = timedelta(hours=catchup_hours)
        self.clock = clock
        self._asked: deque[datetime] = deque()  # when each of its RA requests was made

    async def release(self) -> None:
        """Give the poller's lease back (a clean shutdown): a restarted process, or another one,
        polls at its next round instead of waiting for the lease to run out."""
        await self.feeds.release_lease(self.owner)

    def requests_last_hour(self) -> int:
        """What the feed costs: its RA requests in the last hour (for /feed show and /status)."""
        hour_ago = self.clock() - timedelta(hours=1)
        while self._asked and self._asked[0] < hour_ago:
            self._asked.popleft()
        return len(self._asked)

    async def poll(self) -> int | None:
        """One poll; the number of announcements queued, or None when another process holds
        the poller's lease or RA did not answer (the next poll reads from the same cursor)."""
        now = self.clock()
        feeds = {feed.guild_id: feed for feed in await self.feeds.all()}
        if not feeds:
            return 0  # no guild has a feed: RA is not asked
        lease = timedelta(seconds=max(30.0, 3 * self.poll_seconds))
        if not await self.feeds.claim_lease(self.owner, now, now + lease):
            return None
        state = await self.feeds.state()
        try:
            new = await read_new_awards(self.client, state, now - self.catchup, now=now)
            self._asked.extend([now] * new.pages)
            self._asked.append(now)
            aotw = await self.client.get_achievement_of_the_week()
        except RAError as exc:
            log.warning("feed poll: RA did not answer (%s); trying again next poll", exc)
            return None
        audience = await self._audience(feeds, new.awards, aotw)
        posts = award_posts(new.awards, audience)
        if aotw is not None:
            posts += aotw_posts(aotw, audience)
        return await self.feeds.advance(
            cursor_at=new.cursor_at,
            cursor_keys=new.cursor_keys,
            posts=posts,
            aotw_key=aotw.key if aotw is not None else None,
            now=now,
        )

    async def _audience(
        self,
        feeds: dict[int, Feed],
        awards: Sequence[GameAward],
        aotw: AchievementOfTheWeek | None,
    ) -> Audience:
        unlocks = aotw.unlocks if aotw is not None else []
        links = await self.links.linked_accounts(
            ulids=[a.ulid for a in awards if a.ulid] + [u.ulid for u in unlocks if u.ulid],
            names=[u.user for u in unlocks if not u.ulid],
        )
        users = [link.discord_user_id for link in links]
        guilds = await self.links.guilds_of(users)
        opted_out = await self.feeds.opted_out(users)
        games: dict[int, frozenset[int] | None] = {}
        for guild_id, feed in feeds.items():
            games[guild_id] = await self._games_of(feed)
        return Audience(feeds, games, links, guilds, opted_out)

    async def _games_of(self, feed: Feed) -> frozenset[int] | None:
        """The feed's games filter as it reads now (a set's later changes count); a filter that
        no longer names anything (a deleted set) takes nothing, and says so."""
        if feed.games is None:
            return None
        try:
            resolved = await self.resolver.resolve(feed.guild_id, feed.games)
        except UserFacingError as exc:
            log.info("feed of %s: its games filter reads as nothing (%s)", feed.guild_id, exc)
            return frozenset()
        return frozenset(resolved.game_ids)
