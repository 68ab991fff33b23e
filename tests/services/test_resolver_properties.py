"""Property test of the resolver of `games` options: any text gives the ids, a set's games, or a
BadInput with one clear sentence (hypothesis generates the text and the guild's sets)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import BadInput
from bot.models.game_sets import GameSet, normalize_name
from bot.models.ra import CatalogueGame
from bot.parsing import MAX_GAME_ID
from tests.fakes.catalogue import CONSOLES, TRICKY
from tests.fakes.resolving import resolver as make_resolver
from tests.strategies import check_content, hostile_text

NOW = datetime(2024, 5, 1, tzinfo=UTC)


class SetsOnly:
    """The one store method resolve() uses (`GameSetStore.for_guild`), over a dict (the store
    has its own tests)."""

    def __init__(self, sets: dict[str, list[int]]) -> None:
        self.by_key = {normalize_name(k).casefold(): (k, v) for k, v in sets.items()}

    async def for_guild(self, guild_id: int) -> list[GameSet]:
        return [GameSet(guild_id, name, ids, 1, NOW) for name, ids in self.by_key.values()]


GAMES = [CatalogueGame(i, t, c, CONSOLES[c], i, 20, 200) for i, t, c in TRICKY]


set_name = st.from_regex(r"[A-Za-z][\w '\-.!?+&]{0,31}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(set_name, st.lists(st.integers(1, MAX_GAME_ID), max_size=60), max_size=5),
    st.one_of(
        hostile_text, st.text(max_size=120), set_name, st.sampled_from([t for _, t, _ in TRICKY])
    ),
    st.sampled_from([None, 42]),
)
def test_resolve_gives_games_or_a_clear_refusal(
    sets: dict[str, list[int]], text: str, guild_id: int | None
) -> None:
    resolver = make_resolver(GAMES, SetsOnly(sets), max_games=50)
    try:
        resolved = asyncio.run(resolver.resolve(guild_id, text))
    except BadInput as exc:
        check_content(exc.message)
        return
    assert 1 <= len(resolved.game_ids) <= 50
    assert all(1 <= i <= MAX_GAME_ID for i in resolved.game_ids)
    if resolved.set_name is not None:
        assert guild_id is not None
        assert normalize_name(resolved.set_name).casefold() == normalize_name(text).casefold()
    known = {g.game_id for g in GAMES} | {i for ids in sets.values() for i in ids}
    titled = [i for i in resolved.game_ids if i not in known]
    for game_id in titled:  # what is neither a set's nor a catalogue game was typed as an id
        assert str(game_id) in text or "retroachievements.org/game/" in text.lower()
