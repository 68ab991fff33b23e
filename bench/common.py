"""Shared pieces of the benchmarks: processes, fakes, RSS, percentiles, tables.

Our bot runs exactly as the end-to-end tests run it (``python -m bot`` in a subprocess with the
environment of ``tests.e2e.conftest.bot_environment``), except that the benchmarks put back the
production defaults the test environment lowers (see ``PRODUCTION``). The bare bot is
``python -m bench.bare_bot``. Everything talks to fakes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.e2e.conftest import REPO, bot_environment
from tests.e2e.fake_discord import FAKE_DISCORD_TOKEN, FakeDiscord
from tests.fakes.fake_ra import FakeRA

# bot_environment() is made for tests (RA_REQUESTS_PER_SECOND=50, 1 s timeouts, DEBUG logs):
# the benchmarks measure the bot as operators run it, with the defaults of bot/config.py.
PRODUCTION = {
    "LOG_LEVEL": "INFO",
    "RA_REQUESTS_PER_SECOND": "3",
    "RA_MAX_IN_FLIGHT": "3",
    "RA_TIMEOUT_SECONDS": "8",
    "RA_RETRY_BUDGET_SECONDS": "14",
    "RA_CIRCUIT_OPEN_SECONDS": "3",
}
READY_LINE = re.compile(r"ready .*in (\d+) guilds")
# Where `bot/` is imported from: the working tree, or BENCH_BOT_SRC (e.g. a `git archive HEAD bot`
# export, to measure a consistent commit while the working tree is being edited).
BOT_SRC = Path(os.environ.get("BENCH_BOT_SRC") or REPO).resolve()
if BOT_SRC != REPO.resolve() and str(BOT_SRC) not in sys.path:
    sys.path.insert(0, str(BOT_SRC))  # for the in-process benchmarks, before `import bot`


class BotProc:
    """A bot subprocess whose stdout and stderr go to a log file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM... of /proc/<pid>/status, in KiB."""
        return proc_status_kib(self.pid)

    def rss_kib(self) -> int:
        return self.status()["VmRSS"]

    async def wait_log(self, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        """Wait until the log has a line matching ``pattern`` (and the process is alive)."""
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.log)
            if match:
                return match
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no {pattern.pattern!r} in {timeout}s:\n"
                                   f"{self.log[-3000:]}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 15) -> int | None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode


class Bench:
    """``async with Bench() as b``: a scratch directory (the bots' cwd, so no .env is read) and
    the processes started through it, stopped on exit; the directory is removed after a clean
    run and kept (its path printed) when something failed."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ra-bench-"))
        self.procs: list[BotProc] = []

    async def __aenter__(self) -> Bench:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in self.procs:
            await proc.stop()
        if exc_type is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"(bot logs kept in {self.dir})", file=sys.stderr)

    async def spawn(self, name: str, args: Sequence[str], env: dict[str, str]) -> BotProc:
        log_path = self.dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=self.dir, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            )
        proc = BotProc(name, process, log_path)
        self.procs.append(proc)
        return proc

    async def ours(self, fake_discord: FakeDiscord, fake_ra: FakeRA, name: str = "ours",
                   src: Path | None = None, **settings: str) -> BotProc:
        """``python -m bot`` with the e2e environment, production defaults, then ``settings``;
        `bot/` from `src` (default BOT_SRC)."""
        env = bot_environment(fake_discord, fake_ra, **{**PRODUCTION, **settings})
        env["PYTHONPATH"] = str(src or BOT_SRC)
        return await self.spawn(name, ["-m", "bot"], env)

    async def bare(self, fake_discord: FakeDiscord, name: str = "bare") -> BotProc:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "RA_"))}
        env.update(
            DISCORD_TOKEN=FAKE_DISCORD_TOKEN,
            DISCORD_API_BASE_URL=fake_discord.base_url,
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
        )
        return await self.spawn(name, ["-m", "bench.bare_bot"], env)


async def wait_connected(fake: FakeDiscord, proc: BotProc, timeout: float = 60) -> None:
    """The fake has sent READY and every GUILD_CREATE to ``proc`` (which must stay alive)."""
    ready = asyncio.ensure_future(fake.wait_ready(timeout=timeout))
    exited = asyncio.ensure_future(proc.process.wait())
    await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if not ready.done():
        ready.cancel()
        raise RuntimeError(f"{proc.name} exited before it was ready:\n{proc.log}")
    await ready


async def wait_on_ready(proc: BotProc, timeout: float = 60) -> int:
    """Wait for the bot's on_ready log line; returns the guild count it logged."""
    return int((await proc.wait_log(READY_LINE, timeout)).group(1))


async def wait_ra_quiet(fake_ra: FakeRA, quiet: float = 1.5, cap: float = 30) -> float:
    """Wait until RA has had no request in flight and no new one for ``quiet`` seconds."""
    start = time.monotonic()
    seen, since = len(fake_ra.requests), time.monotonic()
    while time.monotonic() - start < cap:
        await asyncio.sleep(0.1)
        if len(fake_ra.requests) != seen or fake_ra.in_flight:
            seen, since = len(fake_ra.requests), time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return time.monotonic() - start


# The bot as it was before the RA budget work (issue 9): the benches of that work run it side by
# side with the working tree. BENCH_BASELINE_REF picks another commit.
BASELINE_REF = os.environ.get("BENCH_BASELINE_REF") or "f54b757"


def export_bot(ref: str, into: Path) -> Path:
    """`bot/` as of git `ref`, unpacked under `into`; returns the directory to put on
    PYTHONPATH."""
    import io
    import subprocess
    import tarfile

    git = shutil.which("git")
    if git is None:
        raise RuntimeError("the baseline needs git on PATH")
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(  # noqa: S603 - our own git, a ref from the operator of the bench
        [git, "-C", str(REPO), "archive", ref, "bot"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def match_schema(database: Path, src: Path) -> None:
    """A database seeded by the working tree, taken back to the migrations `src` knows (an
    older `bot/` refuses a database migrated past its newest revision). Tables the older bot
    does not know are dropped; what both know (links, members, schedules) stays."""
    import sqlite3

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    older = Config()
    older.set_main_option("script_location", str(src / "bot" / "store" / "migrations"))
    target = ScriptDirectory.from_config(older).get_current_head()
    if target is None or not (src / "bot" / "store").exists():
        return
    with sqlite3.connect(database) as raw:
        (current,) = raw.execute("SELECT version_num FROM alembic_version").fetchone()
    if current == target:
        return
    from sqlalchemy import create_engine

    from bot.store.upgrade import MIGRATIONS

    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, target)
    engine.dispose()


def proc_status_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.startswith("Vm") and value.strip().endswith("kB"):
                out[key] = int(value.split()[0])
    return out


async def stable_rss(proc: BotProc, window: float = 1.0, tolerance_kib: int = 256,
                     cap: float = 20) -> int:
    """Poll VmRSS every 0.1 s until it moved by at most ``tolerance_kib`` over ``window`` s."""
    start = time.monotonic()
    samples: list[tuple[float, int]] = []
    while True:
        now = time.monotonic()
        samples.append((now, proc.rss_kib()))
        recent = [rss for at, rss in samples if now - at <= window]
        if now - samples[0][0] >= window and max(recent) - min(recent) <= tolerance_kib:
            return samples[-1][1]
        if now - start > cap:
            return samples[-1][1]
        await asyncio.sleep(0.1)


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table, first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def verdict(ok: bool, text: str) -> str:
    return f"verdict: {'PASS' if ok else 'MISS'} - {text}"


def title(text: str) -> None:
    print(f"\n== {text} ==", flush=True)
    if BOT_SRC != REPO.resolve():
        print(f"(bot/ imported from BENCH_BOT_SRC={BOT_SRC})", flush=True)


def options(**values: str) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def sentence(text: str) -> str:
    """An answer's text with Discord timestamps (``<t:1700000000:R>``) blanked, for counting."""
    return re.sub(r"<t:\d+:R>", "<t:…:R>", text)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"
