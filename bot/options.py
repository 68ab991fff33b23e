"""Reading the options several commands share: `games`, whose progress to show, and the
channel a schedule or a challenge posts in.

Pure parsing happens before the defer (bad input is answered at once, costs no budget); anything
that needs the database or RA happens after it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.errors import BadInput
from bot.replies import defer
from bot.services.resolver import ResolvedGames

if TYPE_CHECKING:
    from bot.bot import RABot

MAX_COMPARE = 10
# The description of every `games` option (Discord allows 100 characters).
GAMES_HELP = (
    "Game titles, ids or RetroAchievements game links, separated by commas, or a game set's name"
)
_MENTION = re.compile(r"<@!?(\d{15,21})>")


def check_can_post(guild: discord.Guild, channel: discord.TextChannel) -> None:
    """BadInput unless the channel is this server's and the bot can post embeds in it."""
    if channel.guild.id != guild.id:
        raise BadInput("Pick a channel of this server.")
    permissions = channel.permissions_for(guild.me)
    if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
        raise BadInput(
            f"The bot cannot post embeds in {channel.mention}: give it View Channel, Send "
            "Messages and Embed Links there, then try again."
        )


def parse_games_now(
    bot: RABot, interaction: discord.Interaction, text: str
) -> ResolvedGames | None:
    """Ids, game links and titles resolved at once; None if some part may be a set's name.

    Raises BadInput for what can never resolve (so the caller hears it before anything is spent).
    """
    return bot.resolver.parse_now(interaction.guild_id, text)


async def games_charged_and_deferred(
    bot: RABot, interaction: discord.Interaction, text: str, *, ephemeral: bool = False
) -> ResolvedGames:
    """Read a `games` option, charge the guild's budget and defer, in the order that answers
    bad input at once and charges nothing for it.

    Ids and links are parsed before anything else; set names and titles are resolved after the
    defer (the database; the catalogue), and the budget is charged once the games are known, so
    a title that names no game, or several, costs nothing.
    """
    parsed = parse_games_now(bot, interaction, text)
    if parsed is not None:
        bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
        await defer(interaction, ephemeral=ephemeral)
        bot.resolver.note_asked(interaction.guild_id, parsed.game_ids)
        return parsed
    await defer(interaction, ephemeral=ephemeral)
    resolved = await bot.resolver.resolve(interaction.guild_id, text)
    bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
    return resolved


def parse_mentions(text: str) -> list[int]:
    """User ids mentioned in `text`, in order, once each; BadInput past MAX_COMPARE."""
    ids = list(dict.fromkeys(int(m) for m in _MENTION.findall(text)))
    if len(ids) > MAX_COMPARE:
        raise BadInput(f"Mention at most {MAX_COMPARE} members to compare.")
    return ids
