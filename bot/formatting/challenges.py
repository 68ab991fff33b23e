"""Challenges as embeds and pictures. Pure: standings or challenges in, embeds (or the
`BoardPicture` the leaderboards' renderer draws) out.

Rows are the leaderboard's (bot.formatting.leaderboard.standing_line): rank, name, hardcore
points, hardcore unlocks, softcore points, and what changed since the previous post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import discord

from bot.formatting.board_image import BoardPicture
from bot.formatting.game_sets import games_text
from bot.formatting.leaderboard import MEDALS, board_page, standing_line
from bot.formatting.leaderboard_picture import RANKING_RULE, games_line, row_of
from bot.formatting.progress import COLOUR
from bot.formatting.text import escape, number
from bot.formatting.urls import SiteUrls
from bot.models.boards import changes_since
from bot.models.challenge_times import State, last_day, state
from bot.models.challenges import Challenge, ChallengeBoard

ROWS = 25
NOT_STARTED_SHOWN = 20
GAMES_SHOWN = 6
RULE = (
    "Earned inside the window: hardcore points, then hardcore unlocks, then softcore points "
    "(a hardcore unlock counts for softcore too)"
)


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def window_text(challenge: Challenge) -> str:
    """`1 Dec 2026 → 31 Dec 2026 (UTC, end day included)`; a start mid-day shows its time."""
    start = challenge.starts_at
    shown = (
        _day(start)
        if (start.hour, start.minute, start.second) == (0, 0, 0)
        else (f"{_day(start)} {start:%H:%M}")
    )
    end = last_day(challenge.ends_at)
    return f"{shown} → {end.day} {end:%b %Y} (UTC, end day included)"


def when_text(challenge: Challenge, now: datetime) -> str:
    start, end = int(challenge.starts_at.timestamp()), int(challenge.ends_at.timestamp())
    current = state(challenge.starts_at, challenge.ends_at, now)
    if current is State.UPCOMING:
        return f"Starts <t:{start}:R>"
    if current is State.RUNNING:
        return f"Ends <t:{end}:R>"
    return f"Ended <t:{end}:R>"


def challenge_games(challenge: Challenge, titles: Mapping[int, str], budget: int = 300) -> str:
    """The challenge's games as every reply names games ("Super Metroid (700)" where the title
    is known, else the id), after the set's name when it came from one."""
    text = games_text(challenge.game_ids, titles, budget=budget, at_most=GAMES_SHOWN)
    if challenge.set_name:
        return f"{escape(challenge.set_name, 40)}: {text}"
    return text


def podium(standings: ChallengeBoard) -> str:
    """The top three of final standings, called out."""
    top = standings.board.standings[:3]
    if not top:
        return "🏁 Nobody earned anything on these games during the challenge."
    return "🏆 " + " · ".join(
        f"{MEDALS[i]} **{escape(s.name, 32)}** "
        + (
            f"{number(s.hardcore_points)} pts"
            if s.hardcore_points
            else f"{number(s.softcore_points)} SC pts"
        )
        for i, s in enumerate(top)
    )


def standings_page_count(standings: ChallengeBoard, rows: int = ROWS) -> int:
    return max(1, -(-len(standings.board.standings) // rows))


def standings_embed(
    standings: ChallengeBoard,
    urls: SiteUrls,
    *,
    changes: Mapping[int, str] | None = None,
    footer: str | None = None,
    rows: int = ROWS,
    page: int | None = None,
) -> discord.Embed:
    """The standings: window, (final: the podium), ranked rows, who has not started.

    `page` (0-based) shows that page of rows, with "Page n/m" in the footer; None shows the
    first `rows` with a pointer to `/challenge standings` for the rest (a post).
    """
    pages = standings_page_count(standings, rows)
    shown = 0 if page is None else max(0, min(page, pages - 1))
    first = shown * rows
    challenge = standings.challenge
    board = standings.board
    name = escape(challenge.name, 60)
    title = f"Final standings · {name}" if standings.final else f"Challenge · {name}"
    lines = [window_text(challenge)]
    if standings.final:
        lines.append(podium(standings))
    elif standings.state is State.UPCOMING:
        lines.append(f"Starts <t:{int(challenge.starts_at.timestamp())}:R>: nothing counts yet.")
    else:
        lines.append(f"Ends <t:{int(challenge.ends_at.timestamp())}:R>.")
    lines.append("")
    for index, standing in enumerate(board.standings[first : first + rows], start=first):
        line = standing_line(index, standing)
        change = (changes or {}).get(standing.member.user_id)
        lines.append(f"{line} · {change}" if change else line)
    if page is None and len(board.standings) > rows:
        lines.append(
            f"…and {len(board.standings) - rows} more: `/challenge standings` lists everyone."
        )
    if not board.standings and not standings.not_started:
        lines.append(
            "Nobody in this server has linked a RetroAchievements account yet: members join "
            "by using `/link` here."
        )
    if standings.not_started and shown == pages - 1:
        names = ", ".join(
            escape(m.display_name, 24) for m in standings.not_started[:NOT_STARTED_SHOWN]
        )
        more = len(standings.not_started) - NOT_STARTED_SHOWN
        lines.append(f"\nNot started: {names}" + (f" and {more} more" if more > 0 else ""))
    embed = board_page(board, 0, title, urls)
    embed.description = "\n".join(lines)[:4096]
    text = footer or RULE
    if page is not None and pages > 1:
        text = f"Page {shown + 1}/{pages} · {text}"
    embed.set_footer(text=text)
    if standings.until is not None:
        embed.timestamp = min(standings.until, board.fetched_at or standings.until)
    return embed


def standings_picture(
    standings: ChallengeBoard,
    *,
    previous: Mapping[str, Any] | None = None,
    footer: str | None = None,
    rows: int = ROWS,
    page: int | None = None,
) -> BoardPicture:
    """The standings as a picture, row for row what `standings_embed` shows with the same
    arguments: a header with the challenge's name, its window and its games, who has not
    started (where the text lists them), and on posts the change since `previous`."""
    pages = standings_page_count(standings, rows)
    shown = 0 if page is None else max(0, min(page, pages - 1))
    first = shown * rows
    challenge = standings.challenge
    board = standings.board
    changes = changes_since(previous, board) if page is None else {}
    title = ("Final standings · " if standings.final else "Challenge · ") + challenge.name
    if page is not None and pages > 1:
        title += f" · page {shown + 1}/{pages}"
    window = window_text(challenge)
    if not standings.final and standings.until is not None:
        window += f" · figures up to {standings.until:%Y-%m-%d %H:%M} UTC"
    lines = [window, games_line(board.game_ids, board.games)]
    if standings.not_started and shown == pages - 1:
        names = ", ".join(m.display_name for m in standings.not_started[:NOT_STARTED_SHOWN])
        more = len(standings.not_started) - NOT_STARTED_SHOWN
        lines.append(f"Not started: {names}" + (f"  +{more} more" if more > 0 else ""))
    note = ""
    if standings.state is State.UPCOMING:
        note = f"Starts {_day(challenge.starts_at)} (UTC): nothing counts yet"
    counted = f"{len(board.standings)} earned something · {len(standings.not_started)} not started"
    empty = "Nobody has earned anything on these games yet."
    if not board.standings and not standings.not_started:
        empty = "Nobody in this server has linked a RetroAchievements account yet: /link joins."
    return BoardPicture(
        title=title,
        rows=tuple(
            row_of(first + i + 1, s, changes.get(s.member.user_id))
            for i, s in enumerate(board.standings[first : first + rows])
        ),
        lines=tuple(lines),
        note=note,
        footer=f"{footer or counted} · earned in the window: {RANKING_RULE}",
        empty=empty,
    )


def _posts_text(challenge: Challenge) -> str:
    if challenge.channel_id is None:
        return "No posts (no channel)"
    where = f"<#{challenge.channel_id}>"
    if challenge.cadence is not None:
        return f"Posted in {where} {challenge.cadence.value} at 00:00 UTC, then final standings"
    return f"Final standings in {where}"


def challenges_embed(
    challenges: Sequence[Challenge], titles: Mapping[int, str], now: datetime
) -> discord.Embed:
    """/challenge list: running, then upcoming, then finished."""
    embed = discord.Embed(colour=COLOUR, title="Challenges")
    if not challenges:
        embed.description = "None yet: a moderator starts one with `/challenge create`."
        return embed
    order = {State.RUNNING: 0, State.UPCOMING: 1, State.FINISHED: 2}
    label = {
        State.RUNNING: "🟢 Running",
        State.UPCOMING: "🕒 Upcoming",
        State.FINISHED: "🏁 Finished",
    }
    ranked = sorted(
        challenges,
        key=lambda c: (order[state(c.starts_at, c.ends_at, now)], c.starts_at, c.id),
    )
    for challenge in ranked[:25]:
        current = state(challenge.starts_at, challenge.ends_at, now)
        lines = [
            f"{window_text(challenge)} · {when_text(challenge, now)}",
            f"Games: {challenge_games(challenge, titles)}",
            _posts_text(challenge),
        ]
        if challenge.paused_reason:
            lines.append(f"⏸️ Posts paused: {escape(challenge.paused_reason, 300)}")
        elif challenge.last_result:
            lines.append(f"Last: {escape(challenge.last_result, 200)}")
        embed.add_field(
            name=f"{label[current]} · {escape(challenge.name, 80)}"[:256],
            value="\n".join(lines)[:1024],
            inline=False,
        )
    return embed
