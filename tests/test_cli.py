"""The `bridgehub` command: offline validation, schemas, and loading a catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from bridgehub.cli import app
from tests.conftest import CATALOG, NewDatabase, seed_action, seed_integration

runner = CliRunner()


def write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def test_validate_accepts_the_example_catalog() -> None:
    result = runner.invoke(app, ["validate", str(CATALOG)])
    assert result.exit_code == 0, result.output
    assert "integration zendesk" in result.output
    assert "action create_ticket" in result.output
    assert "All 2 files are valid." in result.output


def test_validate_speaks_of_one_file_in_the_singular() -> None:
    result = runner.invoke(app, ["validate", str(CATALOG / "zendesk.integration.json")])
    assert result.exit_code == 0, result.output
    assert "The file is valid." in result.output


def test_validate_prints_every_problem_with_its_path(tmp_path: Path) -> None:
    broken = seed_integration()
    broken["authentication_configuration"][1]["email"]["mandatory"] = "yes"
    broken["logo_url"] = "logo.png"
    result = runner.invoke(app, ["validate", str(write(tmp_path, "zendesk.json", broken))])
    assert result.exit_code == 1
    assert "authentication_configuration[1].email.mandatory: must be true or false" in result.output
    assert 'logo_url: must be an http:// or https:// URL; found "logo.png"' in result.output
    assert "The file is invalid." in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{\n  "name": "zendesk",\n  "display_name": \n}',
            "is not valid JSON: Expecting value at line 4, column 1",
        ),
        ("[1, 2]", "an integration configuration must be a JSON object; found an array"),
    ],
)
def test_validate_explains_files_that_are_not_configurations(
    tmp_path: Path, content: str, expected: str
) -> None:
    result = runner.invoke(app, ["validate", str(write(tmp_path, "broken.json", content))])
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_validate_names_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "absent.json")])
    assert result.exit_code == 1
    assert "absent.json" in result.output
    assert "no such file" in result.output


def test_validate_checks_actions_against_integrations_in_the_same_run(tmp_path: Path) -> None:
    write(tmp_path, "action.json", seed_action())
    alone = runner.invoke(app, ["validate", str(tmp_path / "action.json")])
    assert alone.exit_code == 0
    assert 'provider "zendesk" is not among these files' in alone.output
    write(tmp_path, "integration.json", seed_integration())
    together = runner.invoke(app, ["validate", str(tmp_path)])
    assert together.exit_code == 0
    assert "not among these files" not in together.output


def test_validate_of_an_empty_folder_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "No configuration files found." in result.output


def test_schema_lists_every_schema_and_prints_the_one_named() -> None:
    listed = runner.invoke(app, ["schema"]).stdout.splitlines()
    assert listed[:2] == [
        "integration                     /schemas/integration.json",
        "action                          /schemas/action.json",
    ]
    assert "contact-sync-response           /schemas/bridge/contact-sync-response.json" in listed
    assert len(listed) == 12
    action = json.loads(runner.invoke(app, ["schema", "action"]).stdout)
    assert "inputs" in action["properties"]
    page = json.loads(runner.invoke(app, ["schema", "contact-sync-response"]).stdout)
    assert page["$id"].endswith("/schemas/bridge/contact-sync-response.json")
    unknown = runner.invoke(app, ["schema", "widget"])
    assert unknown.exit_code == 1
    assert "integration, action, auth-validation-request" in unknown.output


def test_schema_writes_the_one_named_as_the_hub_serves_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "agent-sync-request", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = [path.relative_to(tmp_path) for path in tmp_path.rglob("*.json")]
    assert written == [Path("bridge/agent-sync-request.json")]


# --- loading a catalog into a real database --------------------------------------------


def run_cli(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridgehub", *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stored_names(url: str) -> list[str]:
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq_url) as connection:
        rows = connection.execute(
            "SELECT name FROM integrations UNION ALL SELECT name FROM actions ORDER BY 1"
        )
        return [row[0] for row in rows]


def test_catalog_load_registers_then_updates_then_changes_nothing(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": new_database("cli_catalog_load"), "BRIDGEHUB_HOME": str(tmp_path)}
    first = run_cli("catalog", "load", str(CATALOG), env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created") == 2
    assert stored_names(env["DATABASE_URL"]) == ["create_ticket", "zendesk"]

    again = run_cli("catalog", "load", str(CATALOG), env=env)
    assert again.stdout.count("unchanged") == 2

    write(tmp_path, "zendesk.json", seed_integration() | {"display_name": "Zendesk Support"})
    changed = run_cli("catalog", "load", str(tmp_path / "zendesk.json"), env=env)
    assert "updated" in changed.stdout


def test_catalog_load_is_all_or_nothing(new_database: NewDatabase, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": new_database("cli_catalog_all_or_nothing"),
        "BRIDGEHUB_HOME": str(tmp_path),
    }
    write(tmp_path, "zendesk.json", seed_integration())
    write(tmp_path, "broken.json", seed_action() | {"inputs": "subject"})
    result = run_cli("catalog", "load", str(tmp_path), env=env)
    assert result.returncode == 1
    assert "inputs: must be an array" in result.stderr
    assert "Nothing was registered" in result.stderr
    assert "Traceback" not in result.stderr

    # Valid on its own, refused by the hub: the action's provider is unknown there.
    (tmp_path / "zendesk.json").unlink()
    write(tmp_path, "broken.json", seed_action() | {"provider": "freshdesk"})
    write(tmp_path, "other.json", seed_integration() | {"name": "other"})
    refused = run_cli("catalog", "load", str(tmp_path), env=env)
    assert refused.returncode == 1
    assert 'provider: no integration named "freshdesk" is registered' in refused.stderr
    assert stored_names(env["DATABASE_URL"]) == []
