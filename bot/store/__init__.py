"""Persistence: one async code path for SQLite (default) and PostgreSQL.

`database.py` is the engine and its transactions, `upgrade.py` the migrations' runner, and each
other file the reads and writes of one kind of thing stored; `store.py` puts them together.
"""

from bot.store.database import Database, StoreError, StoreUnavailable
from bot.store.store import Store

__all__ = ["Database", "Store", "StoreError", "StoreUnavailable"]
