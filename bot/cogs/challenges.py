"""/challenge: what members earn between two dates, on a list of games."""

from __future__ import annotations

import asyncio
import logging
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.errors import BadInput
from bot.formatting.challenges import (
    ROWS,
    challenge_games,
    challenges_embed,
    standings_embed,
    standings_page_count,
    standings_picture,
    window_text,
)
from bot.formatting.leaderboard_picture import attach
from bot.formatting.text import escape
from bot.models.challenge_times import next_post, parse_window
from bot.models.challenges import Challenge
from bot.models.game_sets import normalize_name
from bot.models.schedule_times import Cadence
from bot.options import GAMES_HELP, check_can_post, parse_games_now
from bot.replies import defer, reply
from bot.store.challenges import ChallengeExists
from bot.views.paginator import Paginator

if TYPE_CHECKING:
    from bot.bot import RABot

log = logging.getLogger(__name__)

GAMES_MAX_LENGTH = 2000
MAX_NAME = 40
MAX_CHALLENGES = 25
PROGRESS_NOTE_AFTER = 3.0
AUTOCOMPLETE_TIMEOUT = 2.0


Picked = app_commands.AppCommandChannel | discord.abc.Snowflake


class TextChannelOption(app_commands.Transformer):
    """A text channel, picked from text channels only, kept as Discord sent it: a channel
    deleted since (not in the bot's cache) then gets a clear sentence, not a generic error."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Picked:
        if isinstance(value, app_commands.AppCommandChannel | discord.abc.Snowflake):
            return value
        return discord.Object(int(str(value)))  # an id Discord could not resolve


class Every(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


def parse_challenge_name(text: str) -> str:
    name = normalize_name(text)
    if not name:
        raise BadInput("Give the challenge a name.")
    if len(name) > MAX_NAME:
        raise BadInput(f"Challenge names are at most {MAX_NAME} characters: pick a shorter one.")
    if not name.isprintable():
        raise BadInput("Challenge names are plain text on one line: pick another name.")
    return name


def in_code(text: str) -> str:
    """Text shown as is inside a code span (which has no markdown, only no backticks)."""
    return text.replace("`", "'")


def no_such(name: str) -> BadInput:
    return BadInput(
        f"This server has no challenge named {escape(name, 40)}: `/challenge list` shows them."
    )


async def challenge_names(
    interaction: discord.Interaction[RABot], current: str
) -> list[app_commands.Choice[str]]:
    """This server's challenges whose name contains what was typed (database only)."""
    bot = interaction.client
    if interaction.guild_id is None or not hasattr(bot, "store"):
        return []
    try:
        async with asyncio.timeout(AUTOCOMPLETE_TIMEOUT):
            found = await bot.store.challenges.for_guild(interaction.guild_id)
    except Exception:  # autocomplete never fails aloud
        log.info("challenge name autocomplete failed", exc_info=True)
        return []
    key = current.casefold().strip()
    return [
        app_commands.Choice(name=c.name[:100], value=c.name[:100])
        for c in found
        if key in c.name.casefold()
    ][:25]


class ChallengeCommands(commands.Cog):
    challenge = app_commands.Group(
        name="challenge",
        description="What members earn between two dates",
        guild_only=True,
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @challenge.command(name="create", description="Start a challenge: a window over games")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        name="The challenge's name, e.g. December 2026",
        games=GAMES_HELP,
        start="First day, YYYY-MM-DD (UTC), or now",
        end="Last day, YYYY-MM-DD (UTC), included",
        channel="Where to post its standings (optional)",
        every="How often to post them before the final standings (needs a channel)",
    )
    async def create(
        self,
        interaction: discord.Interaction[RABot],
        name: app_commands.Range[str, 1, 100],
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH],
        start: app_commands.Range[str, 1, 40],
        end: app_commands.Range[str, 1, 40],
        channel: app_commands.Transform[Picked, TextChannelOption] | None = None,
        every: Every | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None  # guild_only
        title = parse_challenge_name(name)
        now = self.bot.challenge_poster.clock()
        starts_at, ends_at = parse_window(start, end, now)
        if every is not None and channel is None:
            raise BadInput("Give a channel to post the standings in, or leave out `every`.")
        channel_id = None
        if channel is not None:
            channel_id = self._check_channel(guild, channel)
        parsed = parse_games_now(self.bot, interaction, games)
        await defer(interaction, ephemeral=True)
        resolved = parsed or await self.bot.resolver.resolve(guild.id, games)
        if await self.bot.store.challenges.count_for_guild(guild.id) >= MAX_CHALLENGES:
            raise BadInput(
                f"This server has {MAX_CHALLENGES} challenges already: remove one with "
                "`/challenge delete` first."
            )
        cadence = Cadence(every.value) if every is not None else None
        first = None
        if channel_id is not None:  # a challenge already over gets its final post at once
            first = next_post(cadence, starts_at, ends_at, now) or ends_at
        try:
            created = await self.bot.store.challenges.create(
                guild_id=guild.id,
                name=title,
                game_ids=resolved.game_ids,
                set_name=resolved.set_name,
                starts_at=starts_at,
                ends_at=ends_at,
                channel_id=channel_id,
                cadence=cadence,
                next_run=first,
                created_by=interaction.user.id,
            )
        except ChallengeExists:
            raise BadInput(
                f"This server already has a challenge named {escape(title, 40)}: pick another "
                "name, or `/challenge delete` that one first."
            ) from None
        if first is not None:
            await self.bot.store.challenges.reschedule(
                created.id, run_at=self.bot.challenge_poster.run_time(created.id, first)
            )
            self.bot.challenge_poster.wake()
            created = await self.bot.store.challenges.get(created.id) or created
        games_shown = challenge_games(created, self.bot.ra.known_titles(created.game_ids))
        await reply(
            interaction,
            f"Challenge **{escape(title, 40)}** on {games_shown}: {window_text(created)}. "
            + self._posts_sentence(created)
            + f" Anyone can see it with `/challenge standings name:{in_code(title)}`.",
            ephemeral=True,
        )

    def _check_channel(self, guild: discord.Guild, channel: Picked) -> int:
        found = guild.get_channel(channel.id)
        if found is None:
            raise BadInput("That channel no longer exists: pick another one.")
        if not isinstance(found, discord.TextChannel):
            raise BadInput("Pick a text channel of this server for the posts.")
        check_can_post(guild, found)
        return found.id

    @staticmethod
    def _posts_sentence(challenge: Challenge) -> str:
        if challenge.channel_id is None:
            return "No posts (no channel given)."
        where = f"<#{challenge.channel_id}>"
        if challenge.created_at >= challenge.ends_at:
            return f"It is over already: its final standings go to {where} now."
        final = f"final standings go to {where} once it ends"
        if challenge.cadence is not None and challenge.next_run is not None:
            if challenge.next_run < challenge.ends_at:
                first = int(challenge.next_run.timestamp())
                return (
                    f"Standings go to {where} {challenge.cadence.value} at 00:00 UTC (first "
                    f"<t:{first}:F>), and {final}."
                )
        return final[0].upper() + final[1:] + "."

    @challenge.command(name="standings", description="Members ranked by what they earned")
    @app_commands.autocomplete(name=challenge_names)
    @app_commands.describe(name="The challenge's name")
    async def standings(
        self, interaction: discord.Interaction[RABot], name: app_commands.Range[str, 1, 100]
    ) -> None:
        guild = interaction.guild
        assert guild is not None  # guild_only
        await defer(interaction)
        found = await self.bot.store.challenges.named(guild.id, normalize_name(name))
        if found is None:
            raise no_such(name)
        now = self.bot.challenge_poster.clock()
        if now >= found.starts_at:  # before the start nothing is asked of RA
            self.bot.guild_limits.take_command(guild.id, interaction.user.id)
        members = await self.bot.members.linked_in(guild)
        started = last_note = time.monotonic()

        async def note(done: int, total: int) -> None:
            nonlocal last_note
            now = time.monotonic()
            if now - started >= PROGRESS_NOTE_AFTER and now - last_note >= PROGRESS_NOTE_AFTER:
                last_note = now
                await reply(interaction, f"Fetching from RetroAchievements… {done}/{total}")

        board = await self.bot.challenges.standings(found, members, now, on_progress=note)
        pages = standings_page_count(board)

        def make_page(page: int) -> discord.Embed:
            return standings_embed(board, self.bot.urls, page=page)

        async def page_files(page: int, embed: discord.Embed) -> list[discord.File]:
            """The page's picture, shown in its embed (none when pictures are off or fail)."""
            png = await self.bot.pictures.render(standings_picture(board, page=page))
            return [attach(embed, png)] if png is not None else []

        first = make_page(0)
        files = await page_files(0, first)
        if pages == 1:
            await reply(interaction, embeds=[first], files=files)
            return
        position = board.board.position_of(interaction.user.id)
        view = Paginator(
            owner_id=interaction.user.id,
            pages=pages,
            make_page=make_page,
            position_of_owner=None if position is None else position // ROWS,
            page_files=page_files if self.bot.pictures.enabled else None,
        )
        await reply(interaction, embeds=[first], view=view, files=files)
        try:
            view.message = await interaction.original_response()
        except discord.HTTPException:
            view.stop()

    @challenge.command(name="list", description="This server's challenges")
    async def list_challenges(self, interaction: discord.Interaction[RABot]) -> None:
        assert interaction.guild_id is not None
        await defer(interaction)
        found = await self.bot.store.challenges.for_guild(interaction.guild_id)
        titles = self.bot.ra.known_titles(g for c in found for g in c.game_ids)
        embed = challenges_embed(found, titles, self.bot.challenge_poster.clock())
        await reply(interaction, embeds=[embed])

    @challenge.command(name="delete", description="Remove a challenge and its posts' schedule")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(name=challenge_names)
    @app_commands.describe(name="The challenge's name")
    async def delete(
        self, interaction: discord.Interaction[RABot], name: app_commands.Range[str, 1, 100]
    ) -> None:
        assert interaction.guild_id is not None
        await defer(interaction, ephemeral=True)
        deleted = await self.bot.store.challenges.delete(interaction.guild_id, normalize_name(name))
        if deleted is None:
            raise no_such(name)
        self.bot.challenge_poster.wake()
        await reply(
            interaction,
            f"Challenge **{escape(deleted.name, 40)}** is deleted, and nothing more will be "
            "posted for it.",
            ephemeral=True,
        )


async def setup(bot: RABot) -> None:
    await bot.add_cog(ChallengeCommands(bot))
