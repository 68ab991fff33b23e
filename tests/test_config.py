"""Settings.from_env: defaults, one clear problem per bad setting, secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RA_API_BASE_URL,
    DEFAULT_RA_MEDIA_BASE_URL,
    DEFAULT_RA_SITE_BASE_URL,
    ConfigError,
    Settings,
)

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"
KEY = "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya"
REQUIRED = {"DISCORD_TOKEN": TOKEN, "RA_API_KEY": KEY}


def load(**env: str) -> Settings:
    return Settings.from_env({**REQUIRED, **env}, env_file=None)


def problems_of(environ: dict[str, str], env_file: str | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ, env_file=env_file)
    return {p.setting: p.message for p in info.value.problems}


def bad(**env: str) -> dict[str, str]:
    return problems_of({**REQUIRED, **env})


# -- defaults ------------------------------------------------------------------------------------


def test_defaults() -> None:
    s = load()
    assert s.discord_token == TOKEN
    assert s.ra_api_key == KEY
    assert s.ra_username == ""
    assert s.ra_api_base_url == DEFAULT_RA_API_BASE_URL == "https://retroachievements.org/API"
    assert s.ra_media_base_url == DEFAULT_RA_MEDIA_BASE_URL == "https://media.retroachievements.org"
    assert s.ra_site_base_url == DEFAULT_RA_SITE_BASE_URL == "https://retroachievements.org"
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite:///data/bot.sqlite3"
    assert s.discord_api_base_url is None
    assert s.log_level == "INFO"
    assert s.dev_guild_id is None
    assert s.sync_commands is True
    assert s.guild_commands_per_minute <= s.guild_commands_per_minute_max
    assert s.max_games_per_command == 50
    assert (s.feed_poll_seconds, s.feed_catchup_hours) == (60.0, 24.0)
    assert s.secrets == (TOKEN, KEY)


def test_blank_optional_values_mean_default() -> None:
    s = load(RA_USERNAME="", LOG_LEVEL="  ", RA_API_BASE_URL="", DATABASE_URL="")
    assert s.ra_username == ""
    assert s.log_level == "INFO"
    assert s.ra_api_base_url == DEFAULT_RA_API_BASE_URL
    assert s.database_url == DEFAULT_DATABASE_URL


def test_values_are_read_and_tidied() -> None:
    s = load(
        DISCORD_TOKEN=f"  {TOKEN}\n",
        RA_USERNAME="MaxMilyin",
        RA_API_BASE_URL="http://127.0.0.1:8080/API/",
        RA_MEDIA_BASE_URL="https://media.example.test/",
        RA_SITE_BASE_URL="https://ra.example.test",
        DATABASE_URL="postgresql://bot:pw@db:5432/bot",
        DISCORD_API_BASE_URL="http://127.0.0.1:9000/api/v10",
        LOG_LEVEL="debug",
        DEV_GUILD_ID="123456789012345678",
        SYNC_COMMANDS="off",
        RA_REQUESTS_PER_SECOND="1.5",
        RA_MAX_IN_FLIGHT="2",
        PROGRESS_CACHE_SECONDS="0",
        SCHEDULED_PROGRESS_MAX_AGE_SECONDS="60",
        CATALOGUE_REFRESH_HOURS="0",
        GUILD_COMMANDS_PER_MINUTE="5",
        GUILD_COMMANDS_PER_MINUTE_MAX="30",
        MAX_GAMES_PER_COMMAND="10",
    )
    assert s.discord_token == TOKEN
    assert s.ra_username == "MaxMilyin"
    assert s.ra_api_base_url == "http://127.0.0.1:8080/API"  # no trailing slash
    assert s.ra_media_base_url == "https://media.example.test"
    assert s.ra_site_base_url == "https://ra.example.test"
    assert s.database_url == "postgresql://bot:pw@db:5432/bot"
    assert s.discord_api_base_url == "http://127.0.0.1:9000/api/v10"
    assert s.log_level == "DEBUG"
    assert s.dev_guild_id == 123456789012345678
    assert s.sync_commands is False
    assert s.ra_requests_per_second == 1.5
    assert s.ra_max_in_flight == 2
    assert s.progress_cache_seconds == 0.0
    assert s.scheduled_progress_max_age_seconds == 60.0
    assert s.catalogue_refresh_hours == 0.0
    assert (s.guild_commands_per_minute, s.guild_commands_per_minute_max) == (5, 30)
    assert s.max_games_per_command == 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_booleans(value: str, expected: bool) -> None:
    assert load(SYNC_COMMANDS=value).sync_commands is expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/bot.sqlite3",
        "sqlite:////abs/bot.db",
        "postgres://u@h/db",
        "postgresql://u:p@h:5432/db",
        "postgresql+asyncpg://u@h/db",
    ],
)
def test_database_urls_accepted(url: str) -> None:
    assert load(DATABASE_URL=url).database_url == url


# -- required settings ---------------------------------------------------------------------------


def test_every_required_setting_missing_is_named_with_what_to_do() -> None:
    problems = problems_of({}, None)
    assert set(problems) == {"DISCORD_TOKEN", "RA_API_KEY"}
    assert problems["DISCORD_TOKEN"].startswith("DISCORD_TOKEN is not set")
    assert "developer portal" in problems["DISCORD_TOKEN"]
    assert problems["RA_API_KEY"].startswith("RA_API_KEY is not set")
    assert "Settings" in problems["RA_API_KEY"] and "Keys" in problems["RA_API_KEY"]


@pytest.mark.parametrize("missing", ["DISCORD_TOKEN", "RA_API_KEY"])
def test_one_required_setting_missing(missing: str) -> None:
    env = dict(REQUIRED)
    del env[missing]
    assert list(problems_of(env)) == [missing]


@pytest.mark.parametrize("missing", ["DISCORD_TOKEN", "RA_API_KEY"])
def test_blank_required_setting_is_missing(missing: str) -> None:
    problems = problems_of({**REQUIRED, missing: "   "})
    assert problems[missing].startswith(f"{missing} is not set")


def test_config_error_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({}, env_file=None)
    line = info.value.one_line()
    assert "\n" not in line
    assert "DISCORD_TOKEN" in line and "RA_API_KEY" in line


def test_all_problems_reported_at_once() -> None:
    problems = problems_of(
        {
            "RA_API_KEY": "short",
            "LOG_LEVEL": "LOUD",
            "RA_MAX_IN_FLIGHT": "999",
            "DATABASE_URL": "mysql://x",
        }
    )
    assert set(problems) == {
        "DISCORD_TOKEN",
        "RA_API_KEY",
        "LOG_LEVEL",
        "RA_MAX_IN_FLIGHT",
        "DATABASE_URL",
    }


# -- malformed values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "abc.def.ghi",
        TOKEN + " extra",
        "Bot " + TOKEN,
        TOKEN.replace(".", ""),
        TOKEN.replace("G", "+"),
        KEY,
    ],
)
def test_malformed_token(token: str) -> None:
    problems = bad(DISCORD_TOKEN=token)
    assert list(problems) == ["DISCORD_TOKEN"]
    assert "does not look like a Discord bot token" in problems["DISCORD_TOKEN"]
    assert token.strip() not in problems["DISCORD_TOKEN"]  # a secret is never echoed back


@pytest.mark.parametrize(
    "key",
    [KEY[:-1], KEY + "Z", KEY[:-1] + "!", KEY[:16] + " " + KEY[17:], "Ｘ" + KEY[1:], TOKEN],
)
def test_malformed_ra_key(key: str) -> None:
    problems = bad(RA_API_KEY=key)
    assert list(problems) == ["RA_API_KEY"]
    assert "does not look like a RetroAchievements web API key" in problems["RA_API_KEY"]
    assert key not in problems["RA_API_KEY"]


@pytest.mark.parametrize(
    "name",
    ["RA_API_BASE_URL", "RA_MEDIA_BASE_URL", "RA_SITE_BASE_URL", "DISCORD_API_BASE_URL"],
)
@pytest.mark.parametrize(
    "value",
    [
        "retroachievements.org",
        "ftp://example.test",
        "https://",
        "http:///path",
        "https://exa mple.test",
        "javascript:alert(1)",
    ],
)
def test_malformed_urls(name: str, value: str) -> None:
    problems = bad(**{name: value})
    assert list(problems) == [name]
    assert "http:// or https://" in problems[name]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RA_REQUESTS_PER_SECOND", "0"),
        ("RA_REQUESTS_PER_SECOND", "51"),
        ("RA_REQUESTS_PER_SECOND", "fast"),
        ("RA_REQUESTS_PER_SECOND", "nan"),
        ("RA_REQUESTS_PER_SECOND", "inf"),
        ("RA_MAX_IN_FLIGHT", "0"),
        ("RA_MAX_IN_FLIGHT", "21"),
        ("RA_MAX_IN_FLIGHT", "2.5"),
        ("RA_TIMEOUT_SECONDS", "0.5"),
        ("RA_TIMEOUT_SECONDS", "-1"),
        ("PROGRESS_CACHE_SECONDS", "-1"),
        ("PROGRESS_CACHE_SECONDS", "86401"),
        ("SCHEDULED_PROGRESS_MAX_AGE_SECONDS", "-1"),
        ("SCHEDULED_PROGRESS_MAX_AGE_SECONDS", "3601"),
        ("CATALOGUE_REFRESH_HOURS", "-1"),
        ("CATALOGUE_REFRESH_HOURS", "721"),
        ("CATALOGUE_REFRESH_HOURS", "daily"),
        ("FEED_POLL_SECONDS", "4"),
        ("FEED_POLL_SECONDS", "3601"),
        ("FEED_CATCHUP_HOURS", "-1"),
        ("FEED_CATCHUP_HOURS", "169"),
        ("GUILD_COMMANDS_PER_MINUTE", "0"),
        ("GUILD_COMMANDS_PER_MINUTE_MAX", "10001"),
        ("MAX_GAMES_PER_COMMAND", "0"),
        ("MAX_GAMES_PER_COMMAND", "101"),
        ("MAX_GAMES_PER_COMMAND", "ten"),
        ("MAX_GAMES_PER_COMMAND", "9" * 5000),
    ],
)
def test_numbers_out_of_range_or_not_numbers(name: str, value: str) -> None:
    problems = bad(**{name: value})
    assert list(problems) == [name]
    assert problems[name].startswith(f"{name} must be a number from")


def test_guild_rate_above_its_ceiling() -> None:
    problems = bad(GUILD_COMMANDS_PER_MINUTE="50", GUILD_COMMANDS_PER_MINUTE_MAX="10")
    assert list(problems) == ["GUILD_COMMANDS_PER_MINUTE"]
    assert "GUILD_COMMANDS_PER_MINUTE_MAX" in problems["GUILD_COMMANDS_PER_MINUTE"]


@pytest.mark.parametrize("level", ["LOUD", "warn", "10", "INFO DEBUG"])
def test_malformed_log_level(level: str) -> None:
    problems = bad(LOG_LEVEL=level)
    assert list(problems) == ["LOG_LEVEL"]
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in problems["LOG_LEVEL"]


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "data/bot.sqlite3", "postgresq://x", "http://db", "sqlite"]
)
def test_malformed_database_url(url: str) -> None:
    problems = bad(DATABASE_URL=url)
    assert list(problems) == ["DATABASE_URL"]
    assert "sqlite:///" in problems["DATABASE_URL"] and "postgresql://" in problems["DATABASE_URL"]


@pytest.mark.parametrize(
    "guild",
    [
        "abc",
        "12345",
        "1" * 22,
        "-123456789012345678",
        "1234567890123456.7",
        "１２３４５６７８９０１２３４５６７８",
        "¹²³⁴⁵⁶⁷⁸⁹¹²³⁴⁵⁶⁷⁸⁹",
    ],
)
def test_malformed_dev_guild_id(guild: str) -> None:
    problems = bad(DEV_GUILD_ID=guild)
    assert list(problems) == ["DEV_GUILD_ID"]
    assert "server id" in problems["DEV_GUILD_ID"]


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_malformed_boolean(value: str) -> None:
    problems = bad(SYNC_COMMANDS=value)
    assert list(problems) == ["SYNC_COMMANDS"]
    assert "true or false" in problems["SYNC_COMMANDS"]


@pytest.mark.parametrize("name", ["a", "A" * 21, "Max Milyin", "Jörg", "x_y"])
def test_malformed_ra_username(name: str) -> None:
    assert list(bad(RA_USERNAME=name)) == ["RA_USERNAME"]


# -- the .env file -------------------------------------------------------------------------------


def write_env(tmp_path: Path, text: str) -> str:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_env_file_is_read(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        f'# comment\nDISCORD_TOKEN={TOKEN}\nRA_API_KEY="{KEY}"\nLOG_LEVEL=warning\n'
        "RA_SITE_BASE_URL=https://ra.example.test/\n",
    )
    s = Settings.from_env({}, env_file=env_file)
    assert s.discord_token == TOKEN
    assert s.ra_api_key == KEY
    assert s.log_level == "WARNING"
    assert s.ra_site_base_url == "https://ra.example.test"


def test_environment_overrides_env_file(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, f"DISCORD_TOKEN={TOKEN}\nRA_API_KEY=short\nLOG_LEVEL=DEBUG\n")
    s = Settings.from_env({"RA_API_KEY": KEY, "LOG_LEVEL": "ERROR"}, env_file=env_file)
    assert s.ra_api_key == KEY
    assert s.log_level == "ERROR"
    assert s.discord_token == TOKEN


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    s = Settings.from_env(REQUIRED, env_file=str(tmp_path / "nope.env"))
    assert s.ra_api_key == KEY


def test_env_file_ignored_when_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env(tmp_path, f"DISCORD_TOKEN={TOKEN}\nRA_API_KEY={KEY}\n")
    monkeypatch.chdir(tmp_path)
    assert set(problems_of({}, None)) == {"DISCORD_TOKEN", "RA_API_KEY"}


def test_default_reads_dot_env_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, f"DISCORD_TOKEN={TOKEN}\nRA_API_KEY={KEY}\n")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).ra_api_key == KEY


def test_bad_value_in_env_file_is_reported(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, f"DISCORD_TOKEN={TOKEN}\nRA_API_KEY={KEY}\nLOG_LEVEL=LOUD\n")
    assert list(problems_of({}, env_file)) == ["LOG_LEVEL"]


# -- secrets stay out of sight -------------------------------------------------------------------


def test_repr_and_str_never_show_secrets() -> None:
    s = load(RA_USERNAME="MaxMilyin")
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert TOKEN not in text
        assert KEY not in text
        assert "MaxMilyin" in text  # the rest is still there to debug with


def test_config_errors_never_show_secrets() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(
            {"DISCORD_TOKEN": TOKEN, "RA_API_KEY": KEY + "x", "LOG_LEVEL": "LOUD"}, env_file=None
        )
    for text in (str(info.value), info.value.one_line(), repr(info.value)):
        assert TOKEN not in text and KEY not in text


# -- growing past one process ----------------------------------------------------------------------


def test_without_shard_settings_one_process_runs_everything() -> None:
    settings = load()
    assert (settings.shard_count, settings.shard_ids, settings.redis_url) == (None, None, None)
    assert settings.shard_share == 1.0
    assert settings.runs_shard_zero


def test_shard_settings_are_read() -> None:
    settings = load(SHARD_COUNT="4", SHARD_IDS=" 1, 3 ", REDIS_URL="redis://cache:6379/2")
    assert settings.shard_count == 4
    assert settings.shard_ids == (1, 3)
    assert settings.shard_share == 0.5
    assert not settings.runs_shard_zero
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.redis_key_prefix == "rabot"
    assert load(SHARD_COUNT="2", SHARD_IDS="0 1").shard_ids == (0, 1)


def test_shard_count_alone_runs_every_shard_here() -> None:
    settings = load(SHARD_COUNT="3")
    assert (settings.shard_count, settings.shard_ids, settings.shard_share) == (3, None, 1.0)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT: set SHARD_COUNT to the total number"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS must list shard ids from 0 to 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "-1"}, "SHARD_IDS must list shard ids from 0 to 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "SHARD_IDS must list shard ids from 0 to 1"),
        ({"SHARD_COUNT": "3", "SHARD_IDS": "1,1"}, "SHARD_IDS names shard 1 twice"),
    ],
)
def test_bad_shard_ids_are_one_clear_line(env: dict[str, str], expected: str) -> None:
    problems = bad(**env)
    assert list(problems) == ["SHARD_IDS"]
    assert problems["SHARD_IDS"].startswith(expected)


@pytest.mark.parametrize("count", ["0", "two", "1.5"])
def test_bad_shard_count(count: str) -> None:
    assert list(bad(SHARD_COUNT=count, SHARD_IDS="0")) == ["SHARD_COUNT"]


@pytest.mark.parametrize("url", ["localhost:6379", "http://cache", "redis:/x"])
def test_bad_redis_url(url: str) -> None:
    problems = bad(REDIS_URL=url)
    assert problems == {"REDIS_URL": problems["REDIS_URL"]}
    assert "REDIS_URL must be a redis://host:port/db URL" in problems["REDIS_URL"]


def test_bad_redis_key_prefix() -> None:
    assert list(bad(REDIS_KEY_PREFIX="a b")) == ["REDIS_KEY_PREFIX"]


def test_redis_url_never_shown() -> None:
    settings = load(REDIS_URL="redis://:hunter2@cache:6379/0")
    assert "hunter2" not in repr(settings)


def test_a_redis_password_is_a_secret() -> None:
    assert "hunter2" in load(REDIS_URL="redis://:hunter2@cache:6379/0").secrets
    assert len(load(REDIS_URL="redis://cache:6379/0").secrets) == 2
