"""Persistence: one async code path for SQLite (default) and PostgreSQL, migrated at start-up."""

from bot.store.game_sets import GameSet, SetExists
from bot.store.store import Link, Store, StoreError, StoreUnavailable

__all__ = ["GameSet", "Link", "SetExists", "Store", "StoreError", "StoreUnavailable"]
