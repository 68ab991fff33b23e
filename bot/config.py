"""Settings: read once from the environment (and a `.env` file), validated, immutable.

Every problem names the setting and says what to do, so `python -m bot` can print it on one line
and stop without a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

T = TypeVar("T")

DEFAULT_RA_API_BASE_URL = "https://retroachievements.org/API"
DEFAULT_RA_MEDIA_BASE_URL = "https://media.retroachievements.org"
DEFAULT_RA_SITE_BASE_URL = "https://retroachievements.org"
DEFAULT_DATABASE_URL = "sqlite:///data/bot.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_RA_KEY = re.compile(r"[A-Za-z0-9]{32}")
_RA_NAME = re.compile(r"[A-Za-z0-9]{2,20}")
# Discord tokens are three base64url parts separated by dots.
_DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{10,}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration."""

    setting: str
    message: str

    def __str__(self) -> str:
        return self.message


class ConfigError(Exception):
    """The configuration cannot be used; `problems` says why, one per setting."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))

    def one_line(self) -> str:
        return "Configuration error: " + "; ".join(p.message for p in self.problems)


@dataclass(frozen=True)
class Settings:
    """What the operator configured. Secrets are kept out of repr()."""

    discord_token: str = field(repr=False)
    ra_api_key: str = field(repr=False)
    ra_username: str = ""
    ra_api_base_url: str = DEFAULT_RA_API_BASE_URL
    ra_media_base_url: str = DEFAULT_RA_MEDIA_BASE_URL
    ra_site_base_url: str = DEFAULT_RA_SITE_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    discord_api_base_url: str | None = None
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    sync_commands: bool = True
    # Rationing the one RA key.
    ra_requests_per_second: float = 3.0
    ra_max_in_flight: int = 3
    ra_timeout_seconds: float = 8.0
    ra_retry_budget_seconds: float = 14.0
    progress_cache_seconds: float = 120.0
    game_cache_seconds: float = 86400.0
    profile_cache_seconds: float = 3600.0
    guild_commands_per_minute: int = 20
    guild_commands_per_minute_max: int = 60
    max_games_per_command: int = 50
    schedule_spread_seconds: float = 120.0
    # RA's catalogue of titles: fetched again when older than this (0: never fetched from RA).
    catalogue_refresh_hours: float = 24.0
    # Leaderboards and challenge standings drawn as PNG pictures (attached and shown in the embed),
    # besides the text.
    leaderboard_images: bool = True
    scheduled_progress_max_age_seconds: float = 300.0
    # Growing past one process.
    shard_count: int | None = None  # None: Discord's recommendation
    shard_ids: tuple[int, ...] | None = None  # None: every shard
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    redis_key_prefix: str = "rabot"
    # RA down (several requests failing): refuse at once for this long, then ask again, doubling
    # while RA stays down, up to 30 s (bot.ra.circuit).
    ra_circuit_open_seconds: float = 3.0
    # The news feed: how often RA's site-wide awards are read, and how old an award may be
    # and still be announced after downtime.
    feed_poll_seconds: float = 60.0
    feed_catchup_hours: float = 24.0

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere."""
        redis_password = urlsplit(self.redis_url).password if self.redis_url else None
        return tuple(s for s in (self.discord_token, self.ra_api_key, redis_password) if s)

    @property
    def shard_share(self) -> float:
        """The part of the bot this process runs: its shards / SHARD_COUNT (1: all of it)."""
        if self.shard_ids is None or not self.shard_count:
            return 1.0
        return len(self.shard_ids) / self.shard_count

    @property
    def runs_shard_zero(self) -> bool:
        """Whether this process runs shard 0 (the one process that syncs commands)."""
        return self.shard_ids is None or 0 in self.shard_ids

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: str | None = ".env"
    ) -> Settings:
        """Build settings from `environ` (default: os.environ) over the `.env` file's values.

        Raises ConfigError listing every problem found.
        """
        values: dict[str, str] = {}
        if env_file and os.path.isfile(env_file):
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return _Reader(values).settings()


class _Reader:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[Problem] = []

    def raw(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(name, message))

    def required(self, name: str, pattern: re.Pattern[str], how: str, shape: str) -> str:
        value = self.raw(name)
        if value is None:
            self.problem(name, f"{name} is not set: {how}")
            return ""
        if not pattern.fullmatch(value):
            self.problem(name, f"{name} does not look like {shape}: {how}")
            return ""
        return value

    def url(self, name: str, default: str | None) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            self.problem(name, f"{name} must be an http:// or https:// URL, not {value!r}")
            return default
        return value.rstrip("/")

    def number(
        self, name: str, default: T, convert: Callable[[str], T], low: float, high: float
    ) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = convert(value)
        except ValueError:
            number = None
        if number is None or not (low <= float(number) <= high):  # type: ignore[arg-type]
            self.problem(name, f"{name} must be a number from {low:g} to {high:g}, not {value!r}")
            return default
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        self.problem(name, f"{name} must be true or false, not {value!r}")
        return default

    def settings(self) -> Settings:
        token = self.required(
            "DISCORD_TOKEN",
            _DISCORD_TOKEN,
            "copy the bot token from the Discord developer portal (Bot → Token) into .env",
            "a Discord bot token",
        )
        key = self.required(
            "RA_API_KEY",
            _RA_KEY,
            "copy the 32-character web API key from retroachievements.org → Settings → Keys "
            "into .env",
            "a RetroAchievements web API key",
        )
        username = self.raw("RA_USERNAME") or ""
        if username and not _RA_NAME.fullmatch(username):
            self.problem("RA_USERNAME", "RA_USERNAME must be 2–20 letters or digits, or be empty")
        log_level = (self.raw("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            self.problem("LOG_LEVEL", f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
            log_level = "INFO"
        database_url = self.raw("DATABASE_URL") or DEFAULT_DATABASE_URL
        if not re.match(r"(sqlite|postgres(ql)?)(\+\w+)?://", database_url):
            self.problem("DATABASE_URL", "DATABASE_URL must start with sqlite:/// or postgresql://")
        dev_guild = self.raw("DEV_GUILD_ID")
        dev_guild_id: int | None = None
        if dev_guild is not None:
            if dev_guild.isascii() and dev_guild.isdigit() and 15 <= len(dev_guild) <= 21:
                dev_guild_id = int(dev_guild)
            else:
                self.problem("DEV_GUILD_ID", "DEV_GUILD_ID must be a server id (a long number)")
        per_minute = self.number("GUILD_COMMANDS_PER_MINUTE", 20, int, 1, 10_000)
        ceiling = self.number("GUILD_COMMANDS_PER_MINUTE_MAX", 60, int, 1, 10_000)
        if per_minute > ceiling:
            self.problem(
                "GUILD_COMMANDS_PER_MINUTE",
                "GUILD_COMMANDS_PER_MINUTE must not be above GUILD_COMMANDS_PER_MINUTE_MAX",
            )
        shard_count, shard_ids = self.shards()
        redis_url = self.raw("REDIS_URL")
        if redis_url is not None and not re.fullmatch(r"(rediss?|unix)://\S+", redis_url):
            self.problem(
                "REDIS_URL", "REDIS_URL must be a redis://host:port/db URL (or rediss://), or empty"
            )
            redis_url = None
        prefix = self.raw("REDIS_KEY_PREFIX") or "rabot"
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", prefix):
            self.problem(
                "REDIS_KEY_PREFIX", "REDIS_KEY_PREFIX must be 1–40 letters, digits, '.', '_' or '-'"
            )
        settings = Settings(
            discord_token=token,
            ra_api_key=key,
            ra_username=username,
            ra_api_base_url=self.url("RA_API_BASE_URL", DEFAULT_RA_API_BASE_URL) or "",
            ra_media_base_url=self.url("RA_MEDIA_BASE_URL", DEFAULT_RA_MEDIA_BASE_URL) or "",
            ra_site_base_url=self.url("RA_SITE_BASE_URL", DEFAULT_RA_SITE_BASE_URL) or "",
            database_url=database_url,
            discord_api_base_url=self.url("DISCORD_API_BASE_URL", None),
            log_level=log_level,
            dev_guild_id=dev_guild_id,
            sync_commands=self.boolean("SYNC_COMMANDS", True),
            ra_requests_per_second=self.number("RA_REQUESTS_PER_SECOND", 3.0, float, 0.1, 50),
            ra_max_in_flight=self.number("RA_MAX_IN_FLIGHT", 3, int, 1, 20),
            ra_timeout_seconds=self.number("RA_TIMEOUT_SECONDS", 8.0, float, 1, 60),
            ra_retry_budget_seconds=self.number("RA_RETRY_BUDGET_SECONDS", 14.0, float, 0, 120),
            progress_cache_seconds=self.number("PROGRESS_CACHE_SECONDS", 120.0, float, 0, 86400),
            game_cache_seconds=self.number("GAME_CACHE_SECONDS", 86400.0, float, 0, 30 * 86400),
            profile_cache_seconds=self.number("PROFILE_CACHE_SECONDS", 3600.0, float, 0, 86400),
            guild_commands_per_minute=per_minute,
            guild_commands_per_minute_max=ceiling,
            max_games_per_command=self.number("MAX_GAMES_PER_COMMAND", 50, int, 1, 100),
            schedule_spread_seconds=self.number("SCHEDULE_SPREAD_SECONDS", 120.0, float, 0, 1800),
            catalogue_refresh_hours=self.number("CATALOGUE_REFRESH_HOURS", 24.0, float, 0, 24 * 30),
            leaderboard_images=self.boolean("LEADERBOARD_IMAGES", True),
            scheduled_progress_max_age_seconds=self.number(
                "SCHEDULED_PROGRESS_MAX_AGE_SECONDS", 300.0, float, 0, 3600
            ),
            shard_count=shard_count,
            shard_ids=shard_ids,
            redis_url=redis_url,
            redis_key_prefix=prefix,
            ra_circuit_open_seconds=self.number("RA_CIRCUIT_OPEN_SECONDS", 3.0, float, 0.1, 30),
            feed_poll_seconds=self.number("FEED_POLL_SECONDS", 60.0, float, 5, 3600),
            feed_catchup_hours=self.number("FEED_CATCHUP_HOURS", 24.0, float, 0, 24 * 7),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return settings

    def shards(self) -> tuple[int | None, tuple[int, ...] | None]:
        count: int | None = self.number("SHARD_COUNT", None, int, 1, 100_000)
        raw = self.raw("SHARD_IDS")
        if raw is None:
            return count, None
        if count is None:
            if self.raw("SHARD_COUNT") is None:
                self.problem(
                    "SHARD_IDS",
                    "SHARD_IDS needs SHARD_COUNT: set SHARD_COUNT to the total number of shards"
                    " over all processes",
                )
            return None, None
        ids: list[int] = []
        for part in re.split(r"[\s,]+", raw.strip(" ,")):
            if not (part.isascii() and part.isdigit()) or int(part) >= count:
                self.problem(
                    "SHARD_IDS",
                    f"SHARD_IDS must list shard ids from 0 to {count - 1} (SHARD_COUNT is"
                    f" {count}), not {part!r}",
                )
                return count, None
            if int(part) in ids:
                self.problem("SHARD_IDS", f"SHARD_IDS names shard {part} twice: list each once")
                return count, None
            ids.append(int(part))
        return count, tuple(ids)
