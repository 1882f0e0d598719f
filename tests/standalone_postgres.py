"""A standalone PostgreSQL server, as operators run one: Debian's `postgresql` package
(`make test` installs it when missing), a cluster of the test's own on 127.0.0.1, started
and stopped with its own `pg_ctl`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.processes import free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
# PostgreSQL refuses to run as root; Debian's package makes this user.
SERVER_USER = "postgres"


@dataclass
class StandaloneServer:
    data: Path
    port: int
    pg_ctl: Path

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/bridgehub"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data}"
        self._pg_ctl("start", "-w", "-o", options, "-l", str(self.data / "server.log"))

    def stop(self) -> None:
        """Stop it the hard way: every connection cut, no checkpoint (as in a crash)."""
        self._pg_ctl("stop", "-w", "-m", "immediate")

    def _pg_ctl(self, *arguments: str) -> None:
        command = [str(self.pg_ctl), "-D", str(self.data / "cluster"), *arguments]
        subprocess.run(_as_server_user(command), check=True, capture_output=True)


@pytest.fixture
def standalone_postgres() -> Iterator[StandaloneServer]:
    if not BINARIES or shutil.which("runuser") is None:
        reason = "Debian's postgresql is not installed (`make test` installs it)"
        if os.environ.get("BRIDGEHUB_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    # Not under pytest's own temporary folders: those only their owner may enter.
    data = Path(tempfile.mkdtemp(prefix="bridgehub-postgres-"))
    shutil.chown(data, SERVER_USER)
    pg_ctl = BINARIES[-1]
    initdb = pg_ctl.with_name("initdb")
    subprocess.run(
        _as_server_user(
            [str(initdb), "-D", str(data / "cluster"), "--auth=trust", "--username", SERVER_USER]
        ),
        check=True,
        capture_output=True,
    )
    server = StandaloneServer(data, free_port(), pg_ctl)
    server.start()
    with psycopg.connect(server.url.replace("/bridgehub", "/postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE bridgehub")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data)


def _as_server_user(command: list[str]) -> list[str]:
    return command if os.geteuid() != 0 else ["runuser", "-u", SERVER_USER, "--", *command]
