"""Hub processes as operators start them: `bridgehub serve` and `bridgehub worker`, each in a
process of its own, configured by its environment alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

BRIDGES_ON_LOOPBACK = {
    # The bridges of the tests run on 127.0.0.1 over plain HTTP.
    "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",
    "BRIDGEHUB_ALLOW_HTTP": "true",
}
STOP_BUDGET = 30.0
"""Seconds a hub process has to exit once sent SIGTERM."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hub_environment(home: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without its own hub settings, plus `settings` and the data folder."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BRIDGEHUB_", "DATABASE_URL"))
    }
    return {**inherited, **(settings or {}), "BRIDGEHUB_HOME": str(home)}


def bridgehub(
    arguments: Sequence[str],
    home: Path,
    settings: Mapping[str, str] | None = None,
    log: IO[str] | int | None = None,
) -> subprocess.Popen[str]:
    """`bridgehub <arguments>` in a process of its own; what it prints goes to `log`, or to a
    pipe to read once it has stopped (a process that prints much needs a `log`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bridgehub", *arguments],
        env=hub_environment(home, settings),
        stderr=subprocess.PIPE if log is None else log,
        stdout=subprocess.DEVNULL,
        text=True,
    )


@contextmanager
def running_hub(
    home: Path,
    port: int,
    settings: Mapping[str, str] | None = None,
    log: IO[str] | None = None,
    arguments: Sequence[str] = (),
) -> Iterator[subprocess.Popen[str]]:
    """`bridgehub serve` on `port` with its data in `home`, until the block ends."""
    process = bridgehub(["serve", "--port", str(port), *arguments], home, settings, log)
    try:
        wait_until_healthy(port, process)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_BUDGET)


@contextmanager
def running_worker(
    home: Path,
    settings: Mapping[str, str],
    log: IO[str] | None = None,
    arguments: Sequence[str] = (),
) -> Iterator[subprocess.Popen[str]]:
    """`bridgehub worker` until the block ends (or the test kills it)."""
    process = bridgehub(
        ["worker", *arguments], home, settings, subprocess.DEVNULL if log is None else log
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=STOP_BUDGET)


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


def seconds_to_stop(process: subprocess.Popen[str]) -> float:
    """SIGTERM `process` and measure how long it takes to exit (it must, within the budget);
    it must exit cleanly."""
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=STOP_BUDGET)
    assert code == 0, f"exited with {code}"
    return time.monotonic() - asked
