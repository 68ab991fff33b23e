"""The /gameset replies. Pure: sets, ids and the titles known so far in, strings and embeds out.

A game is shown by its title when the bot has it cached ("Sonic the Hedgehog (1)"), else by its
id alone: the set commands never ask RA anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import discord

from bot.formatting.text import escape
from bot.models.game_sets import GameSet, SetChange

EMBED_DESCRIPTION_MAX = 4096
MESSAGE_GAMES_BUDGET = 1200  # characters of game labels in one confirmation
LIST_LINE_MIN, LIST_LINE_MAX = 60, 300
LIST_GAMES_SHOWN = 5
TITLE_LIMIT = 50


def shown_name(name: str) -> str:
    """A set name (as stored, or as typed) for a message: bold, escaped, one line, bounded."""
    return f"**{escape(unicodedata.normalize('NFC', name), 40)}**"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def game_label(game_id: int, titles: Mapping[int, str]) -> str:
    """ "Sonic the Hedgehog (1)" when the title is known, else "1"."""
    title = titles.get(game_id)
    if not title:
        return str(game_id)
    return f"{escape(title, TITLE_LIMIT)} ({game_id})"


def _labels_within(
    game_ids: Sequence[int], titles: Mapping[int, str], budget: int, at_most: int | None
) -> list[str]:
    """The first labels that fit in `budget` characters, joined by ", "."""
    shown: list[str] = []
    used = 0
    limit = len(game_ids) if at_most is None else min(at_most, len(game_ids))
    for game_id in game_ids[:limit]:
        label = game_label(game_id, titles)
        cost = len(label) + (2 if shown else 0)
        if used + cost > budget:
            break
        shown.append(label)
        used += cost
    return shown


def games_text(
    game_ids: Sequence[int],
    titles: Mapping[int, str],
    budget: int = MESSAGE_GAMES_BUDGET,
    at_most: int | None = None,
) -> str:
    """Labels joined by commas, within `budget` characters; the rest counted ("and 3 more")."""
    shown = _labels_within(game_ids, titles, budget, at_most)
    rest = len(game_ids) - len(shown)
    if not shown:
        return plural(rest, "game")
    text = ", ".join(shown)
    return f"{text} and {rest:,} more" if rest else text


def created_message(game_set: GameSet, titles: Mapping[int, str]) -> str:
    count = len(game_set.game_ids)
    return (
        f"Created the game set {shown_name(game_set.name)} with {plural(count, 'game')}: "
        f"{games_text(game_set.game_ids, titles)}. Its name can now be given to any `games` "
        "option."
    )


def added_message(change: SetChange, titles: Mapping[int, str]) -> str:
    game_set = change.game_set
    text = (
        f"Added {plural(len(change.changed), 'game')} to {shown_name(game_set.name)}: "
        f"{games_text(change.changed, titles)}. It has {plural(len(game_set.game_ids), 'game')} "
        "now."
    )
    if change.unchanged:
        text += f" Already in it: {games_text(change.unchanged, titles, budget=300)}."
    return text


def removed_message(change: SetChange, titles: Mapping[int, str]) -> str:
    game_set = change.game_set
    text = (
        f"Removed {plural(len(change.changed), 'game')} from {shown_name(game_set.name)}: "
        f"{games_text(change.changed, titles)}. It has {plural(len(game_set.game_ids), 'game')} "
        "now."
    )
    if change.unchanged:
        text += (
            f" Not in the set, so left alone: {games_text(change.unchanged, titles, budget=300)}."
        )
    return text


def deleted_message(name: str) -> str:
    return f"Deleted the game set {shown_name(name)}."


def _set_line(game_set: GameSet, titles: Mapping[int, str], budget: int) -> str:
    head = f"{shown_name(game_set.name)} · {plural(len(game_set.game_ids), 'game')}"
    shown = _labels_within(game_set.game_ids, titles, budget - len(head) - 5, LIST_GAMES_SHOWN)
    if not shown:
        return head
    listed = ", ".join(shown)
    if len(shown) < len(game_set.game_ids):
        listed += ", …"
    return f"{head}: {listed}"


def sets_embed(sets: Sequence[GameSet], titles: Mapping[int, str]) -> discord.Embed:
    """The guild's sets: name, number of games and the first few, one line each."""
    embed = discord.Embed(title="Game sets", colour=discord.Colour.blurple())
    if not sets:
        embed.description = (
            "This server has no game sets yet: a moderator can make one with `/gameset create`."
        )
        return embed
    budget = max(LIST_LINE_MIN, min(LIST_LINE_MAX, (EMBED_DESCRIPTION_MAX - 100) // len(sets) - 1))
    lines: list[str] = []
    used = 0
    for index, game_set in enumerate(sets):
        line = _set_line(game_set, titles, budget)
        if used + len(line) + 1 > EMBED_DESCRIPTION_MAX - 40:
            lines.append(f"… and {plural(len(sets) - index, 'more set')}.")
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(text="Give a set's name to any games option, e.g. in /progress.")
    return embed
