"""A challenge's world for the service's and the poster's tests: a real store, the fake RA with
unlocks in and around December 2026, and an in-memory channel standing in for Discord."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.formatting.urls import SiteUrls
from bot.models.challenges import Challenge
from bot.models.members import LinkedMember
from bot.models.ra import EarnedAchievement
from bot.models.schedule_times import Cadence
from bot.posting.challenges import ChallengePoster
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.services.challenges import Challenges
from bot.services.ra import RAService
from bot.store import Store
from bot.store.challenges import ChallengeStore
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA, fake_ulid
from tests.fakes.publisher import FakeChannel, FakePublisher

GUILD, CHANNEL = 1000, 2000
START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)  # December 2026, 31st included
EARNED = "API_GetAchievementsEarnedBetween"


def unlock(aid: int, game: int, points: int, hardcore: bool) -> EarnedAchievement:
    return EarnedAchievement(aid, game, points, hardcore, START)


@dataclass
class World:
    store: Store
    ra: FakeRA
    channel: FakeChannel
    challenges: ChallengeStore
    service: Callable[..., Challenges]
    make: Callable[..., ChallengePoster]

    async def add(self, **overrides: Any) -> Challenge:
        values: dict[str, Any] = {
            "guild_id": GUILD,
            "name": "December",
            "game_ids": [1, 228],
            "set_name": None,
            "starts_at": START,
            "ends_at": END,
            "channel_id": CHANNEL,
            "cadence": Cadence.WEEKLY,
            "next_run": datetime(2026, 12, 7, tzinfo=UTC),
            "created_by": 1,
        }
        values.update(overrides)
        return await self.challenges.create(**values)


@asynccontextmanager
async def challenge_world(store: Store, fake_ra: FakeRA) -> AsyncIterator[World]:
    """Three linked members, their unlocks in and around December 2026, and a poster maker."""
    channel = FakeChannel()
    for n, ra_name in enumerate(["MaxMilyin", "Scott", "TestUser"]):
        link = await store.links.set_link(n + 1, fake_ulid(ra_name), ra_name)
        channel.members.append(LinkedMember(n + 1, link, f"member{n + 1}"))
    # December: Scott 30 hardcore on 228, Max 10 softcore on 1; TestUser only outside it.
    fake_ra.add_unlock("Scott", 228, 101, points=20, at=START + timedelta(days=2))
    fake_ra.add_unlock("Scott", 228, 102, points=10, at=START + timedelta(days=9))
    fake_ra.add_unlock("MaxMilyin", 1, 201, points=10, at=START + timedelta(days=3), hardcore=False)
    fake_ra.add_unlock("MaxMilyin", 14402, 301, points=50, at=START + timedelta(days=3))
    fake_ra.add_unlock("TestUser", 1, 202, points=5, at=START - timedelta(seconds=1))
    async with aiohttp.ClientSession() as session:
        client = RAClient(RATransport(
            session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=fake_ra.base_url,
            timeout=1.0,
            retry_budget=0.2,
            rng=random.Random(1),
        ))

        def service(ttl: float = 0) -> Challenges:
            return Challenges(RAService(client, progress_ttl=ttl))

        def make(owner: str = "process-a", **kw: Any) -> ChallengePoster:
            return ChallengePoster(
                store.challenges,
                service(),
                FakePublisher(channel),
                owner=owner,
                urls=SiteUrls(),
                spread_seconds=0,
                **kw,
            )

        yield World(store, fake_ra, channel, store.challenges, service, make)
