"""The command tree: one error path and one gate for every slash command.

Expected failures (bad input, rate limits, RA's answers, missing permissions) become one ephemeral
sentence that says what to do. Anything else is logged with its traceback (through the redacting
log formatter) and the caller gets a short apology.
"""

from __future__ import annotations

import logging
import time

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.ra.circuit import RANotAnswering
from bot.ra.errors import (
    RABadResponse,
    RAError,
    RAKeyRejected,
    RANotUsable,
    RARateLimited,
    RARequestRejected,
    RAUnavailable,
    RAUserNotFound,
)
from bot.ra.limiter import command_order, new_ticket
from bot.replies import reply
from bot.services.guild_limits import GuildRateLimited
from bot.services.members import Members
from bot.store import StoreError

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on the bot's side and it has been logged: please try again later."


def _when(seconds: float) -> str:
    """A Discord relative timestamp ("in 12 seconds"), rounded up to a whole second."""
    return f"<t:{int(time.time() + seconds) + 1}:R>"


def _permission_names(names: list[str]) -> str:
    return ", ".join(n.replace("_", " ").replace("guild", "server").title() for n in names)


def message_for(error: Exception) -> str | None:
    """The sentence the caller reads for an expected error; None for a bug."""
    if isinstance(error, UserFacingError | StoreError):
        return error.message
    if isinstance(error, GuildRateLimited):
        return (
            "This server has used its RetroAchievements budget for the moment: "
            f"try again {_when(error.retry_after)}."
        )
    if isinstance(error, RAUserNotFound):
        name = discord.utils.escape_markdown(error.username)
        return f"There is no RetroAchievements user named {name}: check the spelling."
    if isinstance(error, RARequestRejected):
        return "RetroAchievements refused that user name: check it and try again."
    if isinstance(error, RAKeyRejected):
        return (
            "RetroAchievements refused the bot's API key: this is for the bot's operator to fix, "
            "so please let them know."
        )
    if isinstance(error, RANotUsable):
        return (
            "RetroAchievements cannot be reached as the bot is set up: this is for the bot's "
            "operator to fix, so please let them know."
        )
    if isinstance(error, RARateLimited):
        wait = error.retry_after if error.retry_after is not None else 60.0
        return f"RetroAchievements is busy right now: try again {_when(wait)}."
    if isinstance(error, RANotAnswering):
        when = _when(error.retry_after)
        return f"RetroAchievements is not answering right now: try again {when}."
    if isinstance(error, RAUnavailable):
        return "RetroAchievements is not answering right now: try again in a minute."
    if isinstance(error, RABadResponse):
        return (
            "RetroAchievements sent an answer the bot could not read: try again in a few minutes."
        )
    if isinstance(error, RAError):
        return "RetroAchievements could not answer that: try again in a few minutes."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_permission_names(error.missing_permissions)} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        return (
            f"The bot needs the {_permission_names(error.missing_permissions)} permission here: "
            "ask a server admin to grant it."
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again {_when(error.retry_after)}."
    if isinstance(error, app_commands.TransformerError):
        return f"{discord.utils.escape_markdown(str(error.value))[:100]} is not a valid value here."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    return None


class BotTree(app_commands.CommandTree[discord.Client]):
    """The bot sets `members` once its services exist, and `closing` when it shuts down."""

    closing = False
    members: Members | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Refuse commands while the bot shuts down, so nothing is cut off half-way."""
        if self.closing:
            await reply(
                interaction, "The bot is restarting: try again in a minute.", ephemeral=True
            )
            return False
        # This command's RA requests queue behind those of earlier commands (bot.ra.limiter).
        command_order.set(new_ticket())
        if interaction.guild_id is not None and self.members is not None:
            # Whoever uses the bot in a guild belongs on its boards (written in the background).
            self.members.note(interaction.guild_id, interaction.user.id)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original: BaseException = error
        if isinstance(error, app_commands.CommandInvokeError):
            original = error.original
        message = message_for(original) if isinstance(original, Exception) else None
        command = interaction.command.qualified_name if interaction.command else "?"
        if message is None:
            log.error(
                "command /%s failed",
                command,
                exc_info=(type(original), original, original.__traceback__),
            )
            message = APOLOGY
        elif isinstance(original, RAKeyRejected):
            log.error("RA refused the web API key (/%s): check RA_API_KEY", command)
        elif isinstance(original, RANotUsable):
            log.error("/%s: %s", command, original)
        elif isinstance(original, RAError):
            log.warning("/%s: %s", command, original)
        await reply(interaction, message, ephemeral=True)
