"""SQLAlchemy's asyncio engine without the ORM that its package imports.

``import sqlalchemy.ext.asyncio`` runs the package's ``__init__``, which imports its ORM session
(``AsyncSession``) and with it ``sqlalchemy.orm``: about 5.6 MiB resident that the bot, on Core
only, never uses (bench/bench_memory.py). The engine module itself needs none of it. So the
package is put in ``sys.modules`` without running its ``__init__`` and only its engine module is
imported; the first time anything asks the package for a name it does not have yet (Alembic's
async helpers, a test's ``from sqlalchemy.ext.asyncio import AsyncSession``), the real
``__init__`` runs in that same module object, so the package is then exactly what a plain import
makes, with the same engine classes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

PACKAGE = "sqlalchemy.ext.asyncio"

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


class _DeferredPackage(types.ModuleType):
    """The asyncio extension's package: its ``__init__`` runs on the first missing name."""

    _completing = False

    def __getattr__(self, name: str) -> Any:
        cls = type(self)
        if cls._completing:
            raise AttributeError(name)
        cls._completing = True
        try:
            spec = self.__spec__
            assert spec is not None and spec.loader is not None
            spec.loader.exec_module(self)
        finally:
            cls._completing = False
        object.__setattr__(self, "__class__", types.ModuleType)  # a plain module from now on
        return object.__getattribute__(self, name)


def _engine_module() -> types.ModuleType:
    if PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.loader is None:
            raise ImportError(PACKAGE)
        package = importlib.util.module_from_spec(spec)
        package.__class__ = _DeferredPackage
        sys.modules[PACKAGE] = package
        parent = sys.modules[PACKAGE.rpartition(".")[0]]
        setattr(parent, "asyncio", package)  # noqa: B010 - as the import system does
        # What the package's __init__ does besides importing names: load greenlet now.
        from sqlalchemy.util import concurrency

        concurrency._concurrency_shim._initialize()
    # While the engine module loads, a missing name is a submodule to import (`from . import
    # exc`), not a reason to run the package's __init__.
    _DeferredPackage._completing = True
    try:
        return importlib.import_module(f"{PACKAGE}.engine")
    finally:
        _DeferredPackage._completing = False


if not TYPE_CHECKING:
    _engine = _engine_module()
    AsyncConnection = _engine.AsyncConnection
    AsyncEngine = _engine.AsyncEngine
    create_async_engine = _engine.create_async_engine

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
