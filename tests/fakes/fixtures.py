"""Pytest fixtures around FakeRA (import ``fake_ra`` into a test module or conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.fake_ra import FakeRA


def seed_sample_data(fake: FakeRA) -> None:
    """Three users, three games and some progress (softcore counts include hardcore)."""
    fake.add_user("MaxMilyin", display_name="MaxMilyin", total_points=550,
                  total_softcore_points=260)
    fake.add_user("Scott", total_points=340, total_softcore_points=45)
    fake.add_user("TestUser")
    fake.add_game(1, "Sonic the Hedgehog", console="Genesis/Mega Drive", console_id=1,
                  icon="/Images/085573.png", num_achievements=23, points=400)
    fake.add_game(14402, "Dragon Quest III", console="SNES/Super Famicom", console_id=3,
                  icon="/Images/066440.png", num_achievements=69, points=950)
    fake.add_game(228, "Super Mario World", console="SNES/Super Famicom", console_id=3,
                  icon="/Images/066306.png", num_achievements=96, points=1000)
    fake.set_progress("MaxMilyin", 1, achieved=23, score=400,
                      achieved_hardcore=23, score_hardcore=400)
    fake.set_progress("MaxMilyin", 14402, achieved=30, score=410,
                      achieved_hardcore=12, score_hardcore=150)
    fake.set_progress("Scott", 228, achieved=40, score=385,
                      achieved_hardcore=35, score_hardcore=340)


@pytest_asyncio.fixture
async def fake_ra() -> AsyncIterator[FakeRA]:
    """A started FakeRA seeded with ``seed_sample_data``; stopped afterwards."""
    fake = FakeRA()
    seed_sample_data(fake)
    async with fake:
        yield fake
