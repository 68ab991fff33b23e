"""/leaderboard: every linked member of this guild, ranked over the games."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.formatting.leaderboard import board_page, board_page_count
from bot.formatting.text import escape
from bot.options import games_charged_and_deferred
from bot.replies import reply
from bot.services.game_sets import ResolvedGames
from bot.services.leaderboard import Board
from bot.views.paginator import Paginator

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 2000
PROGRESS_NOTE_AFTER = 3.0  # seconds before "fetching…" is shown, and between updates
NOBODY_LINKED = (
    "Nobody in this server has linked a RetroAchievements account yet: use `/link` to be the "
    "first on the board."
)


def board_title(resolved: ResolvedGames) -> str:
    if resolved.set_name:
        return f"Leaderboard · {escape(resolved.set_name, 40)}"
    count = len(resolved.game_ids)
    return f"Leaderboard · {count} game{'s' if count != 1 else ''}"


class LeaderboardCommands(commands.Cog):
    leaderboard = app_commands.Group(
        name="leaderboard", description="This server's rankings", guild_only=True
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @leaderboard.command(name="show", description="Rank this server's linked members on games")
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        games="Game ids, RetroAchievements game links, or a game set's name",
    )
    async def show(
        self,
        interaction: discord.Interaction[RABot],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
    ) -> None:
        assert interaction.guild is not None  # guild_only
        resolved = await games_charged_and_deferred(self.bot, interaction, games)
        members = await self.bot.members.linked_in(interaction.guild)
        if not members:
            await reply(interaction, NOBODY_LINKED)
            return

        started = last_note = time.monotonic()

        async def note(done: int, total: int) -> None:
            nonlocal last_note
            now = time.monotonic()
            if now - started >= PROGRESS_NOTE_AFTER and now - last_note >= PROGRESS_NOTE_AFTER:
                last_note = now
                await reply(
                    interaction, f"Fetching progress from RetroAchievements… {done}/{total}"
                )

        board = await self.bot.leaderboards.build(members, resolved.game_ids, on_progress=note)
        await self.send_board(interaction, board, board_title(resolved))

    async def send_board(
        self, interaction: discord.Interaction[RABot], board: Board, title: str
    ) -> None:
        pages = board_page_count(board)

        def make_page(page: int) -> discord.Embed:
            return board_page(board, page, title, self.bot.links)

        if pages == 1:
            await reply(interaction, embeds=[make_page(0)])
            return
        position = board.position_of(interaction.user.id)
        view = Paginator(
            owner_id=interaction.user.id,
            pages=pages,
            make_page=make_page,
            position_of_owner=None if position is None else position // 10,
        )
        await reply(interaction, embeds=[make_page(0)], view=view)
        try:
            view.message = await interaction.original_response()
        except discord.HTTPException:
            view.stop()


async def setup(bot: RABot) -> None:
    await bot.add_cog(LeaderboardCommands(bot))
