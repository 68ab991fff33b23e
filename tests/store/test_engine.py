"""bot.store.engine: SQLAlchemy's asyncio engine without its ORM, and the whole package after.

Each case runs in a fresh interpreter: what is imported first is the point.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)], check=True, capture_output=True,
        text=True, cwd=ROOT,
    ).stdout.strip()


def test_the_bot_uses_the_store_without_loading_the_orm(tmp_path: Path) -> None:
    out = run(f"""
        import asyncio, sys
        import bot.__main__, bot.bot
        from bot.store import Store

        async def main():
            store = await Store.open("sqlite:///{tmp_path}/bot.sqlite3")
            await store.set_link(1, "01H00000000000000000000001", "Alice")
            link = await store.get_link(1)
            await store.close()
            return link.ra_name

        name = asyncio.run(main())
        print(name, "sqlalchemy.orm" in sys.modules)
    """)
    assert out == "Alice False"


def test_the_package_is_whole_once_asked_for_a_name_it_has_not_loaded() -> None:
    out = run("""
        import sys
        from bot.store import engine
        from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
        import sqlalchemy.ext.asyncio as package
        print(AsyncEngine is engine.AsyncEngine, create_async_engine is engine.create_async_engine,
              type(package).__name__, package.engine.__name__, AsyncSession.__module__,
              "sqlalchemy.orm" in sys.modules)
    """)
    assert out.split() == ["True", "True", "module", "sqlalchemy.ext.asyncio.engine",
                           "sqlalchemy.ext.asyncio.session", "True"]


def test_a_package_imported_in_full_first_is_used_as_it_is() -> None:
    out = run("""
        import sqlalchemy.ext.asyncio as package
        from bot.store import engine
        print(engine.AsyncEngine is package.AsyncEngine, type(package).__name__)
    """)
    assert out == "True module"
