"""Members: memberships Discord confirmed are trusted for VERIFY_SECONDS, then asked again, and
however many guilds ask, no more than `confirmed_memory` of them are kept."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import discord

from bot.services.members import VERIFY_SECONDS, Members
from bot.store.links import LinkStore


class Guild:
    """What Members asks of a discord.Guild: its id and Request Guild Members by user ids."""

    def __init__(self, guild_id: int, members: set[int]) -> None:
        self.id = guild_id
        self.members = members
        self.asked: list[list[int]] = []
        self.fetched: list[int] = []

    async def fetch_member(self, uid: int) -> Any:
        """REST's Get Guild Member, one user."""
        self.fetched.append(uid)
        if uid not in self.members:
            gone = SimpleNamespace(status=404, reason="Not Found")
            raise discord.NotFound(cast(Any, gone), "Unknown Member")
        return SimpleNamespace(id=uid, display_name=f"m{uid}")

    async def query_members(self, *, user_ids: list[int], limit: int, cache: bool) -> list[Any]:
        assert not cache and limit == len(user_ids) <= 100
        self.asked.append(list(user_ids))
        return [SimpleNamespace(id=uid, display_name=f"m{uid}") for uid in user_ids
                if uid in self.members]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def members(clock: Clock, **kw: Any) -> Members:
    return Members(cast(LinkStore, None), clock, **kw)  # present() never touches the store


async def test_a_confirmed_member_is_trusted_until_verify_seconds_then_asked_again() -> None:
    clock = Clock()
    service = members(clock)
    guild = Guild(1, {10, 11})
    found = await service.present(guild, [10, 11, 12])  # type: ignore[arg-type]
    assert sorted(found) == [10, 11]
    assert guild.asked == [[10, 11, 12]]

    clock.now += VERIFY_SECONDS - 1
    assert sorted(await service.present(guild, [10, 11])) == [10, 11]  # type: ignore[arg-type]
    assert len(guild.asked) == 1  # trusted: Discord not asked

    guild.members.discard(11)  # left meanwhile
    clock.now += 2
    assert sorted(await service.present(guild, [10, 11])) == [10]  # type: ignore[arg-type]
    assert guild.asked[1:] == [[10, 11]]


async def test_confirmed_members_are_bounded_however_many_guilds_ask() -> None:
    clock = Clock()
    service = members(clock, confirmed_memory=250)
    for guild_id in range(20):
        guild = Guild(guild_id, set(range(100)))
        assert len(await service.present(guild, range(100))) == 100  # type: ignore[arg-type]
    assert len(service._confirmed) == 250  # 2,000 confirmed, the newest 250 kept
    newest = Guild(19, set(range(100)))
    await service.present(newest, range(100))  # type: ignore[arg-type]
    assert newest.asked == []  # the newest guild's are still trusted
    oldest = Guild(0, set(range(100)))
    await service.present(oldest, range(100))  # type: ignore[arg-type]
    assert oldest.asked == [list(range(100))]


class ForgetfulLinks:
    def __init__(self) -> None:
        self.forgotten: list[tuple[int, list[int]]] = []

    async def forget_members(self, guild_id: int, user_ids: list[int]) -> None:
        self.forgotten.append((guild_id, list(user_ids)))


async def test_names_for_a_post_ask_only_its_members_over_rest_never_the_gateway() -> None:
    """A feed post names a few members: one REST look-up each (a burst across many guilds is
    not held to the gateway's ~110 member queries a minute), none for one confirmed lately, and
    one who left is forgotten."""
    clock = Clock()
    links = ForgetfulLinks()
    service = Members(cast(LinkStore, links), clock)
    guild = Guild(7, {1, 2})
    assert await service.names(cast(Any, guild), [1, 3, 1]) == {1: "m1"}
    assert guild.fetched == [1, 3] and guild.asked == []
    assert links.forgotten == [(7, [3])]
    assert await service.names(cast(Any, guild), [1, 2]) == {1: "m1", 2: "m2"}
    assert guild.fetched == [1, 3, 2]  # 1 was confirmed a moment ago
