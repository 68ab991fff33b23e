"""A private PostgreSQL cluster a test can stop and start (the shared server must stay up).

Made with the machine's own PostgreSQL (`initdb`/`pg_ctl` under /usr/lib/postgresql/*/bin), in a
temporary directory, on a free port of 127.0.0.1, trust authentication. initdb refuses to run as
root, so as root the cluster runs as the `postgres` user (runuser). Skipped with the reason when
PostgreSQL's programs or that user are absent.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self, bin_dir: Path, root: Path, user: str | None) -> None:
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = _free_port()
        self._user = user

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        result = subprocess.run(  # noqa: S603 - the machine's PostgreSQL programs
            command, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c shared_buffers=16MB -c max_connections=30"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: a clean shutdown (sessions cut); `immediate`: as if the server crashed."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


class ClusterUnavailable(Exception):
    """Why no private cluster can be made here (a reason to skip)."""


@contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A started private cluster, stopped and removed at the end; ClusterUnavailable if none
    can be made on this machine."""
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        raise ClusterUnavailable(
            "no PostgreSQL programs under /usr/lib/postgresql/*/bin (initdb, pg_ctl)"
        )
    user: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailable(
                "initdb refuses root and there is no postgres user to run it as"
            ) from None
        if shutil.which("runuser") is None:
            raise ClusterUnavailable("initdb refuses root and runuser is missing")
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="ra-bot-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    cluster = PgCluster(bin_dir, root, user)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            try:
                cluster.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A started private cluster for one test; skipped with the reason where none can be made."""
    try:
        with private_cluster() as cluster:
            yield cluster
    except ClusterUnavailable as reason:
        pytest.skip(str(reason))
