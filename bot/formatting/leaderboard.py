"""Boards and comparisons as embeds. Pure: a Board in, embeds out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import discord

from bot.formatting.game_sets import games_text
from bot.formatting.progress import COLOUR, COMPLETED, MASTERED
from bot.formatting.text import NO_ACHIEVEMENTS, escape, number
from bot.formatting.urls import SiteUrls
from bot.models.boards import Board, Change, Standing
from bot.models.ra import GameInfo, GameProgress
from bot.models.schedule_times import describe
from bot.models.schedules import Schedule
from bot.parsing import ids_in_part, split_parts

MEDALS = ("🥇", "🥈", "🥉")
ROWS_PER_PAGE = 10
GAMES_SHOWN = 8
FIELD_LIMIT = 1024
MESSAGE_BUDGET = 5500
SCHEDULED_ROWS = 20
DESCRIPTION_LIMIT = 4096
EMBED_LIMIT = 6000  # characters in all of an embed's text


def board_title(set_name: str | None, game_ids: Sequence[int], titles: Mapping[int, str]) -> str:
    """`Leaderboard · Monthly` for a set, else the games by title (`Super Metroid (1234)`)."""
    if set_name:
        return f"Leaderboard · {escape(set_name, 40)}"
    return f"Leaderboard · {games_text(game_ids, titles, budget=180, at_most=3)}"


def board_titles(board: Board) -> dict[int, str]:
    """The titles a board knows, for its header."""
    return {gid: info.title for gid, info in board.games.items() if info is not None}


def place(index: int) -> str:
    return MEDALS[index] if index < len(MEDALS) else f"`#{index + 1}`"


def who(standing: Standing) -> str:
    name = escape(standing.name, 32)
    ra_name = standing.member.link.ra_name
    if ra_name.casefold() != standing.name.casefold():
        return f"**{name}** ({escape(ra_name, 20)})"
    return f"**{name}**"


def marks(mastered: int, completed: int) -> str:
    out = []
    if mastered:
        out.append(f"{MASTERED}{mastered if mastered > 1 else ''}")
    if completed:
        out.append(f"{COMPLETED}{completed if completed > 1 else ''}")
    return (" " + " ".join(out)) if out else ""


def standing_line(index: int, s: Standing) -> str:
    return (
        f"{place(index)} {who(s)} · {number(s.hardcore_points)} pts · "
        f"{number(s.hardcore_unlocks)} HC · {number(s.softcore_points)} SC pts"
        + marks(s.mastered, s.completed)
    )


def game_title(game_id: int, info: GameInfo | None, limit: int = 80) -> str:
    if info is None:
        return f"Game {game_id} (unknown to RetroAchievements)"
    console = f" · {info.console}" if info.console.strip() else ""
    title = info.title if info.title.strip() else f"Game {game_id}"  # a field needs a name
    return (title + console)[:limit]


def game_line(index: int, s: Standing, p: GameProgress) -> str:
    if p.possible == 0:
        return f"{place(index)} {who(s)}"
    status = f" {MASTERED}" if p.mastered else (f" {COMPLETED}" if p.completed else "")
    line = (
        f"{place(index)} {who(s)} · HC {p.achieved_hardcore}/{p.possible} · "
        f"{number(p.score_hardcore)} pts"
    )
    if (p.achieved, p.score) != (p.achieved_hardcore, p.score_hardcore):
        line += f" · SC {p.achieved}/{p.possible}"
    return line + status


def _podium(board: Board, game_id: int) -> str:
    ranked = [s for s in board.ranked_on(game_id) if s.per_game[game_id].score > 0]
    if not ranked:
        return "Nobody has unlocked anything yet."
    return " · ".join(
        f"{MEDALS[i]} {escape(s.name, 24)} {number(s.per_game[game_id].score_hardcore)}"
        for i, s in enumerate(ranked[:3])
    )


def board_page_count(board: Board) -> int:
    return max(1, -(-len(board.standings) // ROWS_PER_PAGE))


def board_page(board: Board, page: int, title: str, urls: SiteUrls) -> discord.Embed:
    """Page `page` (0-based) of a board: ranking rows, and each game's podium."""
    pages = board_page_count(board)
    page = max(0, min(page, pages - 1))
    rows = board.standings[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
    lines = [standing_line(page * ROWS_PER_PAGE + i, s) for i, s in enumerate(rows)]
    if not lines:
        lines = ["Nobody on this board yet."]
    if board.missing and page == 0:
        names = ", ".join(escape(m.display_name, 24) for m in board.missing[:10])
        lines.append(f"\nLinked to RA accounts that no longer exist: {names}")
    embed = discord.Embed(colour=COLOUR, title=title, description="\n".join(lines))
    for game_id in board.game_ids[:GAMES_SHOWN]:
        info = board.games.get(game_id)
        value = _podium(board, game_id)
        if info is not None:
            value = f"[Game page]({urls.game(game_id)}) · {value}"
        embed.add_field(name=escape(game_title(game_id, info), 200), value=value, inline=False)
    if len(board.game_ids) > GAMES_SHOWN:
        embed.add_field(
            name="More games",
            value=f"…and {len(board.game_ids) - GAMES_SHOWN} more counted in the totals.",
            inline=False,
        )
    embed.set_footer(
        text=f"Page {page + 1}/{pages} · {len(board.standings)} members · "
        "hardcore points, then hardcore unlocks, then softcore points"
    )
    if board.fetched_at is not None:
        embed.timestamp = board.fetched_at
    return embed


def scheduled_board_embed(
    board: Board,
    title: str,
    urls: SiteUrls,
    *,
    changes: dict[int, str],
    stale_since: datetime | None,
    footer: str,
    rows: int = SCHEDULED_ROWS,
    late_by: timedelta | None = None,
) -> discord.Embed:
    """A scheduled post: the top of the board with what changed since the previous post.

    As many rows as fit Discord's limits (4096 characters a description, 6000 an embed) beside
    the games' podiums; the rest are counted. `late_by`: how long after its time the post goes
    out, said when it is late.
    """
    lines = []
    for index, standing in enumerate(board.standings[:rows]):
        line = standing_line(index, standing)
        change = changes.get(standing.member.user_id)
        lines.append(f"{line} · {change}" if change else line)
    head = []
    if stale_since is not None:
        head.append(
            "⚠️ RetroAchievements could not be reached: these figures are from "
            f"<t:{int(stale_since.timestamp())}:f>.\n"
        )
    if late_by is not None:
        minutes = max(1, round(late_by.total_seconds() / 60))
        head.append(
            f"⏱️ Posted {minutes} min late: the bot's RetroAchievements budget was busy or "
            "RetroAchievements was slow.\n"
        )
    embed = board_page(board, 0, title, urls)
    embed.set_footer(text=footer)
    embed.description = None
    room = min(DESCRIPTION_LIMIT, EMBED_LIMIT - len(embed))

    def text(shown: int) -> str:
        body = head + lines[:shown]
        if not board.standings:
            body.append("Nobody on this board yet: members join it by using `/link` here.")
        elif len(board.standings) > shown:
            body.append(
                f"…and {len(board.standings) - shown} more: `/leaderboard show` lists everyone."
            )
        return "\n".join(body)

    shown = len(lines)
    while shown > 0 and len(text(shown)) > room:
        shown -= 1
    embed.description = text(shown)[:room]
    return embed


def schedule_games(games: str, titles: Mapping[int, str]) -> str:
    """A schedule's games as stored (ids, or a set's name), shown by title where known."""
    parts = split_parts(games)
    ids: list[int] = []
    for part in parts:
        found = ids_in_part(part)
        if found is None:
            return escape(games, 200)  # a set's name
        ids.extend(found)
    return games_text(ids, titles, budget=200)


def schedules_embed(schedules: list[Schedule], titles: Mapping[int, str]) -> discord.Embed:
    """/leaderboard schedules: id, channel, games, cadence, next run, last result."""
    embed = discord.Embed(colour=COLOUR, title="Scheduled leaderboards")
    if not schedules:
        embed.description = "None yet: add one with `/leaderboard schedule`."
        return embed
    for schedule in schedules[:25]:
        when = int(schedule.run_at.timestamp())
        state = (
            f"⏸️ Paused: {escape(schedule.paused_reason, 300)}"
            if schedule.paused_reason
            else f"Next: <t:{when}:F> (<t:{when}:R>)"
        )
        cadence = describe(schedule.cadence, schedule.hour, schedule.minute)
        lines = [
            f"<#{schedule.channel_id}> · {cadence}"
            + (" · edits one message" if schedule.edit_in_place else ""),
            f"Games: {schedule_games(schedule.games, titles)}",
            state,
        ]
        if schedule.last_result and not schedule.paused_reason:
            lines.append(f"Last: {escape(schedule.last_result, 200)}")
        embed.add_field(name=f"#{schedule.id}", value="\n".join(lines)[:1024], inline=False)
    return embed


def compare_embeds(board: Board, urls: SiteUrls, notes: list[str]) -> list[list[discord.Embed]]:
    """A comparison: the overall ranking, then each game with its members ranked."""
    head = discord.Embed(
        colour=COLOUR,
        title=f"Comparing {len(board.standings)} members on {len(board.game_ids)} "
        f"game{'s' if len(board.game_ids) != 1 else ''}",
        description="\n".join([standing_line(i, s) for i, s in enumerate(board.standings)] + notes)[
            :4000
        ],
    )
    if board.fetched_at is not None:
        head.timestamp = board.fetched_at
    fields: list[tuple[str, str]] = []
    for game_id in board.game_ids:
        info = board.games.get(game_id)
        name = escape(game_title(game_id, info), 200)
        if info is None:
            fields.append((name, "RetroAchievements does not know this game id."))
            continue
        ranked = board.ranked_on(game_id)
        body = "\n".join(game_line(i, s, s.per_game[game_id]) for i, s in enumerate(ranked))
        if board.standings and ranked[0].per_game[game_id].possible == 0:
            body = NO_ACHIEVEMENTS
        fields.append((name, f"[Game page]({urls.game(game_id)})\n{body}"[:FIELD_LIMIT]))

    # Pack the fields: 25 an embed, 10 embeds and MESSAGE_BUDGET characters a message.
    messages: list[list[discord.Embed]] = [[head]]
    size = len(head)
    current: discord.Embed | None = None
    for name, value in fields:
        cost = len(name) + len(value)
        if current is not None and (len(current.fields) == 25 or size + cost > MESSAGE_BUDGET):
            messages[-1].append(current)
            current = None
        if current is None:
            if size + cost > MESSAGE_BUDGET or len(messages[-1]) == 10:
                messages.append([])
                size = 0
            current = discord.Embed(colour=COLOUR)
        current.add_field(name=name, value=value, inline=False)
        size += cost
    if current is not None:
        messages[-1].append(current)
    return messages


def change_notes(changes: Mapping[int, Change], board: Board) -> dict[int, str]:
    """Per member, for the text: rank move (▲▼, 🆕), hardcore points gained, new masteries."""
    out: dict[int, str] = {}
    for user_id, change in changes.items():
        parts = []
        if change.new:
            parts.append("🆕")
        elif change.move:
            parts.append(f"▲{change.move}" if change.move > 0 else f"▼{-change.move}")
        if change.gained > 0:
            parts.append(f"+{change.gained:,} pts")
        for gid in change.mastered:
            info = board.games.get(gid)
            parts.append(f"👑 {escape(info.title, 60) if info else f'game {gid}'}")
        if parts:
            out[user_id] = " · ".join(parts)
    return out
