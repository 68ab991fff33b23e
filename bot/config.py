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
    # RA not answering: refuse at once for this long, then ask again (bot.ra.circuit).
    ra_circuit_open_seconds: float = 10.0

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere."""
        return tuple(s for s in (self.discord_token, self.ra_api_key) if s)

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
            ra_circuit_open_seconds=self.number("RA_CIRCUIT_OPEN_SECONDS", 10.0, float, 0.1, 60),
        )
        if self.problems:
            raise ConfigError(self.problems)
        return settings
