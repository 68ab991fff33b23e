"""Replies of /link and /unlink. Pure."""

from __future__ import annotations

import discord

from bot.formatting.progress import COLOUR
from bot.formatting.text import escape
from bot.formatting.urls import SiteUrls
from bot.models.ra import UserProfile


def linked_embed(profile: UserProfile, urls: SiteUrls, replaced: str | None) -> discord.Embed:
    name = escape(profile.display_name, 40)
    page = urls.user(profile.display_name)
    embed = discord.Embed(
        colour=COLOUR,
        title="Account linked",
        description=(
            f"Your Discord account is now linked to **[{name}]({page})**"
            " on RetroAchievements."
            + (f"\nIt replaces your link to {escape(replaced, 40)}." if replaced else "")
            + "\n`/progress` without `user` now shows your own progress, and this server's "
            "leaderboards include you."
        ),
    )
    picture = urls.media_url(profile.user_pic_path)
    if picture:
        embed.set_thumbnail(url=picture)
    embed.add_field(name="Hardcore points", value=f"{profile.total_points:,}")
    embed.add_field(name="Softcore points", value=f"{profile.total_softcore_points:,}")
    return embed
