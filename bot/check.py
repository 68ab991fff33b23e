"""`python -m bot check`: is the configuration usable, without connecting to the gateway?

Checks that RA accepts the key and Discord accepts the token, then prints the invite URL. Every
problem is one line on stderr; the exit status is 1 if there was any.
"""

from __future__ import annotations

import logging
import socket
import sys
from urllib.parse import urlsplit

import aiohttp
import discord

from bot.config import Settings
from bot.gateway import invite_url, use_discord_api_base
from bot.ra.client import RAClient
from bot.ra.errors import RAError, RAKeyRejected, RANotUsable, RAUnreachable
from bot.ra.limiter import UpstreamLimiter
from bot.ra.transport import USER_AGENT, RATransport


async def check_ra(settings: Settings) -> str | None:
    """None if RA accepts the key, else the problem."""
    # The client's own "giving up" warning would be a second line for the same problem.
    logging.getLogger("bot.ra.transport").setLevel(logging.ERROR)
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
        client = RAClient(RATransport(
            session,
            api_key=settings.ra_api_key,
            username=settings.ra_username,
            base_url=settings.ra_api_base_url,
            limiter=UpstreamLimiter(1.0, 1),
            timeout=settings.ra_timeout_seconds,
            retry_budget=3.0,
        ))
        try:
            await client.check_key()
        except RAKeyRejected:
            return (
                "RA_API_KEY was refused by RetroAchievements: copy the key again from "
                "retroachievements.org → Settings → Keys."
            )
        except RANotUsable as exc:
            return f"RA_API_BASE_URL: {str(exc).split(': ', 1)[1]}."
        except RAUnreachable as exc:
            host = urlsplit(settings.ra_api_base_url).hostname or settings.ra_api_base_url
            if not exc.resolved:
                return (
                    f"RA_API_BASE_URL: RA's host {host} could not be resolved: check the "
                    "network connection and DNS (or the URL)."
                )
            return (
                f"RA_API_BASE_URL: RA's host {host} could not be reached: check the network "
                "connection, a firewall or proxy (or the URL)."
            )
        except RAError as exc:
            return f"RA_API_BASE_URL: RetroAchievements did not answer properly ({exc})."
    return None


async def check_discord(settings: Settings) -> tuple[str | None, str | None]:
    """(problem, invite URL): logs in over REST only, never opens the gateway."""
    if settings.discord_api_base_url:
        use_discord_api_base(settings.discord_api_base_url)
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        await client.login(settings.discord_token)
        app = await client.application_info()
        return None, f"{invite_url(app.id)}  (bot: {client.user})"
    except discord.LoginFailure:
        return (
            "DISCORD_TOKEN was refused by Discord: reset the token in the developer portal "
            "(Bot → Reset Token) and copy it into .env.",
            None,
        )
    except aiohttp.ClientConnectorError as exc:
        host = exc.host
        if isinstance(exc.os_error, socket.gaierror):
            return f"DISCORD_API_BASE_URL: Discord's host {host} could not be resolved.", None
        return f"DISCORD_API_BASE_URL: Discord's host {host} could not be reached.", None
    except (aiohttp.ClientError, discord.HTTPException, OSError) as exc:
        return f"DISCORD_API_BASE_URL: Discord did not answer ({type(exc).__name__}).", None
    finally:
        await client.close()


async def check_redis(settings: Settings) -> str | None:
    """None if Redis answers at REDIS_URL (or it is not set), else the problem."""
    if not settings.redis_url:
        return None
    from bot.redis_link import RedisLink

    link = RedisLink(settings.redis_url, prefix=settings.redis_key_prefix)
    try:
        await link.client.ping()
    except link.errors as exc:
        where = urlsplit(settings.redis_url)
        return (
            f"REDIS_URL: Redis does not answer at {where.hostname}:{where.port or 6379}"
            f" ({type(exc).__name__}); the bot would keep to this process's share until it does."
        )
    finally:
        await link.close()
    return None


async def run_check(settings: Settings) -> int:
    problems: list[str] = []
    redis_problem = await check_redis(settings)
    if redis_problem:
        problems.append(redis_problem)
    elif settings.redis_url:
        print("ok: Redis answers at REDIS_URL")
    ra_problem = await check_ra(settings)
    if ra_problem:
        problems.append(ra_problem)
    else:
        print("ok: RetroAchievements accepts RA_API_KEY")
    discord_problem, invite = await check_discord(settings)
    if discord_problem:
        problems.append(discord_problem)
    else:
        print("ok: Discord accepts DISCORD_TOKEN")
        print(f"invite: {invite}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
