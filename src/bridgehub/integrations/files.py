"""Configuration files on disk: finding, reading and checking them without a hub."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridgehub.integrations.configuration import validate_action, validate_integration
from bridgehub.kit.errors import InvalidInput, Problem

Kind = Literal["integration", "action"]


@dataclass
class ConfigurationFile:
    path: Path
    document: Any = None
    kind: Kind | None = None
    name: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each given file, and every `*.json` file under each given folder, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        else:
            yield path


def kind_of(document: Any) -> Kind:
    # An action names the integration providing it; an integration never has `provider`.
    return "action" if isinstance(document, dict) and "provider" in document else "integration"


def read_file(path: Path) -> ConfigurationFile:
    file = ConfigurationFile(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        file.problems.append(Problem("", "no such file"))
        return file
    except (OSError, UnicodeDecodeError) as error:
        file.problems.append(Problem("", f"cannot be read: {error}"))
        return file
    try:
        file.document = json.loads(text)
    except json.JSONDecodeError as error:
        file.problems.append(
            Problem(
                "", f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            )
        )
        return file
    file.kind = kind_of(file.document)
    return file


def check_files(paths: Iterable[Path]) -> list[ConfigurationFile]:
    """Read and validate configuration files offline.

    Actions are checked against the integrations among the same files; a provider not
    among them is noted, not refused, since it may already be registered in the hub.
    """
    files = [read_file(path) for path in find_files(paths)]
    integrations = {f.name for f in _check_kind(files, "integration", validate_integration)}
    for file in _check_kind(files, "action", validate_action):
        provider = file.document["provider"]
        if provider not in integrations:
            file.notes.append(
                f'provider "{provider}" is not among these files; the hub checks it on registration'
            )
    return files


def _check_kind(
    files: list[ConfigurationFile], kind: Kind, validate: Any
) -> Iterator[ConfigurationFile]:
    for file in files:
        if file.kind != kind:
            continue
        try:
            file.name = validate(file.document).name
        except InvalidInput as error:
            file.problems.extend(error.problems)
            continue
        yield file
