"""A guild's news feed as stored, the poller's state, and the announcements queued between them.

The poller reads the site's awards once for every guild and queues one `NewPost` per guild and
award; the posters of each shard take the `QueuedPost`s of their guilds, claim them (`Claimed`),
send them and mark them posted. The store keeps each (guild, award) once, so nothing is
announced twice across restarts and processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.models.awards import AwardKind

AOTW = "aotw"  # the kind of a post for the Achievement of the Week (beside AwardKind's values)

# A queued announcement's status.
PENDING = "pending"  # waiting to be sent
SENDING = "sending"  # claimed by a poster (stale after its lease: that process died)
POSTED = "posted"
EXPIRED = "expired"  # waited longer than FEED_CATCHUP_HOURS: never sent
STATUSES = (PENDING, SENDING, POSTED, EXPIRED)


@dataclass(frozen=True)
class Feed:
    """One guild's feed: which of its linked members' awards are announced, and where."""

    guild_id: int
    channel_id: int
    masteries: bool  # mastered and completed
    beaten: bool  # beaten, hardcore or softcore
    aotw: bool
    hardcore_only: bool  # every kind, the AOTW included
    games: str | None  # None: every game; else the `games` option as typed (resolved per post)
    since: datetime  # when the feed was set: never an award earned before
    created_by: int
    last_post_at: datetime | None
    problem: str | None  # the last problem posting (None: the last post went out)
    problem_at: datetime | None

    def takes(self, kind: str, hardcore: bool) -> bool:
        """Whether this feed announces an award of `kind` (an AwardKind value or AOTW) earned
        in hardcore or not; the games filter is the caller's (it needs the set resolved)."""
        if self.hardcore_only and not hardcore:
            return False
        if kind == AOTW:
            return self.aotw
        if kind in (AwardKind.MASTERED, AwardKind.COMPLETED):
            return self.masteries
        if kind in (AwardKind.BEATEN_HARDCORE, AwardKind.BEATEN_SOFTCORE):
            return self.beaten
        return False


@dataclass(frozen=True)
class FeedState:
    """The poller's single row: how far it has read, and who polls now."""

    cursor_at: datetime | None  # the newest award time fully seen (None: never polled)
    cursor_keys: frozenset[str]  # the keys of the awards seen at exactly cursor_at
    aotw_key: str | None  # the last Achievement of the Week whose earners were queued
    polled_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None


@dataclass(frozen=True)
class NewPost:
    """An announcement to queue: one award (`award_key`) of one member in one guild."""

    guild_id: int
    award_key: str  # GameAward.key; for the AOTW, one key per week and earner
    user_id: int  # the Discord member
    kind: str  # an AwardKind value or AOTW
    at: datetime  # when the award was earned (UTC)
    data: dict[str, Any] = field(default_factory=dict)  # what the post shows (JSON)


@dataclass(frozen=True)
class QueuedPost:
    """An announcement waiting (or stale in a dead process's hands), as the store hands it out."""

    guild_id: int
    award_key: str
    user_id: int
    kind: str
    at: datetime
    data: dict[str, Any]
    status: str  # PENDING, or SENDING when its claim is stale
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class Claimed:
    """What one claim gave its owner, each list in key order: `new` keys were pending;
    `taken_over` ones were being sent by a process that died (the caller looks in the channel
    before sending them again)."""

    new: list[str]
    taken_over: list[str]

    @property
    def keys(self) -> list[str]:
        return [*self.new, *self.taken_over]
