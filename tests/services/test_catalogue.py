"""The catalogue on a real store (SQLite and PostgreSQL) and the fake RA over real HTTP: the first
refresh, restarts, two processes on one database, RA's faults, and the refresh interval."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import aiohttp
import pytest
import pytest_asyncio

from bot.models.ra import CatalogueGame
from bot.ra.client import RAClient
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import RATransport
from bot.services.catalogue import Catalogue
from bot.store import Store
from tests.fakes.catalogue import CONSOLES, seed_catalogue
from tests.fakes.fake_ra import FAKE_RA_KEY, FakeFault, FakeRA

CONSOLE_IDS = "API_GetConsoleIDs"
GAME_LIST = "API_GetGameList"
T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
DAY = 86400.0
EMPTY_CONSOLE = 200  # a game system with no game that has achievements
NO_ACHIEVEMENTS = 99_999  # a game RA lists without achievements (left out of the catalogue)


class Clock:
    """The catalogue's `now`, moved by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> datetime:
        self.at += timedelta(**kw)
        return self.at


class Row(NamedTuple):
    """A game as the bot shows it (however the catalogue keeps it in memory)."""

    game_id: int
    title: str
    console_id: int
    console: str
    icon_path: str
    achievements: int
    points: int


def row(game: CatalogueGame) -> Row:
    return Row(
        game.game_id,
        game.title,
        game.console_id,
        game.console,
        game.icon_path,
        game.achievements,
        game.points,
    )


def expected(fake: FakeRA) -> dict[int, Row]:
    """What the catalogue should hold: every game of the fake with achievements."""
    return {
        g.id: Row(g.id, g.title, g.console_id, g.console, g.icon, g.num_achievements, g.points)
        for g in fake.games.values()
        if g.num_achievements > 0
    }


def got(catalogue: Catalogue, game_id: int) -> Row | None:
    game = catalogue.get(game_id)
    return None if game is None else row(game)


def title(catalogue: Catalogue, game_id: int) -> str | None:
    game = catalogue.get(game_id)
    return None if game is None else game.title


def held(catalogue: Catalogue) -> dict[int, Row]:
    assert catalogue.index is not None
    return {game.game_id: row(game) for game in catalogue.index.by_id.values()}


async def stored(store: Store) -> dict[int, Row]:
    return {g.game_id: row(g) for g in await store.catalogue.games()}


def asked_consoles(fake: FakeRA) -> list[int]:
    return [int(r.params["i"]) for r in fake.calls(GAME_LIST)]


@dataclass
class World:
    ra: FakeRA
    store: Store
    session: aiohttp.ClientSession
    clock: Clock

    def client(self) -> RAClient:
        """A process's client: its own limiter (so a Retry-After held by one is not shared)."""
        return RAClient(RATransport(
            self.session,
            api_key=FAKE_RA_KEY,
            limiter=UpstreamLimiter(1000.0, 8),
            base_url=self.ra.base_url,
            timeout=1.0,
            retry_budget=0.2,
            backoff_base=0.01,
            rng=random.Random(1),
        ))

    def catalogue(self, owner: str = "process-a", on: Store | None = None, **kw: Any) -> Catalogue:
        kw.setdefault("refresh_seconds", DAY)
        kw.setdefault("now", self.clock)
        return Catalogue((on or self.store).catalogue, self.client(), owner=owner, **kw)

    async def refreshed(self, owner: str = "process-a", **kw: Any) -> Catalogue:
        """A catalogue that has made its first refresh (and the fake's requests forgotten)."""
        catalogue = self.catalogue(owner, **kw)
        await catalogue.load()
        assert await catalogue.refresh_if_due() is True
        assert catalogue.last_error is None
        self.ra.requests.clear()
        return catalogue


@pytest_asyncio.fixture
async def world(store: Store) -> AsyncIterator[World]:
    fake = FakeRA()
    seed_catalogue(fake, size=300)
    fake.add_console(EMPTY_CONSOLE, "Empty System")
    fake.add_game(
        NO_ACHIEVEMENTS,
        "Unfinished Set",
        console="Game Boy",
        console_id=4,
        num_achievements=0,
        points=0,
    )
    async with fake, aiohttp.ClientSession() as session:
        yield World(fake, store, session, Clock(T0))



# -- the first refresh -----------------------------------------------------------------------------


async def test_first_refresh_fetches_every_console_one_at_a_time(world: World) -> None:
    world.ra.response_delay = 0.005  # overlapping calls would show in max_concurrent
    catalogue = world.catalogue()
    await catalogue.load()
    assert catalogue.loaded.is_set()
    assert (catalogue.ready, len(catalogue), catalogue.refreshed_at) == (False, 0, None)

    assert await catalogue.refresh_if_due() is True

    (consoles,) = world.ra.calls(CONSOLE_IDS)
    assert consoles.params["g"] == "1"
    asked = asked_consoles(world.ra)
    assert sorted(asked) == sorted([*CONSOLES, EMPTY_CONSOLE])  # once each, no Hubs or Events
    assert 100 not in asked and 101 not in asked
    assert all(r.params["f"] == "1" for r in world.ra.calls(GAME_LIST))
    assert world.ra.max_concurrent == 1

    games = expected(world.ra)
    left_out = set(world.ra.games) - set(games)
    assert NO_ACHIEVEMENTS in left_out and len(left_out) >= 2  # the seed makes some too
    assert held(catalogue) == games
    assert await stored(world.store) == games
    assert got(catalogue, 710) == (
        710,
        "Legend of Zelda, The: A Link to the Past",
        3,
        "SNES/Super Famicom",
        "/Images/000710.png",
        20,
        200,
    )
    assert catalogue.get(NO_ACHIEVEMENTS) is None
    assert catalogue.ready and len(catalogue) == len(games)
    assert catalogue.refreshed_at == T0
    assert catalogue.last_error is None
    state = await world.store.catalogue.state()
    assert (state.refreshed_at, state.refresh_owner, state.lease_until) == (T0, None, None)


async def test_numbers_sent_as_strings_parse(world: World) -> None:
    world.ra.numbers_as_strings = True
    catalogue = world.catalogue()
    assert await catalogue.refresh_if_due() is True
    assert catalogue.last_error is None
    assert held(catalogue) == expected(world.ra)
    assert catalogue.refreshed_at == T0


# -- restarts and several processes ----------------------------------------------------------------


async def test_a_restart_loads_the_database_and_asks_ra_nothing(
    world: World, second_store: Store
) -> None:
    first = await world.refreshed()
    world.clock.advance(hours=3)
    restarted = world.catalogue("process-a-restarted", on=second_store)
    await restarted.load()
    assert restarted.ready
    assert restarted.refreshed_at == T0
    assert await restarted.refresh_if_due() is False
    assert world.ra.requests == []
    assert held(restarted) == held(first) == expected(world.ra)


async def test_two_processes_on_one_database_fetch_it_once(
    world: World, second_store: Store
) -> None:
    world.ra.response_delay = 0.002  # the winner is still fetching when the loser asks
    a = world.catalogue("process-a")
    b = world.catalogue("process-b", on=second_store)
    await asyncio.gather(a.load(), b.load())
    results = await asyncio.gather(a.refresh_if_due(), b.refresh_if_due())
    assert sorted(results) == [False, True]
    assert len(world.ra.calls(CONSOLE_IDS)) == 1
    assert sorted(asked_consoles(world.ra)) == sorted([*CONSOLES, EMPTY_CONSOLE])

    winner, loser = (a, b) if results[0] else (b, a)
    assert held(winner) == expected(world.ra)
    requests = len(world.ra.requests)
    # The loser's next look finds the catalogue refreshed by the winner and loads it.
    assert await loser.refresh_if_due() is False
    assert held(loser) == expected(world.ra)
    assert loser.refreshed_at == winner.refreshed_at == T0
    assert len(world.ra.requests) == requests


# -- faults: each keeps what the catalogue had -----------------------------------------------------


CONSOLE_LIST_FAULTS = [
    pytest.param(FakeFault("status", 503), id="503"),
    pytest.param(FakeFault("status", 429, headers={"Retry-After": "60"}), id="429"),
    pytest.param(FakeFault("malformed_json"), id="malformed-json"),
    pytest.param(FakeFault("html"), id="html"),
    pytest.param(FakeFault("status", 200, body='{"success": false}'), id="not-a-list"),
    pytest.param(FakeFault("status", 200, body="[]"), id="empty-list"),
]


@pytest.mark.parametrize("fault", CONSOLE_LIST_FAULTS)
async def test_a_failed_console_list_keeps_the_catalogue_and_is_retried(
    world: World, fault: FakeFault
) -> None:
    catalogue = await world.refreshed()
    before = held(catalogue)
    world.ra.games[228].title = "Super Mario World (renamed)"
    refresh_time = world.clock.advance(days=1, seconds=1)
    world.ra.fail_always(fault, CONSOLE_IDS)

    await catalogue.refresh_if_due()

    assert world.ra.calls(CONSOLE_IDS) and world.ra.calls(GAME_LIST) == []
    assert held(catalogue) == before
    assert await stored(world.store) == before
    assert "console list" in (catalogue.last_error or "")
    assert catalogue.refreshed_at == T0
    assert (await world.store.catalogue.state()).refreshed_at == T0

    # Still due: the next try (RA well again) refreshes it. A new client: a 429's Retry-After
    # holds the old one's limiter.
    world.ra.fail_always(None, CONSOLE_IDS)
    catalogue.client = world.client()
    assert await catalogue.refresh_if_due() is True
    assert catalogue.last_error is None
    assert title(catalogue, 228) == "Super Mario World (renamed)"
    assert catalogue.refreshed_at == refresh_time


GAME_LIST_GARBAGE = [
    pytest.param(FakeFault("malformed_json"), id="malformed-json"),
    pytest.param(FakeFault("html"), id="html"),
    pytest.param(FakeFault("status", 200, body='{"success": false}'), id="not-a-list"),
]


@pytest.mark.parametrize("fault", GAME_LIST_GARBAGE)
async def test_garbage_for_one_console_keeps_its_games_and_updates_the_others(
    world: World, fault: FakeFault
) -> None:
    catalogue = await world.refreshed()
    world.ra.games[1].title = "Sonic the Hedgehog (renamed)"  # console 1, asked first
    world.ra.games[228].title = "Super Mario World (renamed)"  # console 3
    refresh_time = world.clock.advance(days=1, seconds=1)
    world.ra.fail_next(fault, endpoint=GAME_LIST)

    assert await catalogue.refresh_if_due() is True

    assert asked_consoles(world.ra)[0] == 1
    assert sorted(asked_consoles(world.ra)) == sorted([*CONSOLES, EMPTY_CONSOLE])
    assert got(catalogue, 1) == (
        1,
        "Sonic the Hedgehog",
        1,
        "Genesis/Mega Drive",
        "/Images/000001.png",
        20,
        200,
    )
    genesis = {i for i, g in expected(world.ra).items() if g.console_id == 1}
    assert genesis and genesis <= set(held(catalogue))
    assert title(catalogue, 228) == "Super Mario World (renamed)"
    assert "(1)" in (catalogue.last_error or "")
    assert catalogue.refreshed_at == T0  # not complete: due again
    assert (await world.store.catalogue.state()).refreshed_at == T0

    world.ra.requests.clear()
    assert await catalogue.refresh_if_due() is True
    assert catalogue.last_error is None
    assert held(catalogue) == expected(world.ra)
    assert catalogue.refreshed_at == refresh_time


async def test_a_console_missing_from_the_console_list_keeps_its_games(world: World) -> None:
    catalogue = await world.refreshed()
    nes = {i: g for i, g in held(catalogue).items() if g.console_id == 7}
    assert len(nes) >= 5
    world.ra.hidden_consoles = {7}
    world.ra.games[731].title = "Tetris (renamed)"  # NES: not seen this time
    world.ra.games[228].title = "Super Mario World (renamed)"
    world.clock.advance(days=1, seconds=1)

    assert await catalogue.refresh_if_due() is True

    assert 7 not in asked_consoles(world.ra)
    assert {i: g for i, g in held(catalogue).items() if g.console_id == 7} == nes
    assert title(catalogue, 731) == "Tetris"
    assert title(catalogue, 228) == "Super Mario World (renamed)"
    stored_nes = {i: g for i, g in (await stored(world.store)).items() if g.console_id == 7}
    assert stored_nes == nes


async def test_a_console_answering_no_games_keeps_them(world: World) -> None:
    catalogue = await world.refreshed()
    nes = {i: g for i, g in held(catalogue).items() if g.console_id == 7}
    assert len(nes) >= 5
    for game_id in nes:
        del world.ra.games[game_id]  # RA still lists the NES, with no game on it
    world.ra.games[228].title = "Super Mario World (renamed)"
    world.clock.advance(days=1, seconds=1)

    assert await catalogue.refresh_if_due() is True

    assert 7 in asked_consoles(world.ra)
    assert {i: g for i, g in held(catalogue).items() if g.console_id == 7} == nes
    assert title(catalogue, 228) == "Super Mario World (renamed)"
    assert "NES/Famicom (7)" in (catalogue.last_error or "")
    assert catalogue.refreshed_at == T0  # tried again later


async def test_a_game_listed_twice_is_stored_once_and_the_refresh_goes_on(world: World) -> None:
    catalogue = await world.refreshed()
    world.ra.games[228].title = "Super Mario World (renamed)"  # console 3, after console 1
    refresh_time = world.clock.advance(days=1, seconds=1)
    sonic = {
        "Title": "Sonic the Hedgehog",
        "ID": 1,
        "ConsoleName": "Genesis/Mega Drive",
        "ImageIcon": "/Images/000001.png",
        "NumAchievements": 20,
        "Points": 200,
    }
    body = json.dumps([sonic, sonic])
    world.ra.fail_next(FakeFault("status", 200, body=body), endpoint=GAME_LIST)

    assert await catalogue.refresh_if_due() is True

    assert sorted(asked_consoles(world.ra)) == sorted([*CONSOLES, EMPTY_CONSOLE])
    assert got(catalogue, 1) == expected(world.ra)[1]
    assert title(catalogue, 228) == "Super Mario World (renamed)"
    assert catalogue.refreshed_at == refresh_time


# -- the refresh interval --------------------------------------------------------------------------


async def test_refreshes_only_once_the_interval_has_passed(world: World) -> None:
    catalogue = await world.refreshed(refresh_seconds=3600.0)
    assert await catalogue.refresh_if_due() is False
    world.clock.advance(minutes=59)
    assert await catalogue.refresh_if_due() is False
    assert world.ra.requests == []

    world.ra.games[228].title = "Super Mario World: Renamed"
    world.ra.add_game(9000, "Brand New Quest", console="SNES/Super Famicom", console_id=3)
    del world.ra.games[730]  # Tetris (Game Boy) dropped
    later = world.clock.advance(minutes=1, seconds=1)

    assert await catalogue.refresh_if_due() is True

    assert len(world.ra.calls(CONSOLE_IDS)) == 1
    assert title(catalogue, 228) == "Super Mario World: Renamed"
    assert got(catalogue, 9000) == (
        9000,
        "Brand New Quest",
        3,
        "SNES/Super Famicom",
        "/Images/000001.png",
        10,
        100,
    )
    assert catalogue.get(730) is None
    assert held(catalogue) == expected(world.ra) == await stored(world.store)
    assert catalogue.refreshed_at == later
    assert [g.game_id for g in catalogue.closest("tetris")].count(730) == 0


# -- running in the background ---------------------------------------------------------------------


async def test_run_forever_without_fetch_loads_and_never_asks_ra(
    world: World, second_store: Store
) -> None:
    await world.refreshed()
    world.clock.advance(days=30)  # long due: only `fetch` could make it ask
    catalogue = world.catalogue("process-b", on=second_store)
    task = asyncio.create_task(catalogue.run_forever(fetch=False))
    try:
        await asyncio.wait_for(catalogue.loaded.wait(), 10)
        assert catalogue.ready
        assert held(catalogue) == expected(world.ra)
        assert catalogue.refreshed_at == T0
        # Without `fetch` there is nothing more to do: it ends by itself, having asked RA nothing.
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert world.ra.requests == []
