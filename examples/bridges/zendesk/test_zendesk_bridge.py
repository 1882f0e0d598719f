"""The Zendesk bridge over real HTTP on 127.0.0.1, called by the hub's own bridge client.

Zendesk cannot be reached from a test machine, so the bridge calls a fake Zendesk
(`zendesk_fake`) served on loopback, which replays the answers recorded in `recordings/`
(shaped as Zendesk's API documentation shows them) and checks every request the bridge
makes: the Basic `{email}/token:{api_token}` header, the path, the query and the body.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from zendesk_bridge import bridge, create_bridge
from zendesk_fake import FakeZendesk

from bridgehub.bridge import (
    BridgeClient,
    BridgeUnavailable,
    CredentialsRejected,
    InteractionContact,
    NetworkPolicy,
    RequestRefused,
    RetryPolicy,
    StaticCredentials,
)
from bridgehub.cli import app
from bridgehub.demo.serving import HOST, serve

HERE = Path(__file__).parent
CATALOG = HERE.parents[1] / "catalog"
ORIGIN = "https://td-zendesk.herokuapp.com"
"""Where the configuration reference's example serves the bridge."""
EXPORT = "/api/v2/incremental/users/cursor.json"
TICKET_DESCRIPTION = "Jane Doe called at 10:02 and nobody answered."
WEI_DESCRIPTION = "Wei Chen called at 11:40 and nobody answered."


@pytest.fixture(scope="module")
def served_zendesk() -> Iterator[tuple[FakeZendesk, str]]:
    zendesk = FakeZendesk()
    with serve(zendesk.app()) as url:
        yield zendesk, url


@pytest.fixture
def zendesk(served_zendesk: tuple[FakeZendesk, str]) -> Iterator[FakeZendesk]:
    fake, _ = served_zendesk
    yield fake
    assert fake.unexpected == [], "the bridge made requests Zendesk would not answer"
    fake.forget()


@pytest.fixture(scope="module")
def bridge_url(served_zendesk: tuple[FakeZendesk, str]) -> Iterator[str]:
    with serve(create_bridge(served_zendesk[1] + "/{subdomain}"), lifespan="on") as url:
        yield url


@pytest.fixture
async def hub() -> AsyncIterator[BridgeClient]:
    """The hub's bridge client, asking once: each test sees what the bridge answered."""
    local = NetworkPolicy(allow_private_networks=True, allow_http=True)
    async with BridgeClient(local, retry=RetryPolicy(attempts=1)) as client:
        yield client


@pytest.fixture
def credentials(zendesk: FakeZendesk) -> StaticCredentials:
    """The `auth` the hub sends for the fake account, its address as the form makes it."""
    return StaticCredentials({**zendesk.auth, "account": "https://acme.zendesk.com"})


def wrong(zendesk: FakeZendesk, **changes: str) -> StaticCredentials:
    return StaticCredentials({**zendesk.auth, "account": "https://acme.zendesk.com", **changes})


# Configuration ---------------------------------------------------------------------------


def test_the_declarations_make_the_references_zendesk_configurations() -> None:
    integration = json.loads((CATALOG / "zendesk.integration.json").read_text())
    action = json.loads((CATALOG / "zendesk.create_ticket.action.json").read_text())

    assert bridge.configurations(ORIGIN) == [integration, action]


# Auth validation -------------------------------------------------------------------------


async def test_auth_validation_asks_zendesk_who_the_agent_is(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    assert await hub.validate_auth(f"{bridge_url}/auth_validation", credentials) == {}

    [asked] = zendesk.seen("/api/v2/users/me")
    assert asked.authorization == "Basic YWRhQGFjbWUuZXhhbXBsZS90b2tlbjp6ZC10ZXN0LXRva2VuLTZmMmI="


@pytest.mark.parametrize(
    ("changes", "zendesk_asked"),
    [
        ({"token": "not-the-token"}, True),
        ({"email": "eve@acme.example"}, True),
        ({"account": "https://evil.example"}, False),
        ({"account": "http://acme.zendesk.com"}, False),
        ({"account": "https://acme.zendesk.com.evil.example"}, False),
    ],
)
async def test_auth_validation_refuses_what_zendesk_refuses_or_is_not_zendesk(
    zendesk: FakeZendesk,
    bridge_url: str,
    hub: BridgeClient,
    changes: dict[str, str],
    zendesk_asked: bool,
) -> None:
    with pytest.raises(CredentialsRejected):
        await hub.validate_auth(f"{bridge_url}/auth_validation", wrong(zendesk, **changes))

    assert len(zendesk.received) == int(zendesk_asked)
    # Zendesk's own 401, not a request the fake did not expect.
    zendesk.unexpected.clear()


async def test_the_address_is_accepted_as_typed_or_as_the_form_makes_it(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient
) -> None:
    for address in ("acme.zendesk.com", "https://ACME.zendesk.com/"):
        credentials = wrong(zendesk, account=address)
        assert await hub.validate_auth(f"{bridge_url}/auth_validation", credentials) == {}


# Contacts --------------------------------------------------------------------------------


async def test_a_full_sync_pages_through_the_export_and_keeps_only_customers(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    url = f"{bridge_url}/contact_sync"
    pages = []
    offset = None
    while True:
        page = await hub.fetch_contacts(url, credentials, checkpoint=None, offset=offset)
        pages.append(page)
        if page.next_offset is None:
            break
        offset = page.next_offset

    assert [[each.id for each in page.contacts] for page in pages] == [
        ["10001", "10002"],  # agent 20001 left out
        ["10003"],  # deleted 10005 and admin 20002 left out
        ["10004", "10006"],
    ]
    assert [page.synchronization_checkpoint is None for page in pages] == [True, True, False]
    jane = pages[0].contacts[0]
    assert (jane.name, jane.emails, jane.phones, jane.photo_url) == (
        "Jane Doe",
        ("jane@example.com",),
        ("+1 415 555 0142",),
        "https://acme.zendesk.com/system/photos/7001/jane.png",
    )
    assert pages[0].contacts[1].emails == ()
    assert [each.query for each in zendesk.seen(EXPORT)] == [
        {"start_time": ["0"]},
        {"cursor": ["MTcxNDU2ODE5NS4wfHwxMDAwMnw="]},
        {"cursor": ["MTcxNDY0MjgwMC4wfHwyMDAwMnw="]},
    ]


async def test_a_sync_from_the_checkpoint_asks_only_for_what_changed(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    url = f"{bridge_url}/contact_sync"
    checkpoint = await last_checkpoint(hub, url, credentials)

    page = await hub.fetch_contacts(url, credentials, checkpoint=checkpoint, offset=None)

    assert [(each.id, each.emails) for each in page.contacts] == [("10002", ("john@example.com",))]
    assert page.next_offset is None
    assert page.synchronization_checkpoint not in (None, checkpoint)
    assert zendesk.seen(EXPORT)[-1].query == {"cursor": ["MTcxNDgxMDUwMC4wfHwxMDAwNnw="]}


async def last_checkpoint(hub: BridgeClient, url: str, credentials: StaticCredentials) -> str:
    offset = None
    while True:
        page = await hub.fetch_contacts(url, credentials, checkpoint=None, offset=offset)
        if page.next_offset is None:
            assert page.synchronization_checkpoint is not None
            return page.synchronization_checkpoint
        offset = page.next_offset


async def test_an_offset_the_bridge_never_gave_is_refused_before_zendesk_is_asked(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    with pytest.raises(RequestRefused) as refused:
        await hub.fetch_contacts(
            f"{bridge_url}/contact_sync", credentials, checkpoint=None, offset="MTcx"
        )

    assert refused.value.bridge_message is not None
    assert "meta.offset is not a value this bridge gave" in refused.value.bridge_message
    assert zendesk.received == []


async def test_zendesks_rate_limit_asks_the_hub_to_come_back_after_retry_after(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    zendesk.rate_limit_next(retry_after=37)

    with pytest.raises(BridgeUnavailable) as unavailable:
        await hub.fetch_contacts(
            f"{bridge_url}/contact_sync", credentials, checkpoint=None, offset=None
        )

    assert unavailable.value.status_code == 503
    assert unavailable.value.retry_after == 37
    # The same request, once the pause is over, is answered.
    page = await hub.fetch_contacts(
        f"{bridge_url}/contact_sync", credentials, checkpoint=None, offset=None
    )
    assert [each.id for each in page.contacts] == ["10001", "10002"]


JANES_REQUESTS: dict[str, dict[str, Any]] = {
    "/contact_sync": {},
    "/interaction_update": {
        "meta": {"interaction_types": ["ticket"]},
        "data": {"contact_external_id": "10001", "contact_name": "Jane Doe"},
    },
    "/agent_sync": {},
    "/actions/create_ticket": {
        "meta": {"contact_external_id": "10001"},
        "data": {"subject": "Missed call", "description": TICKET_DESCRIPTION},
    },
}


@pytest.mark.parametrize("endpoint", JANES_REQUESTS)
def test_every_endpoint_answers_401_when_zendesk_refuses_the_token(
    zendesk: FakeZendesk, bridge_url: str, endpoint: str
) -> None:
    auth = {**zendesk.auth, "account": "https://acme.zendesk.com", "token": "revoked"}

    answer = httpx.post(bridge_url + endpoint, json={"auth": auth, **JANES_REQUESTS[endpoint]})

    assert answer.status_code == 401
    assert answer.json() == {"message": "Zendesk does not accept this email and API token."}
    assert len(zendesk.unexpected) == 1  # Zendesk's own 401
    zendesk.unexpected.clear()


# Interactions ----------------------------------------------------------------------------


async def test_a_contacts_tickets_are_the_ones_it_requested(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    jane = InteractionContact(contact_external_id="10001", contact_name="Jane Doe")

    found = await hub.fetch_interactions(
        f"{bridge_url}/interaction_update", credentials, interaction_types=["ticket"], contact=jane
    )

    assert found.rejected == ()
    assert [
        (each.id, each.subject, each.status, each.priority, each.date, each.url)
        for each in found.interactions
    ] == [
        ("35436", "Printer on fire", "open", "urgent", at("2024-05-02T08:30"),
         "https://acme.zendesk.com/agent/tickets/35436"),
        ("35201", "Replacement toner", "pending", "none", at("2024-04-28T12:10"),
         "https://acme.zendesk.com/agent/tickets/35201"),
        ("34980", "Invoice missing", "solved", "low", at("2024-04-20T14:00"),
         "https://acme.zendesk.com/agent/tickets/34980"),
    ]  # fmt: skip
    assert found.interactions[0].description == "It is still burning."
    [asked] = zendesk.seen("/api/v2/users/10001/tickets/requested")
    assert asked.query == {"sort_by": ["updated_at"], "sort_order": ["desc"], "per_page": ["100"]}


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


async def test_a_contact_from_elsewhere_is_found_by_its_exact_email(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    ana = InteractionContact(contact_name="Ana Lima", contact_emails=("Ana@Example.com",))

    found = await hub.fetch_interactions(
        f"{bridge_url}/interaction_update", credentials, interaction_types=["ticket"], contact=ana
    )

    assert found.interactions == ()
    assert [each.query for each in zendesk.seen("/api/v2/users/search")] == [
        {"query": ["email:ana@example.com"]}
    ]
    # Only the user with the same address: not 10007, whose address merely contains it.
    assert [each.path for each in zendesk.received if each.path.endswith("/requested")] == [
        "/api/v2/users/10003/tickets/requested"
    ]


async def test_a_contact_deleted_from_zendesk_has_no_tickets(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    gone = InteractionContact(contact_external_id="10099", contact_name="Gone")

    found = await hub.fetch_interactions(
        f"{bridge_url}/interaction_update", credentials, interaction_types=["ticket"], contact=gone
    )

    assert found.interactions == ()
    assert [each.path for each in zendesk.received] == ["/api/v2/users/10099/tickets/requested"]


async def test_an_account_zendesk_does_not_have_is_refused_on_every_endpoint(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient
) -> None:
    credentials = wrong(zendesk, account="https://gone.zendesk.com")
    jane = InteractionContact(contact_external_id="10001", contact_name="Jane Doe")

    with pytest.raises(CredentialsRejected):
        await hub.fetch_interactions(
            f"{bridge_url}/interaction_update",
            credentials,
            interaction_types=["ticket"],
            contact=jane,
        )
    with pytest.raises(CredentialsRejected):
        await hub.fetch_agents(f"{bridge_url}/agent_sync", credentials)

    assert len(zendesk.unexpected) == 2  # the fake's 404 for an account it does not have
    zendesk.unexpected.clear()


# Agents ----------------------------------------------------------------------------------


async def test_agents_are_the_active_agents_and_admins_across_pages(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    found = await hub.fetch_agents(f"{bridge_url}/agent_sync", credentials)

    assert [(each.id, each.name, each.email) for each in found.agents] == [
        ("20001", "Ada Agent", "ada@acme.example"),
        ("20002", "Bo Admin", "bo@acme.example"),
    ]
    first = {"role[]": ["agent", "admin"], "page[size]": ["100"]}
    assert [each.query for each in zendesk.seen("/api/v2/users")] == [
        first,
        {**first, "page[after]": ["eyJvIjoiaWQiLCJ2IjoiYVJ0T0FBQUFBQUFBIn0="]},
    ]


# create_ticket ---------------------------------------------------------------------------


async def test_create_ticket_creates_it_for_the_contact(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    outcome = await hub.execute_action(
        f"{bridge_url}/actions/create_ticket",
        credentials,
        data={"subject": "Missed call", "description": TICKET_DESCRIPTION},
        contact_external_id="10001",
    )

    assert (outcome.message, outcome.external_id) == ("Ticket #35437 created.", "35437")
    [posted] = zendesk.seen("/api/v2/tickets")
    assert posted.body == {
        "ticket": {
            "subject": "Missed call",
            "comment": {"body": TICKET_DESCRIPTION},
            "requester_id": 10001,
        }
    }


async def test_a_ticket_zendesk_refuses_is_refused_with_zendesks_reason(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    with pytest.raises(RequestRefused) as refused:
        await hub.execute_action(
            f"{bridge_url}/actions/create_ticket",
            credentials,
            data={"subject": "Missed call", "description": WEI_DESCRIPTION},
            contact_external_id="10005",
        )

    assert refused.value.bridge_message == (
        "Zendesk refused the ticket: Requester: Wei Chen is deleted"
    )


async def test_a_ticket_without_its_description_never_reaches_zendesk(
    zendesk: FakeZendesk, bridge_url: str, hub: BridgeClient, credentials: StaticCredentials
) -> None:
    with pytest.raises(RequestRefused) as refused:
        await hub.execute_action(
            f"{bridge_url}/actions/create_ticket", credentials, data={"subject": "Missed call"}
        )

    assert refused.value.bridge_message == "Mandatory input missing: description."
    assert zendesk.received == []


# check-bridge ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uvicorn_bridge(served_zendesk: tuple[FakeZendesk, str]) -> Iterator[str]:
    """`uvicorn zendesk_bridge:bridge`, run as the README says, with `ZENDESK_API_URL`
    pointing it at the fake Zendesk."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "ZENDESK_API_URL": served_zendesk[1] + "/{subdomain}"}
    command = [sys.executable, "-m", "uvicorn", "zendesk_bridge:bridge",
               "--host", HOST, "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, cwd=HERE, env=environment)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "uvicorn stopped while starting; see its output"
        try:
            httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return
    raise AssertionError(f"uvicorn did not start serving {url}")


def test_check_bridge_finds_the_bridge_conforming(
    tmp_path: Path, zendesk: FakeZendesk, uvicorn_bridge: str
) -> None:
    configuration, action = bridge.configurations(uvicorn_bridge)
    write(tmp_path / "zendesk.integration.json", configuration)
    write(tmp_path / "zendesk.create_ticket.action.json", action)
    write(tmp_path / "creds.json", {"fields": zendesk.auth})
    write(
        tmp_path / "samples.json",
        {
            "actions": [
                {
                    "configuration": "zendesk.create_ticket.action.json",
                    "valid": [
                        {
                            "data": {"subject": "Missed call", "description": TICKET_DESCRIPTION},
                            "contact_external_id": "10001",
                        }
                    ],
                    "invalid": [
                        {
                            "data": {
                                "subject": "Missed call",
                                "description": WEI_DESCRIPTION,
                            },
                            "contact_external_id": "10005",
                        }
                    ],
                }
            ]
        },
    )

    result = CliRunner().invoke(
        app,
        [
            "check-bridge", str(tmp_path / "zendesk.integration.json"),
            "--credentials", str(tmp_path / "creds.json"),
            "--actions", str(tmp_path / "samples.json"),
            "--allow-private-networks", "--json",
        ],
    )  # fmt: skip

    report = json.loads(result.stdout)
    failed = [each for each in report["findings"] if each["verdict"] == "fail"]
    assert (result.exit_code, failed) == (0, []), result.stdout
    assert report["counts"]["skip"] == 0
    # Every endpoint was asked, with the test credentials and with made-up ones.
    asked = {each.path for each in zendesk.received}
    assert {EXPORT, "/api/v2/users", "/api/v2/tickets", "/api/v2/users/me"} <= asked
    # What Zendesk refused was only ever the made-up credentials.
    assert zendesk.unexpected
    assert all(each.authorization != zendesk.authorization for each in zendesk.unexpected)
    zendesk.unexpected.clear()  # Zendesk's refusals of the made-up credentials


def write(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")
