"""How titles compare: what someone typed and what RA calls a game, folded alike.

`search_key`: accents dropped, case folded, punctuation ignored, a leading article moved behind a
comma put back (`Legend of Zelda, The: …` = `The Legend of Zelda: …`) and then dropped. RA's legacy
tags (`~Hack~`) and subsets (`[Subset - Bonus]`) are kept apart by `title_parts`, so the plain
game ranks first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TAG = re.compile(r"~([^~]+)~")
_SUBSET = re.compile(r"\[\s*subset\s*-\s*([^\]]*)\]", re.IGNORECASE)
_BRACKETED = re.compile(r"\[[^\]]*\]")
_MOVED_ARTICLE = re.compile(r"^(.+?),\s+(the|a|an)\b(.*)$", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_NOT_WORD = re.compile(r"[^\w]+|_")
# Letters that NFKD does not split into a base and a mark, but people type as the base.
_FOLD = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})

# Cyrillic and Greek letters that look like Latin ones: in a title that mixes them with Latin
# letters (a paste from a spoofed name, a keyboard left on another layout) they are read as Latin.
_LOOK_ALIKES = str.maketrans(
    "авсеһіјкмнорѕтухԁԛԝαβεικνορτυχ",
    "abcehijkmhopstyxdqwabeiknoptux",
)
_LATIN = re.compile(r"[a-z]")
_CYRILLIC_OR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")


def fold(text: str) -> str:
    """Lower-case letters and digits only, single-spaced: accents, marks and punctuation gone.

    Compatibility forms fold too (full-width `Ｍｅｔｒｏｉｄ` and ligatures read as plain letters).
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if _LATIN.search(decomposed) and _CYRILLIC_OR_GREEK.search(decomposed):
        decomposed = decomposed.translate(_LOOK_ALIKES)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)
    return " ".join(_NOT_WORD.sub(" ", stripped).split())


def _unmove_article(text: str) -> str:
    """`Legend of Zelda, The: A Link…` → `The Legend of Zelda: A Link…` (RA's sort style undone)."""
    match = _MOVED_ARTICLE.match(text)
    if match is None:
        return text
    head, article, rest = match.groups()
    return f"{article} {head}{rest}"


def search_key(text: str) -> str:
    """How a title compares: folded, the article put back in front and then dropped."""
    key = fold(_unmove_article(text.strip()))
    return _LEADING_ARTICLE.sub("", key)


@dataclass(frozen=True, slots=True)
class TitleParts:
    base: str  # the title without tags and subset, as a search key
    full: str  # the whole title as a search key (tags and subset words included)
    tagged: bool  # a ~Tag~ or a [Subset - …]: ranks below the plain game


def title_parts(title: str) -> TitleParts:
    tagged = bool(_TAG.search(title) or _SUBSET.search(title))
    base_text = _BRACKETED.sub(" ", _TAG.sub(" ", title)) if tagged else title
    full = search_key(title)
    base = search_key(base_text) if tagged else full
    return TitleParts(base=base or full, full=full, tagged=tagged)
