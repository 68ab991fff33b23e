"""Redis fixtures: the Redis CI starts (TEST_REDIS_URL, default redis://127.0.0.1:6379/0), and a
private `redis-server` on a free port for tests that stop it and start it again.

Policy, as for PostgreSQL (tests/fakes/databases.py): with CI=true a missing Redis is a failure;
otherwise the tests that need it are skipped with the reason. Every test gets a key prefix of its
own, so tests (and parallel runs) sharing one Redis never see each other's keys.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true needs Redis: {reason}", pytrace=False)
    pytest.skip(f"Redis unavailable: {reason}; set TEST_REDIS_URL (CI=true fails)")


async def _ping(url: str) -> str | None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        await client.ping()
    except Exception as exc:
        return f"nothing answers at {url} ({type(exc).__name__})"
    finally:
        await client.aclose()
    return None


@pytest_asyncio.fixture
async def shared_redis() -> str:
    """The URL of the Redis CI starts (skipped or failed per the policy)."""
    problem = await _ping(redis_url())
    if problem is not None:
        _unavailable(problem)
    return redis_url()


@pytest.fixture
def redis_prefix() -> str:
    """Keys of this test only."""
    return f"test-{secrets.token_hex(6)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server of this test's own, on a free port: stop() and start() at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _unavailable("no redis-server on PATH for a private server")
        assert binary is not None
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 (returns at once)
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            if await _ping(self.url) is None:
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest_asyncio.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        server.stop()
