"""Persistence: one async code path for SQLite (default) and PostgreSQL, migrated at start-up."""

from bot.store.store import GameSet, Link, SetExists, Store, StoreError, StoreUnavailable

__all__ = ["GameSet", "Link", "SetExists", "Store", "StoreError", "StoreUnavailable"]
