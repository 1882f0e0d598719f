"""The Node.js example bridge, run by `node` on 127.0.0.1: its configurations pass the hub's
validation, `bridgehub check-bridge` finds it conforming, and its real answers hold to the
JSON Schemas of the protocol's messages."""

from __future__ import annotations

import json
import math
import os
import selectors
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from bridgehub.bridge.schemas import message_schemas
from bridgehub.integrations.files import check_files

HERE = Path(__file__).parent
INTEGRATION = HERE / "node-crm.integration.json"
ACTION = HERE / "node-crm.create_ticket.action.json"
CONFIGURED_ORIGIN = "http://127.0.0.1:8093"
"""Where the committed configurations say the bridge is served."""
API_KEY = "node-crm-test-key"
AUTH = {"api_key": API_KEY}
CONTACTS = 30
"""How many contacts the bridge's CRM starts with."""
PAGE_SIZE = 7
SCHEMAS = message_schemas("http://hub.test")


@dataclass(frozen=True)
class NodeBridge:
    url: str
    process: subprocess.Popen[str]

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=10)

    def configuration(self, path: Path) -> dict[str, Any]:
        """A committed configuration, with its URLs pointing at this bridge."""
        text = path.read_text(encoding="utf-8").replace(CONFIGURED_ORIGIN, self.url)
        document: dict[str, Any] = json.loads(text)
        return document


@pytest.fixture(scope="session")
def node() -> str:
    """Where `node` is; the tests that run the bridge are skipped without it."""
    found = shutil.which("node")
    if found is None:
        pytest.skip("node (Node.js 20 or later) is not on PATH, so the bridge cannot run")
    return found


@contextmanager
def running(node: str, environment: dict[str, str], *arguments: str) -> Iterator[NodeBridge]:
    process = subprocess.Popen(
        [node, "bridge.mjs", *arguments],
        cwd=HERE,
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield NodeBridge(_listening_url(process), process)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _listening_url(process: subprocess.Popen[str]) -> str:
    """The URL the bridge prints once it listens."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as waiting:
        waiting.register(process.stdout, selectors.EVENT_READ)
        ready = waiting.select(timeout=15)
    line = process.stdout.readline() if ready else ""
    assert line.startswith("Node CRM bridge listening on "), (line, process.poll())
    return line.split()[-1]


@pytest.fixture
def bridge(node: str) -> Iterator[NodeBridge]:
    environment = {"NODE_CRM_API_KEY": API_KEY, "NODE_CRM_PAGE_SIZE": str(PAGE_SIZE)}
    with running(node, environment, "--port", "0") as served:
        yield served


def conforms(message: str, instance: Any) -> None:
    problems = [
        f"{error.json_path}: {error.message}"
        for error in Draft202012Validator(SCHEMAS[message]).iter_errors(instance)
    ]
    assert problems == [], message


@dataclass(frozen=True)
class Run:
    contacts: list[dict[str, Any]]
    pages: int
    checkpoint: str


def sync(bridge: NodeBridge, checkpoint: str | None = None) -> Run:
    """A whole contact sync run, each request and page checked against its schema."""
    meta = {} if checkpoint is None else {"synchronization_checkpoint": checkpoint}
    contacts: list[dict[str, Any]] = []
    pages = 0
    while True:
        request = {"auth": AUTH, "meta": meta}
        conforms("contact-sync-request", request)
        answer = bridge.post("/contact_sync", request)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        conforms("contact-sync-response", page)
        contacts += page["contacts"]
        pages += 1
        if "next_offset" not in page:
            return Run(contacts, pages, page["synchronization_checkpoint"])
        meta = {**meta, "offset": page["next_offset"]}


def test_the_configurations_pass_the_hubs_validation() -> None:
    files = check_files([HERE])

    assert [(file.path.name, file.kind, file.problems) for file in files] == [
        (ACTION.name, "action", []),
        (INTEGRATION.name, "integration", []),
    ]


def test_check_bridge_passes(bridge: NodeBridge, tmp_path: Path) -> None:
    (tmp_path / "node-crm.integration.json").write_text(
        json.dumps(bridge.configuration(INTEGRATION))
    )
    (tmp_path / "create_ticket.action.json").write_text(json.dumps(bridge.configuration(ACTION)))
    (tmp_path / "creds.json").write_text(json.dumps({"fields": AUTH}))
    samples = {
        "configuration": "create_ticket.action.json",
        "valid": [
            {"data": {"subject": "Call back", "priority": "high"}, "contact_external_id": "3"},
            {"data": {"subject": "Missed call", "caller_phone": "+1 212 555 0199"}},
        ],
        "invalid": [
            {"data": {"subject": "Call back", "priority": "critical"}, "contact_external_id": "3"},
            {"data": {"subject": "Missed call"}},
        ],
    }
    (tmp_path / "samples.json").write_text(json.dumps({"actions": [samples]}))
    command = [
        str(Path(sys.executable).parent / "bridgehub"),
        "check-bridge",
        "node-crm.integration.json",
        "--credentials",
        "creds.json",
        "--actions",
        "samples.json",
        "--allow-private-networks",
        "--json",
    ]

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    report = json.loads(done.stdout)
    assert done.returncode == 0, report["findings"]
    assert report["conforms"] is True
    passed = {each["rule"] for each in report["findings"] if each["verdict"] == "pass"}
    assert {
        "auth.accepts-valid",
        "auth.rejects-invalid",
        "contacts.unique-ids",
        "contacts.incremental",
        "interactions.requested-types",
        "agents.required-fields",
        "actions.accepts-valid",
        "actions.refuses-invalid",
    } <= passed


def test_a_full_sync_pages_through_every_contact_and_then_only_changes_come(
    bridge: NodeBridge,
) -> None:
    full = sync(bridge)
    created = bridge.post(
        "/actions/create_ticket",
        {"auth": AUTH, "data": {"subject": "Missed call", "caller_phone": "+1 212 555 0199"}},
    ).json()

    incremental = sync(bridge, full.checkpoint)

    assert full.pages == math.ceil(CONTACTS / PAGE_SIZE)
    ids = [contact["id"] for contact in full.contacts]
    assert len(ids) == len(set(ids)) == CONTACTS
    assert incremental.contacts == [created["contact"]]
    assert sync(bridge, incremental.checkpoint).contacts == []


def test_every_answer_holds_to_its_message_schema(bridge: NodeBridge) -> None:
    """Requests as the hub sends them, and each answer checked against the schema the hub
    publishes for it."""
    exchanges: list[tuple[str, str, dict[str, Any], int]] = [
        ("auth-validation", "/auth_validation", {"auth": AUTH}, 204),
        ("agent-sync", "/agent_sync", {"auth": AUTH}, 200),
        (
            "interaction-retrieval",
            "/interactions",
            {
                "auth": AUTH,
                "meta": {"interaction_types": ["ticket", "deal"]},
                "data": {"contact_external_id": "4", "contact_name": "Dmitri Keller"},
            },
            200,
        ),
        (
            "interaction-retrieval",
            "/interactions",
            {
                "auth": AUTH,
                "meta": {"interaction_types": ["ticket"]},
                "data": {"contact_name": "Dmitri", "contact_phones": ["+14155550103"]},
            },
            200,
        ),
        (
            "action",
            "/actions/create_ticket",
            {
                "auth": AUTH,
                "meta": {"contact_external_id": "7", "agent_external_id": "A2"},
                "data": {"subject": "Call back", "description": "About the invoice"},
            },
            201,
        ),
        (
            "action",
            "/actions/create_ticket",
            {"auth": AUTH, "data": {"subject": "Missed call", "caller_phone": "+44 20 7946 0000"}},
            201,
        ),
    ]
    answers: dict[str, list[Any]] = {}
    for message, path, request, status in exchanges:
        conforms(f"{message}-request", request)
        answer = bridge.post(path, request)
        assert answer.status_code == status, (path, answer.text)
        if answer.content:
            conforms(f"{message}-response", answer.json())
            answers.setdefault(message, []).append(answer.json())

    by_id, by_phone = answers["interaction-retrieval"]
    assert [each["type"] for each in by_id] == ["deal", "ticket", "ticket"]
    assert by_phone == [each for each in by_id if each["type"] == "ticket"]
    assert len(answers["agent-sync"][0]["agents"]) == 3
    for_contact, for_caller = answers["action"]
    assert (for_contact["contact_external_id"], "contact" in for_contact) == ("7", False)
    assert for_caller["contact"]["phones"] == ["+44 20 7946 0000"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth_validation", {}),
        ("/contact_sync", {"meta": {}}),
        (
            "/interactions",
            {"meta": {"interaction_types": ["ticket"]}, "data": {"contact_name": "Ada Keller"}},
        ),
        ("/agent_sync", {}),
        (
            "/actions/create_ticket",
            {"data": {"subject": "Hi"}, "meta": {"contact_external_id": "1"}},
        ),
    ],
)
def test_every_endpoint_answers_401_with_a_message_to_a_wrong_api_key(
    bridge: NodeBridge, path: str, body: dict[str, Any]
) -> None:
    for auth in ({"api_key": "not-the-key"}, {"api_key": API_KEY[:-1]}, {}):
        answer = bridge.post(path, {**body, "auth": auth})

        assert answer.status_code == 401
        assert answer.json() == {"message": "This API key is not a key of this Node CRM."}


def test_an_offset_it_never_gave_is_refused_with_400(bridge: NodeBridge) -> None:
    first = bridge.post("/contact_sync", {"auth": AUTH}).json()
    checkpoint = sync(bridge).checkpoint
    made_up = first["next_offset"][:-2] + "AA"
    of_another_run = {"synchronization_checkpoint": checkpoint, "offset": first["next_offset"]}

    for meta in ({"offset": made_up}, {"offset": "3"}, of_another_run):
        answer = bridge.post("/contact_sync", {"auth": AUTH, "meta": meta})

        assert answer.status_code == 400, meta
        assert answer.json() == {
            "message": "meta.offset is not a value this bridge gave for this run."
        }


def test_a_checkpoint_it_cannot_use_is_answered_410(node: str, bridge: NodeBridge) -> None:
    checkpoint = sync(bridge).checkpoint
    offset = bridge.post("/contact_sync", {"auth": AUTH}).json()["next_offset"]
    environment = {"NODE_CRM_API_KEY": API_KEY}

    with running(node, environment) as restarted:  # its CRM and keys are new
        answers = [
            restarted.post("/contact_sync", {"auth": AUTH, "meta": meta})
            for meta in (
                {"synchronization_checkpoint": checkpoint},
                {"synchronization_checkpoint": "2024-05-01T10:00:00Z"},
                {"synchronization_checkpoint": offset},
            )
        ]

    assert [answer.status_code for answer in answers] == [410, 410, 410]
    assert "sync in full" in answers[0].json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/contact_sync", {"meta": {"offset": 3}}, "meta.offset must be a string."),
        ("/interactions", {"data": {"contact_name": "Ada"}}, "meta must be an object."),
        (
            "/interactions",
            {"meta": {"interaction_types": "ticket"}, "data": {"contact_name": "Ada"}},
            "meta.interaction_types must be an array of strings.",
        ),
        (
            "/actions/create_ticket",
            {"data": {"subject": " "}, "meta": {"contact_external_id": "1"}},
            "data.subject is required: a ticket needs a subject.",
        ),
        (
            "/actions/create_ticket",
            {"data": {"subject": "Hi"}, "meta": {"contact_external_id": "404"}},
            'meta.contact_external_id names no contact of this CRM: "404".',
        ),
        (
            "/actions/create_ticket",
            {"data": {"subject": "Hi", "caller_phone": "n/a"}},
            'data.caller_phone must be a phone number; found "n/a".',
        ),
    ],
)
def test_a_request_that_breaks_the_protocol_is_refused_with_400_naming_the_field(
    bridge: NodeBridge, path: str, body: dict[str, Any], message: str
) -> None:
    answer = bridge.post(path, {**body, "auth": AUTH})

    assert (answer.status_code, answer.json()) == (400, {"message": message})
    # Nothing was created on the way.
    assert sync(bridge).contacts[-1]["id"] == str(CONTACTS)


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        ({"NODE_CRM_API_KEY": ""}, "Set NODE_CRM_API_KEY"),
        (
            {"NODE_CRM_API_KEY": "k", "NODE_CRM_PAGE_SIZE": "0"},
            'NODE_CRM_PAGE_SIZE must be a whole number from 1 to 1000; found "0".',
        ),
        (
            {"NODE_CRM_API_KEY": "k", "NODE_CRM_PORT": "http"},
            'The port must be a whole number from 0 to 65535; found "http".',
        ),
    ],
)
def test_bad_settings_stop_it_before_it_listens(
    node: str, environment: dict[str, str], problem: str
) -> None:
    done = subprocess.run(
        [node, "bridge.mjs"],
        cwd=HERE,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert (done.returncode, done.stdout) == (2, "")
    assert problem in done.stderr
