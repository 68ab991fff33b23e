"""The catalogue's tables, on SQLite and PostgreSQL alike: a console's games replaced whole, and
the lease that lets one process of several refresh the catalogue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import select

from bot.models.ra import CatalogueGame
from bot.models.titles import search_key
from bot.store import Store
from bot.store.catalogue import CatalogueState, CatalogueStore
from bot.store.schema import catalogue_games

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
FRESH = timedelta(days=1)
LEASE = timedelta(minutes=30)


def game(game_id: int, title: str, console_id: int = 3, **kw: object) -> CatalogueGame:
    values: dict[str, object] = {
        "console": {3: "SNES/Super Famicom", 4: "Game Boy", 7: "NES/Famicom"}.get(console_id, "?"),
        "icon": f"/Images/{game_id:06d}.png",
        "achievements": 20,
        "points": 200,
    }
    values.update(kw)
    return CatalogueGame(game_id, title, console_id, **values)  # type: ignore[arg-type]


Row = tuple[int, str, int, str, str, int, int]


def row(game: CatalogueGame) -> Row:
    """A game as the bot shows it (however it is kept)."""
    return (
        game.game_id,
        game.title,
        game.console_id,
        game.console,
        game.icon_path,
        game.achievements,
        game.points,
    )


def rows(*games: CatalogueGame) -> dict[int, Row]:
    return {g.game_id: row(g) for g in games}


async def by_id(catalogue: CatalogueStore) -> dict[int, Row]:
    return rows(*await catalogue.games())


@pytest_asyncio.fixture
async def catalogue(store: Store) -> CatalogueStore:
    return store.catalogue



async def claim(catalogue: CatalogueStore, owner: str, at: datetime) -> bool:
    return await catalogue.claim_refresh(owner, at, fresh_for=FRESH, lease=LEASE)


# -- games -----------------------------------------------------------------------------------------


async def test_a_new_database_has_no_catalogue(catalogue: CatalogueStore) -> None:
    assert await catalogue.games() == []
    assert await catalogue.state() == CatalogueState(None, None, None)


async def test_replace_console_replaces_exactly_that_consoles_games(
    catalogue: CatalogueStore,
) -> None:
    mario, zelda, tetris = (
        game(228, "Super Mario World"),
        game(710, "Zelda"),
        game(730, "Tetris", 4),
    )
    await catalogue.replace_console(3, [mario, zelda])
    await catalogue.replace_console(4, [tetris])
    assert await by_id(catalogue) == rows(mario, zelda, tetris)

    renamed = game(228, "Super Mario World: Renamed", achievements=96, points=1000)
    metroid = game(700, "Super Metroid")
    await catalogue.replace_console(3, [renamed, metroid])
    assert await by_id(catalogue) == rows(renamed, metroid, tetris)  # zelda gone

    await catalogue.replace_console(3, [])
    assert await by_id(catalogue) == rows(tetris)
    await catalogue.replace_console(3, [renamed])  # ids deleted before can come back
    assert await by_id(catalogue) == rows(renamed, tetris)


async def test_a_game_that_changed_console_moves(catalogue: CatalogueStore) -> None:
    await catalogue.replace_console(3, [game(228, "Super Mario World"), game(710, "Zelda")])
    await catalogue.replace_console(4, [game(730, "Tetris", 4)])
    moved = game(710, "Zelda", 7)
    await catalogue.replace_console(7, [moved])
    games = await by_id(catalogue)
    assert games[710] == row(moved)
    assert sorted(games) == [228, 710, 730]
    await catalogue.replace_console(3, [game(228, "Super Mario World")])  # 710 not listed
    assert (await by_id(catalogue))[710] == row(moved)


async def test_the_console_given_wins_and_long_fields_are_cut(
    store: Store, catalogue: CatalogueStore
) -> None:
    odd = game(5, "Pokémon Stadium", 4, console="C" * 100, icon="/" + "i" * 200)
    await catalogue.replace_console(2, [odd])
    (got,) = await catalogue.games()
    assert (got.console_id, got.console, got.icon_path) == (2, "C" * 64, ("/" + "i" * 200)[:128])
    async with store.database.engine.connect() as conn:
        key = (await conn.execute(select(catalogue_games.c.search_key))).scalar_one()
    assert key == search_key("Pokémon Stadium")


async def test_a_console_of_many_games_is_written_in_chunks(catalogue: CatalogueStore) -> None:
    many = [game(100_000 + n, f"Game {n}", 27) for n in range(1234)]
    await catalogue.replace_console(27, many)
    await catalogue.replace_console(3, [game(228, "Super Mario World")])
    assert await by_id(catalogue) == rows(*many, game(228, "Super Mario World"))
    await catalogue.replace_console(27, many[1:])
    assert len(await catalogue.games()) == 1234


# -- the refresh lease -----------------------------------------------------------------------------


async def test_the_first_refresh_is_claimed_and_held(catalogue: CatalogueStore) -> None:
    assert await claim(catalogue, "process-a", T0) is True
    assert await catalogue.state() == CatalogueState(None, "process-a", T0 + LEASE)
    # A live lease of another owner: no.
    assert await claim(catalogue, "process-b", T0 + timedelta(minutes=29)) is False
    # The same owner: yes, and the lease runs from now.
    later = T0 + timedelta(minutes=10)
    assert await claim(catalogue, "process-a", later) is True
    assert (await catalogue.state()).lease_until == later + LEASE


async def test_an_expired_lease_is_taken_over(catalogue: CatalogueStore) -> None:
    assert await claim(catalogue, "process-a", T0)
    takeover = T0 + LEASE + timedelta(seconds=1)
    assert await claim(catalogue, "process-b", takeover) is True
    assert await catalogue.state() == CatalogueState(None, "process-b", takeover + LEASE)
    # The old owner's late finish changes nothing: the lease is no longer its.
    await catalogue.finish_refresh("process-a", takeover)
    await catalogue.extend_lease("process-a", takeover + timedelta(days=1))
    assert await catalogue.state() == CatalogueState(None, "process-b", takeover + LEASE)


async def test_a_fresh_catalogue_is_not_claimed_until_it_is_due(catalogue: CatalogueStore) -> None:
    assert await claim(catalogue, "process-a", T0)
    done = T0 + timedelta(minutes=5)
    await catalogue.finish_refresh("process-a", done)
    state = await catalogue.state()
    assert state == CatalogueState(done, None, None)
    assert state.refreshed_at is not None and state.refreshed_at.utcoffset() == timedelta(0)

    assert await claim(catalogue, "process-a", done + timedelta(hours=1)) is False  # same owner
    assert await claim(catalogue, "process-b", done + FRESH) is False
    assert await claim(catalogue, "process-b", done + FRESH + timedelta(seconds=1)) is True


async def test_finish_without_a_time_keeps_refreshed_at_and_frees_the_lease(
    catalogue: CatalogueStore,
) -> None:
    assert await claim(catalogue, "process-a", T0)
    await catalogue.finish_refresh("process-a", T0)
    due = T0 + FRESH + timedelta(hours=1)
    assert await claim(catalogue, "process-a", due)
    await catalogue.finish_refresh("process-a", None)  # a console failed: not refreshed
    assert await catalogue.state() == CatalogueState(T0, None, None)
    assert await claim(catalogue, "process-b", due + timedelta(seconds=1)) is True  # still due


async def test_extend_lease_keeps_others_out(catalogue: CatalogueStore) -> None:
    assert await claim(catalogue, "process-a", T0)
    await catalogue.extend_lease("process-a", T0 + timedelta(hours=2))
    assert await claim(catalogue, "process-b", T0 + timedelta(hours=1)) is False
    assert await claim(catalogue, "process-b", T0 + timedelta(hours=2, seconds=1)) is True


async def test_of_two_processes_claiming_at_once_one_wins(
    catalogue: CatalogueStore, second_store: Store
) -> None:
    other = second_store.catalogue
    for round_ in range(5):
        at = T0 + round_ * (FRESH + timedelta(hours=1))
        won = await asyncio.gather(claim(catalogue, "process-a", at), claim(other, "process-b", at))
        assert sorted(won) == [False, True]
        winner = "process-a" if won[0] else "process-b"
        assert (await catalogue.state()).refresh_owner == winner
        await (catalogue if won[0] else other).finish_refresh(winner, at)
