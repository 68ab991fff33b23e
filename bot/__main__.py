"""`python -m bot` runs the bot; `python -m bot check` checks the configuration."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import aiohttp
import discord

from bot.config import ConfigError, Settings

log = logging.getLogger("bot")

USAGE = "usage: python -m bot [check]"


async def run_bot(settings: Settings) -> int:
    from bot.bot import RABot
    from bot.store import StoreError

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
    if args not in ([], ["check"]):
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
    return asyncio.run(run_bot(settings))


if __name__ == "__main__":
    sys.exit(main())
