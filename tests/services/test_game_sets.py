"""GameSets over a real SQLite store: names and changes (resolving `games`: test_resolver.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.errors import BadInput
from bot.models.game_sets import MAX_SET_NAME, MAX_SETS_PER_GUILD, parse_lookup_name, parse_set_name
from bot.services.game_sets import GameSets
from bot.store import Store

GUILD, OTHER_GUILD, ADMIN = 111, 222, 999


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite:///{tmp_path}/sets.sqlite3")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def sets(store: Store) -> GameSets:
    return GameSets(store.sets, max_games=5)


# -- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Summer Event", "Summer Event"),
        ("  March   Madness \n", "March Madness"),
        ("Rock & Roll!", "Rock & Roll!"),
        ("2024 Event", "2024 Event"),
        ("Pokémon", "Pokémon"),
        ("Poke\u0301mon", "Pokémon"),  # decomposed é is stored composed (NFC)
        ("日本のゲーム", "日本のゲーム"),
        ("x" * MAX_SET_NAME, "x" * MAX_SET_NAME),
    ],
)
def test_valid_set_names_are_normalized(text: str, expected: str) -> None:
    assert parse_set_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give the set a name"),
        ("   ", "Give the set a name"),
        ("x" * (MAX_SET_NAME + 1), "at most 32 characters"),
        ("ΐ" * 30, "at most 32 characters"),  # case-folds to 90 characters: too long to store
        ("**bold**", "letters, digits, spaces"),
        ("@everyone", "letters, digits, spaces"),
        ("hi @here", "letters, digits, spaces"),
        ("<@123456789012345678>", "letters, digits, spaces"),
        ("`code`", "letters, digits, spaces"),
        ("~~strike~~", "letters, digits, spaces"),
        ("||spoiler||", "letters, digits, spaces"),
        ("[link](https://evil.example)", "letters, digits, spaces"),
        ("# heading", "letters, digits, spaces"),
        ("_italic_", "letters, digits, spaces"),
        ("a\u200bb", "letters, digits, spaces"),  # zero-width space
        ("2024", "cannot be just numbers"),
        ("1 14402", "cannot be just numbers"),
        ("0", "cannot be just numbers"),
        ("00 0", "cannot be just numbers"),
    ],
)
def test_bad_set_names_are_refused(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_set_name(text)


def test_a_lookup_name_only_needs_to_be_non_empty() -> None:
    assert parse_lookup_name("  summer   event ") == "summer event"
    with pytest.raises(BadInput, match="Give the set's name"):
        parse_lookup_name("  ")


# -- create ----------------------------------------------------------------------------------------


async def test_create_stores_the_set_in_order(sets: GameSets, store: Store) -> None:
    created = await sets.create(GUILD, "Summer", [14402, 1, 999999], ADMIN)
    assert created.name == "Summer" and created.game_ids == [14402, 1, 999999]
    stored = await store.sets.get(GUILD, "summer")
    assert stored is not None and stored.game_ids == [14402, 1, 999999]
    assert stored.created_by == ADMIN


async def test_create_refuses_a_duplicate_name_whatever_its_case(sets: GameSets) -> None:
    await sets.create(GUILD, "Summer Event", [1], ADMIN)
    with pytest.raises(BadInput) as caught:
        await sets.create(GUILD, "SUMMER EVENT", [2], ADMIN)
    assert caught.value.message == (
        "This server already has a set named **SUMMER EVENT**: pick another name or use "
        "`/gameset add`."
    )
    # ...but another guild may use the name.
    await sets.create(OTHER_GUILD, "summer event", [3], ADMIN)


async def test_the_duplicate_message_escapes_the_name(sets: GameSets) -> None:
    await sets.create(GUILD, "my_set", [1], ADMIN)
    with pytest.raises(BadInput) as caught:
        await sets.create(GUILD, "My_Set", [1], ADMIN)
    assert "**My\\_Set**" in caught.value.message


async def test_create_refuses_more_games_than_a_command_takes(
    sets: GameSets, store: Store
) -> None:
    with pytest.raises(BadInput, match="at most 5 games and \\*\\*Big\\*\\* would have 6"):
        await sets.create(GUILD, "Big", [1, 2, 3, 4, 5, 6], ADMIN)
    assert await store.sets.for_guild(GUILD) == []


async def test_a_guild_has_a_bounded_number_of_sets(sets: GameSets, store: Store) -> None:
    for i in range(MAX_SETS_PER_GUILD):
        await store.sets.create(GUILD, f"Set {i}", [1], ADMIN)
    with pytest.raises(BadInput, match=f"has {MAX_SETS_PER_GUILD} game sets"):
        await sets.create(GUILD, "One more", [1], ADMIN)
    await sets.create(OTHER_GUILD, "One more", [1], ADMIN)


# -- add / remove ----------------------------------------------------------------------------------


async def test_add_appends_new_games_and_reports_those_already_in(sets: GameSets) -> None:
    await sets.create(GUILD, "Summer", [1, 2], ADMIN)
    change = await sets.add(GUILD, "summer", [2, 3, 4])
    assert change.game_set.game_ids == [1, 2, 3, 4]
    assert change.game_set.name == "Summer"
    assert change.changed == [3, 4] and change.unchanged == [2]


async def test_add_of_games_all_in_the_set_changes_nothing_and_says_so(sets: GameSets) -> None:
    await sets.create(GUILD, "Summer", [1, 2], ADMIN)
    with pytest.raises(BadInput, match="Those games are in \\*\\*Summer\\*\\* already"):
        await sets.add(GUILD, "Summer", [2, 1])
    with pytest.raises(BadInput, match="That game is in"):
        await sets.add(GUILD, "Summer", [1])


async def test_add_past_the_limit_is_refused_and_changes_nothing(
    sets: GameSets, store: Store
) -> None:
    await sets.create(GUILD, "Summer", [1, 2, 3, 4], ADMIN)
    with pytest.raises(BadInput, match="at most 5 games and \\*\\*Summer\\*\\* would have 6"):
        await sets.add(GUILD, "Summer", [5, 6])
    stored = await store.sets.get(GUILD, "Summer")
    assert stored is not None and stored.game_ids == [1, 2, 3, 4]


async def test_add_and_remove_on_a_missing_set(sets: GameSets) -> None:
    await sets.create(OTHER_GUILD, "Summer", [1], ADMIN)  # another guild's set is not ours
    for call in (sets.add(GUILD, "Summer", [1]), sets.remove(GUILD, "Summer", [1])):
        with pytest.raises(BadInput) as caught:
            await call
        assert caught.value.message == (
            "This server has no game set named **Summer**: `/gameset list` shows its sets."
        )


async def test_remove_takes_games_out_and_reports_those_not_in_the_set(sets: GameSets) -> None:
    await sets.create(GUILD, "Summer", [1, 2, 3], ADMIN)
    change = await sets.remove(GUILD, "SUMMER", [3, 9, 1])
    assert change.game_set.game_ids == [2]
    assert change.changed == [1, 3] and change.unchanged == [9]


async def test_remove_of_games_not_in_the_set_says_so(sets: GameSets, store: Store) -> None:
    await sets.create(GUILD, "Summer", [1, 2], ADMIN)
    with pytest.raises(BadInput) as caught:
        await sets.remove(GUILD, "Summer", [7, 8])
    assert caught.value.message == (
        "**Summer** does not have the games 7, 8: nothing changed (`/gameset list` shows its "
        "games)."
    )
    stored = await store.sets.get(GUILD, "Summer")
    assert stored is not None and stored.game_ids == [1, 2]


async def test_remove_never_empties_a_set(sets: GameSets, store: Store) -> None:
    await sets.create(GUILD, "Summer", [1, 2], ADMIN)
    with pytest.raises(BadInput, match="would leave \\*\\*Summer\\*\\* empty"):
        await sets.remove(GUILD, "Summer", [1, 2])
    stored = await store.sets.get(GUILD, "Summer")
    assert stored is not None and stored.game_ids == [1, 2]


async def test_concurrent_adds_lose_nothing(store: Store) -> None:
    sets = GameSets(store.sets, max_games=50)
    await sets.create(GUILD, "Summer", [1], ADMIN)
    await asyncio.gather(*(sets.add(GUILD, "Summer", [i]) for i in range(2, 22)))
    stored = await store.sets.get(GUILD, "Summer")
    assert stored is not None and sorted(stored.game_ids) == list(range(1, 22))


# -- delete / list ---------------------------------------------------------------------------------


async def test_delete_returns_the_stored_name(sets: GameSets, store: Store) -> None:
    await sets.create(GUILD, "Summer Event", [1], ADMIN)
    assert await sets.delete(GUILD, "summer event") == "Summer Event"
    assert await store.sets.for_guild(GUILD) == []


async def test_delete_of_a_missing_set_says_so_with_the_name_escaped(sets: GameSets) -> None:
    with pytest.raises(BadInput) as caught:
        await sets.delete(GUILD, "@everyone **x**")
    assert caught.value.message == (
        "This server has no game set named **@\u200beveryone \\*\\*x\\*\\***: "
        "`/gameset list` shows its sets."
    )


async def test_list_is_per_guild_and_by_name(sets: GameSets) -> None:
    await sets.create(GUILD, "beta", [2], ADMIN)
    await sets.create(GUILD, "Alpha", [1], ADMIN)
    await sets.create(OTHER_GUILD, "Gamma", [3], ADMIN)
    assert [s.name for s in await sets.list_sets(GUILD)] == ["Alpha", "beta"]
