"""`python -m bot` runs the bot; `python -m bot check` checks the configuration;
`python -m bot migrate` brings the database to the bot's schema (`python -m bot` runs it first,
in a child process, when the database is behind)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import aiohttp
import discord

from bot.config import ConfigError, Settings

log = logging.getLogger("bot")

USAGE = "usage: python -m bot [check | migrate]"


async def run_migrate(settings: Settings) -> int:
    """Migrate the database to the newest schema; one line says what was done."""
    from bot.store import Database, StoreError
    from bot.store.upgrade import current_revision, head_revision, upgrade

    try:
        database = Database.connect(settings.database_url)
        try:
            before = await current_revision(database)
            await upgrade(database)
        finally:
            await database.close()
    except StoreError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    head = head_revision()
    if before == head:
        print(f"The database is at the bot's schema ({head}): nothing to migrate.")
    else:
        print(f"The database was migrated from {before or 'empty'} to the bot's schema ({head}).")
    return 0


async def migrate_if_behind(settings: Settings) -> int:
    """Before the bot starts: when the database is behind the bot's schema (a first start, an
    upgrade), run `python -m bot migrate` in a child process and wait for it. Alembic then never
    loads into the long-running bot (about 12 MB it would keep). Returns an exit status (0: the
    schema is the bot's)."""
    from bot.store import Database, StoreError
    from bot.store.upgrade import current_revision, head_revision

    try:
        database = Database.connect(settings.database_url)
        try:
            current = await current_revision(database)
        finally:
            await database.close()
    except StoreError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    if current == head_revision():
        return 0
    log.info("the database's schema is %s: running python -m bot migrate", current or "empty")
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "migrate")
    return await child.wait()


async def run_bot(settings: Settings) -> int:
    from bot.bot import RABot
    from bot.store import StoreError

    migrated = await migrate_if_behind(settings)
    if migrated != 0:
        return migrated
    bot = RABot(settings)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def stop() -> None:
        if not closing:
            log.info("stopping: closing the gateway, the HTTP session and the store")
            closing.append(asyncio.ensure_future(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        async with bot:
            await bot.start(settings.discord_token)
    except StoreError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print(
            "DISCORD_TOKEN was refused by Discord: reset the token in the developer portal "
            "and copy it into .env.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("Discord refused the gateway intents the bot asked for.", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, OSError) as exc:
        print(f"Discord could not be reached ({type(exc).__name__}).", file=sys.stderr)
        return 1
    finally:
        await asyncio.gather(*closing, return_exceptions=True)
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["check"], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        if args == ["check"]:
            for problem in exc.problems:
                print(problem.message, file=sys.stderr)
        else:
            print(exc.one_line(), file=sys.stderr)
        return 2

    from bot.log import setup_logging

    if args == ["check"]:
        from bot.check import run_check

        # The check's own lines are its output: only warnings and errors besides them.
        setup_logging("WARNING", settings.secrets)
        return asyncio.run(run_check(settings))
    setup_logging(settings.log_level, settings.secrets)
    if args == ["migrate"]:
        return asyncio.run(run_migrate(settings))
    return asyncio.run(run_bot(settings))


if __name__ == "__main__":
    sys.exit(main())
