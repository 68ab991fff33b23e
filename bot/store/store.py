"""The Store: one database and the stores of its tables, each built the same way over it.

`Store.open` connects and migrates; the bot and the tests take what they need from it
(`store.links`, `store.sets`, ...), and the services are handed the one table store they use.
"""

from __future__ import annotations

from bot.store.catalogue import CatalogueStore
from bot.store.challenges import ChallengeStore
from bot.store.database import Database
from bot.store.feeds import FeedStore
from bot.store.game_sets import GameSetStore
from bot.store.guild_settings import GuildSettingsStore
from bot.store.links import LinkStore
from bot.store.schedules import ScheduleStore
from bot.store.upgrade import check_current, upgrade


class Store:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.links = LinkStore(database)
        self.guild_settings = GuildSettingsStore(database)
        self.sets = GameSetStore(database)
        self.schedules = ScheduleStore(database)
        self.challenges = ChallengeStore(database)
        self.catalogue = CatalogueStore(database)
        self.feeds = FeedStore(database)

    def __repr__(self) -> str:
        return f"<Store {self.database.dialect}>"

    @classmethod
    async def open(
        cls, database_url: str, *, busy_timeout: float = 5.0, migrate: bool = True
    ) -> Store:
        """Connect and migrate to the newest schema; StoreError with a clear message if not.

        `migrate=False` (the bot): the schema must be the newest already (`python -m bot
        migrate`), and Alembic is never loaded. `busy_timeout` (SQLite): how many seconds a
        write waits for another connection's lock before StoreUnavailable.
        """
        database = Database.connect(database_url, busy_timeout=busy_timeout)
        try:
            await (upgrade(database) if migrate else check_current(database))
        except BaseException:
            await database.close()
            raise
        return cls(database)

    async def close(self) -> None:
        await self.database.close()
