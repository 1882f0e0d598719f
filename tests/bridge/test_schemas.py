"""The JSON Schemas of the protocol's messages: draft 2020-12 documents that hold for what
the hub really sends and what its own test bridges really answer over HTTP, that refuse
broken messages at the place they break, and that the hub serves as `bridgehub schema`
writes them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridgehub.bridge import BridgeClient, InteractionContact, NetworkPolicy, StaticCredentials
from bridgehub.bridge.schemas import MESSAGES, message_schemas
from bridgehub.demo.helpdesk import HelpdeskBridge
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import HelpdeskDatabase
from bridgehub.demo.serving import serve
from bridgehub.settings import Settings
from tests.conftest import HUB_URL

NAMES = [message.name for message in MESSAGES]
SCHEMAS = message_schemas(HUB_URL)
CRM_TOKEN = "crm-access-token"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[name])


def test_every_message_of_the_protocol_has_a_schema() -> None:
    assert [
        f"{endpoint}-{side}"
        for endpoint in (
            "auth-validation",
            "contact-sync",
            "interaction-retrieval",
            "agent-sync",
            "action",
        )
        for side in ("request", "response")
    ] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_a_draft_2020_12_schema_identified_by_where_the_hub_serves_it(
    name: str,
) -> None:
    schema = SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{HUB_URL}/schemas/bridge/{name}.json"
    assert schema["title"]
    assert "\n" not in schema["description"]


# --- the real messages ------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    path: str
    request: Any
    status: int
    answer: Any  # None for an empty body

    @property
    def message(self) -> str:
        """The name its schemas share: `contact-sync` for `.../contact_sync`."""
        if "/actions/" in self.path:
            return "action"
        endpoint = self.path.rsplit("/", 1)[-1]
        return {"interactions": "interaction-retrieval"}.get(endpoint, endpoint.replace("_", "-"))


class Recorder:
    """ASGI middleware in front of a bridge: keeps each request and answer as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request, answer, status = bytearray(), bytearray(), 0

        async def receiving() -> Message:
            message = await receive()
            request.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                answer.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receiving, sending)
        self.exchanges.append(
            Exchange(scope["path"], _json(bytes(request)), status, _json(bytes(answer)))
        )


def _json(content: bytes) -> Any:
    return json.loads(content) if content else None


@pytest.fixture(scope="module")
def recorded_demo() -> Iterator[tuple[HelpdeskDatabase, Recorder, str]]:
    """The demo helpdesk and CRM bridge, served behind a recorder."""
    database = HelpdeskDatabase()
    seed(database, count_contacts=12, count_agents=3, interactions_per_contact=2)
    bridge = HelpdeskBridge(database, token_is_valid=lambda token: token == CRM_TOKEN, page_size=5)
    recorder = Recorder(bridge.app)
    with serve(recorder) as url:
        yield database, recorder, url


async def test_the_hubs_requests_and_the_demo_bridges_answers_hold_to_the_schemas(
    recorded_demo: tuple[HelpdeskDatabase, Recorder, str],
) -> None:
    database, recorder, url = recorded_demo
    local = NetworkPolicy(allow_private_networks=True, allow_http=True)
    async with BridgeClient(local) as hub:
        await _use_the_helpdesk(hub, database, f"{url}/helpdesk")
        await _use_the_crm(hub, f"{url}/crm")

    exchanges = recorder.exchanges
    assert {exchange.status // 100 for exchange in exchanges} == {2}
    for exchange in exchanges:
        for side, body in (("request", exchange.request), ("response", exchange.answer)):
            if body is not None:
                error = best_match(validator(f"{exchange.message}-{side}").iter_errors(body))
                assert error is None, f"{exchange.path} {side}: {error}"
    answers = [exchange.answer for exchange in exchanges if exchange.answer is not None]
    assert {f"{e.message}-{side}" for e in exchanges for side in ("request", "response")} == set(
        NAMES
    )
    # The extensions of section 6, and the sloppiness the protocol tolerates, were there.
    assert any(answer.get("deleted_contacts") for answer in answers if isinstance(answer, dict))
    assert any("contact" in answer for answer in answers if isinstance(answer, dict))
    assert any(
        isinstance(agent["id"], int)
        for answer in answers
        if isinstance(answer, dict)
        for agent in answer.get("agents", ())
    )


async def _use_the_helpdesk(hub: BridgeClient, database: HelpdeskDatabase, url: str) -> None:
    login = database.accounts()[0]
    auth: dict[str, Any] = {
        "subdomain": login.url,
        "email": login.email,
        "api_token": login.api_token,
    }
    auth |= await hub.validate_auth(f"{url}/auth_validation", StaticCredentials(auth))
    credentials = StaticCredentials(auth)
    checkpoint = await _sync_contacts(hub, f"{url}/contact_sync", credentials, None)
    first, second = database.contacts()[:2]
    database.delete_contact(first.id)
    database.update_contact(second.id, name="Renamed")
    await _sync_contacts(hub, f"{url}/contact_sync", credentials, checkpoint)
    for contact in (
        InteractionContact(contact_external_id=str(second.id), contact_name="Renamed"),
        InteractionContact(contact_name="Anyone", contact_phones=second.details.phones),
    ):
        await hub.fetch_interactions(
            f"{url}/interactions", credentials, interaction_types=["ticket"], contact=contact
        )
    agents = await hub.fetch_agents(f"{url}/agent_sync", credentials)
    await hub.execute_action(
        f"{url}/actions/create_ticket",
        credentials,
        data={"subject": "Missed call", "description": "Nobody answered."},
        contact_external_id=str(second.id),
        agent_external_id=agents.agents[0].id,
    )
    await hub.execute_action(
        f"{url}/actions/create_contact",
        credentials,
        data={"name": "Unknown caller", "phone": "+14155550199"},
    )


async def _sync_contacts(
    hub: BridgeClient, url: str, credentials: StaticCredentials, checkpoint: str | None
) -> str | None:
    """Every page of a run; the checkpoint it ends with."""
    offset = None
    while True:
        page = await hub.fetch_contacts(url, credentials, checkpoint=checkpoint, offset=offset)
        if page.next_offset is None:
            return page.synchronization_checkpoint
        offset = page.next_offset


async def _use_the_crm(hub: BridgeClient, url: str) -> None:
    credentials = StaticCredentials({"access_token": CRM_TOKEN, "instance_url": url})
    await hub.validate_auth(f"{url}/auth_validation", credentials)
    await hub.fetch_interactions(
        f"{url}/interactions",
        credentials,
        interaction_types=["deal", "call"],
        contact=InteractionContact(contact_external_id="3", contact_name="Someone"),
    )
    await hub.execute_action(
        f"{url}/actions/log_call", credentials, data={"summary": "Called back"}
    )


# --- broken messages --------------------------------------------------------------------

CONTACT = {"id": "1", "name": "Jane Doe"}
INTERACTION = {"id": 42, "type": "ticket", "subject": "Printer", "priority": "low", "status": "new"}


@pytest.mark.parametrize(
    ("name", "broken", "path", "problem"),
    [
        ("auth-validation-request", {"meta": {}}, [], "'auth' is a required property"),
        ("auth-validation-response", ["account"], [], "is not of type 'object'"),
        ("contact-sync-request", {"auth": {}, "meta": {"offset": 3}}, ["meta", "offset"], "type"),
        ("contact-sync-response", {"contacts": [{"id": "1"}]}, ["contacts", 0], "'name'"),
        (
            "contact-sync-response",
            {"contacts": [CONTACT | {"phones": "+1 555"}]},
            ["contacts", 0, "phones"],
            "'+1 555'",
        ),
        (
            "contact-sync-response",
            {"contacts": [], "deleted_contacts": [""]},
            ["deleted_contacts", 0],
            "''",
        ),
        ("interaction-retrieval-request", {"auth": {}, "data": {}}, [], "'meta'"),
        ("interaction-retrieval-response", {"items": []}, [], "is not of type 'array'"),
        (
            "interaction-retrieval-response",
            [INTERACTION, INTERACTION | {"priority": "asap"}],
            [1, "priority"],
            "'asap' is not one of",
        ),
        ("agent-sync-request", {"auth": "token"}, ["auth"], "is not of type 'object'"),
        ("agent-sync-response", {"agents": [{"id": 7, "name": "Jo"}]}, ["agents", 0], "'email'"),
        ("action-request", {"auth": {}, "data": []}, ["data"], "is not of type 'object'"),
        ("action-response", {"contact": {"name": "Jane"}}, ["contact"], "'id'"),
        ("action-response", {"external_id": True}, ["external_id"], "True"),
    ],
)
def test_a_broken_message_is_refused_where_it_breaks(
    name: str, broken: Any, path: list[str | int], problem: str
) -> None:
    error = best_match(validator(name).iter_errors(broken))
    assert error is not None
    assert list(error.absolute_path) == path
    assert problem in error.message


# --- served and printed -----------------------------------------------------------------


async def test_the_hub_serves_each_schema_as_bridgehub_schema_writes_it(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    written = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bridgehub", "schema", "--output", str(tmp_path)],
        env={**os.environ, "BRIDGEHUB_PUBLIC_URL": settings.public_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    index = (await client.get("/schemas/bridge/")).json()
    assert [entry["name"] for entry in index] == NAMES
    for entry in index:
        served = await client.get(entry["url"])
        assert served.headers["content-type"] == "application/schema+json"
        file = tmp_path / "bridge" / f"{entry['name']}.json"
        assert str(file) in written.stdout
        assert served.json() == json.loads(file.read_text()) == SCHEMAS[entry["name"]]
        assert entry["title"] == served.json()["title"]


async def test_an_unknown_message_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/schemas/bridge/contact-sync.json")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "contact-sync-response" in error["message"]
