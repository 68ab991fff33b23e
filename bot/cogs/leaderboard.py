"""Placeholder while the feature is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import RABot


async def setup(bot: RABot) -> None:
    return None
