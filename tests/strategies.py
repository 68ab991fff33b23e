"""Hypothesis strategies for hostile text and for RA's and Discord's ranges, and the checks every
reply must pass: Discord's embed limits, nothing that can ping, markdown made inert."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord
from hypothesis import strategies as st

# Pieces that mean something to Discord's markdown or mentions, or that break naive code.
HOSTILE = [
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<#123456789012345678>",
    "**",
    "__",
    "*",
    "_",
    "~~",
    "||",
    "`",
    "```",
    "> ",
    ">>> ",
    "# ",
    "-# ",
    "- ",
    "1. ",
    "[x](https://evil.example)",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "\n",
    "\t",
    "\u200b",
    "\u202e",
    "👑",
    "🥇",
    "%s",
    "{0}",
    "https://retroachievements.org/game/1",
]

hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=12).map(
    "".join
)


def bounded(max_size: int) -> st.SearchStrategy[str]:
    """Hostile text within a field's size (a Discord name, an RA title...)."""
    return st.one_of(
        hostile_text.map(lambda s: s[:max_size]),
        st.text(min_size=0, max_size=max_size),
        st.text(alphabet="*_~|`\\[]()@>#-", min_size=max_size, max_size=max_size),
    )


# Numbers within RA's ranges: a set has up to a few thousand achievements, a game a few thousand
# points; totals are sums of those.
possible_counts = st.integers(min_value=0, max_value=5000)
points = st.integers(min_value=0, max_value=100_000)

# The markdown characters that must never be live (preceded by an even run of backslashes).
_LIVE_MARKDOWN = re.compile(r"(?<!\\)(?:\\\\)*[*_~|`\[\]]")
# A mention is "<@id>" (or "<@!id>", "<@&id>") not escaped, or @everyone / @here.
_PINGS = re.compile(r"@(everyone|here)|(?<!\\)<@[!&]?\d+>")

EMBED_TOTAL = 6000


def no_ping(text: str) -> None:
    assert not _PINGS.search(text), text


def inert(escaped: str) -> None:
    """`escaped` (the output of escape()) has no live markdown and no ping."""
    assert not _LIVE_MARKDOWN.search(escaped), escaped
    no_ping(escaped)


def embed_texts(embed: discord.Embed) -> list[str]:
    """The parts Discord renders as markdown (an author's name is shown as plain text)."""
    texts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    for field in embed.fields:
        texts += [field.name or "", field.value or ""]
    return texts


def check_embed(embed: discord.Embed) -> None:
    """Discord's limits for one embed (it refuses the whole message otherwise)."""
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert 0 < len(field.name or "") <= 256, field.name
        assert 0 < len(field.value or "") <= 1024, field.value
    assert len(embed.footer.text or "") <= 2048
    assert len(embed.author.name or "") <= 256
    assert len(embed) <= EMBED_TOTAL
    for url in (embed.url, embed.author.url, embed.thumbnail.url):
        assert url is None or url.startswith(("http://", "https://")), url
    for text in embed_texts(embed):
        no_ping(text)


def check_message(embeds: Sequence[discord.Embed]) -> None:
    assert 1 <= len(embeds) <= 10
    assert sum(len(e) for e in embeds) <= EMBED_TOTAL
    for embed in embeds:
        check_embed(embed)


def check_content(text: str) -> None:
    assert 0 < len(text) <= 2000
    no_ping(text)


def raw_markdown_absent(originals: Iterable[str], rendered: str) -> None:
    """No user string that holds live markdown shows up raw in `rendered` (it was escaped).

    Looks at a short stretch around the string's first markdown character, so truncation of
    long names does not hide a raw copy.
    """
    for original in originals:
        text = " ".join(original.split())
        match = re.search(r"[*_~|`]", text)
        if match is None:
            continue
        start = max(0, match.start() - 3)
        stretch = text[start : match.start() + 4]
        if len(stretch) < 5 or "\\" in stretch:
            continue
        assert stretch not in rendered, (stretch, rendered)
