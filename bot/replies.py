"""The one place that answers an interaction, whatever state its response is in.

- not answered yet: send the response;
- deferred or answered: edit the original response (or, for an error after a public defer,
  delete the "thinking…" message and send the error as an ephemeral followup, so that errors
  always reach the caller alone);
- expired (the token lasts 15 minutes) or already deleted: log and drop.

Everything goes out with AllowedMentions.none(): nothing the bot writes can ping anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
_EPHEMERAL = "bot.replies.ephemeral"


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embeds: Sequence[discord.Embed] = (),
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
    files: Sequence[discord.File] = (),
) -> None:
    """Show `content`/`embeds` (and `files`, e.g. a picture an embed shows) as the answer to
    `interaction`. Editing an answer replaces its files with `files` when there are any."""
    attached = list(files) or discord.utils.MISSING
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                content,
                embeds=list(embeds),
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
                view=view or discord.utils.MISSING,
                files=attached,
            )
            return
        if ephemeral and not _response_is_ephemeral(interaction):
            # A public "thinking…" cannot become ephemeral: replace it.
            try:
                await interaction.delete_original_response()
            except discord.NotFound:
                pass
            await interaction.followup.send(
                content or discord.utils.MISSING,
                embeds=list(embeds),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
                view=view or discord.utils.MISSING,
                files=attached,
            )
            return
        await interaction.edit_original_response(
            content=content,
            embeds=list(embeds),
            allowed_mentions=NO_MENTIONS,
            view=view,
            attachments=attached,
        )
    except discord.NotFound:
        log.info("interaction %s expired before the bot could answer", interaction.id)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s %s", interaction.id, exc.status, exc.code)


async def followup(interaction: discord.Interaction, *, embeds: Sequence[discord.Embed]) -> None:
    """A further public message after the answer (long replies)."""
    try:
        await interaction.followup.send(embeds=list(embeds), allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not send a followup for %s: %s", interaction.id, exc.status)


def _response_is_ephemeral(interaction: discord.Interaction) -> bool:
    """Whether the deferred/sent response was ephemeral (discord.py keeps no public flag)."""
    return bool(interaction.extras.get(_EPHEMERAL, False))


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now (Discord gives 3 s), remembering whether it was ephemeral."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        interaction.extras[_EPHEMERAL] = ephemeral
