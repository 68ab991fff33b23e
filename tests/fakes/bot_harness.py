"""The real RABot, in this process, connected to the fake Discord and the fake RA.

Cog tests drive slash commands through the gateway exactly as Discord would and read what the bot
sent back over REST: real discord.py objects all the way, no mocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest_asyncio

from bot.bot import RABot
from bot.config import Settings
from bot.ra.circuit import CircuitBreaker
from bot.store import Store
from tests.e2e.fake_discord import FAKE_DISCORD_TOKEN, FakeDiscord
from tests.e2e.fake_discord import Interaction as FakeInteraction
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA


@dataclass
class Harness:
    bot: RABot
    discord: FakeDiscord
    ra: FakeRA

    async def command(self, name: str, /, **options: Any) -> FakeInteraction:
        """Send /name with string/int options as a member of the first guild would."""
        guild_id = options.pop("guild_id", None)
        user_id = options.pop("user_id", None)
        opts = [{"name": k, "value": v} for k, v in options.items()]
        return await self.discord.send_interaction(name, opts, guild_id=guild_id, user_id=user_id)

    async def answer(self, name: str, /, **options: Any) -> dict[str, Any]:
        """Send a command and return the final visible answer."""
        interaction = await self.command(name, **options)
        return await interaction.wait_final()


def bot_settings(
    fake_ra: FakeRA, fake_discord: FakeDiscord, database_url: str, **overrides: Any
) -> Settings:
    settings = Settings(
        database_url=database_url,
        discord_token=FAKE_DISCORD_TOKEN,
        ra_api_key=FAKE_RA_KEY,
        ra_api_base_url=fake_ra.base_url,
        discord_api_base_url=fake_discord.base_url,
        ra_requests_per_second=200.0,
        ra_max_in_flight=4,
        ra_timeout_seconds=1.0,
        ra_retry_budget_seconds=1.5,
        # Off unless a test is about titles: the other tests count RA calls exactly.
        catalogue_refresh_hours=0.0,
    )
    return dataclasses.replace(settings, **overrides)


async def migrate(database_url: str) -> None:
    """What `python -m bot` does before it starts the bot (there, in a child process): the
    database brought to the schema, since the bot itself does not migrate."""
    await (await Store.open(database_url)).close()


@pytest_asyncio.fixture
async def start_bot(fake_ra: FakeRA, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """A factory: `await start_bot(**settings_overrides)` gives a Harness with a ready bot."""
    started: list[tuple[RABot, asyncio.Task[None], FakeDiscord]] = []
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY

    async def start(guilds: int = 2, **overrides: Any) -> Harness:
        fake_discord = FakeDiscord(guilds=guilds)
        await fake_discord.start()
        overrides.setdefault("database_url", f"sqlite:///{tmp_path}/bot-{len(started)}.sqlite3")
        settings = bot_settings(fake_ra, fake_discord, **overrides)
        await migrate(settings.database_url)
        bot = RABot(settings)
        task = asyncio.create_task(bot.start(FAKE_DISCORD_TOKEN))
        started.append((bot, task, fake_discord))
        await fake_discord.wait_ready()
        # RA's circuit breaker as in production, but pausing a fraction of a second when open.
        bot.ra.client.transport.circuit = CircuitBreaker(open_seconds=0.3, max_open_seconds=1.0)
        return Harness(bot, fake_discord, fake_ra)

    try:
        yield start
    finally:
        for bot, task, fake_discord in started:
            await bot.close()
            await asyncio.wait_for(task, 10)
            await fake_discord.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest_asyncio.fixture
async def harness(start_bot: Callable[..., Any]) -> Harness:
    """A ready bot with the default test settings."""
    result: Harness = await start_bot()
    return result
