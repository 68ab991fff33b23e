"""/leaderboard: every linked member of this guild, ranked over the games."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.errors import BadInput
from bot.formatting.leaderboard import (
    board_page,
    board_page_count,
    board_title,
    board_titles,
    schedule_games,
    schedules_embed,
)
from bot.formatting.leaderboard_picture import attach, page_picture, picture_title
from bot.formatting.schedule_cost import estimate_text
from bot.models.boards import Board
from bot.models.schedule_times import Cadence, describe, next_slot, parse_time
from bot.options import (
    GAMES_HELP,
    check_can_post,
    games_charged_and_deferred,
    parse_games_now,
)
from bot.parsing import ids_in_part, split_parts
from bot.replies import defer, reply
from bot.services.schedule_cost import estimate_schedule
from bot.views.paginator import Paginator

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 2000
MAX_SCHEDULES = 25
PROGRESS_NOTE_AFTER = 3.0  # seconds before "fetching…" is shown, and between updates
NOBODY_LINKED = (
    "Nobody in this server has linked a RetroAchievements account yet: use `/link` to be the "
    "first on the board."
)


class LeaderboardCommands(commands.Cog):
    leaderboard = app_commands.Group(
        name="leaderboard", description="This server's rankings", guild_only=True
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @leaderboard.command(name="show", description="Rank this server's linked members on games")
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        games=GAMES_HELP,
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
        title = board_title(resolved.set_name, resolved.game_ids, board_titles(board))
        plain = picture_title(resolved.set_name, len(resolved.game_ids))
        await self.send_board(interaction, board, title, picture_title=plain)

    async def send_board(
        self,
        interaction: discord.Interaction[RABot],
        board: Board,
        title: str,
        *,
        picture_title: str | None = None,
    ) -> None:
        pages = board_page_count(board)

        def make_page(page: int) -> discord.Embed:
            return board_page(board, page, title, self.bot.urls)

        async def page_files(page: int, embed: discord.Embed) -> list[discord.File]:
            """The page's picture, shown in its embed (none when pictures are off or fail)."""
            picture = page_picture(board, page, picture_title or title)
            png = await self.bot.pictures.render(picture)
            return [attach(embed, png)] if png is not None else []

        first = make_page(0)
        files = await page_files(0, first)
        if pages == 1:
            await reply(interaction, embeds=[first], files=files)
            return
        position = board.position_of(interaction.user.id)
        view = Paginator(
            owner_id=interaction.user.id,
            pages=pages,
            make_page=make_page,
            position_of_owner=None if position is None else position // 10,
            page_files=page_files if self.bot.pictures.enabled else None,
        )
        await reply(interaction, embeds=[first], view=view, files=files)
        try:
            view.message = await interaction.original_response()
        except discord.HTTPException:
            view.stop()

    # -- schedules -----------------------------------------------------------------------------

    @leaderboard.command(
        name="schedule", description="Post this leaderboard in a channel regularly"
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        channel="The text channel to post in",
        games=GAMES_HELP,
        every="How often to post",
        time="When, as HH:MM in UTC (hourly: the minute counts); default 00:00",
        edit_in_place="Keep one message and edit it, instead of a new post each time",
    )
    async def schedule(
        self,
        interaction: discord.Interaction[RABot],
        channel: discord.TextChannel,
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
        every: Cadence,
        time: app_commands.Range[str, 1, 5] | None = None,
        edit_in_place: bool = False,
    ) -> None:
        guild = interaction.guild
        assert guild is not None  # guild_only
        hour, minute = parse_time(time)
        check_can_post(guild, channel)
        parsed = parse_games_now(self.bot, interaction, games)
        await defer(interaction, ephemeral=True)
        resolved = parsed or await self.bot.resolver.resolve(guild.id, games)
        # Kept as a set's name (the set may change) or as ids (titles are resolved once, now).
        stored = resolved.set_name or ", ".join(map(str, resolved.game_ids))
        if await self.bot.store.schedules.count_for_guild(guild.id) >= MAX_SCHEDULES:
            raise BadInput(
                f"This server has {MAX_SCHEDULES} schedules already: remove one with "
                "`/leaderboard unschedule` first."
            )
        now = self.bot.scheduler.clock()
        slot = next_slot(every, hour, minute, now)
        schedule = await self.bot.store.schedules.create(
            guild_id=guild.id,
            channel_id=channel.id,
            games=stored,
            cadence=every,
            hour=hour,
            minute=minute,
            edit_in_place=edit_in_place,
            next_run=slot,
            run_at=slot,
            created_by=interaction.user.id,
        )
        run_at = self.bot.scheduler.first_run(schedule.id, slot)
        await self.bot.store.schedules.reschedule(schedule.id, run_at=run_at)
        self.bot.scheduler.wake()
        cost = await estimate_schedule(
            self.bot.store.links,
            self.bot.store.schedules,
            schedule,
            self.bot.settings.ra_requests_per_second,
        )
        await reply(
            interaction,
            f"Schedule #{schedule.id}: the leaderboard of "
            f"{schedule_games(stored, self.bot.ra.known_titles(resolved.game_ids))} goes to "
            f"{channel.mention} {describe(every, hour, minute)}"
            f"{' (one message, edited each time)' if edit_in_place else ''}. "
            f"First post <t:{int(run_at.timestamp())}:F> (<t:{int(run_at.timestamp())}:R>).\n"
            + estimate_text(cost, every),
            ephemeral=True,
        )

    @leaderboard.command(name="schedules", description="This server's scheduled leaderboards")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def schedules(self, interaction: discord.Interaction[RABot]) -> None:
        assert interaction.guild_id is not None
        await defer(interaction, ephemeral=True)
        found = await self.bot.store.schedules.for_guild(interaction.guild_id)
        ids = [g for s in found for part in split_parts(s.games) for g in ids_in_part(part) or ()]
        titles = self.bot.ra.known_titles(ids)
        await reply(interaction, embeds=[schedules_embed(found, titles)], ephemeral=True)

    @leaderboard.command(name="unschedule", description="Stop a scheduled leaderboard")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(id="The schedule's number, from /leaderboard schedules")
    async def unschedule(
        self, interaction: discord.Interaction[RABot], id: app_commands.Range[int, 1]
    ) -> None:
        assert interaction.guild_id is not None
        await defer(interaction, ephemeral=True)
        if not await self.bot.store.schedules.delete(interaction.guild_id, id):
            raise BadInput(
                f"This server has no schedule #{id}: `/leaderboard schedules` lists them."
            )
        self.bot.scheduler.wake()
        await reply(interaction, f"Schedule #{id} is removed.", ephemeral=True)


async def setup(bot: RABot) -> None:
    await bot.add_cog(LeaderboardCommands(bot))
