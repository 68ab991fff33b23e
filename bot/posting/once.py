"""The steps that make a due post go out exactly once: scheduled boards and challenges alike.

A post is claimed for its period (bot.store.post_claims: one process at a time, under a lease),
looked for in the channel when the claim is taken over from a process that died holding it,
sent with a nonce (so Discord drops a resend), and marked posted. A channel that is gone pauses
the item; a post Discord refused is tried again later. What differs by kind (what the post
shows, where the item goes next) the caller passes in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import discord

from bot.store.post_claims import POSTED

if TYPE_CHECKING:
    from bot.models.members import LinkedMember

# How long a claim is ours: a post takes seconds; past this, another process may take over.
LEASE = timedelta(seconds=90)

Record = Callable[[int], Awaitable[None]]  # marks the period posted as this message


class ChannelGone(Exception):
    """Posting is impossible until someone acts (channel deleted, permission lost)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PostFailed(Exception):
    """Posting failed this time (Discord 5xx, a timeout): try again later in the period."""


class Publisher(Protocol):
    """Where boards go: Discord in production, an in-memory channel in unit tests."""

    async def members(self, guild_id: int) -> list[LinkedMember]: ...

    async def member_names(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, str]:
        """The display names of these users in the guild; users who left are left out."""
        ...

    async def send(
        self,
        guild_id: int,
        channel_id: int,
        embed: discord.Embed,
        nonce: str,
        edit: int | None,
        image: bytes | None = None,
    ) -> int:
        """Post (or edit) `embed`; `image`, a PNG, goes with it and the embed shows it."""
        ...

    async def find_post(self, guild_id: int, channel_id: int, marker: str) -> int | None: ...


class PostingStore(Protocol):
    """What a store of due items (schedules, challenges) offers for their posts."""

    async def claim(
        self, item_id: int, period: datetime, owner: str, now: datetime, lease: timedelta
    ) -> str | None: ...

    async def post_status(self, item_id: int, period: datetime) -> str | None: ...

    async def release(self, item_id: int, period: datetime, owner: str) -> None: ...

    async def reschedule(
        self, item_id: int, *, run_at: datetime, result: str | None = None
    ) -> None: ...

    async def pause(self, item_id: int, reason: str) -> None: ...


@dataclass(frozen=True)
class Due:
    """One period's post of one item, and what identifies it in the channel."""

    item_id: int
    guild_id: int
    channel_id: int
    period: datetime
    marker: str  # the embed's footer: how a post is found again after a crash
    nonce: str  # Discord drops a second message with the same nonce


class PostOnce:
    """The claim, the look for a post a dead process made, the send and what failures do."""

    def __init__(self, store: PostingStore, publisher: Publisher, owner: str) -> None:
        self.store = store
        self.publisher = publisher
        self.owner = owner

    async def claim(
        self,
        due: Due,
        now: datetime,
        *,
        advance: Callable[[], Awaitable[None]],
        recovered: Record,
    ) -> str | None:
        """Claim the period. None: it is ours, build the post. Otherwise what happened:
        "skipped" (posted already: `advance` moves the item on), "busy" (another process holds
        it: looked at again once its lease ends), "recovered" (a process that died after posting
        it held the claim: `recovered` marks the post found)."""
        claim = await self.store.claim(due.item_id, due.period, self.owner, now, LEASE)
        if claim is None:
            if await self.store.post_status(due.item_id, due.period) == POSTED:
                await advance()
                return "skipped"
            await self.store.reschedule(due.item_id, run_at=now + LEASE)
            return "busy"
        if claim == "takeover":
            found = await self._find_post(due)
            if found is not None:
                await recovered(found)
                return "recovered"
        return None

    async def send(
        self,
        due: Due,
        now: datetime,
        embed: discord.Embed,
        image: bytes | None,
        *,
        edit: int | None,
        retry_in: timedelta,
        posted: Record,
    ) -> str | None:
        """Send the post (or edit message `edit`). None: sent, and `posted` marked it; else
        "paused" (the channel is gone) or "retry" (Discord refused it: tried in `retry_in`)."""
        try:
            message_id = await self.publisher.send(
                due.guild_id, due.channel_id, embed, due.nonce, edit, image=image
            )
        except ChannelGone as exc:
            return await self.pause(due, exc.reason)
        except PostFailed as exc:
            await self.store.release(due.item_id, due.period, self.owner)
            await self.store.reschedule(
                due.item_id,
                run_at=now + retry_in,
                result=f"Discord refused the post ({exc}): retrying",
            )
            return "retry"
        await posted(message_id)
        return None

    async def pause(self, due: Due, reason: str) -> str:
        """Give the claim back and pause the item, saying why: "paused"."""
        await self.store.release(due.item_id, due.period, self.owner)
        await self.store.pause(due.item_id, reason)
        return "paused"

    async def release(self, due: Due) -> None:
        await self.store.release(due.item_id, due.period, self.owner)

    async def _find_post(self, due: Due) -> int | None:
        try:
            return await self.publisher.find_post(due.guild_id, due.channel_id, due.marker)
        except (ChannelGone, PostFailed):
            return None
