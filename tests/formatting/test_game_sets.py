"""The /gameset replies: pure functions, data in, strings and embeds out."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.formatting.game_sets import (
    EMBED_DESCRIPTION_MAX,
    added_message,
    created_message,
    deleted_message,
    game_label,
    games_text,
    removed_message,
    sets_embed,
    shown_name,
)
from bot.models.game_sets import GameSet, SetChange

NOW = datetime(2024, 5, 1, tzinfo=UTC)
TITLES = {1: "Sonic the Hedgehog", 14402: "Dragon Quest III"}


def game_set(name: str, game_ids: list[int]) -> GameSet:
    return GameSet(111, name, game_ids, 999, NOW)


def test_a_game_is_shown_by_its_title_when_known_else_by_its_id() -> None:
    assert game_label(1, TITLES) == "Sonic the Hedgehog (1)"
    assert game_label(999999, TITLES) == "999999"


def test_titles_are_escaped() -> None:
    label = game_label(5, {5: "**Bold** @everyone [x](https://evil.example)"})
    assert "\\*\\*Bold\\*\\*" in label
    assert "@everyone" not in label
    assert "\\[x\\](https://evil.example)" in label


def test_set_names_are_bold_and_escaped() -> None:
    assert shown_name("my_set") == "**my\\_set**"
    assert "@everyone" not in shown_name("@everyone")
    assert shown_name("x" * 100).endswith("…**")


def test_a_long_list_of_games_is_cut_and_counted() -> None:
    ids = list(range(1000, 1100))
    text = games_text(ids, {}, budget=50)
    assert len(text) < 70
    shown = text.split(" and ")[0].split(", ")
    assert text.endswith(f" and {100 - len(shown)} more")
    assert games_text([1, 2, 3], {}, at_most=2) == "1, 2 and 1 more"
    assert games_text([123456], {}, budget=3) == "1 game"


def test_created_names_the_set_and_its_games() -> None:
    text = created_message(game_set("Summer", [1, 999999]), TITLES)
    assert text == (
        "Created the game set **Summer** with 2 games: Sonic the Hedgehog (1), 999999. Its name "
        "can now be given to any `games` option."
    )


def test_added_says_what_was_added_and_what_was_there_already() -> None:
    change = SetChange(game_set("Summer", [1, 14402, 228]), changed=[14402, 228], unchanged=[1])
    assert added_message(change, TITLES) == (
        "Added 2 games to **Summer**: Dragon Quest III (14402), 228. It has 3 games now. "
        "Already in it: Sonic the Hedgehog (1)."
    )


def test_removed_says_which_games_were_not_in_the_set() -> None:
    change = SetChange(game_set("Summer", [14402]), changed=[1], unchanged=[7, 8])
    assert removed_message(change, TITLES) == (
        "Removed 1 game from **Summer**: Sonic the Hedgehog (1). It has 1 game now. "
        "Not in the set, so left alone: 7, 8."
    )


def test_deleted() -> None:
    assert deleted_message("my_set") == "Deleted the game set **my\\_set**."


def test_confirmations_stay_within_a_message() -> None:
    titles = {i: "A very long game title that goes on and on " * 3 for i in range(1, 51)}
    text = created_message(game_set("x" * 32, list(range(1, 51))), titles)
    assert len(text) <= 2000 and "more" in text


def test_no_sets_yet() -> None:
    embed = sets_embed([], {})
    assert embed.title == "Game sets"
    assert embed.description is not None and "`/gameset create`" in embed.description


def test_each_set_shows_its_name_count_and_first_games() -> None:
    embed = sets_embed(
        [game_set("Summer", [1, 14402, 3, 4, 5, 6, 7]), game_set("one_game", [1])], TITLES
    )
    assert embed.description is not None
    summer, one = embed.description.split("\n")
    assert summer.startswith("**Summer** · 7 games: Sonic the Hedgehog (1), Dragon Quest III")
    assert summer.endswith(", 5, …")
    assert one == "**one\\_game** · 1 game: Sonic the Hedgehog (1)"


def test_fifty_full_sets_fit_in_one_embed() -> None:
    titles = {i: f"A rather long game title number {i} **with markdown**" for i in range(1, 51)}
    sets = [game_set(f"Set number {n:02d} " + "x" * 18, list(range(1, 51))) for n in range(50)]
    embed = sets_embed(sets, titles)
    assert embed.description is not None
    assert len(embed.description) <= EMBED_DESCRIPTION_MAX
    assert len(embed) <= 6000
    for n in range(50):
        assert f"Set number {n:02d}" in embed.description
