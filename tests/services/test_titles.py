"""Title keys and the in-memory catalogue index: exact titles and search as people type."""

from __future__ import annotations

import pytest

from bot.models.ra import CatalogueGame
from bot.models.titles import fold, search_key, title_parts
from bot.services.titles import TitleIndex
from tests.fakes.catalogue import CONSOLES, TRICKY


def game(game_id: int, title: str, console_id: int = 3) -> CatalogueGame:
    return CatalogueGame(game_id, title, console_id, CONSOLES[console_id], 1, 10, 100)


@pytest.fixture(scope="module")
def index() -> TitleIndex:
    return TitleIndex(game(i, t, c) for i, t, c in TRICKY)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Pokémon Stadium", "pokemon stadium"),
        ("ŌKAMI", "okami"),
        ("Legend of Zelda, The: A Link to the Past", "legend of zelda a link to the past"),
        ("The Legend of Zelda - A Link to the Past!", "legend of zelda a link to the past"),
        ("Ｓｕｐｅｒ Ｍｅｔｒｏｉｄ", "super metroid"),  # full-width letters fold
        ("  metroid:   zero__mission ", "metroid zero mission"),
        ("!!!", ""),
    ],
)
def test_search_key_ignores_case_accents_punctuation_and_moved_articles(
    typed: str, key: str
) -> None:
    assert search_key(typed) == key


def test_tags_and_subsets_are_kept_apart_from_the_title() -> None:
    assert title_parts("~Hack~ Dragoon X Omega").base == "dragoon x omega"
    assert title_parts("~Hack~ Dragoon X Omega").tagged
    subset = title_parts("Mega Man 2 [Subset - Bonus]")
    assert (subset.base, subset.full) == ("mega man 2", "mega man 2 subset bonus")
    assert subset.tagged
    assert not title_parts("Puyo Puyo~n").tagged  # a lone ~ belongs to the name
    assert fold("Puyo Puyo~n") == "puyo puyo n"


@pytest.mark.parametrize(
    ("typed", "ids"),
    [
        ("Legend of Zelda, The: A Link to the Past", [710]),
        ("the legend of zelda a link to the past", [710]),
        ("Super Mario World", [228]),  # not the hack, not the subset
        ("Super Mario World [Subset - Bonus]", [741]),
        ("mega man 2", [742]),
        ("Dragoon X Omega", [746]),  # only a tagged game has that title: it is that game
        ("pokemon stadium", [720]),
        ("Okami", [721]),
        ("Ｓｕｐｅｒ Ｍｅｔｒｏｉｄ", [700]),
        ("I Have No Mouth, And I Must Scream", [712]),
    ],
)
def test_exact_titles_name_their_game(index: TitleIndex, typed: str, ids: list[int]) -> None:
    assert [g.game_id for g in index.exact(typed)] == ids


def test_one_title_on_several_consoles_names_them_all(index: TitleIndex) -> None:
    assert sorted(g.game_id for g in index.exact("tetris")) == [730, 731, 732]


@pytest.mark.parametrize("typed", ["", "!!!", "Metroi", "Super", "Метроид"])
def test_what_is_not_a_whole_title_names_nothing(index: TitleIndex, typed: str) -> None:
    assert index.exact(typed) == []


def test_look_alike_letters_mixed_into_a_latin_title_read_as_latin(index: TitleIndex) -> None:
    # A Cyrillic М and е before Latin letters: what the person sees is "Metroid".
    assert [g.game_id for g in index.exact("Меtroid")] == [701]
    assert search_key("Меtroid") == "metroid"
    assert search_key("Метроид") == "метроид"  # all Cyrillic: a Russian word, left alone


def test_search_puts_prefix_then_word_then_fuzzy_matches(index: TitleIndex) -> None:
    matches = index.matches("metr")
    tiers = [m.tier for m in matches]
    assert tiers == sorted(tiers)
    ids = [m.game.game_id for m in matches]
    assert ids[0] == 701  # "Metroid": a prefix match, the shortest
    assert 700 in ids  # "Super Metroid": a word match
    assert ids.index(700) > ids.index(704)


def test_search_ranks_tagged_games_below_the_plain_one(index: TitleIndex) -> None:
    ids = index.search("super mario world")
    assert ids[0].game_id == 228
    assert {741, 740} <= {g.game_id for g in ids}


def test_games_asked_about_in_the_guild_rank_first(index: TitleIndex) -> None:
    assert index.search("metr")[0].game_id == 701
    assert index.search("metr", boost={700})[0].game_id == 700


def test_fuzzy_matches_catch_typos_and_look_alikes(index: TitleIndex) -> None:
    assert index.search("super metriod")[0].game_id == 700
    assert index.search("Metorid")[0].game_id == 701


@pytest.mark.parametrize("typed", ["", " ", "x", "!!!", "~~", "\u200b\u200b"])
def test_too_little_to_search_gives_nothing(index: TitleIndex, typed: str) -> None:
    assert index.search(typed) == []


def test_a_prefix_of_many_gives_at_most_the_limit_best_first() -> None:
    many = TitleIndex(game(i, f"Super Game {i}") for i in range(1, 5000))
    found = many.search("super", limit=25)
    assert len(found) == 25
    assert [g.game_id for g in found[:9]] == list(range(1, 10))  # shortest titles first


def test_huge_input_is_searched_without_error(index: TitleIndex) -> None:
    assert isinstance(index.search("metroid " * 300), list)
    assert index.exact("a" * 5000) == []


@pytest.mark.parametrize("path", ["/Images/048245.png", "/Images/000001.png", "", "/Images/x.png",
                                  "/Images/1234567.png", "https://elsewhere/icon.png"])
def test_icons_are_kept_compact_and_come_back_as_they_were(path: str) -> None:
    from bot.models.ra import compact_icon

    assert CatalogueGame(1, "T", 1, "C", compact_icon(path), 1, 1).icon_path == path
    assert isinstance(compact_icon("/Images/048245.png"), int)
