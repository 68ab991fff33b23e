"""RA's catalogue of games with achievements, kept in the database and searched in memory.

At start the catalogue is read from the database (in the background: a command never waits for
it). It is fetched from RA only when it is older than the refresh interval: every console
(API_GetConsoleIDs) and each console's games (API_GetGameList, one call per console, one call at
a time, at scheduled priority, so it never bursts RA and always waits behind people's commands).
A restart does not fetch it again, several processes on one database fetch it once (a lease), and
a refresh that fails keeps what the catalogue had and is tried again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

from bot.models.ra import CatalogueGame, Console, GameInfo
from bot.ra.client import RAClient
from bot.ra.errors import RAError
from bot.ra.limiter import Priority
from bot.ra.transport import queue_patience
from bot.services.titles import CatalogueRows, TitleIndex
from bot.store import StoreError
from bot.store.catalogue import CatalogueStore

log = logging.getLogger(__name__)

QUEUE_PATIENCE = 1800.0  # seconds a catalogue call may wait behind commands for its turn
LEASE = timedelta(minutes=30)  # renewed after each console while a refresh runs


class Catalogue:
    def __init__(
        self,
        store: CatalogueStore,
        client: RAClient,
        *,
        owner: str,
        refresh_seconds: float = 86400.0,
        retry_seconds: float = 1800.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.client = client
        self.owner = owner
        self.refresh_every = timedelta(seconds=refresh_seconds)
        self.retry_after = timedelta(seconds=retry_seconds)
        self._now = now
        self.index: TitleIndex | None = None
        self.refreshed_at: datetime | None = None
        self.loaded = asyncio.Event()  # set once the database's catalogue is in memory
        self._has_titles = asyncio.Event()  # set once there are titles to match
        self.last_error: str | None = None

    # -- reading ---------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once there are titles to match (loaded from the database, or fetched)."""
        return self.index is not None and len(self.index) > 0

    async def wait_ready(self) -> None:
        """Until there are titles to match (start-up checks and tests)."""
        await self._has_titles.wait()

    def __len__(self) -> int:
        return len(self.index) if self.index is not None else 0

    def get(self, game_id: int) -> CatalogueGame | None:
        return self.index.get(game_id) if self.index is not None else None

    def info(self, game_id: int) -> GameInfo | None:
        """Title, console and icon from the catalogue (None: not in it)."""
        game = self.get(game_id)
        return game.info if game is not None else None

    def closest(self, text: str, limit: int = 5) -> list[CatalogueGame]:
        """The titles nearest to `text`, for an answer that names no game."""
        return self.index.search(text, limit) if self.index is not None else []

    # -- loading and refreshing ------------------------------------------------------------------

    async def load(self) -> None:
        """Read the stored catalogue into memory: rows are packed as they stream in (cheap, on
        the event loop), and the index, the costly part, is built from them off the loop."""
        rows = CatalogueRows()
        async with aclosing(self.store.rows()) as chunks:
            async for chunk in chunks:
                rows.extend(chunk)
        state = await self.store.state()
        self.index = await asyncio.to_thread(TitleIndex, rows)
        del rows
        self.refreshed_at = state.refreshed_at
        self.loaded.set()
        if len(self.index):
            self._has_titles.set()
        log.info("catalogue: %d games in memory", len(self.index))

    async def refresh_if_due(self) -> bool:
        """Fetch the catalogue from RA if it is due and no other process is at it.

        True when this process refreshed it (in full or in part).
        """
        now = self._now()
        claimed = await self.store.claim_refresh(
            self.owner, now, fresh_for=self.refresh_every, lease=LEASE
        )
        if not claimed:
            state = await self.store.state()
            if state.refreshed_at != self.refreshed_at:
                await self.load()  # another process refreshed it
            return False
        complete = False
        try:
            complete = await self._fetch()
        finally:
            await self.store.finish_refresh(self.owner, self._now() if complete else None)
        await self.load()
        return True

    async def _fetch(self) -> bool:
        """Every console's games into the database; True when every console was reached."""
        token = queue_patience.set(QUEUE_PATIENCE)
        try:
            try:
                consoles = await self.client.get_consoles(priority=Priority.SCHEDULED)
            except RAError as exc:
                self._failed(f"the console list: {exc}")
                return False
            if not consoles:
                self._failed("the console list was empty")
                return False
            complete = True
            for console in consoles:
                if not await self._fetch_console(console):
                    complete = False
                await self.store.extend_lease(self.owner, self._now() + LEASE)
            if complete:
                self.last_error = None
            return complete
        finally:
            queue_patience.reset(token)

    async def _fetch_console(self, console: Console) -> bool:
        try:
            games = await self.client.get_game_list(console, priority=Priority.SCHEDULED)
        except RAError as exc:
            self._failed(f"{console.name} ({console.console_id}): {exc}")
            return False
        if (
            not games
            and self.index is not None
            and console.console_id in self.index.console_ids
        ):
            # RA listing none of a console's games is far likelier a fault than the truth.
            self._failed(f"{console.name} ({console.console_id}) answered no games; kept")
            return False
        await self.store.replace_console(console.console_id, games)
        return True

    def _failed(self, what: str) -> None:
        self.last_error = what
        log.warning("catalogue refresh: %s (the catalogue keeps what it had)", what)

    def _next_check_in(self) -> float:
        """Seconds until the catalogue may be due again."""
        if self.refreshed_at is None or self.last_error is not None:
            return self.retry_after.total_seconds()
        due = self.refreshed_at + self.refresh_every - self._now()
        return max(60.0, min(due.total_seconds() + 1, self.retry_after.total_seconds()))

    async def run_forever(self, *, fetch: bool = True) -> None:
        """Load the stored catalogue, then keep it fresh (with `fetch`) until cancelled."""
        while not self.loaded.is_set():
            try:
                await self.load()
            except StoreError as exc:
                log.warning("catalogue: cannot read it from the database (%s)", exc.message)
                await asyncio.sleep(self.retry_after.total_seconds() / 30)
        while fetch:
            try:
                await self.refresh_if_due()
            except StoreError as exc:
                self._failed(f"the database: {exc.message}")
            except Exception:
                log.exception("catalogue refresh failed")
                self.last_error = "unexpected error"
            await asyncio.sleep(self._next_check_in())
