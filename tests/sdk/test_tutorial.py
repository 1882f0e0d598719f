"""docs/bridge-sdk.md, followed literally: its files are written into an empty folder, its
commands run there (on a free port instead of 8001), and the bridge it builds is driven over
real HTTP by the hub's bridge client, then registered in a real hub, synced and used."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridgehub.bridge import (
    BridgeClient,
    CredentialsRejected,
    InteractionContact,
    RequestRefused,
    StaticCredentials,
)
from bridgehub.integrations.configuration import validate_action, validate_integration
from tests.conftest import ROOT, Tenant
from tests.helpdesk_fixtures import RunJobs, SyncNow, all_contacts
from tests.sdk.conftest import LOCAL

TUTORIAL = ROOT / "docs" / "bridge-sdk.md"
DOCUMENTED_PORT = "8001"
BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"^```(\w+)( file=(\S+))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Tutorial:
    files: dict[str, str]
    """Each file the tutorial writes, by name."""
    commands: list[str]
    """Each command of its console blocks, in order."""
    outputs: dict[str, str]
    """What the tutorial shows a command printing, by command."""

    def command(self, start: str) -> str:
        [found] = [each for each in self.commands if each.startswith(start)]
        return found


def read_tutorial() -> Tutorial:
    files: dict[str, str] = {}
    commands: list[str] = []
    outputs: dict[str, str] = {}
    for language, _, name, body in _BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        if name:
            files[name] = body
        elif language == "console":
            for command, printed in re.findall(r"^\$ (.*)\n((?:[^$\n].*\n)*)", body, re.M):
                commands.append(command)
                outputs[command] = printed
    return Tutorial(files, commands, outputs)


def run(command: str, folder: Path, port: int) -> subprocess.CompletedProcess[str]:
    """A tutorial command as written, but on `port`, with this environment's programs."""
    arguments = shlex.split(command.replace(DOCUMENTED_PORT, str(port)))
    return subprocess.run(
        arguments, cwd=folder, env=environment(), capture_output=True, text=True, timeout=60
    )


def environment() -> dict[str, str]:
    # A clean folder: nothing of the repository's own on the import path.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return env | {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tutorial() -> Tutorial:
    return read_tutorial()


@dataclass(frozen=True)
class Running:
    folder: Path
    port: int
    url: str
    credentials: StaticCredentials


@pytest.fixture(scope="module")
def running(tutorial: Tutorial, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The tutorial's bridge, served by the tutorial's own uvicorn command."""
    folder = tmp_path_factory.mktemp("tutorial")
    for name, content in tutorial.files.items():
        (folder / name).write_text(content, encoding="utf-8")
    port = free_port()
    arguments = shlex.split(tutorial.command("uvicorn ").replace(DOCUMENTED_PORT, str(port)))
    server = subprocess.Popen(
        arguments, cwd=folder, env=environment(), stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_listening(server, port)
        yield Running(folder, port, url, StaticCredentials(typed_fields(folder)))
    finally:
        server.terminate()
        server.wait(timeout=10)


def typed_fields(folder: Path) -> dict[str, str]:
    """What the tutorial's credentials file has a person type: for a custom integration with
    no format or default, the very `auth` the hub sends."""
    fields: dict[str, str] = json.loads((folder / "creds.json").read_text())["fields"]
    return fields


def _wait_until_listening(server: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"the bridge stopped: {server.stderr.read() if server.stderr else ''}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the bridge did not start within 30 s")


def test_the_tutorial_has_what_it_promises(tutorial: Tutorial) -> None:
    assert set(tutorial.files) == {"acme.py", "bridge.py", "creds.json", "samples.json"}
    assert tutorial.command("bridgehub check-bridge ").startswith(
        "bridgehub check-bridge catalog/acme-desk.integration.json --credentials creds.json "
    )


def test_the_curl_examples_print_what_the_tutorial_shows(
    tutorial: Tutorial, running: Running
) -> None:
    examples = [
        each for each in tutorial.commands if each.startswith("curl") and DOCUMENTED_PORT in each
    ]

    assert len(examples) == 2
    for command in examples:
        assert run(command, running.folder, running.port).stdout + "\n" == tutorial.outputs[command]


def test_the_generated_configuration_is_valid_and_points_at_the_bridge(
    tutorial: Tutorial, running: Running
) -> None:
    generated = run(tutorial.command("bridgehub bridge-config "), running.folder, running.port)
    validated = run(tutorial.command("bridgehub validate "), running.folder, running.port)

    assert generated.returncode == 0, generated.stderr
    assert validated.returncode == 0, validated.stdout + validated.stderr
    integration, action = configurations(running)
    assert integration.auth_validation_endpoint == f"{running.url}/auth_validation"
    assert integration.interaction_types == ["ticket"]
    assert action.endpoint == f"{running.url}/actions/create_ticket"
    assert [each.key for each in action.inputs] == ["subject", "priority"]


def configurations(running: Running) -> tuple[Any, Any]:
    catalog = running.folder / "catalog"
    integration = validate_integration(
        json.loads((catalog / "acme-desk.integration.json").read_text())
    )
    action = validate_action(
        json.loads((catalog / "acme-desk.create_ticket.action.json").read_text()),
        providers={"acme-desk"},
    )
    return integration, action


async def test_the_hubs_bridge_client_can_use_every_endpoint(
    tutorial: Tutorial, running: Running
) -> None:
    run(tutorial.command("bridgehub bridge-config "), running.folder, running.port)
    integration, action = configurations(running)
    credentials = running.credentials
    contacts_url = integration.contact_synchronization_endpoint
    async with BridgeClient(LOCAL) as bridges:
        kept = await bridges.validate_auth(integration.auth_validation_endpoint, credentials)
        with pytest.raises(CredentialsRejected):
            await bridges.validate_auth(
                integration.auth_validation_endpoint, StaticCredentials({"api_key": "nope"})
            )
        pages = []
        offset = None
        while True:
            page = await bridges.fetch_contacts(
                contacts_url, credentials, checkpoint=None, offset=offset
            )
            pages.append(page)
            if (offset := page.next_offset) is None:
                break
        checkpoint = pages[-1].synchronization_checkpoint
        nothing_new = await bridges.fetch_contacts(
            contacts_url, credentials, checkpoint=checkpoint, offset=None
        )
        with pytest.raises(RequestRefused, match=r"meta\.offset"):
            await bridges.fetch_contacts(contacts_url, credentials, checkpoint=None, offset="2")
        created = await bridges.execute_action(
            action.endpoint, credentials, data={"subject": "Missed call"}, contact_external_id="1"
        )
        with pytest.raises(RequestRefused, match='"Priority" must be one of'):
            await bridges.execute_action(
                action.endpoint, credentials, data={"subject": "x", "priority": "asap"}
            )
        janes = await bridges.fetch_interactions(
            integration.interaction_retrieval_endpoint,
            credentials,
            interaction_types=["ticket"],
            contact=InteractionContact(contact_name="Jane", contact_emails=("jane@example.com",)),
        )
        agents = await bridges.fetch_agents(integration.agent_synchronization_endpoint, credentials)

    assert kept == {"account": "Acme Corp."}
    assert [[c.id for c in page.contacts] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [c.phones for c in pages[0].contacts] == [("+1 415 555 0142",), ("(415) 555-0177",)]
    assert (nothing_new.contacts, nothing_new.synchronization_checkpoint) == ((), checkpoint)
    assert created.external_id is not None
    assert created.message == f"Ticket #{created.external_id} created."
    assert [each.id for each in janes.interactions] == [created.external_id, "1", "2"]
    assert janes.rejected == ()
    assert [agent.email for agent in agents.agents] == ["ada@acme.example", "bo@acme.example"]


async def test_registered_in_a_hub_it_syncs_shows_tickets_and_runs_actions(
    tutorial: Tutorial,
    running: Running,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sync_now: SyncNow,
    run_jobs: RunJobs,
) -> None:
    run(tutorial.command("bridgehub bridge-config "), running.folder, running.port)
    catalog = running.folder / "catalog"
    for name, path in [("acme-desk.integration.json", "/v1/integrations"),
                       ("acme-desk.create_ticket.action.json", "/v1/actions")]:  # fmt: skip
        registered = await client.post(path, json=json.loads((catalog / name).read_text()))
        assert registered.status_code == 201, registered.text
    auth = typed_fields(running.folder)

    activated = await tenant.client.post(
        "/v1/activations", json={"integration": "acme-desk", "auth": auth}
    )
    sync_run = await sync_now(activated.json()["id"])
    contacts = {c["name"]: c for c in await all_contacts(tenant)}
    jane = contacts["Jane Doe"]
    queued = await tenant.client.post(
        "/v1/executions",
        json={"action": "acme-desk/create_ticket", "data": {"subject": "Missed call"},
              "contact_id": jane["id"]},
    )  # fmt: skip
    await run_jobs()
    execution = (await tenant.client.get(f"/v1/executions/{queued.json()['id']}")).json()
    shown = (await tenant.client.get(f"/v1/contacts/{jane['id']}/interactions")).json()

    assert activated.status_code == 201, activated.text
    assert (sync_run["status"], sync_run["created"], sync_run["pages"]) == ("succeeded", 5, 3)
    assert sorted(contacts) == ["Ana Lima", "Jane Doe", "John Roe", "Sam Park", "Wei Chen"]
    assert execution["status"] == "succeeded", execution
    ticket = execution["response"]["external_id"]
    assert shown["errors"] == []
    assert [(item["integration"], item["id"]) for item in shown["items"]][:1] == [
        ("acme-desk", ticket)
    ]


def test_check_bridge_finds_the_tutorial_bridge_conforms(
    tutorial: Tutorial, running: Running
) -> None:
    run(tutorial.command("bridgehub bridge-config "), running.folder, running.port)
    command = tutorial.command("bridgehub check-bridge ")

    checked = run(command + " --json", running.folder, running.port)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    verdicts = {finding["verdict"] for finding in report["findings"]}
    assert verdicts == {"pass"}, report
    checked_endpoints = {finding["endpoint"] for finding in report["findings"]}
    assert "action create_ticket" in checked_endpoints
