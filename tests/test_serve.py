"""`bridgehub serve` as people run it: its own embedded PostgreSQL, stopped and started again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import seed_integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_hub(
    home: Path, port: int, settings: Mapping[str, str] | None = None, log: IO[str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`bridgehub serve` on `port` with its data in `home`, configured by `settings` (the
    environment's own BRIDGEHUB_ variables are left out); what it prints goes to `log`, or
    to a pipe read when it has stopped (a test that makes it print much needs a `log`)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BRIDGEHUB_", "DATABASE_URL"))
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bridgehub", "serve", "--port", str(port)],
        env={**env, **(settings or {}), "BRIDGEHUB_HOME": str(home)},
        stderr=log or subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_until_healthy(port, process)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def wait_until_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the hub exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the hub did not become healthy within 60 s")


def startup_output(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    return stderr


def postgres_running(home: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", str(home / "pgdata")], capture_output=True, check=False)
    return found.returncode == 0


def test_the_catalog_and_admin_key_survive_a_restart(tmp_path: Path) -> None:
    port = free_port()
    with running_hub(tmp_path, port) as first:
        output = startup_output(first)
    match = re.search(r"bh_admin_[A-Za-z0-9_-]+", output)
    assert match, output
    key = match.group(0)
    assert not postgres_running(tmp_path), "the embedded PostgreSQL must stop with the hub"

    headers = {"Authorization": f"Bearer {key}"}
    with running_hub(tmp_path, port):
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/integrations", json=seed_integration(), headers=headers
        )
        assert created.status_code == 201

    with running_hub(tmp_path, port) as third:
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/integrations", headers=headers)
        assert listed.json() == {"items": [seed_integration()]}
        later_output = startup_output(third)
    # The key is shown once, when generated, and never again.
    assert "bh_admin_" not in later_output
