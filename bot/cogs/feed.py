"""The news feed: `/feed set|stop|show|me` and `/aotw`.

A guild's moderators choose the channel and what is announced (masteries, beaten games, the
Achievement of the Week, hardcore only, a games filter); the poller and poster in
bot/posting/feed_poller.py and bot/posting/feed.py do the rest. `/feed me` is each member's own
choice, for every guild. `/aotw` is this week's achievement and who of the guild's linked members
earned it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.errors import BadInput
from bot.formatting.feed import aotw_embed, aotw_mine_embed, feed_embed
from bot.formatting.game_sets import game_label, shown_name
from bot.models.awards import WeekUnlock
from bot.options import GAMES_HELP, check_can_post, parse_games_now
from bot.replies import defer, reply

if TYPE_CHECKING:
    from bot.bot import RABot

GAMES_MAX_LENGTH = 400
NO_FEED = "This server has no feed: a moderator starts one with `/feed set`."
IN_A_SERVER = "This is about a server's feed: use it in the server."


def _guild_id(interaction: discord.Interaction[RABot]) -> int:
    """The server the command is about (`/feed` itself works anywhere, for `/feed me`)."""
    if interaction.guild_id is None:
        raise BadInput(IN_A_SERVER)
    return interaction.guild_id


def _kinds(masteries: bool, beaten: bool, aotw: bool) -> str:
    chosen = [
        name
        for name, on in (
            ("masteries", masteries),
            ("beaten games", beaten),
            ("the Achievement of the Week", aotw),
        )
        if on
    ]
    return ", ".join(chosen[:-1]) + (" and " if len(chosen) > 1 else "") + chosen[-1]


class FeedCommands(commands.Cog):
    feed = app_commands.Group(
        name="feed", description="The community's awards, announced in a channel"
    )

    def __init__(self, bot: RABot) -> None:
        self.bot = bot

    @feed.command(name="set", description="Announce members' awards in a channel (Manage Server)")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(games=autocomplete.games)
    @app_commands.describe(
        channel="The text channel to announce in",
        masteries="Mastered and completed games (default: yes)",
        beaten="Beaten games, hardcore or softcore (default: yes)",
        aotw="The Achievement of the Week (default: yes)",
        hardcore_only="Only what was earned in hardcore (default: no)",
        games=f"Only these games or that set: {GAMES_HELP}"[:100],
    )
    async def set_feed(
        self,
        interaction: discord.Interaction[RABot],
        channel: discord.TextChannel,
        masteries: bool = True,
        beaten: bool = True,
        aotw: bool = True,
        hardcore_only: bool = False,
        games: app_commands.Range[str, 1, GAMES_MAX_LENGTH] | None = None,
    ) -> None:
        _guild_id(interaction)
        guild = interaction.guild
        assert guild is not None  # the bot is in it: the channel option resolved
        check_can_post(guild, channel)
        if not (masteries or beaten or aotw):
            raise BadInput("Choose at least one of masteries, beaten and aotw to announce.")
        parsed = parse_games_now(self.bot, interaction, games) if games else None
        await defer(interaction, ephemeral=True)
        stored: str | None = None
        if games:
            resolved = parsed or await self.bot.resolver.resolve(guild.id, games)
            # A set is kept by its name, so its later changes count; titles as their ids.
            stored = resolved.set_name or ", ".join(map(str, resolved.game_ids))
        now = datetime.now(UTC)
        await self.bot.store.feeds.set(
            guild.id,
            channel_id=channel.id,
            masteries=masteries,
            beaten=beaten,
            aotw=aotw,
            hardcore_only=hardcore_only,
            games=stored,
            created_by=interaction.user.id,
            now=now,
        )
        which = f" on {self._games_text(stored)}" if stored else ""
        mode = " in hardcore" if hardcore_only else ""
        await reply(
            interaction,
            f"From now on, {_kinds(masteries, beaten, aotw)} earned{mode} by this server's linked "
            f"members{which} are announced in {channel.mention}. Members who would rather not "
            "be announced can say `/feed me announce:False`.",
            ephemeral=True,
        )

    @feed.command(name="stop", description="No more announcements in this server (Manage Server)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def stop(self, interaction: discord.Interaction[RABot]) -> None:
        guild_id = _guild_id(interaction)
        await defer(interaction, ephemeral=True)
        if not await self.bot.store.feeds.stop(guild_id):
            raise BadInput(NO_FEED)
        await reply(interaction, "The feed is stopped: nothing more is announced.", ephemeral=True)

    @feed.command(name="show", description="This server's feed: where, what, its last post")
    async def show(self, interaction: discord.Interaction[RABot]) -> None:
        guild_id = _guild_id(interaction)
        await defer(interaction, ephemeral=True)
        found = await self.bot.store.feeds.get(guild_id)
        if found is None:
            raise BadInput(NO_FEED)
        queued = await self.bot.store.feeds.count(guild_id)
        embed = feed_embed(
            found,
            channel_mention=f"<#{found.channel_id}>",
            games_text=self._games_text(found.games) if found.games else None,
            queued=queued,
            requests_last_hour=self.bot.feed_poller.requests_last_hour(),
        )
        await reply(interaction, embeds=[embed], ephemeral=True)

    @feed.command(name="me", description="Whether your awards are announced, in every server")
    @app_commands.describe(announce="True: announce your awards; False: never announce them")
    async def me(self, interaction: discord.Interaction[RABot], announce: bool) -> None:
        await defer(interaction, ephemeral=True)
        await self.bot.store.feeds.set_announce(interaction.user.id, announce, datetime.now(UTC))
        await reply(
            interaction,
            "Your awards are announced in the servers whose feed takes them."
            if announce
            else "Your awards are no longer announced, in any server (the Achievement of the "
            "Week included).",
            ephemeral=True,
        )

    @app_commands.command(name="aotw", description="This week's Achievement of the Week")
    async def aotw(self, interaction: discord.Interaction[RABot]) -> None:
        self.bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
        await defer(interaction)
        week = await self.bot.ra.achievement_of_the_week()
        guild = interaction.guild
        if guild is None:
            link = await self.bot.store.links.get_link(interaction.user.id)
            earned = None
            if week is not None and link is not None:
                earned = _earned_by(week.unlocks, link.ra_ulid, link.ra_name)
            await reply(interaction, embeds=[aotw_mine_embed(week, earned, self.bot.urls)])
            return
        members = await self.bot.members.linked_in(guild) if week is not None else []
        earners = []
        for member in members:
            assert week is not None
            unlock = _earned_by(week.unlocks, member.link.ra_ulid, member.link.ra_name)
            if unlock is not None:
                earners.append((member.display_name, unlock))
        earners.sort(key=lambda pair: pair[1].at)
        embed = aotw_embed(week, earners, len(members) - len(earners), self.bot.urls)
        await reply(interaction, embeds=[embed])

    def _games_text(self, games: str) -> str:
        """A stored games filter for a sentence: a set's name, or the games' titles if known."""
        parts = [part.strip() for part in games.split(",")]
        if not all(part.isdigit() for part in parts):
            return f"the set {shown_name(games)}"
        ids = [int(part) for part in parts]
        titles = self.bot.ra.known_titles(ids)
        return ", ".join(game_label(game_id, titles) for game_id in ids)


def _earned_by(unlocks: list[WeekUnlock], ulid: str, name: str) -> WeekUnlock | None:
    """This account's unlock of the week: by ULID, or by name ignoring case (older servers)."""
    for unlock in unlocks:
        if (unlock.ulid and unlock.ulid == ulid) or (
            not unlock.ulid and unlock.user.casefold() == name.casefold()
        ):
            return unlock
    return None


async def setup(bot: RABot) -> None:
    await bot.add_cog(FeedCommands(bot))
