"""Who belongs to a guild, learned without the privileged members intent.

A user belongs to a guild's boards once they used the bot there (any command: the interaction
carries the member) and have a linked RA account. Departures cannot be seen without the members
intent, so membership is checked lazily: when a board is built, members not confirmed in the last
VERIFY_SECONDS are looked up by id over the gateway (Request Guild Members with user ids, which
needs no privileged intent, 100 ids a request); those Discord does not return have left and are
forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
import discord

from bot.models.members import LinkedMember
from bot.services.cache import TTLCache
from bot.store.links import LinkStore

log = logging.getLogger(__name__)

SEEN_WRITE_SECONDS = 3600.0  # write "seen" at most this often per (guild, user)
SEEN_MEMORY = 10_000  # (guild, user) pairs remembered before old ones are dropped
VERIFY_SECONDS = 600.0  # trust a confirmed membership this long
CONFIRMED_MEMORY = 20_000  # confirmed (guild, member) pairs kept; past it the oldest go
QUERY_CHUNK = 100


class Members:
    def __init__(
        self,
        links: LinkStore,
        clock: Callable[[], float] = time.monotonic,
        *,
        confirmed_memory: int = CONFIRMED_MEMORY,
    ) -> None:
        self.links = links
        self._clock = clock
        self._seen: dict[tuple[int, int], float] = {}
        # Members Discord confirmed lately (a Member is a few KB): expired ones go as new ones
        # come, and never more than `confirmed_memory`, however many guilds ask.
        self._confirmed: TTLCache[tuple[int, int], discord.Member] = TTLCache(
            VERIFY_SECONDS, confirmed_memory, clock
        )
        self._writes: set[asyncio.Task[None]] = set()

    def note(self, guild_id: int, user_id: int) -> None:
        """`user_id` just used the bot in `guild_id`: remember it, without delaying the reply."""
        now = self._clock()
        last = self._seen.get((guild_id, user_id))
        if last is not None and now - last < SEEN_WRITE_SECONDS:
            return
        self._seen[(guild_id, user_id)] = now
        if len(self._seen) > SEEN_MEMORY:
            # Keep the newest half (a user forgotten is only written again on their next use).
            newest = sorted(self._seen.items(), key=lambda item: item[1])[-(SEEN_MEMORY // 2) :]
            self._seen = {k: t for k, t in newest if now - t < SEEN_WRITE_SECONDS}
        task = asyncio.create_task(self._write_seen(guild_id, user_id))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_seen(self, guild_id: int, user_id: int) -> None:
        try:
            await self.links.mark_seen(guild_id, [user_id])
        except Exception:
            self._seen.pop((guild_id, user_id), None)
            log.warning("could not record that %s uses the bot in %s", user_id, guild_id)

    async def flush(self) -> None:
        """Wait for pending "seen" writes (shutdown, tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def present(
        self, guild: discord.Guild, user_ids: Iterable[int]
    ) -> dict[int, discord.Member]:
        """The members of `guild` among `user_ids` (absent ids have left or never joined).

        Raises TimeoutError if Discord does not answer: callers must not drop members on a guess.
        """
        ids = list(dict.fromkeys(user_ids))
        found: dict[int, discord.Member] = {}
        unknown: list[int] = []
        for uid in ids:
            confirmed = self._confirmed.get((guild.id, uid))
            if confirmed is not None:
                found[uid] = confirmed
            else:
                unknown.append(uid)
        for start in range(0, len(unknown), QUERY_CHUNK):
            chunk = unknown[start : start + QUERY_CHUNK]
            try:
                members = await guild.query_members(
                    user_ids=chunk, limit=len(chunk), cache=False
                )
            except (aiohttp.ClientError, ConnectionError, discord.ClientException):
                # The gateway dropped under the look-up (it reconnects by itself): to callers
                # that is Discord not answering in time, as for a look-up that times out.
                raise TimeoutError(
                    "the gateway connection dropped during a member look-up"
                ) from None
            for member in members:
                found[member.id] = member
                self._confirmed.set((guild.id, member.id), member)
        return found

    async def names(self, guild: discord.Guild, user_ids: Iterable[int]) -> dict[int, str]:
        """The display names of these users in `guild`, for a post about a few of them (the
        feed): members confirmed lately from memory, the others asked one by one over REST,
        which a burst across many guilds gets through faster than the gateway's member queries
        (about 110 a minute a shard). Users who left are forgotten and left out; when Discord
        does not answer, a user is kept, named by nothing (the caller names them otherwise)."""
        names: dict[int, str] = {}
        gone: list[int] = []
        for uid in dict.fromkeys(user_ids):
            member = self._confirmed.get((guild.id, uid))
            if member is None:
                try:
                    member = await guild.fetch_member(uid)
                except discord.NotFound:
                    gone.append(uid)
                    continue
                except (discord.HTTPException, aiohttp.ClientError, TimeoutError):
                    names[uid] = ""
                    continue
                self._confirmed.set((guild.id, uid), member)
            names[uid] = member.display_name
        if gone:
            await self.links.forget_members(guild.id, gone)
        return names

    async def linked_in(self, guild: discord.Guild) -> list[LinkedMember]:
        """Every linked member of `guild`; those who left are forgotten on the way."""
        rows = await self.links.linked_members(guild.id)
        links = [link for link, _seen in rows]
        try:
            present = await self.present(guild, [link.discord_user_id for link in links])
        except (TimeoutError, discord.HTTPException, discord.ClientException):
            log.warning("member look-up failed in %s: using the stored list as is", guild.id)
            return [LinkedMember(link.discord_user_id, link, link.ra_name) for link in links]
        gone = [link.discord_user_id for link in links if link.discord_user_id not in present]
        if gone:
            await self.links.forget_members(guild.id, gone)
            for uid in gone:
                self._seen.pop((guild.id, uid), None)
        return [
            LinkedMember(link.discord_user_id, link, present[link.discord_user_id].display_name)
            for link in links
            if link.discord_user_id in present
        ]
