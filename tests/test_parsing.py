"""What users type into `games` and `user` options, turned into ids and names or a BadInput.

Ids and links are read by the resolver before any I/O (`GameResolver.parse_now`); here with no
catalogue loaded, so whatever is not an id or a link is refused as it would be before titles load.
"""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.parsing import MAX_GAME_ID, parse_ra_username
from tests.fakes.resolving import parse_game_ids

# -- parse_game_ids: what is accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", [1]),
        ("1,14402", [1, 14402]),
        ("1, 14402", [1, 14402]),
        ("1 14402 228", [1, 14402, 228]),
        ("1;14402; 228", [1, 14402, 228]),
        ("1\n14402\r\n228\t5", [1, 14402, 228, 5]),
        ("  ,, 1 ,\n, 14402 ;; ", [1, 14402]),
        ("1,,,14402", [1, 14402]),
    ],
)
def test_ids_separated_by_commas_spaces_newlines_semicolons(text: str, expected: list[int]) -> None:
    assert parse_game_ids(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://retroachievements.org/game/14402",
        "http://retroachievements.org/game/14402",
        "https://www.retroachievements.org/game/14402",
        "HTTPS://RetroAchievements.org/game/14402",
        "https://retroachievements.org/game/14402/",
        "https://retroachievements.org/game/14402?tab=achievements",
        "https://retroachievements.org/game/14402#comments",
        "https://retroachievements.org/game/14402/?x=1#top",
        "<https://retroachievements.org/game/14402>",
    ],
)
def test_ra_game_urls(url: str) -> None:
    assert parse_game_ids(url) == [14402]


def test_ids_and_urls_mixed_keep_their_order() -> None:
    text = (
        "228, https://retroachievements.org/game/14402 <https://www.retroachievements.org/game/1/>"
    )
    assert parse_game_ids(text) == [228, 14402, 1]


def test_duplicates_collapse_keeping_first_position() -> None:
    text = "5, 3, 5, https://retroachievements.org/game/3, 9, 005, 3"
    assert parse_game_ids(text) == [5, 3, 9]


@pytest.mark.parametrize(("text", "expected"), [("007", [7]), ("0001, 1", [1])])
def test_leading_zeros(text: str, expected: list[int]) -> None:
    assert parse_game_ids(text) == expected


def test_many_leading_zeros_still_a_small_id() -> None:
    assert parse_game_ids("0" * 30 + "14402") == [14402]
    assert parse_game_ids("https://retroachievements.org/game/" + "0" * 30 + "7") == [7]


def test_largest_id_accepted() -> None:
    assert parse_game_ids(str(MAX_GAME_ID)) == [MAX_GAME_ID]


# -- parse_game_ids: what is refused -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "000",
        "1, 0",
        "-5",
        "1, -5",
        str(MAX_GAME_ID + 1),
        "9" * 13,
        "9" * 5000,
        "1" + "0" * 4999,
        "https://retroachievements.org/game/0",
        "https://retroachievements.org/game/" + "9" * 5000,
    ],
)
def test_zero_negative_and_huge_ids_are_bad_input(text: str) -> None:
    # 5000 digits would make int() raise ValueError (Python's digit limit): must be BadInput.
    with pytest.raises(BadInput):
        parse_game_ids(text)


@pytest.mark.parametrize("text", ["", " ", "\n\t ", ",", " , ;\n"])
def test_empty_input_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput, match="at least one game"):
        parse_game_ids(text)


@pytest.mark.parametrize("text", ["１２", "١٢", "12٣", "²", "1.5", "0x10", "1e3", "+7"])
def test_non_ascii_digits_and_other_numerals_are_refused(text: str) -> None:
    with pytest.raises(BadInput):
        parse_game_ids(text)


@pytest.mark.parametrize(
    "url",
    [
        "https://retroachievements.org/game/１２",
        "https://retroachievements.org/game/١٢",
    ],
)
def test_url_with_non_ascii_digits_is_refused(url: str) -> None:
    with pytest.raises(BadInput):
        parse_game_ids(url)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/game/14402",
        "https://retroachievements.org.evil.example/game/14402",
        "https://retroachievements.org/user/14402",
        "https://retroachievements.org/game/",
        "https://retroachievements.org/game/abc",
        "retroachievements.org/game/14402x",
        "ftp://retroachievements.org/game/14402",
    ],
)
def test_other_urls_are_refused(text: str) -> None:
    with pytest.raises(BadInput):
        parse_game_ids(text)


def test_garbage_token_is_named() -> None:
    with pytest.raises(BadInput) as info:
        parse_game_ids("1, sonic, 14402")
    assert "`sonic`" in info.value.message
    assert "1, 14402" in info.value.message  # says what to type instead


def test_a_part_that_is_not_ids_is_named_whole() -> None:
    # "1 abc def" could be a title ("1942", say): the part is named as typed.
    with pytest.raises(BadInput) as info:
        parse_game_ids("1 abc def, 14402")
    assert info.value.message.startswith("`1 abc def` is not a game id")


def test_garbage_token_with_backticks_stays_inside_one_code_span() -> None:
    with pytest.raises(BadInput) as info:
        parse_game_ids("a`b``@everyone`**x**")
    message = info.value.message
    quoted = message.split(" is not")[0]
    # One code span: backticks only at both ends, so nothing inside renders or pings.
    assert quoted.startswith("`") and quoted.endswith("`")
    assert "`" not in quoted[1:-1]
    # Shown as typed inside the code span, a zero-width space after the @ so it cannot ping.
    assert "@\u200beveryone" in quoted


def test_invalid_id_message_quotes_token_safely() -> None:
    with pytest.raises(BadInput) as info:
        parse_game_ids("0")
    assert "`0`" in info.value.message


def test_long_garbage_token_is_truncated() -> None:
    token = "x" * 500
    with pytest.raises(BadInput) as info:
        parse_game_ids(token)
    message = info.value.message
    assert token not in message
    assert "…`" in message
    assert len(message) < 300


def test_huge_id_is_truncated_in_message() -> None:
    with pytest.raises(BadInput) as info:
        parse_game_ids("9" * 5000)
    assert len(info.value.message) < 300


# -- parse_game_ids: how many --------------------------------------------------------------------


def test_max_games_exactly_is_fine() -> None:
    assert parse_game_ids(", ".join(str(i) for i in range(1, 51)), max_games=50) == list(
        range(1, 51)
    )


def test_one_more_than_max_games_is_bad_input_saying_the_limit() -> None:
    with pytest.raises(BadInput) as info:
        parse_game_ids(", ".join(str(i) for i in range(1, 52)), max_games=50)
    assert "50" in info.value.message
    assert "51" not in info.value.message


def test_duplicates_do_not_count_towards_the_limit() -> None:
    text = ", ".join(str(i) for i in range(1, 51)) + ", 1, 2, 3, 50"
    assert len(parse_game_ids(text, max_games=50)) == 50


def test_smaller_limit_honoured() -> None:
    with pytest.raises(BadInput, match="3"):
        parse_game_ids("1 2 3 4", max_games=3)


# -- parse_ra_username ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MaxMilyin", "MaxMilyin"),
        ("ab", "ab"),
        ("A" * 20, "A" * 20),
        ("Scott2", "Scott2"),
        ("  Scott  ", "Scott"),
        ("@Scott", "Scott"),
        (" @Scott", "Scott"),
        ("00003EMFWR7XB8SDPEHB3K56ZQ", "00003EMFWR7XB8SDPEHB3K56ZQ"),  # ULID
        ("@00003EMFWR7XB8SDPEHB3K56ZQ", "00003EMFWR7XB8SDPEHB3K56ZQ"),
    ],
)
def test_valid_user_names(text: str, expected: str) -> None:
    assert parse_ra_username(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "@",
        "a",
        "@a",
        "A" * 21,
        "A" * 25,
        "A" * 27,
        "a b",
        "Max Milyin",
        "@@Scott",
        "Scott!",
        "Sc_tt",
        "Sc-tt",
        "Jörg",
        "ＭａｘＭ",
        "１２３",
        "**bold**",
        "<@123456789012345678>",
        "Sc\ntt",
    ],
)
def test_invalid_user_names_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput):
        parse_ra_username(text)


def test_invalid_user_name_message_quotes_it_in_one_code_span() -> None:
    with pytest.raises(BadInput) as info:
        parse_ra_username("a`b`**c** @everyone")
    message = info.value.message
    quoted = message.split(" cannot be")[0]
    assert quoted.startswith("`") and quoted.endswith("`")
    assert "`" not in quoted[1:-1]
    assert "2 to 20" in message


def test_invalid_user_name_message_truncates_long_names() -> None:
    with pytest.raises(BadInput) as info:
        parse_ra_username("x" * 1000)
    assert len(info.value.message) < 300
