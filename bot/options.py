"""Reading the options several commands share: `games`, and whose progress to show.

Pure parsing happens before the defer (bad input is answered at once, costs no budget); anything
that needs the database or RA happens after it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.errors import BadInput
from bot.parsing import parse_game_ids
from bot.replies import defer
from bot.services.game_sets import ResolvedGames, parse_set_name

if TYPE_CHECKING:
    from bot.bot import RABot

MAX_COMPARE = 10
_MENTION = re.compile(r"<@!?(\d{15,21})>")


def parse_games_now(
    bot: RABot, interaction: discord.Interaction, text: str
) -> ResolvedGames | None:
    """Ids and game links resolved at once; None if `text` may be a game set's name.

    Raises BadInput when it is neither (so the caller hears it before anything is spent).
    """
    try:
        return ResolvedGames(parse_game_ids(text, bot.settings.max_games_per_command))
    except BadInput as not_ids:
        if interaction.guild_id is None:
            raise
        try:
            parse_set_name(text)
        except BadInput:
            raise not_ids from None
        return None


async def games_charged_and_deferred(
    bot: RABot, interaction: discord.Interaction, text: str, *, ephemeral: bool = False
) -> ResolvedGames:
    """Read a `games` option, charge the guild's budget and defer, in the order that answers
    bad input at once and charges nothing for it.

    Ids and links are parsed before anything else; a set name is looked up after the defer
    (it is I/O), and the budget is charged once the games are known.
    """
    parsed = parse_games_now(bot, interaction, text)
    if parsed is not None:
        bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
        await defer(interaction, ephemeral=ephemeral)
        return parsed
    await defer(interaction, ephemeral=ephemeral)
    resolved = await bot.game_sets.resolve(interaction.guild_id, text)
    bot.guild_limits.take_command(interaction.guild_id, interaction.user.id)
    return resolved


def parse_mentions(text: str) -> list[int]:
    """User ids mentioned in `text`, in order, once each; BadInput past MAX_COMPARE."""
    ids = list(dict.fromkeys(int(m) for m in _MENTION.findall(text)))
    if len(ids) > MAX_COMPARE:
        raise BadInput(f"Mention at most {MAX_COMPARE} members to compare.")
    return ids
