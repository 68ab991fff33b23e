"""The bare bot the benchmarks compare ours with: an unmodified discord.py AutoShardedBot.

Same intents as ours (guilds only) and a ``/progress games user member`` slash command that only
defers and then edits the original response with "ok". Reads DISCORD_TOKEN and
DISCORD_API_BASE_URL from the environment; the gateway URL comes from that base's /gateway/bot
(AutoShardedBot asks for it itself). Run as ``python -m bench.bare_bot``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import discord
from discord.ext import commands


def make_bot() -> commands.AutoShardedBot:
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned, intents=discord.Intents(guilds=True)
    )

    @bot.tree.command(name="progress", description="Show RetroAchievements progress on games")
    async def progress(
        interaction: discord.Interaction,
        games: str,
        user: str | None = None,
        member: discord.User | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content="ok")

    @bot.event
    async def setup_hook() -> None:
        await bot.tree.sync()

    @bot.event
    async def on_ready() -> None:
        print(f"bare bot ready in {len(bot.guilds)} guilds", file=sys.stderr, flush=True)

    return bot


async def main() -> int:
    base = os.environ.get("DISCORD_API_BASE_URL")
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    bot = make_bot()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
