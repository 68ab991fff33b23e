"""End-to-end tier: `python -m bot` in a subprocess, against the fake Discord and the fake RA.

The bot runs exactly as in production (entry point, settings from the environment, logging to
stderr); only the two base URLs point at fakes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.e2e.fake_discord import FAKE_DISCORD_TOKEN, FakeDiscord
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeRA

REPO = Path(__file__).resolve().parents[2]
_SETTINGS = (
    "DISCORD_TOKEN",
    "RA_API_KEY",
    "RA_USERNAME",
    "RA_API_BASE_URL",
    "RA_CIRCUIT_OPEN_SECONDS",
    "RA_MEDIA_BASE_URL",
    "RA_SITE_BASE_URL",
    "DATABASE_URL",
    "DISCORD_API_BASE_URL",
    "LOG_LEVEL",
    "DEV_GUILD_ID",
)


class BotProcess:
    """A running `python -m bot`; stderr (its log) goes to a file read after it exits."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def terminate(self, timeout: float = 15) -> int:
        """SIGTERM, as Procfile platforms send it; returns the exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def bot_environment(fake_discord: FakeDiscord, fake_ra: FakeRA, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env.update(
        DISCORD_TOKEN=FAKE_DISCORD_TOKEN,
        RA_API_KEY=FAKE_RA_KEY,
        RA_API_BASE_URL=fake_ra.base_url,
        DISCORD_API_BASE_URL=fake_discord.base_url,
        LOG_LEVEL="DEBUG",
        PYTHONPATH=str(REPO),
        RA_TIMEOUT_SECONDS="1",
        RA_RETRY_BUDGET_SECONDS="3",
        RA_CIRCUIT_OPEN_SECONDS="0.5",
        RA_REQUESTS_PER_SECOND="50",
        PYTHONUNBUFFERED="1",
        # Off unless a test is about titles: the other tests count RA calls exactly.
        CATALOGUE_REFRESH_HOURS="0",
    )
    env.update(extra)
    return env


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=3) as fake:
        yield fake


@pytest_asyncio.fixture
async def spawn_bot(
    fake_discord: FakeDiscord, fake_ra: FakeRA, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """`await spawn_bot(**settings)` starts the bot and returns once it is ready."""
    processes: list[BotProcess] = []

    async def spawn(wait_ready: bool = True, **settings: str) -> BotProcess:
        log_path = tmp_path / f"bot-{len(processes)}.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=tmp_path,
                env=bot_environment(
                    fake_discord,
                    fake_ra,
                    **{"DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3", **settings},
                ),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        bot = BotProcess(process, log_path)
        processes.append(bot)
        if wait_ready:
            ready = asyncio.ensure_future(fake_discord.wait_ready(timeout=30))
            exited = asyncio.ensure_future(process.wait())
            await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                raise AssertionError(f"the bot exited before it was ready:\n{bot.log}")
            exited.cancel()
            await ready
        return bot

    try:
        yield spawn
    finally:
        for bot in processes:
            await bot.kill()
