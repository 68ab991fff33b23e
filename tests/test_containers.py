"""The Dockerfile and compose.yaml (no docker here): they run what the README and the Procfile
say, as a non-root user, and compose's two bot processes are a valid split of the shards over
one PostgreSQL and one Redis."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[1]
REQUIRED = {
    "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789",
    "RA_API_KEY": "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya",
}


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def exec_form(args: str) -> list[str]:
    value = yaml.safe_load(args)  # a JSON array is YAML too
    assert isinstance(value, list), f"not the exec form: {args}"
    return [str(v) for v in value]


def test_the_image_is_slim_python_run_by_a_non_root_user() -> None:
    steps = dockerfile()
    (base,) = [args for ins, args in steps if ins == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base), base
    users = [args for ins, args in steps if ins == "USER"]
    assert users and users[-1] not in ("root", "0")
    # The user is made in the image and the entry point comes after USER.
    assert any(ins == "RUN" and "useradd" in args and users[-1] in args for ins, args in steps)
    order = [ins for ins, _ in steps]
    assert order.index("USER") < order.index("ENTRYPOINT")


def test_the_image_runs_the_two_commands_of_the_readme_and_the_procfile() -> None:
    steps = dockerfile()
    (entry,) = [exec_form(args) for ins, args in steps if ins == "ENTRYPOINT"]
    (cmd,) = [exec_form(args) for ins, args in steps if ins == "CMD"]
    procfile = dict(line.split(": ", 1) for line in (REPO / "Procfile").read_text().splitlines())
    assert procfile["worker"] == shlex.join(entry + cmd)  # `docker run IMAGE`: python -m bot
    # Heroku-style platforms migrate once per release, before the workers start.
    assert procfile["release"] == shlex.join([*entry, "migrate"])
    readme = (REPO / "README.md").read_text()
    assert "python -m bot" in readme and "python -m bot check" in readme
    # `docker run IMAGE check` is `python -m bot check`, as the README says.
    assert shlex.join([*entry, "check"]) == "python -m bot check"
    assert "docker run --env-file .env ra-bot check` runs `python -m bot check`" in readme
    assert "docker run --env-file .env ra-bot` runs\n  `python -m bot`" in readme
    # Installed as the README installs it: the package from this checkout.
    installs = [args for ins, args in steps if ins == "RUN" and "pip install" in args]
    assert any(re.search(r"pip install \.(\s|$)", a) for a in installs), installs


def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_runs_two_processes_with_a_shard_each_on_postgres_and_redis() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "bot-0", "bot-1"} <= set(services)
    shards: list[int] = []
    for name in ("bot-0", "bot-1"):
        bot = services[name]
        assert bot["build"] == "."
        for needed in ("postgres", "redis"):
            assert bot["depends_on"][needed]["condition"] == "service_healthy"
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = {k: str(v) for k, v in bot["environment"].items()}
        settings = Settings.from_env({**REQUIRED, **env}, env_file=None)  # valid settings
        assert settings.database_url.startswith("postgresql://")
        assert "@postgres:5432/" in settings.database_url
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.shard_count == 2
        assert settings.shard_ids is not None
        shards.extend(settings.shard_ids)
        if settings.runs_shard_zero:
            assert name == "bot-0"
    assert sorted(shards) == [0, 1]  # every shard run by exactly one process
    pg = services["postgres"]
    url = services["bot-0"]["environment"]["DATABASE_URL"]
    user_password = f"{pg['environment']['POSTGRES_USER']}:{pg['environment']['POSTGRES_PASSWORD']}"
    assert url == f"postgresql://{user_password}@postgres:5432/{pg['environment']['POSTGRES_DB']}"
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    # One-shot: the bots' database, migrated once before they start.
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["environment"]["DATABASE_URL"] == url
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_compose_setting_is_documented() -> None:
    example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    for name in ("bot-0", "bot-1"):
        for setting in compose()["services"][name]["environment"]:
            assert re.search(rf"^{setting}=", example, re.M), setting
            assert f"| `{setting}` |" in readme, setting
