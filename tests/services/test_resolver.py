"""The one resolver of `games` options: ids, links, set names and titles, over a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.errors import BadInput
from bot.models.ra import CatalogueGame
from bot.services.catalogue import Catalogue
from bot.services.game_sets import GameSets
from bot.services.resolver import GameResolver, ResolvedGames
from bot.services.titles import TitleIndex
from bot.store import Store
from tests.fakes.catalogue import CONSOLES, TRICKY

GUILD, OTHER_GUILD, ADMIN = 111, 222, 999


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite:///{tmp_path}/resolver.sqlite3")
    try:
        yield store
    finally:
        await store.close()


def catalogue_of(store: Store, games: list[CatalogueGame] | None) -> Catalogue:
    """A catalogue already in memory (None: not loaded yet); it never asks RA here."""
    catalogue = Catalogue(store.catalogue, None, owner="test")  # type: ignore[arg-type]
    if games is not None:
        catalogue.index = TitleIndex(games)
    return catalogue


TRICKY_GAMES = [
    CatalogueGame(i, t, c, CONSOLES[c], i, 20, 200) for i, t, c in TRICKY
]


@pytest.fixture
def resolver(store: Store) -> GameResolver:
    return GameResolver(catalogue_of(store, TRICKY_GAMES), store.sets, max_games=5)


@pytest.fixture
def sets(store: Store) -> GameSets:
    return GameSets(store.sets, max_games=10)


async def test_ids_and_links_resolve_without_the_database(resolver: GameResolver) -> None:
    text = "1, https://retroachievements.org/game/14402 1"
    assert resolver.parse_now(GUILD, text) == ResolvedGames(
        [1, 14402], None, {1: "Sonic the Hedgehog", 14402: "Dragon Quest III"}
    )
    assert (await resolver.resolve(None, "228")).game_ids == [228]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Super Metroid", [700]),
        ("super metroid, 1", [700, 1]),
        ("Legend of Zelda, The: A Link to the Past, 14402", [710, 14402]),
        ("14402; Legend of Zelda, The: A Link to the Past", [14402, 710]),
        ("I Have No Mouth, And I Must Scream, Okami", [712, 721]),
        ("Legend of Zelda, The", [711]),
        ("Mega Man 2, mega man 2 [subset - bonus]", [742, 743]),
        ("pokemon stadium, Pokémon Stadium", [720]),  # duplicates collapse
    ],
)
async def test_titles_resolve_to_their_games(
    resolver: GameResolver, text: str, ids: list[int]
) -> None:
    assert (await resolver.resolve(GUILD, text)).game_ids == ids


async def test_a_title_outside_a_guild_resolves_before_any_io(resolver: GameResolver) -> None:
    # In DMs there are no sets: titles are read from memory at once.
    assert resolver.parse_now(None, "Super Metroid") == ResolvedGames(
        [700], None, {700: "Super Metroid"}
    )
    # In a guild, "Super Metroid" could be a set's name: the database decides (after a defer).
    assert resolver.parse_now(GUILD, "Super Metroid") is None
    # "Metroid: Zero Mission" cannot be a set name (":"): read at once.
    assert resolver.parse_now(GUILD, "Metroid: Zero Mission") is not None


async def test_a_title_on_several_consoles_lists_them_with_ids(resolver: GameResolver) -> None:
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(GUILD, "1, Tetris")
    message = caught.value.message
    assert message.startswith("`Tetris` is 3 games:")
    for line in ("Tetris · Game Boy · 730", "Tetris · NES/Famicom · 731", "Tetris · Arcade · 732"):
        assert line in message
    assert "Give the id" in message


async def test_an_unknown_title_lists_the_closest(resolver: GameResolver) -> None:
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(GUILD, "Super Metriod")
    message = caught.value.message
    assert message.startswith("No game is titled `Super Metriod`; the closest are Super Metroid")
    assert "· 700" in message


async def test_candidates_are_escaped(resolver: GameResolver) -> None:
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(GUILD, "Super Mario Wrld")
    assert "\\~Hack\\~" in caught.value.message  # RA's tag would be strike-through otherwise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Give at least one game"),
        (" , ;", "Give at least one game"),
        ("!!!", "No game with achievements on RetroAchievements is titled `!!!`"),
        ("@everyone", "`@\u200beveryone`"),  # quoted back, it cannot ping
        ("x" * 2000, "`xxxxxxxx"),
        ("1, 0", "`0` is not a valid game id"),
        ("1 2 3 4 5 6", "more than 5 games"),
    ],
)
async def test_bad_input_is_one_clear_answer(
    resolver: GameResolver, text: str, expected: str
) -> None:
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(GUILD, text)
    assert expected in caught.value.message
    assert len(caught.value.message) < 2000


async def test_many_unknown_titles_are_summed_up(resolver: GameResolver) -> None:
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(None, "qqq1x, qqq2x, qqq3x, qqq4x, qqq5x")
    assert caught.value.message.count("titled") == 3
    assert "(and 2 more not found)" in caught.value.message


async def test_before_the_catalogue_is_loaded_a_title_gets_a_clear_answer(store: Store) -> None:
    resolver = GameResolver(catalogue_of(store, None), store.sets)
    with pytest.raises(BadInput) as caught:
        await resolver.resolve(GUILD, "Super Metroid")
    assert "still loading" in caught.value.message
    assert "`1, 14402`" in caught.value.message
    assert (await resolver.resolve(GUILD, "1")).game_ids == [1]  # ids work meanwhile


# -- set names (moved here from GameSets.resolve) --------------------------------------------------


async def test_a_set_name_resolves_whatever_its_case_and_spacing(
    resolver: GameResolver, sets: GameSets
) -> None:
    await sets.create(GUILD, "Summer Event", [14402, 1], ADMIN)
    resolved = await resolver.resolve(GUILD, "  summer   EVENT ")
    assert (resolved.game_ids, resolved.set_name) == ([14402, 1], "Summer Event")


async def test_a_set_name_wins_over_a_title_and_mixes_with_ids_and_titles(
    resolver: GameResolver, sets: GameSets
) -> None:
    await sets.create(GUILD, "Tetris", [228], ADMIN)
    resolved = await resolver.resolve(GUILD, "tetris")
    assert (resolved.game_ids, resolved.set_name) == ([228], "Tetris")
    mixed = await resolver.resolve(GUILD, "Tetris, Okami, 1")
    assert (mixed.game_ids, mixed.set_name) == ([228, 721, 1], None)


async def test_a_set_name_starting_with_digits_resolves(
    resolver: GameResolver, sets: GameSets
) -> None:
    await sets.create(GUILD, "2024 Event", [228], ADMIN)
    assert (await resolver.resolve(GUILD, "2024 event")).set_name == "2024 Event"


async def test_another_guilds_set_and_dms_do_not_see_a_set(
    resolver: GameResolver, sets: GameSets
) -> None:
    await sets.create(OTHER_GUILD, "Summer", [1], ADMIN)
    for guild in (GUILD, None):
        with pytest.raises(BadInput, match="titled `Summer`"):
            await resolver.resolve(guild, "Summer")


async def test_a_set_bigger_than_the_current_limit_is_refused_plainly(
    resolver: GameResolver, sets: GameSets
) -> None:
    await sets.create(GUILD, "Big", list(range(1, 9)), ADMIN)
    with pytest.raises(BadInput, match="has 8 games, more than the 5 the bot takes at once"):
        await resolver.resolve(GUILD, "Big")


async def test_games_asked_in_a_guild_are_remembered_for_autocomplete(
    resolver: GameResolver,
) -> None:
    await resolver.resolve(GUILD, "Super Metroid, 1")
    assert resolver.asked_in(GUILD) == {700, 1}
    assert resolver.asked_in(OTHER_GUILD) == set()
