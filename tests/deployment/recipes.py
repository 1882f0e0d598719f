"""The deployment recipes (the systemd units in deploy/systemd and the Dockerfile) read as
systemd and a container runtime read them, and turned into processes this machine can
start: the same command and environment, with the recipe's paths (install folder, data
folder, settings file) and port replaced by the test's. `tests/deployment/hub.py` runs
them."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
API_UNIT = SYSTEMD / "bridgehub-api.service"
WORKER_UNIT = SYSTEMD / "bridgehub-worker@.service"
ENVIRONMENT_EXAMPLE = SYSTEMD / "bridgehub.env.example"
DOCKERFILE = ROOT / "Dockerfile"

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
