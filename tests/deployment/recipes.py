"""The deployment recipes (the systemd units in deploy/systemd and the Dockerfile) read as
systemd and a container runtime read them, and turned into processes this machine can
start: the same command and environment, with the recipe's paths (install folder, data
folder, settings file) and port replaced by the test's."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bridgehub.vault import EncryptionKey
from tests.conftest import ADMIN_KEY, ROOT
from tests.faults.served_hub import connected_account, sync_run, wait_for
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.processes import BRIDGES_ON_LOOPBACK, STOP_BUDGET

SYSTEMD = ROOT / "deploy" / "systemd"
API_UNIT = SYSTEMD / "bridgehub-api.service"
WORKER_UNIT = SYSTEMD / "bridgehub-worker@.service"
ENVIRONMENT_EXAMPLE = SYSTEMD / "bridgehub.env.example"
DOCKERFILE = ROOT / "Dockerfile"

CLEAN_STOPS = {0, -signal.SIGTERM}
"""How a process may end after SIGTERM, as systemd counts a clean stop: exit code 0, or the
SIGTERM itself once it has shut down (a lone uvicorn process raises it again after its
shutdown; the supervisor of `serve --processes` exits 0)."""

METRICS_TOKEN = "metrics-token-of-the-tests"

Replacements = Mapping[str, str]
"""Text of a recipe (a path, an address) and what stands for it here."""


@dataclass(frozen=True)
class Process:
    """A recipe's process: what a service manager would execute, where, with what."""

    argv: list[str]
    environment: dict[str, str]
    directory: Path


def host_environment() -> dict[str, str]:
    """The little a service manager or a container gives every process of its own: where
    to find programs (and where to put temporary files, which the tests keep private)."""
    return {name: os.environ[name] for name in ("PATH", "TMPDIR") if name in os.environ}


def replaced(text: str, replacements: Replacements) -> str:
    for recipe_text, local_text in replacements.items():
        text = text.replace(recipe_text, local_text)
    return text


# systemd units and environment files


def service_section(unit: Path) -> dict[str, list[str]]:
    """The [Service] settings of a unit, each with every value it is given, in order."""
    section = ""
    settings: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


_NAMED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def named_settings(path: Path) -> list[str]:
    """The names an environment file sets, or shows commented out."""
    return [match[1] for line in path.read_text().splitlines() if (match := _NAMED.match(line))]


def write_settings(path: Path, values: Mapping[str, str]) -> None:
    """The example environment file with `values` given to settings it names (set or
    commented out): a test sets nothing the example does not show."""
    left = dict(values)

    def given(line: str) -> str:
        match = _NAMED.match(line)
        return f"{match[1]}={left.pop(match[1])}" if match and match[1] in left else line

    lines = [given(line) for line in ENVIRONMENT_EXAMPLE.read_text().splitlines()]
    assert not left, f"the example environment file names no {sorted(left)}"
    path.write_text("\n".join(lines) + "\n")


def read_environment_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines, as systemd's EnvironmentFile and `docker run --env-file` read
    them (comments and blank lines skipped, values unquoted)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    assignments = [line for line in lines if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in assignments)


def unit_process(unit: Path, replacements: Replacements, instance: str = "") -> Process:
    """What systemd starts for `unit` (`instance` fills a template's %i)."""
    service = {
        key: [replaced(value.replace("%i", instance), replacements) for value in values]
        for key, values in service_section(unit).items()
    }
    environment = host_environment()
    for assignments in service.get("Environment", []):
        environment.update(_assignments(shlex.split(assignments)))
    # systemd reads the files after Environment=, and what they set wins.
    for file in service.get("EnvironmentFile", []):
        environment.update(read_environment_file(Path(file)))
    (command,) = service["ExecStart"]
    (directory,) = service["WorkingDirectory"]
    return Process(shlex.split(command), environment, Path(directory))


def _assignments(words: list[str]) -> dict[str, str]:
    """`NAME=value` words (Environment=, ENV) as a mapping."""
    return dict(word.split("=", 1) for word in words)


# Dockerfile


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """The instructions of the image's last stage, as (INSTRUCTION, arguments)."""
    text = re.sub(r"\\\n", " ", _without_comments(dockerfile.read_text()))
    instructions = [line.strip().split(maxsplit=1) for line in text.splitlines() if line.strip()]
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return [(keyword.upper(), arguments) for keyword, arguments in instructions[last_from:]]


def base_images(dockerfile: Path) -> list[str]:
    return [
        line.split()[1] for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")
    ]


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def instruction(stage: list[tuple[str, str]], keyword: str) -> str:
    """The arguments of the stage's last `keyword` (the one that counts)."""
    found = [arguments for name, arguments in stage if name == keyword]
    assert found, f"the Dockerfile's image has no {keyword}"
    return found[-1]


def container_process(
    dockerfile: Path,
    replacements: Replacements,
    run_environment: Mapping[str, str],
    command: list[str] | None = None,
) -> Process:
    """What `docker run --env NAME=value... IMAGE [command]` starts in the image."""
    stage = final_stage(dockerfile)
    environment = host_environment()
    for keyword, arguments in stage:
        if keyword == "ENV":
            for name, value in _assignments(shlex.split(arguments)).items():
                environment[name] = replaced(_expanded(value, environment), replacements)
    environment.update(
        {name: replaced(value, replacements) for name, value in run_environment.items()}
    )
    entrypoint: list[str] = json.loads(instruction(stage, "ENTRYPOINT"))
    argv = entrypoint + (command or json.loads(instruction(stage, "CMD")))
    directory = Path(replaced(instruction(stage, "WORKDIR"), replacements))
    return Process([replaced(part, replacements) for part in argv], environment, directory)


def healthcheck_process(dockerfile: Path, replacements: Replacements, served: Process) -> Process:
    """The image's HEALTHCHECK command, run as the runtime does: in `served`'s container,
    with its environment."""
    _, _, command = instruction(final_stage(dockerfile), "HEALTHCHECK").partition("CMD ")
    argv: list[str] = json.loads(command)
    return Process(
        [replaced(part, replacements) for part in argv], served.environment, served.directory
    )


def _expanded(value: str, environment: Mapping[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced by their values so far, as the builder does."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: environment.get(match.group(1), ""), value)


# Running them


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
