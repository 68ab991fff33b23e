"""The news feed's embeds: one award announced, many as one summary, the Achievement of the Week
(/aotw), and a guild's feed (/feed show). Pure: queued posts and models in, embeds out.

A post's `data` is what the poller wrote (JSON): read with defaults, so an older row still shows.
Every name, title, description and console name is escaped (no markdown, no mention); a post's
footer is the caller's marker, verbatim: how a retry finds a post already made after a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import discord

from bot.formatting.progress import COLOUR, COMPLETED, MASTERED
from bot.formatting.text import escape, number
from bot.formatting.urls import SiteUrls
from bot.models.awards import AchievementOfTheWeek, AwardKind, WeekUnlock
from bot.models.feeds import AOTW, EXPIRED, PENDING, SENDING, Feed, QueuedPost
from bot.models.ra import GameInfo

BEATEN = "⭐"
AOTW_MARK = "🏅"
NO_AOTW = "No Achievement of the Week is set this week."
DELETED_GAME = "a game no longer on RetroAchievements"

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
EMBED_LIMIT = 6000  # characters in all of an embed's text
URL_LIMIT = 512  # a longer link (a name RA would never have) is shown as text

# How much of each text a post shows, before escaping (which at most doubles it).
NAME_LIMIT = 32  # Discord's display names
RA_NAME_LIMIT = 32
TITLE_LIMIT = 120
CONSOLE_LIMIT = 60
ABOUT_LIMIT = 300  # an achievement's description
PROBLEM_LIMIT = 400
# A summary's lines are shorter, so that more of them fit.
SUMMARY_TITLE_LIMIT = 60
SUMMARY_CONSOLE_LIMIT = 30

# An award kind's mark, its name in a title, and its verb in a sentence.
_KINDS: dict[str, tuple[str, str, str]] = {
    AwardKind.MASTERED.value: (MASTERED, "Mastered", "mastered"),
    AwardKind.COMPLETED.value: (COMPLETED, "Completed", "completed"),
    AwardKind.BEATEN_HARDCORE.value: (BEATEN, "Beaten", "beat"),
    AwardKind.BEATEN_SOFTCORE.value: (BEATEN, "Beaten", "beat"),
}
_UNKNOWN_KIND = (AOTW_MARK, "Award", "earned an award for")


# Small pieces.


def when(at: datetime) -> str:
    """A Discord timestamp, in the reader's time zone: the date and time, and how long ago."""
    epoch = int(at.timestamp())
    return f"<t:{epoch}:f> (<t:{epoch}:R>)"


def link(text: str, url: str) -> str:
    """Markdown link around already escaped `text` (plain text if the URL is absurdly long)."""
    return text if len(url) > URL_LIMIT else f"[{text}]({url})"


def mode(hardcore: bool) -> str:
    return "hardcore" if hardcore else "softcore"


def plural(n: int, word: str) -> str:
    return f"{number(n)} {word}" + ("" if n == 1 else "s")


def fit_lines(lines: Sequence[str], room: int, more: Callable[[int], str]) -> str:
    """As many whole lines as fit in `room` characters, in order, then `more(rest)` counting the
    ones left out; a line is never cut (nor a link in it)."""
    shown: list[str] = []
    used = -1  # no newline before the first line
    for line in lines:
        if used + 1 + len(line) > room:
            break
        shown.append(line)
        used += 1 + len(line)
    while shown and len(shown) < len(lines):
        if used + 1 + len(more(len(lines) - len(shown))) <= room:
            break
        used -= 1 + len(shown.pop())
    rest = len(lines) - len(shown)
    if rest and used + 1 + len(more(rest)) <= room:
        shown.append(more(rest))
    return "\n".join(shown)


def _more(n: int) -> str:
    return f"…and {number(n)} more."


# What a queued post's data says.


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: Mapping[str, Any], key: str) -> int:
    try:
        return int(data.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def is_hardcore(post: QueuedPost) -> bool:
    """A game award's mode is its kind's (mastered is hardcore, completed softcore); the AOTW's
    is in its data."""
    if post.kind in _KINDS:
        return AwardKind(post.kind).hardcore
    return bool(post.data.get("hardcore"))


def member_text(member_name: str, ra_name: str, urls: SiteUrls) -> str:
    """The Discord member's name in bold, and their RA name linked to their RA page."""
    ra_shown = escape(ra_name, RA_NAME_LIMIT)
    ra = link(ra_shown, urls.user(ra_name)) if ra_shown else "an RA account"
    shown = escape(member_name, NAME_LIMIT)
    return f"**{shown}** ({ra})" if shown else f"**{ra}**"


def game_text(
    game_id: int,
    title: str | None,
    console: str | None,
    urls: SiteUrls,
    *,
    title_limit: int = TITLE_LIMIT,
    console_limit: int = CONSOLE_LIMIT,
) -> str:
    """The game's title linked to its page, and its console; `title` None: a deleted game."""
    if title is None:
        return DELETED_GAME
    shown = escape(title, title_limit) or f"Game {game_id}"  # a link needs text
    text = f"**{link(shown, urls.game(game_id))}**"
    console_shown = escape(console or "", console_limit)
    return f"{text} ({console_shown})" if console_shown else text


def post_game_text(post: QueuedPost, game: GameInfo | None, urls: SiteUrls, **limits: int) -> str:
    """The award's game: the catalogue's title and console when known, else the award's own."""
    game_id = game.game_id if game is not None else _int(post.data, "game_id")
    if game is not None:
        return game_text(game_id, game.title, game.console, urls, **limits)
    title, console = _text(post.data, "game_title"), _text(post.data, "console")
    return game_text(game_id, title, console, urls, **limits)


def post_member_text(post: QueuedPost, member_name: str, urls: SiteUrls) -> str:
    return member_text(member_name, _text(post.data, "ra_name") or "", urls)


def achievement_text(achievement_id: int, title: str, points: int, urls: SiteUrls) -> str:
    shown = escape(title, TITLE_LIMIT) or f"Achievement {achievement_id}"
    return f"**{link(shown, urls.achievement(achievement_id))}** · {plural(points, 'point')}"


# One announcement.


def award_embed(
    post: QueuedPost, member_name: str, game: GameInfo | None, urls: SiteUrls, marker: str
) -> discord.Embed:
    """One award announced: who, what (👑 ✅ ⭐, hardcore or softcore), which game, when.

    `game`: the catalogue's (or RA's) GameInfo, preferred to the award's own title and console
    and giving the icon. An AOTW post is aotw_post_embed's. `marker` is the footer, verbatim.
    """
    if post.kind == AOTW:
        return aotw_post_embed(post, member_name, urls, marker)
    mark, label, verb = _KINDS.get(post.kind, _UNKNOWN_KIND)
    who = post_member_text(post, member_name, urls)
    embed = discord.Embed(
        colour=COLOUR,
        title=f"{mark} {label} in {mode(is_hardcore(post))}",
        description=f"{who} {verb} {post_game_text(post, game, urls)}\n{when(post.at)}",
    )
    icon = urls.media_url(game.icon_path) if game is not None else None
    if icon:
        embed.set_thumbnail(url=icon)
    embed.set_footer(text=marker)
    return embed


def aotw_post_embed(
    post: QueuedPost, member_name: str, urls: SiteUrls, marker: str
) -> discord.Embed:
    """A member earned the Achievement of the Week: the achievement (badge, title, description,
    points), its game, hardcore or softcore, and when."""
    data = post.data
    who = post_member_text(post, member_name, urls)
    lines = [
        f"{who} earned the Achievement of the Week:",
        achievement_text(
            _int(data, "achievement_id"), _text(data, "title") or "", _int(data, "points"), urls
        ),
    ]
    about = escape(_text(data, "description") or "", ABOUT_LIMIT)
    if about:
        lines.append(about)
    lines.append(post_game_text(post, None, urls))
    lines.append(when(post.at))
    embed = discord.Embed(
        colour=COLOUR,
        title=f"{AOTW_MARK} Achievement of the Week in {mode(is_hardcore(post))}",
        description="\n".join(lines),
    )
    badge = urls.media_url(_text(data, "badge_url") or "")
    if badge:
        embed.set_thumbnail(url=badge)
    embed.set_footer(text=marker)
    return embed


# Many at once.


def summary_who(member_name: str, ra_name: str) -> str:
    """The member in a summary: their name, and the RA name beside it when it differs (not
    linked: a link costs a line's worth of characters every few lines)."""
    shown = escape(member_name, NAME_LIMIT)
    ra_shown = escape(ra_name, RA_NAME_LIMIT)
    if not shown:
        return f"**{ra_shown or 'A member'}**"
    if ra_shown and ra_name.casefold() != member_name.casefold():
        return f"**{shown}** ({ra_shown})"
    return f"**{shown}**"


def summary_line(post: QueuedPost, member_name: str, game: GameInfo | None, urls: SiteUrls) -> str:
    """One post as a line of a summary: mark, member, what, game, mode, when."""
    who = summary_who(member_name, _text(post.data, "ra_name") or "")
    limits = {"title_limit": SUMMARY_TITLE_LIMIT, "console_limit": SUMMARY_CONSOLE_LIMIT}
    tail = f"{mode(is_hardcore(post))} · <t:{int(post.at.timestamp())}:R>"
    if post.kind == AOTW:
        data = post.data
        title = escape(_text(data, "title") or "", SUMMARY_TITLE_LIMIT) or "this week's"
        achievement = link(title, urls.achievement(_int(data, "achievement_id")))
        return (
            f"{AOTW_MARK} {who} earned the Achievement of the Week, {achievement}, in "
            f"{post_game_text(post, None, urls, **limits)} · {tail}"
        )
    mark, _, verb = _KINDS.get(post.kind, _UNKNOWN_KIND)
    return f"{mark} {who} {verb} {post_game_text(post, game, urls, **limits)} · {tail}"


def summary_embed(
    posts: Sequence[QueuedPost],
    names: Mapping[int, str],
    games: Mapping[int, GameInfo | None],
    urls: SiteUrls,
    marker: str,
) -> discord.Embed:
    """The posts waiting for one guild as one message, a line each, oldest first; as many as
    fit Discord's limits, the rest counted ("…and 12 more.").

    `names`: the members' names by Discord user id (a missing one shows the RA name alone);
    `games`: the catalogue's GameInfo by game id (preferred to the award's own title).
    """
    ordered = sorted(posts, key=lambda p: (p.at, p.award_key))
    lines = [
        summary_line(post, names.get(post.user_id, ""), games.get(_int(post.data, "game_id")), urls)
        for post in ordered
    ]
    embed = discord.Embed(colour=COLOUR, title=f"{plural(len(posts), 'new award')} to celebrate")
    embed.set_footer(text=marker)
    room = min(DESCRIPTION_LIMIT, EMBED_LIMIT - len(embed))
    embed.description = fit_lines(lines, room, _more) or None
    return embed


# /aotw


def _aotw_base(aotw: AchievementOfTheWeek, urls: SiteUrls) -> discord.Embed:
    """This week's achievement: badge, title, description, points, game and console, linked."""
    title = escape(aotw.title, TITLE_LIMIT) or f"Achievement {aotw.achievement_id}"
    lines = []
    about = escape(aotw.description, ABOUT_LIMIT)
    if about:
        lines.append(about)
    game = game_text(aotw.game_id, aotw.game_title, aotw.console, urls)
    lines.append(f"**{plural(aotw.points, 'point')}** · {game}")
    if aotw.starts_at is not None:
        lines.append(f"Achievement of the Week since <t:{int(aotw.starts_at.timestamp())}:D>")
    embed = discord.Embed(
        colour=COLOUR,
        title=f"{AOTW_MARK} {title}",
        url=urls.achievement(aotw.achievement_id),
        description="\n".join(lines),
    )
    badge = urls.media_url(aotw.badge_url)
    if badge:
        embed.set_thumbnail(url=badge)
    embed.set_footer(
        text=f"On RetroAchievements: {plural(aotw.unlocks_count, 'player')} of "
        f"{number(aotw.total_players)} have it, {number(aotw.unlocks_hardcore_count)} in hardcore"
    )
    return embed


def _no_aotw() -> discord.Embed:
    return discord.Embed(colour=COLOUR, title="Achievement of the Week", description=NO_AOTW)


def earner_line(name: str, unlock: WeekUnlock) -> str:
    shown = escape(name, NAME_LIMIT) or escape(unlock.user, RA_NAME_LIMIT) or "A member"
    return f"**{shown}** · {mode(unlock.hardcore)} · <t:{int(unlock.at.timestamp())}:f>"


def not_yet_text(earned: int, not_yet: int) -> str:
    if not_yet:
        verb = "has" if not_yet == 1 else "have"
        return f"{plural(not_yet, 'linked member')} here {verb} not earned it yet."
    if earned:
        return "Every linked member here has earned it."
    return "Nobody here has linked an RA account yet: `/link` to join in."


def aotw_embed(
    aotw: AchievementOfTheWeek | None,
    earners: Sequence[tuple[str, WeekUnlock]],
    not_yet: int,
    urls: SiteUrls,
) -> discord.Embed:
    """/aotw in a guild: this week's achievement, the guild's linked members who earned it (their
    names as given, in the order given: hardcore or softcore, when), and how many have not."""
    if aotw is None:
        return _no_aotw()
    embed = _aotw_base(aotw, urls)
    lines = [earner_line(name, unlock) for name, unlock in earners]
    earned = fit_lines(lines, FIELD_LIMIT, _more) or "Nobody here yet."
    embed.add_field(name=f"Earned here ({number(len(earners))})", value=earned, inline=False)
    embed.add_field(name="Not yet", value=not_yet_text(len(earners), not_yet), inline=False)
    return embed


def aotw_mine_embed(
    aotw: AchievementOfTheWeek | None, earned: WeekUnlock | None, urls: SiteUrls
) -> discord.Embed:
    """/aotw outside a guild: this week's achievement, and whether the caller's account has it."""
    if aotw is None:
        return _no_aotw()
    embed = _aotw_base(aotw, urls)
    if earned is None:
        value = "Not yet: it stays the Achievement of the Week until the next one is set."
    else:
        value = f"Earned in {mode(earned.hardcore)} {when(earned.at)}"
    embed.add_field(name="You", value=value, inline=False)
    return embed


# /feed show


def kinds_text(feed: Feed) -> str:
    kinds = []
    if feed.masteries:
        kinds.append(f"{MASTERED} masteries ({COMPLETED} completions too)")
    if feed.beaten:
        kinds.append(f"{BEATEN} beaten games")
    if feed.aotw:
        kinds.append(f"{AOTW_MARK} the Achievement of the Week")
    return " · ".join(kinds) if kinds else "nothing: every kind is off"


def queue_text(queued: Mapping[str, int]) -> str:
    """The guild's queue by status (FeedStore.count): what waits, what is being sent, and what
    waited too long to be announced."""
    waiting, sending, expired = (queued.get(s, 0) for s in (PENDING, SENDING, EXPIRED))
    parts = [f"{number(waiting)} waiting" if waiting or sending else "nothing waiting"]
    if sending:
        parts.append(f"{number(sending)} being sent")
    if expired:
        parts.append(f"{number(expired)} never sent: they waited longer than the catch-up window")
    return " · ".join(parts)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def feed_embed(
    feed: Feed,
    *,
    channel_mention: str,
    games_text: str | None,
    queued: Mapping[str, int],
    requests_last_hour: int,
) -> discord.Embed:
    """/feed show: where and what the guild's feed announces, its last post and last problem,
    what waits, and what the whole feed costs in RA requests.

    `channel_mention` ("<#id>") and `games_text` (the games by title, escaped: e.g.
    leaderboard.schedule_games) are the caller's; `games_text` None shows `feed.games` escaped;
    `queued`: the guild's posts by status (FeedStore.count).
    """
    if feed.games is None:
        games = "every game"
    else:
        games = _clip(games_text, FIELD_LIMIT) if games_text else escape(feed.games, 500)
    embed = discord.Embed(
        colour=COLOUR, title="News feed", description=f"Announcing in {channel_mention}."
    )
    embed.add_field(name="Announces", value=kinds_text(feed), inline=False)
    only = "hardcore only" if feed.hardcore_only else "hardcore and softcore"
    embed.add_field(name="Mode", value=only)
    embed.add_field(name="Since", value=f"<t:{int(feed.since.timestamp())}:f>")
    embed.add_field(name="Games", value=games or "every game", inline=False)
    last = when(feed.last_post_at) if feed.last_post_at else "nothing posted yet"
    embed.add_field(name="Last post", value=last, inline=False)
    if feed.problem:
        problem = escape(feed.problem, PROBLEM_LIMIT) or "unknown"
        if feed.problem_at is not None:
            problem += f" · {when(feed.problem_at)}"
        embed.add_field(name="Last problem posting", value=problem, inline=False)
    embed.add_field(name="Queue", value=queue_text(queued), inline=False)
    embed.add_field(
        name="RetroAchievements requests (last hour)",
        value=f"{number(requests_last_hour)}: one poll serves every server, so this is the whole "
        "bot's feed, the same for one server or a thousand.",
        inline=False,
    )
    return embed
