"""Property tests over what users type: any text gives a value in range or a BadInput with one
clear sentence, never another exception (hypothesis generates the text)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import BadInput
from bot.models.game_sets import MAX_SET_NAME, normalize_name, parse_set_name
from bot.models.schedule_times import parse_time
from bot.options import MAX_COMPARE, parse_mentions
from bot.parsing import MAX_GAME_ID, parse_ra_username
from bot.ra.client import is_valid_ra_user
from tests.fakes.resolving import parse_game_ids
from tests.strategies import check_content, hostile_text

PROPS = settings(max_examples=300, deadline=None)

games_text = st.one_of(
    hostile_text,
    st.text(max_size=200),
    st.lists(
        st.one_of(
            st.integers(min_value=-5, max_value=MAX_GAME_ID + 5).map(str),
            st.integers(min_value=1, max_value=10**6).map(
                lambda n: f"https://retroachievements.org/game/{n}"
            ),
            st.sampled_from(
                ["0", "00012", "1" * 40, "x", "<https://retroachievements.org/game/9>"]
            ),
        ),
        max_size=60,
    ).flatmap(lambda parts: st.sampled_from([", ", " ", ";", ",\n"]).map(lambda s: s.join(parts))),
)


def refused(exc: BadInput) -> None:
    """A refusal is one sentence the caller can read: short, one line, no ping."""
    check_content(exc.message)
    assert "\n" not in exc.message


@PROPS
@given(games_text, st.integers(min_value=1, max_value=50))
def test_games_option_gives_ids_in_range_or_a_clear_refusal(text: str, max_games: int) -> None:
    try:
        ids = parse_game_ids(text, max_games)
    except BadInput as exc:
        refused(exc)
        return
    assert 1 <= len(ids) <= max_games
    assert len(set(ids)) == len(ids)
    assert all(1 <= i <= MAX_GAME_ID for i in ids)


@PROPS
@given(st.lists(st.integers(min_value=1, max_value=MAX_GAME_ID), min_size=1, max_size=50))
def test_ids_written_out_read_back_in_order_once_each(ids: list[int]) -> None:
    text = ", ".join(str(i) for i in ids)
    assert parse_game_ids(text, 50) == list(dict.fromkeys(ids))


@PROPS
@given(st.one_of(hostile_text, st.text(max_size=64), st.from_regex(r"@?[A-Za-z0-9]{1,22}")))
def test_user_option_is_a_name_ra_accepts_or_a_clear_refusal(text: str) -> None:
    try:
        name = parse_ra_username(text)
    except BadInput as exc:
        refused(exc)
        return
    assert is_valid_ra_user(name)


@PROPS
@given(st.one_of(hostile_text, st.text(max_size=5), st.from_regex(r"\d{1,2}:\d{1,2}")))
def test_time_option_is_a_time_of_day_or_a_clear_refusal(text: str) -> None:
    try:
        hour, minute = parse_time(text)
    except BadInput as exc:
        refused(exc)
        return
    assert 0 <= hour <= 23 and 0 <= minute <= 59


@PROPS
@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_every_time_of_day_reads_back(hour: int, minute: int) -> None:
    assert parse_time(f"{hour:02}:{minute:02}") == (hour, minute)
    assert parse_time(f" {hour}:{minute:02} ") == (hour, minute)


@PROPS
@given(st.one_of(hostile_text, st.text(max_size=100), st.from_regex(r"[\w '\-.!?+&]{1,40}")))
def test_set_name_is_stored_form_or_a_clear_refusal_and_never_reads_as_ids(text: str) -> None:
    try:
        name = parse_set_name(text)
    except BadInput as exc:
        refused(exc)
        return
    assert 1 <= len(name) <= MAX_SET_NAME
    assert name == normalize_name(name)
    assert parse_set_name(name) == name
    # The contract of `games`: a set's name is never also a list of ids.
    try:
        parse_game_ids(name)
    except BadInput:
        pass
    else:
        raise AssertionError(f"{name!r} reads both as a set name and as game ids")


@PROPS
@given(
    st.lists(
        st.one_of(
            st.integers(min_value=10**14, max_value=10**21 - 1).map(lambda n: f"<@{n}>"),
            st.integers(min_value=10**14, max_value=10**21 - 1).map(lambda n: f"<@!{n}>"),
            hostile_text,
        ),
        max_size=15,
    ).map(" ".join)
)
def test_members_option_gives_distinct_ids_or_a_clear_refusal(text: str) -> None:
    try:
        ids = parse_mentions(text)
    except BadInput as exc:
        refused(exc)
        return
    assert len(ids) <= MAX_COMPARE
    assert len(set(ids)) == len(ids)
