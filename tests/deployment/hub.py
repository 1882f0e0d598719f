"""The processes of a recipe run as a hub: started, probed, given a sync to run through
its workers, and stopped as service managers stop them."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bridgehub.vault import EncryptionKey
from tests.conftest import ADMIN_KEY
from tests.deployment.recipes import Process
from tests.faults.served_hub import connected_account, sync_run, wait_for
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.processes import BRIDGES_ON_LOOPBACK, STOP_BUDGET

CLEAN_STOPS = {0, -signal.SIGTERM}
"""How a process may end after SIGTERM, as systemd counts a clean stop: exit code 0, or the
SIGTERM itself once it has shut down (a lone uvicorn process raises it again after its
shutdown; the supervisor of `serve --processes` exits 0)."""

METRICS_TOKEN = "metrics-token-of-the-tests"


@contextmanager
def running(processes: list[Process], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The processes started, each printing to a log in `logs`; any still running at the end
    is stopped, by SIGKILL if it does not drain in time."""
    with ExitStack() as stack:
        started = []
        for number, process in enumerate(processes):
            log = stack.enter_context(log_path(logs, number, process).open("wb"))
            started.append(
                subprocess.Popen(
                    process.argv,
                    env=process.environment,
                    cwd=process.directory,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            yield started
        finally:
            running_still = [child for child in started if child.poll() is None]
            for child, code in zip(running_still, stopped(running_still), strict=True):
                if code is None:
                    child.kill()
                    child.wait()


def log_path(logs: Path, number: int, process: Process) -> Path:
    """Where `running` puts what the `number`-th of its processes prints."""
    return logs / f"{number}-{process.argv[1]}.log"


def ran_jobs(log: Path) -> bool:
    """Whether a hub process's log shows it started a job (procrastinate says so of each)."""
    return "Starting job" in log.read_text()


def stopped(processes: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGTERM to each, as systemd and container runtimes stop them, all draining at once:
    their exit codes, None for one still running after the stop budget."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_BUDGET
    return [_exit_code_by(process, deadline) for process in processes]


def _exit_code_by(process: subprocess.Popen[bytes], deadline: float) -> int | None:
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return None


def wait_until_ready(hub_url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    """Until `/health/ready` answers 200, while every process keeps running."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        exited = [p.args for p in processes if p.poll() is not None]
        assert not exited, f"exited before the hub was ready: {exited}"
        try:
            if httpx.get(f"{hub_url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the hub was not ready within 60 s")


def sync_contacts(hub_url: str, helpdesk: Helpdesk) -> dict[str, Any]:
    """A new account connected to the helpdesk asks for a contact sync: the run, once it
    has ended (only a worker can end it)."""
    with connected_account(hub_url, helpdesk) as (account, activation_id):
        started = account.post(f"/v1/activations/{activation_id}/sync", json={"what": "contacts"})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]

        def ended() -> bool:
            return sync_run(account, run_id)["status"] in {"succeeded", "failed"}

        wait_for(ended, "the sync to end", seconds=30)
        return sync_run(account, run_id)


def hub_settings(database_url: str, port: int) -> dict[str, str]:
    """Values for the settings of the example environment file, for a hub on `port` of this
    machine that syncs from the helpdesk bridge."""
    return {
        "DATABASE_URL": database_url,
        "BRIDGEHUB_ENCRYPTION_KEYS": EncryptionKey.generate().serialize(),
        "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
        "BRIDGEHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BRIDGEHUB_PORT": str(port),
        "BRIDGEHUB_METRICS_TOKEN": METRICS_TOKEN,
        **BRIDGES_ON_LOOPBACK,
    }


@contextmanager
def synced(
    processes: list[Process],
    hub_url: str,
    helpdesk: Helpdesk,
    logs: Path,
    api_processes: int = 1,
) -> Iterator[None]:
    """`processes` running (the first is `serve`, with `api_processes` processes), the hub
    ready and a contact sync ended complete, for the block; after it, every process stops
    cleanly on SIGTERM."""
    with running(processes, logs) as started:
        wait_until_ready(hub_url, started)
        serve_log = log_path(logs, 0, processes[0])
        wait_for(lambda: serving_processes(serve_log) == api_processes, "every API process", 60)
        run = sync_contacts(hub_url, helpdesk)
        assert run["status"] == "succeeded", run
        assert run["created"] == CONTACTS
        yield
        assert_stop_cleanly(started)


def serving_processes(log: Path) -> int:
    """How many API processes a `serve` log shows started (uvicorn says so of each)."""
    return log.read_text().count("Application startup complete")


def assert_stop_cleanly(processes: list[subprocess.Popen[bytes]]) -> None:
    codes = stopped(processes)
    assert set(codes) <= CLEAN_STOPS, f"exit codes after SIGTERM: {codes}"
