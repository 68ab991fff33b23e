"""`python -m bot` as the operator runs it: bad configuration stops it with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"
KEY = "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya"
SETTINGS_PREFIXES = (
    "DISCORD_",
    "RA_",
    "GUILD_",
    "MAX_GAMES",
    "PROGRESS_CACHE",
    "GAME_CACHE",
    "PROFILE_CACHE",
)
SETTINGS = {"DATABASE_URL", "LOG_LEVEL", "DEV_GUILD_ID", "SYNC_COMMANDS"}


def run_bot(
    tmp_path: Path, *args: str, dotenv: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS and not k.startswith(SETTINGS_PREFIXES) and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(settings)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    else:
        assert not (tmp_path / ".env").exists()
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_missing_settings_stop_with_one_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    line = result.stderr.strip()
    assert "DISCORD_TOKEN" in line and "RA_API_KEY" in line
    assert ".env" in line  # says what to do


def test_one_missing_setting_is_the_only_one_named(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "RA_API_KEY is not set" in result.stderr
    assert "DISCORD_TOKEN" not in result.stderr


def test_malformed_key_stops_with_one_line_and_no_secret(tmp_path: Path) -> None:
    bad_key = KEY[:-3] + "!!!"
    result = run_bot(tmp_path, DISCORD_TOKEN=TOKEN, RA_API_KEY=bad_key)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "RA_API_KEY does not look like" in result.stderr
    assert "DISCORD_TOKEN" not in result.stderr
    assert bad_key not in result.stderr and TOKEN not in result.stderr


def test_malformed_optional_settings_are_named(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path, DISCORD_TOKEN=TOKEN, RA_API_KEY=KEY, LOG_LEVEL="LOUD", DEV_GUILD_ID="x"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "LOG_LEVEL" in result.stderr and "DEV_GUILD_ID" in result.stderr


def test_check_with_missing_settings_prints_one_line_per_problem(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", LOG_LEVEL="LOUD")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = lines(result.stderr)
    assert len(problems) == 3
    assert problems[0].startswith("DISCORD_TOKEN is not set")
    assert problems[1].startswith("RA_API_KEY is not set")
    assert problems[2].startswith("LOG_LEVEL")


def test_dot_env_in_working_directory_is_read(tmp_path: Path) -> None:
    result = run_bot(tmp_path, dotenv=f"RA_API_KEY={KEY}\nLOG_LEVEL=LOUD\n")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "RA_API_KEY" not in result.stderr  # taken from .env
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "LOG_LEVEL" in result.stderr


@pytest.mark.parametrize("args", [["nonsense"], ["check", "extra"], ["--help"], ["run"]])
def test_unknown_arguments_print_usage(tmp_path: Path, args: list[str]) -> None:
    result = run_bot(tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("usage: python -m bot")
    assert len(result.stderr.splitlines()) == 1


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("base", "said"),
    [
        ("http://ra.invalid/API", "RA's host ra.invalid could not be resolved"),
        (f"http://127.0.0.1:{_closed_port()}/API", "RA's host 127.0.0.1 could not be reached"),
    ],
)
def test_check_without_network_says_what_happened(tmp_path: Path, base: str, said: str) -> None:
    result = run_bot(
        tmp_path,
        "check",
        DISCORD_TOKEN=TOKEN,
        RA_API_KEY=KEY,
        RA_API_BASE_URL=base,
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/api/v10",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = lines(result.stderr)
    assert len(problems) == 2, problems  # one line per problem, no log lines besides
    assert problems[0].startswith(f"RA_API_BASE_URL: {said}")
    assert "no turn" not in result.stderr
    assert problems[1] == "DISCORD_API_BASE_URL: Discord's host 127.0.0.1 could not be reached."
    assert KEY not in result.stderr + result.stdout


# -- migrate ---------------------------------------------------------------------------------------


def schema_of(path: Path) -> str | None:
    import sqlite3

    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            return None
        return str(db.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_migrate_brings_a_new_database_to_the_schema_then_has_nothing_to_do(
    tmp_path: Path,
) -> None:
    from bot.store.upgrade import head_revision

    database = tmp_path / "data" / "bot.sqlite3"
    settings = {"DISCORD_TOKEN": TOKEN, "RA_API_KEY": KEY, "DATABASE_URL": f"sqlite:///{database}"}
    first = run_bot(tmp_path, "migrate", **settings)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"The database was migrated from empty to the bot's schema ({head_revision()})."
    )
    assert schema_of(database) == head_revision()
    again = run_bot(tmp_path, "migrate", **settings)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        f"The database is at the bot's schema ({head_revision()}): nothing to migrate."
    )
    assert "Running upgrade" not in again.stderr


def test_migrate_with_an_unusable_database_says_so_in_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = run_bot(
        tmp_path,
        "migrate",
        DISCORD_TOKEN=TOKEN,
        RA_API_KEY=KEY,
        DATABASE_URL=f"sqlite:///{blocked}/bot.sqlite3",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert lines(result.stderr) == [
        f"DATABASE_URL: cannot create the directory {blocked} (File exists)"
    ]


def test_the_bot_migrates_in_a_child_process_and_never_loads_alembic(tmp_path: Path) -> None:
    """`python -m bot` on a database that is behind runs `python -m bot migrate` in a child
    and waits for it: the bot's own process has the schema and no Alembic (about 12 MB)."""
    from bot.store.upgrade import head_revision

    database = tmp_path / "bot.sqlite3"
    script = (
        "import asyncio, sys\n"
        "from bot.__main__ import migrate_if_behind\n"
        "from bot.config import Settings\n"
        "status = asyncio.run(migrate_if_behind(Settings.from_env(env_file=None)))\n"
        "print(status, 'alembic' in sys.modules)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DISCORD_TOKEN": TOKEN,
        "RA_API_KEY": KEY,
        "DATABASE_URL": f"sqlite:///{database}",
    }
    said = []
    for _ in range(2):  # behind (migrated by the child), then current (no child at all)
        result = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert result.stdout.splitlines()[-1] == "0 False", result.stderr
        assert schema_of(database) == head_revision()
        said.append(result.stdout.splitlines()[:-1])
    # The child's one line reaches the operator; the second start has nothing to migrate.
    migrated = f"The database was migrated from empty to the bot's schema ({head_revision()})."
    assert said == [[migrated], []]
