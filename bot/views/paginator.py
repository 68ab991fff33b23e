"""Buttons that turn the pages of a long reply: first, previous, my position, next, last.

Only the person who asked can use them; after `timeout` seconds of no use they are removed, so a
stale board never shows buttons that no longer answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

log = logging.getLogger(__name__)

PageMaker = Callable[[int], discord.Embed]
# The files to send with a page (its picture, shown by the embed), or none.
PageFiles = Callable[[int, discord.Embed], Awaitable[list[discord.File]]]


class Paginator(discord.ui.View):
    def __init__(
        self,
        *,
        owner_id: int,
        pages: int,
        make_page: PageMaker,
        position_of_owner: int | None,
        timeout: float = 600.0,
        page_files: PageFiles | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.pages = pages
        self.make_page = make_page
        self.page_files = page_files
        self.position_page = position_of_owner
        self.page = 0
        self.message: discord.InteractionMessage | None = None
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.first.disabled = self.previous.disabled = self.page == 0
        self.next.disabled = self.last.disabled = self.page >= self.pages - 1
        self.mine.disabled = self.position_page is None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the person who asked can turn these pages: run the command yourself.",
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, self.pages - 1))
        self._sync_buttons()
        embed = self.make_page(self.page)
        if self.page_files is None:
            await interaction.response.edit_message(embed=embed, view=self)
            return
        files = await self.page_files(self.page, embed)  # replaces the previous page's picture
        await interaction.response.edit_message(embed=embed, view=self, attachments=files)

    @discord.ui.button(label="⏮", style=discord.ButtonStyle.secondary)
    async def first(
        self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]
    ) -> None:
        await self._show(interaction, 0)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]
    ) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="My position", style=discord.ButtonStyle.primary)
    async def mine(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        if self.position_page is not None:
            await self._show(interaction, self.position_page)

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        await self._show(interaction, self.page + 1)

    @discord.ui.button(label="⏭", style=discord.ButtonStyle.secondary)
    async def last(self, interaction: discord.Interaction, _: discord.ui.Button[Paginator]) -> None:
        await self._show(interaction, self.pages - 1)

    async def on_timeout(self) -> None:
        """Remove the buttons: they would no longer answer."""
        if self.message is None:
            return
        try:
            await self.message.edit(view=None)
        except discord.HTTPException as exc:
            log.debug("could not remove expired page buttons: %s", exc.status)
