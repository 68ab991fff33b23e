"""Discord as the posters see it (bot.posting.once.Publisher): an in-memory channel with nonce
de-duplication, edits, failures and crashes at chosen points."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

import discord

from bot.models.members import LinkedMember
from bot.posting.once import PostFailed


class Crash(BaseException):
    """The process dies here (nothing in the scheduler catches it)."""


@dataclass
class Post:
    id: int
    embed: discord.Embed
    nonce: str


@dataclass
class FakeChannel:
    """Discord as the scheduler sees it: posts with nonce de-duplication, edits, failures."""

    members: list[LinkedMember] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    edits: list[int] = field(default_factory=list)
    fail: Exception | None = None
    crash_after_send: bool = False
    crash_before_send: bool = False
    history_readable: bool = True
    send_delay: float = 0.0
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 5000


class FakePublisher:
    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel

    async def members(self, guild_id: int) -> list[LinkedMember]:
        return list(self.channel.members)

    async def member_names(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, str]:
        wanted = set(user_ids)
        return {m.user_id: m.display_name for m in self.channel.members if m.user_id in wanted}

    async def send(
        self, guild_id: int, channel_id: int, embed: discord.Embed, nonce: str, edit: int | None,
        image: bytes | None = None,
    ) -> int:
        ch = self.channel
        if ch.crash_before_send:
            raise Crash
        if ch.fail is not None:
            raise ch.fail
        await asyncio.sleep(ch.send_delay)
        if edit is not None and any(p.id == edit for p in ch.posts):
            ch.edits.append(edit)
            return edit
        existing = next((p for p in ch.posts if p.nonce == nonce), None)
        if existing is None:
            ch._ids += 1
            existing = Post(ch._ids, embed, nonce)
            ch.posts.append(existing)
            ch.sent.set()
        if ch.crash_after_send:
            raise Crash
        return existing.id

    async def find_post(self, guild_id: int, channel_id: int, marker: str) -> int | None:
        if not self.channel.history_readable:
            raise PostFailed("403")
        for post in reversed(self.channel.posts):
            if post.embed.footer.text == marker:
                return post.id
        return None
