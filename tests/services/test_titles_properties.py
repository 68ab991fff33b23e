"""The compact title index answers exactly as the index of one object per game did.

Hypothesis generates catalogues (tags, subsets, moved articles, accents, other scripts, one title
on several consoles, one id given twice, icons as numbers or paths) and what people type (bits of
the catalogue's titles, typos, any text); `TitleIndex` and `ReferenceIndex` (the old index, kept in
tests/services/titles_reference.py) must give the same games, in the same order, at the same tier.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models.ra import CatalogueGame
from bot.services.titles import CatalogueRows, TitleIndex
from tests.fakes.catalogue import CONSOLES
from tests.services.titles_reference import ReferenceIndex

WORDS = [
    "Super", "Mario", "Metroid", "Metroids", "Zelda", "Legend", "of", "the", "The", "A", "An",
    "Kong", "Donkey", "Mega", "Man", "2", "II", "64", "World", "Pokémon", "Ōkami", "Метроид",
    "ドラゴン", "Ｓｕｐｅｒ", "Puyo~n", "Tetris", "Tet", "Bonus", "Hack", "x", "and", "ß",
]
TAGS = ["", "", "", "~Hack~ ", "~Homebrew~ ", "~Prototype~ ", "~Demo~ "]
ENDINGS = ["", "", "", ", The", ", A", ": Revenge", " [Subset - Bonus]", " [Subset - Speedrun]",
           " [Beta]", "!", " - Part 2"]

composed = st.builds(
    lambda tag, words, ending: tag + " ".join(words) + ending,
    st.sampled_from(TAGS),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5),
    st.sampled_from(ENDINGS),
)
titles = st.one_of(composed, composed, composed, st.text(max_size=14))
icons = st.one_of(
    st.integers(min_value=0, max_value=999_999),
    st.sampled_from(["", "/Images/x.png", "https://elsewhere/icon.png", "/Images/1234567.png"]),
)
games = st.builds(
    lambda game_id, title, console_id, icon, achievements, points: CatalogueGame(
        game_id, title, console_id, CONSOLES[console_id], icon, achievements, points
    ),
    st.integers(min_value=1, max_value=80),  # a small range: some ids come twice
    titles,
    st.sampled_from(sorted(CONSOLES)[:6]),
    icons,
    st.integers(min_value=0, max_value=5000),
    st.integers(min_value=0, max_value=100_000),
)
catalogues = st.lists(games, max_size=60)


def typed_from(data: st.DataObject, catalogue: list[CatalogueGame]) -> str:
    """What someone may type: a bit of a title (its start, a word on), a typo, or anything."""
    if catalogue and data.draw(st.booleans()):
        title = data.draw(st.sampled_from(catalogue)).title
        start = data.draw(st.integers(min_value=0, max_value=len(title)))
        stop = data.draw(st.integers(min_value=start, max_value=len(title)))
        typed = title[start:stop] if data.draw(st.booleans()) else title[:stop]
        if len(typed) > 3 and data.draw(st.booleans()):
            i = data.draw(st.integers(min_value=0, max_value=len(typed) - 2))
            typed = typed[:i] + typed[i + 1] + typed[i] + typed[i + 2 :]
        return typed
    return data.draw(st.one_of(titles, st.sampled_from(WORDS)))


@settings(max_examples=300, deadline=None)
@given(catalogue=catalogues, data=st.data())
def test_the_compact_index_answers_as_the_reference_does(
    catalogue: list[CatalogueGame], data: st.DataObject
) -> None:
    index = TitleIndex(catalogue)
    reference = ReferenceIndex(catalogue)

    assert len(index) == len(reference)
    assert index.games() == reference.games()
    assert index.console_ids == reference.console_ids
    assert dict(index.by_id) == dict(reference.by_id)
    for game_id in range(82):
        assert index.get(game_id) == reference.get(game_id)

    ids = [game.game_id for game in catalogue]
    for _ in range(6):
        typed = typed_from(data, catalogue)
        limit = data.draw(st.integers(min_value=1, max_value=30))
        boost = data.draw(st.sets(st.sampled_from(ids))) if ids else set()
        assert index.exact(typed) == reference.exact(typed), typed
        got = [(m.game, m.tier) for m in index.matches(typed, limit, boost)]
        want = [(m.game, m.tier) for m in reference.matches(typed, limit, boost)]
        assert got == want, typed


@settings(max_examples=100, deadline=None)
@given(catalogue=catalogues)
def test_rows_packed_as_they_come_index_as_the_games_do(catalogue: list[CatalogueGame]) -> None:
    rows = CatalogueRows()
    for g in catalogue:
        rows.add((g.game_id, g.title, g.console_id, g.console, g.icon, g.achievements, g.points))
    assert len(rows) == len(catalogue)
    assert TitleIndex(rows).games() == ReferenceIndex(catalogue).games()
    # As the store reads them: one row per id, in id order (taken as they are, without sorting).
    in_order = sorted({g.game_id: g for g in catalogue}.values(), key=lambda g: g.game_id)
    index = TitleIndex(in_order)
    reference = ReferenceIndex(in_order)
    assert index.games() == reference.games()
    for game in in_order:
        assert index.exact(game.title) == reference.exact(game.title)
        assert index.search(game.title[:4]) == reference.search(game.title[:4])


def test_of_games_with_one_id_the_last_is_kept() -> None:
    first = CatalogueGame(5, "Metroid", 7, CONSOLES[7], 1, 10, 100)
    last = CatalogueGame(5, "Metroid Fusion", 5, CONSOLES[5], "/Images/x.png", 20, 200)
    index = TitleIndex([first, CatalogueGame(2, "Tetris", 4, CONSOLES[4], 2, 5, 50), last])
    assert index.get(5) == last
    assert [g.game_id for g in index.games()] == [2, 5]
    assert index.exact("metroid") == []
    assert index.exact("metroid fusion") == [last]


def test_numbers_wider_than_their_usual_columns_come_back_whole() -> None:
    wide = CatalogueGame(2**40, "Big", 2**20, "Console", 2**33, 2**31, -(2**35))
    narrow = CatalogueGame(1, "Small", 1, "Console", 0, 0, 0)
    index = TitleIndex([wide, narrow])
    assert index.games() == [narrow, wide]
    assert index.get(2**40) == wide


def test_an_empty_catalogue_finds_nothing() -> None:
    index = TitleIndex([])
    assert len(index) == 0
    assert index.search("metroid") == []
    assert index.exact("metroid") == []
    assert index.get(1) is None
    assert index.console_ids == frozenset()
