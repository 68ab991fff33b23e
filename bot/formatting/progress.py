"""The /progress reply: a ProgressReport in, Discord embeds out. Pure: no I/O.

Each game is a block in the embed description (so its title can link to its RA page): hardcore
first, softcore beside it where it differs, and a mark for mastered or completed. Blocks are packed
into embeds and messages within Discord's limits (4096 characters a description, 10 embeds and
6000 characters a message).
"""

from __future__ import annotations

import discord

from bot.formatting.text import NO_ACHIEVEMENTS, escape, number, percent, progress_bar
from bot.formatting.urls import SiteUrls
from bot.models.progress import GameEntry, ProgressReport
from bot.models.ra import GameProgress

COLOUR = discord.Colour(0xCC9900)
MASTERED = "👑"
COMPLETED = "✅"
UNKNOWN = "❔"
DESCRIPTION_LIMIT = 4096
MESSAGE_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
# Room kept in each message for author, title, totals and footer.
_OVERHEAD = 700


def _line(label: str, achieved: int, possible: int, score: int, possible_score: int) -> str:
    return (
        f"{progress_bar(achieved, possible)} {label} **{number(achieved)}/{number(possible)}** · "
        f"{number(score)}/{number(possible_score)} pts · {percent(achieved, possible)}%"
    )


def mark(progress: GameProgress) -> str:
    if progress.mastered:
        return f"{MASTERED} Mastered"
    if progress.completed:
        return f"{COMPLETED} Completed"
    return ""


def game_block(entry: GameEntry, urls: SiteUrls) -> str:
    """The lines of one game."""
    p = entry.progress
    if entry.info is None:
        return f"{UNKNOWN} **Game {entry.game_id}**: RetroAchievements does not know this game id."
    shown = escape(entry.info.title, 120) or f"Game {entry.game_id}"  # a link needs text
    title = f"**[{shown}]({urls.game(entry.game_id)})**"
    console = escape(entry.info.console, 60)
    head = f"{title} · {console}" if console else title
    if p.possible == 0:
        return f"{head}\n{NO_ACHIEVEMENTS}"
    status = mark(p)
    lines = [f"{head}" + (f" — {status}" if status else "")]
    lines.append(_line("HC", p.achieved_hardcore, p.possible, p.score_hardcore, p.possible_score))
    if (p.achieved, p.score) != (p.achieved_hardcore, p.score_hardcore):
        lines.append(_line("SC", p.achieved, p.possible, p.score, p.possible_score))
    return "\n".join(lines)


def totals(entries: list[GameEntry]) -> tuple[str, str]:
    """Hardcore and softcore totals over the games RA knows."""
    known = [e.progress for e in entries if e.info is not None and e.progress.possible > 0]
    possible = sum(p.possible for p in known)
    possible_score = sum(p.possible_score for p in known)
    hardcore = _line(
        "HC",
        sum(p.achieved_hardcore for p in known),
        possible,
        sum(p.score_hardcore for p in known),
        possible_score,
    )
    softcore = _line(
        "SC", sum(p.achieved for p in known), possible, sum(p.score for p in known), possible_score
    )
    marks = sum(p.mastered for p in known), sum(p.completed and not p.mastered for p in known)
    summary = f"{MASTERED} {marks[0]} mastered · {COMPLETED} {marks[1]} completed"
    return f"{hardcore}\n{softcore}", summary


def progress_messages(report: ProgressReport, urls: SiteUrls) -> list[list[discord.Embed]]:
    """The reply as messages (each a list of at most 10 embeds), first message first."""
    profile = report.profile
    blocks = [game_block(entry, urls) for entry in report.games]

    # Pack blocks into embeds (4096 characters a description) and embeds into messages (6000
    # characters in all, room kept for author, title, totals and footer).
    pages: list[list[str]] = [[""]]
    used = 0
    for block in blocks:
        current = pages[-1][-1]
        candidate = f"{current}\n\n{block}" if current else block
        added = len(candidate) - len(current)
        if used + added > MESSAGE_LIMIT - _OVERHEAD:
            pages.append([block])
            used = len(block)
        elif len(candidate) > DESCRIPTION_LIMIT:
            pages[-1].append(block)
            used += len(block)
        else:
            pages[-1][-1] = candidate
            used += added

    messages: list[list[discord.Embed]] = []
    count = len(report.games)
    for page in pages:
        messages.append([discord.Embed(colour=COLOUR, description=text) for text in page])
    first = messages[0][0]
    first.set_author(
        name=profile.display_name,
        url=urls.user(profile.display_name),
        icon_url=urls.media_url(profile.user_pic_path),
    )
    first.title = f"Progress on {count} game{'s' if count != 1 else ''}"
    icon = None
    if count == 1 and report.games[0].info is not None:
        icon = urls.media_url(report.games[0].info.icon_path)
    first.set_thumbnail(url=icon or urls.media_url(profile.user_pic_path))
    last = messages[-1][-1]
    if count > 1:
        lines, summary = totals(report.games)
        last.add_field(name="Totals", value=f"{lines}\n{summary}", inline=False)
    last.set_footer(text="Fetched from RetroAchievements")
    last.timestamp = report.fetched_at

    return messages
