"""The demo helpdesk bridge, served for real on 127.0.0.1 and spoken to with the protocol's
own models, as the hub speaks to it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from starlette.types import ASGIApp, Receive, Scope, Send

from bridgehub.bridge.protocol import (
    ActionMeta,
    ActionRequest,
    AgentSyncRequest,
    AuthValidationRequest,
    BridgeRequest,
    Contact,
    ContactPage,
    ContactSyncMeta,
    ContactSyncRequest,
    InteractionContact,
    InteractionMeta,
    InteractionRequest,
    parse_action_outcome,
    parse_agents,
    parse_contact_page,
    parse_interactions,
)
from bridgehub.demo.helpdesk import (
    CRM,
    CRM_INSTANCE_URL,
    HELPDESK,
    HelpdeskBridge,
    configurations,
    crm_oauth_client,
)
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import (
    PRIORITIES,
    STATUSES,
    ContactDetails,
    HelpdeskDatabase,
    InteractionDetails,
)
from bridgehub.demo.oauth_provider import OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve
from bridgehub.integrations.configuration import validate_action, validate_integration

CRM_TOKEN = "a-valid-crm-token"
CALLBACK = "http://127.0.0.1:8000/oauth/callback"
PAGE_SIZE = 7
CONTACTS = 40


class Switchboard:
    """One server for the whole module, passing each request to the running test's bridge:
    a server takes 0.2 s to stop, a bridge no time to make."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no bridge is plugged in"
        await self.app(scope, receive, send)


@dataclass
class Running:
    bridge: HelpdeskBridge
    database: HelpdeskDatabase
    http: httpx.Client

    def call(self, endpoint: str, message: BridgeRequest) -> httpx.Response:
        """POST a protocol message as the hub sends it."""
        headers = {"Content-Type": "application/json"}
        return self.http.post(endpoint, content=message.to_json(), headers=headers)

    def helpdesk_auth(self, **changes: str) -> dict[str, str]:
        account = self.database.accounts()[0]
        auth = {"subdomain": account.url, "email": account.email, "api_token": account.api_token}
        return auth | changes

    def deletions(self, checkpoint: str | None) -> tuple[list[str], httpx.Response]:
        """The `deleted_contacts` of every page of a run, and its last answer, as sent."""
        deleted: list[str] = []
        offset: str | None = None
        while True:
            meta = ContactSyncMeta(synchronization_checkpoint=checkpoint, offset=offset)
            request = ContactSyncRequest(auth=self.helpdesk_auth(), meta=meta)
            response = self.call("/helpdesk/contact_sync", request)
            if response.status_code != 200:
                return deleted, response
            deleted += response.json().get("deleted_contacts", [])
            if (offset := response.json().get("next_offset")) is None:
                return deleted, response

    def sync(self, checkpoint: str | None = None, offset: str | None = None) -> list[ContactPage]:
        """Every page of a contact sync run, from its start or from `offset`."""
        pages: list[ContactPage] = []
        offsets: set[str] = set()
        while True:
            meta = ContactSyncMeta(synchronization_checkpoint=checkpoint, offset=offset)
            request = ContactSyncRequest(auth=self.helpdesk_auth(), meta=meta)
            response = self.call("/helpdesk/contact_sync", request)
            assert response.status_code == 200, response.text
            pages.append(parse_contact_page(response.json()))
            offset = pages[-1].next_offset
            if offset is None:
                return pages
            assert offset not in offsets, "an offset repeated within a run"
            offsets.add(offset)


Plug = Callable[[HelpdeskBridge], Running]


@pytest.fixture(scope="module")
def switchboard() -> Iterator[tuple[Switchboard, str]]:
    board = Switchboard()
    with serve(board, lifespan="off") as url:
        yield board, url


@pytest.fixture
def plug(switchboard: tuple[Switchboard, str]) -> Iterator[Plug]:
    """Serve a bridge for this test."""
    board, url = switchboard
    with httpx.Client(base_url=url) as http:

        def plug_in(bridge: HelpdeskBridge) -> Running:
            board.app = bridge.app
            return Running(bridge, bridge.database, http)

        yield plug_in
    board.app = None


@pytest.fixture
def running(plug: Plug) -> Iterator[Running]:
    database = HelpdeskDatabase()
    seed(database, count_contacts=CONTACTS)
    yield plug(
        HelpdeskBridge(database, token_is_valid={CRM_TOKEN}.__contains__, page_size=PAGE_SIZE)
    )
    database.close()


def contact_request(
    auth: dict[str, Any], types: tuple[str, ...], **data: Any
) -> InteractionRequest:
    contact = InteractionContact(contact_name="Someone", **data)
    return InteractionRequest(
        auth=auth, meta=InteractionMeta(interaction_types=types), data=contact
    )


CRM_AUTH = {"access_token": CRM_TOKEN, "instance_url": CRM_INSTANCE_URL}


# Configuration and authentication ------------------------------------------------------


def test_configurations_validate_and_point_at_every_endpoint_the_bridge_serves(
    running: Running,
) -> None:
    url = str(running.http.base_url).rstrip("/")
    documents = configurations(url, "http://127.0.0.1:9/", "hub", "s3cret")

    integrations = [validate_integration(each) for each in documents if "provider" not in each]
    actions = [
        validate_action(each, providers=(HELPDESK, CRM)) for each in documents if "provider" in each
    ]

    assert [each.name for each in integrations] == [HELPDESK, CRM]
    assert [(each.provider, each.name) for each in actions] == [
        (HELPDESK, "create_ticket"),
        (HELPDESK, "create_contact"),
        (CRM, "log_call"),
    ]
    crm = integrations[1]
    assert crm.oauth2_configuration is not None
    assert crm.oauth2_configuration.authorize_url == "http://127.0.0.1:9/authorize"
    assert dict(crm.authentication_fields())["instance_url"].type == "oauth"
    configured = [
        endpoint
        for configuration in integrations
        for endpoint in (
            configuration.auth_validation_endpoint,
            configuration.contact_synchronization_endpoint,
            configuration.interaction_retrieval_endpoint,
            configuration.agent_synchronization_endpoint,
        )
    ] + [action.endpoint for action in actions]
    assert sorted(endpoint.removeprefix(url) for endpoint in configured if endpoint) == sorted(
        running.bridge.endpoints
    )


def test_helpdesk_credentials_are_validated_against_its_accounts(running: Running) -> None:
    account = running.database.accounts()[1]
    auth = {
        "subdomain": account.url + "/",
        "email": account.email.upper(),
        "api_token": account.api_token,
    }

    response = running.call("/helpdesk/auth_validation", AuthValidationRequest(auth=auth))

    assert response.status_code == 200
    assert response.json() == {"helpdesk_account_id": str(account.id)}


@pytest.mark.parametrize(
    "changes",
    [
        {"api_token": "wrong"},
        {"email": "someone@acme.example"},
        {"subdomain": "https://initech.helpdesk.example"},
    ],
)
@pytest.mark.parametrize(
    "endpoint",
    ["/helpdesk/auth_validation", "/helpdesk/contact_sync", "/helpdesk/agent_sync"],
)
def test_every_helpdesk_endpoint_refuses_credentials_of_no_account(
    running: Running, changes: dict[str, str], endpoint: str
) -> None:
    auth = running.helpdesk_auth(**changes)
    # `{"auth": {...}}` alone is a whole request to each of these endpoints.
    assert running.call(endpoint, AgentSyncRequest(auth=auth)).status_code == 401


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("/helpdesk/auth_validation", AuthValidationRequest(auth={"subdomain": "x"})),
        ("/helpdesk/interactions", contact_request({}, ("ticket",), contact_external_id="1")),
        (
            "/helpdesk/actions/create_ticket",
            ActionRequest(auth={}, data={"subject": "a", "description": "b"}),
        ),
        ("/crm/auth_validation", AuthValidationRequest(auth={"access_token": "expired"})),
        ("/crm/contact_sync", ContactSyncRequest(auth={})),
        ("/crm/actions/log_call", ActionRequest(auth={"access_token": "x"}, data={"summary": "a"})),
    ],
)
def test_requests_without_valid_credentials_answer_401(
    running: Running, endpoint: str, message: BridgeRequest
) -> None:
    assert running.call(endpoint, message).status_code == 401
    assert running.bridge.created() == []


def test_crm_validation_answers_the_token_owner(running: Running) -> None:
    response = running.call("/crm/auth_validation", AuthValidationRequest(auth=CRM_AUTH))

    assert response.status_code == 200
    assert response.json() == {"crm_user": "demo@example.com"}


async def test_crm_accepts_the_providers_access_tokens_until_they_expire(plug: Plug) -> None:
    provider = OAuthProvider(
        ProviderConfig(
            clients=(crm_oauth_client("hub", "s3cret", CALLBACK),),
            auto_approve=True,
            token_extras={"instance_url": CRM_INSTANCE_URL},
        )
    )
    database = HelpdeskDatabase()
    running = plug(HelpdeskBridge(database, token_is_valid=provider.is_valid_access_token))
    with serve(provider.app, lifespan="off") as provider_url:
        crm = configurations("http://bridge.test", provider_url, "hub", "s3cret")[1]
        oauth2 = crm["oauth2_configuration"]
        verifier = secrets.token_urlsafe(48)
        async with (
            AsyncOAuth2Client(
                oauth2["client_id"],
                oauth2["client_secret"],
                scope=" ".join(oauth2["scopes"]),
                redirect_uri=CALLBACK,
                code_challenge_method="S256",
            ) as client,
            httpx.AsyncClient() as browser,
        ):
            url, _ = client.create_authorization_url(
                oauth2["authorize_url"], code_verifier=verifier
            )
            redirect = (await browser.get(url)).headers["location"]
            token = await client.fetch_token(
                oauth2["token_url"], authorization_response=redirect, code_verifier=verifier
            )
        auth = {"access_token": token["access_token"], "instance_url": token["instance_url"]}

        accepted = running.call("/crm/auth_validation", AuthValidationRequest(auth=auth))
        provider.expire_access_tokens()
        refused = running.call("/crm/auth_validation", AuthValidationRequest(auth=auth))
    database.close()

    assert accepted.status_code == 200
    assert refused.status_code == 401


# Contact synchronization ---------------------------------------------------------------


def test_an_initial_sync_pages_through_every_contact_in_order_of_change(running: Running) -> None:
    pages = running.sync()

    delivered = [contact.id for page in pages for contact in page.contacts]
    assert delivered == [str(contact.id) for contact in running.database.contacts()]
    assert len(delivered) == CONTACTS
    assert [len(page.contacts) for page in pages[:-1]] == [PAGE_SIZE] * (len(pages) - 1)
    assert all(page.rejected == () for page in pages)
    # The checkpoint comes once, with the last page: it covers the whole run.
    assert [page.synchronization_checkpoint is not None for page in pages] == [False] * (
        len(pages) - 1
    ) + [True]


def test_an_incremental_sync_answers_only_what_changed_since_the_checkpoint(
    running: Running,
) -> None:
    checkpoint = running.sync()[-1].synchronization_checkpoint
    first, second, third = running.database.contacts()[:3]
    added = running.database.add_contact(
        ContactDetails("Zoë Ashworth", phones=("+44 20 7946 0018",))
    )
    running.database.update_contact(second.id, title="Chief Happiness Officer")
    running.database.update_contact(first.id)
    running.database.delete_contact(third.id)

    pages = running.sync(checkpoint)

    contacts = [contact for page in pages for contact in page.contacts]
    assert [contact.id for contact in contacts] == [str(added.id), str(second.id), str(first.id)]
    assert contacts[1].title == "Chief Happiness Officer"
    later = pages[-1].synchronization_checkpoint
    assert later not in (None, checkpoint)
    # Nothing changed since: nothing is sent, and the checkpoint stays.
    assert running.sync(later)[-1].contacts == ()
    assert running.sync(later)[-1].synchronization_checkpoint == later


def test_an_incremental_sync_names_the_contacts_deleted_since_the_checkpoint(
    running: Running,
) -> None:
    contacts = running.database.contacts()
    first = running.sync()[-1].synchronization_checkpoint
    running.database.delete_contact(contacts[0].id)
    checkpoint = running.sync(first)[-1].synchronization_checkpoint
    # Enough deletions and changes for the run to take pages, in the order they were.
    gone = contacts[1 : PAGE_SIZE + 3]
    for contact in gone:
        running.database.delete_contact(contact.id)
    changed = running.database.update_contact(contacts[-1].id, title="Archivist")

    deleted, _ = running.deletions(checkpoint)
    pages = running.sync(checkpoint)

    assert deleted == [str(contact.id) for contact in gone]
    assert [contact.id for page in pages for contact in page.contacts] == [str(changed.id)]
    later = pages[-1].synchronization_checkpoint
    assert running.deletions(later)[0] == []
    # A full run names no deletions: the hub removes what it no longer gets.
    assert running.deletions(None)[0] == []


def test_a_checkpoint_older_than_the_changes_remembered_answers_410(running: Running) -> None:
    old = running.sync()[-1].synchronization_checkpoint
    gone = running.database.delete_contact(running.database.contacts()[0].id)
    recent = running.sync(old)[-1].synchronization_checkpoint
    running.database.forget_changes_before(gone.deleted_at)

    _, refused = running.deletions(old)
    deleted, answered = running.deletions(recent)

    assert (refused.status_code, refused.json()) == (
        410,
        {"message": "The helpdesk no longer remembers changes that old."},
    )
    assert (answered.status_code, deleted) == (200, [])
    assert running.deletions(None)[1].status_code == 200


def test_a_deleted_contacts_id_given_again_is_no_longer_deleted(tmp_path: Path) -> None:
    database = HelpdeskDatabase(tmp_path / "helpdesk.sqlite3")
    seed(database, count_contacts=3)
    start = database.contacts()[-1].cursor
    last = max(database.contacts(), key=lambda contact: contact.id)
    database.delete_contact(last.id)

    again = database.add_contact(ContactDetails("Newcomer"))
    database.close()
    reopened = HelpdeskDatabase(tmp_path / "helpdesk.sqlite3")

    assert again.id == last.id  # SQLite gives the highest id again once it is free
    assert reopened.changes(after=start) == [again]
    reopened.close()


def test_a_contact_changed_during_a_run_comes_again_later_in_the_same_run(
    running: Running,
) -> None:
    request = ContactSyncRequest(auth=running.helpdesk_auth())
    first_page = parse_contact_page(running.call("/helpdesk/contact_sync", request).json())
    changed = first_page.contacts[0].id
    running.database.update_contact(int(changed), company="Initech")

    rest = running.sync(offset=first_page.next_offset)

    delivered = [contact for page in [first_page, *rest] for contact in page.contacts]
    assert len({contact.id for contact in delivered}) == CONTACTS
    assert (delivered[-1].id, delivered[-1].company) == (changed, "Initech")


def test_an_offset_the_bridge_never_gave_is_refused(running: Running) -> None:
    meta = ContactSyncMeta(offset="not-a-cursor")
    request = ContactSyncRequest(auth=running.helpdesk_auth(), meta=meta)

    response = running.call("/helpdesk/contact_sync", request)

    assert response.status_code == 400
    assert "offset" in response.json()["message"]


def test_a_malformed_contact_is_rejected_alone(running: Running) -> None:
    victim = running.database.contacts()[2]
    running.bridge.malform_contact(victim.id)

    first_page = running.sync()[0]

    assert [(each.id, each.reason) for each in first_page.rejected] == [
        (str(victim.id), "name: is required")
    ]
    assert len(first_page.contacts) == PAGE_SIZE - 1


def test_phone_numbers_come_in_many_real_world_formats(running: Running) -> None:
    sent = [
        (contact.id, phone)
        for page in running.sync()
        for contact in page.contacts
        for phone in contact.phones
    ]
    phones = [phone for _, phone in sent]
    kinds: dict[str, Callable[[str], object]] = {
        "international": lambda phone: phone.startswith("+"),
        "area code in parentheses": lambda phone: phone.startswith("("),
        "national, with its trunk prefix": lambda phone: re.match(r"0[1-9]", phone),
        "dialled from abroad": lambda phone: phone.startswith("00"),
        "digits alone": str.isdigit,
        "dotted": lambda phone: "." in phone,
        "trunk prefix in parentheses": lambda phone: "(0)" in phone,
    }

    assert [kind for kind, test in kinds.items() if not any(map(test, phones))] == []
    assert len({re.sub(r"\d", "9", phone) for phone in phones}) >= 20
    # Each still reads as one number, dialled from where its contact lives.
    countries = {str(each.id): each.details.country for each in running.database.contacts()}
    parsed = [phonenumbers.parse(phone, countries[contact]) for contact, phone in sent]
    assert len({number.country_code for number in parsed}) >= 6


# Interactions --------------------------------------------------------------------------


def test_helpdesk_interactions_are_the_contacts_tickets_linked_to_its_account(
    running: Running,
) -> None:
    database = running.database
    contact = next(
        each
        for each in database.contacts()
        if {"ticket", "deal"}
        <= {i.details.type for i in database.interactions([each.id], ("ticket", "deal", "call"))}
    )
    request = contact_request(
        running.helpdesk_auth(), ("ticket",), contact_external_id=str(contact.id)
    )

    response = running.call("/helpdesk/interactions", request)

    result = parse_interactions(response.json(), ["ticket"])
    assert result.rejected == ()
    tickets = database.interactions([contact.id], ["ticket"])
    assert [each.id for each in result.interactions] == [str(ticket.id) for ticket in tickets]
    account = database.accounts()[0]
    assert {each.url for each in result.interactions} == {
        f"{account.url}/tickets/{ticket.id}" for ticket in tickets
    }


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(("deal",), {"deal"}), (("call", "deal", "ticket"), {"deal", "call"}), ((), set())],
)
def test_crm_interactions_are_deals_and_calls_of_the_requested_types(
    running: Running, requested: tuple[str, ...], expected: set[str]
) -> None:
    everything = ("ticket", "deal", "call")
    contact = next(
        each
        for each in running.database.contacts()
        if {"deal", "call"}
        <= {i.details.type for i in running.database.interactions([each.id], everything)}
    )
    request = contact_request(CRM_AUTH, requested, contact_external_id=str(contact.id))

    answer = running.call("/crm/interactions", request).json()

    result = parse_interactions(answer, requested)
    assert result.rejected == ()
    assert {each.type for each in result.interactions} == expected
    assert all(
        each.url == f"{CRM_INSTANCE_URL}/{each.type}s/{each.id}" for each in result.interactions
    )


@pytest.mark.parametrize(
    ("stored", "country", "asked"),
    [
        ("(646) 555-0142", "US", "+16465550142"),
        ("0113 496 0018", "GB", "+441134960018"),
        ("0016465550142", "PT", "+16465550142"),
        ("+44 (0)113 496 0018", "FR", "+44 113 496 0018"),
    ],
)
def test_a_contact_from_elsewhere_is_matched_by_phone_whatever_the_format(
    running: Running, stored: str, country: str, asked: str
) -> None:
    contact = running.database.add_contact(
        ContactDetails("Jane Doe", phones=(stored,), country=country)
    )
    ticket = running.database.add_interaction(
        InteractionDetails("ticket", "Printer on fire"), contact_id=contact.id
    )

    answer = running.call(
        "/helpdesk/interactions",
        contact_request(running.helpdesk_auth(), ("ticket",), contact_phones=(asked,)),
    ).json()

    assert [each["id"] for each in answer] == [str(ticket.id)]


def test_a_contact_from_elsewhere_is_matched_by_email_in_any_case(running: Running) -> None:
    contact = running.database.add_contact(
        ContactDetails("Jane Doe", emails=("Jane.Doe@Example.com",))
    )
    call = running.database.add_interaction(
        InteractionDetails("call", "Inbound call"), contact_id=contact.id
    )
    unknown = contact_request(CRM_AUTH, ("call",), contact_emails=("nobody@example.com",))
    known = contact_request(CRM_AUTH, ("call",), contact_emails=("jane.doe@example.com",))

    assert running.call("/crm/interactions", unknown).json() == []
    assert [each["id"] for each in running.call("/crm/interactions", known).json()] == [
        str(call.id)
    ]


def test_a_deleted_contact_has_no_interactions(running: Running) -> None:
    contact = running.database.contacts()[0]
    running.database.delete_contact(contact.id)
    request = contact_request(
        running.helpdesk_auth(), ("ticket",), contact_external_id=str(contact.id)
    )

    assert running.call("/helpdesk/interactions", request).json() == []


# Agents --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "crm"), [("/helpdesk/agent_sync", False), ("/crm/agent_sync", True)]
)
def test_agents_are_sent_with_numeric_ids(running: Running, endpoint: str, crm: bool) -> None:
    auth = CRM_AUTH if crm else running.helpdesk_auth()

    answer = running.call(endpoint, AgentSyncRequest(auth=auth)).json()

    assert all(isinstance(each["id"], int) for each in answer["agents"])
    agents = parse_agents(answer)
    assert agents.rejected == ()
    assert [(each.id, each.name, each.email) for each in agents.agents] == [
        (str(agent.id), agent.name, agent.email) for agent in running.database.agents()
    ]


# Actions -------------------------------------------------------------------------------


def test_create_ticket_opens_a_ticket_for_the_contact(running: Running) -> None:
    contact = running.database.contacts()[0]
    meta = ActionMeta(contact_external_id=str(contact.id), agent_external_id="341231")
    data = {"subject": "Missed call", "description": "Jane called at 10:02.", "priority": "high"}

    response = running.call(
        "/helpdesk/actions/create_ticket",
        ActionRequest(auth=running.helpdesk_auth(), meta=meta, data=data),
    )

    assert response.status_code == 201
    outcome = parse_action_outcome(response.json())
    [created] = running.bridge.created()
    assert (outcome.external_id, outcome.message) == (
        str(created.id),
        f"Ticket #{created.id} created.",
    )
    assert created.contact_id == contact.id
    assert created.details == InteractionDetails(
        "ticket", "Missed call", "Jane called at 10:02.", "high", "new"
    )
    tickets = running.call(
        "/helpdesk/interactions",
        contact_request(running.helpdesk_auth(), ("ticket",), contact_external_id=str(contact.id)),
    ).json()
    assert outcome.external_id in [each["id"] for each in tickets]


@pytest.mark.parametrize(
    ("data", "contact", "said"),
    [
        ({"description": "b"}, None, "subject"),
        ({"subject": "a", "description": "  "}, None, "description"),
        (
            {"subject": "a", "description": "b", "priority": "critical"},
            None,
            '"Priority" must be one of',
        ),
        ({"subject": "a", "description": "b"}, "999999", "999999"),
        ({"subject": "a", "description": "b"}, "jane", "jane"),
    ],
)
def test_create_ticket_refuses_what_it_cannot_take(
    running: Running, data: dict[str, str], contact: str | None, said: str
) -> None:
    request = ActionRequest(
        auth=running.helpdesk_auth(), meta=ActionMeta(contact_external_id=contact), data=data
    )

    response = running.call("/helpdesk/actions/create_ticket", request)

    assert response.status_code == 400
    assert said in response.json()["message"]
    assert running.bridge.created() == []


def test_create_contact_answers_the_contact_it_created(running: Running) -> None:
    data = {"name": "Unknown caller", "phone": "+1 212 555 0199", "email": " "}

    response = running.call(
        "/helpdesk/actions/create_contact",
        ActionRequest(auth=running.helpdesk_auth(), data=data),
    )

    assert response.status_code == 201
    outcome = parse_action_outcome(response.json())
    assert outcome.contact_external_id is not None
    created = running.database.contact(int(outcome.contact_external_id))
    assert created.details == ContactDetails("Unknown caller", phones=("+1 212 555 0199",))
    assert (outcome.external_id, outcome.message) == (
        str(created.id),
        f"Contact #{created.id} created.",
    )
    assert outcome.contact == Contact(
        id=str(created.id), name="Unknown caller", phones=("+1 212 555 0199",)
    )
    assert outcome.contact_rejected is None
    assert running.bridge.created() == []


def test_log_call_logs_a_call_on_the_contact(running: Running) -> None:
    contact = running.database.contacts()[0]
    meta = ActionMeta(contact_external_id=str(contact.id))
    data = {"summary": "Talked about the renewal.", "duration_seconds": 95}

    response = running.call(
        "/crm/actions/log_call", ActionRequest(auth=CRM_AUTH, meta=meta, data=data)
    )

    assert response.status_code == 201
    external_id = response.json()["external_id"]
    calls = running.call(
        "/crm/interactions",
        contact_request(CRM_AUTH, ("call",), contact_external_id=str(contact.id)),
    ).json()
    [logged] = [each for each in calls if each["id"] == external_id]
    assert logged["subject"] == "Logged call (95 s)"
    assert logged["description"] == "Talked about the renewal."
    assert logged["url"] == f"{CRM_INSTANCE_URL}/calls/{external_id}"


def test_log_call_adds_to_the_call_it_logged_when_given_its_id(running: Running) -> None:
    def log(data: dict[str, Any]) -> str:
        response = running.call("/crm/actions/log_call", ActionRequest(auth=CRM_AUTH, data=data))
        assert response.status_code == 201, response.text
        external_id: str = response.json()["external_id"]
        return external_id

    logged = log({"summary": "Talked about the renewal.", "duration_seconds": 95})
    added = log({"summary": "Resolved: renewal signed.", "call_external_id": logged})

    assert added == logged
    assert len(running.bridge.created()) == 1
    record = running.database.interaction(int(logged))
    assert record.details.subject == "Logged call (95 s)"
    assert record.details.description == "Talked about the renewal.\n\nResolved: renewal signed."


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"duration_seconds": "60"}, "summary"),
        ({"summary": "a", "duration_seconds": "a minute"}, "duration_seconds"),
        ({"summary": "a", "call_external_id": "999999"}, 'No call has the id "999999"'),
        ({"summary": "a", "call_external_id": "call-1"}, 'No call has the id "call-1"'),
    ],
)
def test_log_call_refuses_what_it_cannot_take(
    running: Running, data: dict[str, str], said: str
) -> None:
    response = running.call("/crm/actions/log_call", ActionRequest(auth=CRM_AUTH, data=data))

    assert response.status_code == 400
    assert said in response.json()["message"]


# Steering and inspection ---------------------------------------------------------------


def test_fail_next_fails_that_many_requests_to_that_endpoint(running: Running) -> None:
    running.bridge.fail_next("/helpdesk/agent_sync", 2, 503, retry_after=3)
    request = AgentSyncRequest(auth=running.helpdesk_auth())

    responses = [running.call("/helpdesk/agent_sync", request) for _ in range(3)]

    assert [each.status_code for each in responses] == [503, 503, 200]
    assert [each.headers.get("retry-after") for each in responses] == ["3", "3", None]
    assert len(running.bridge.received("/helpdesk/agent_sync")) == 3
    assert running.call("/crm/agent_sync", AgentSyncRequest(auth=CRM_AUTH)).status_code == 200


def test_steering_an_endpoint_the_bridge_does_not_serve_is_a_mistake(running: Running) -> None:
    with pytest.raises(ValueError, match="/helpdesk/actions/create_ticket"):
        running.bridge.fail_next("/helpdesk/create_ticket", 1, 500)


def test_the_bridge_records_each_request_as_received_credentials_included(running: Running) -> None:
    request = ActionRequest(
        auth=running.helpdesk_auth(), data={"subject": "Missed call", "description": "At 10:02."}
    )

    running.call("/helpdesk/actions/create_ticket", request)

    [received] = running.bridge.received("/helpdesk/actions/create_ticket")
    assert received.json() == {"auth": running.helpdesk_auth(), "meta": {}, "data": request.data}
    assert received.headers["content-type"] == "application/json"
    assert running.bridge.received("/crm/actions/log_call") == []


def test_a_body_that_is_no_protocol_request_is_refused(running: Running) -> None:
    response = running.http.post("/helpdesk/contact_sync", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("The request breaks the bridge protocol")


def test_concurrent_syncs_while_contacts_change_each_see_every_contact(running: Running) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = [pool.submit(running.sync) for _ in range(6)]
        for contact in running.database.contacts()[:20]:
            running.database.update_contact(contact.id, title="Changed meanwhile")
        results = [run.result() for run in runs]

    for pages in results:
        assert len({contact.id for page in pages for contact in page.contacts}) == CONTACTS


# The seed ------------------------------------------------------------------------------


def test_the_seed_is_the_same_every_time_and_has_every_priority_and_status() -> None:
    first, second = HelpdeskDatabase(), HelpdeskDatabase()
    seed(first)
    seed(second)

    assert first.contacts() == second.contacts()
    assert first.agents() == second.agents()
    assert first.accounts() == second.accounts()
    contact_ids = [each.id for each in first.contacts()]
    tickets = first.interactions(contact_ids, ["ticket"])
    assert {each.details.priority for each in tickets} == set(PRIORITIES)
    assert {each.details.status for each in tickets} == set(STATUSES)
    assert {each.details.type for each in first.interactions(contact_ids, ["deal", "call"])} == {
        "deal",
        "call",
    }
    with pytest.raises(ValueError, match="already holds data"):
        seed(first)


def test_a_database_file_keeps_its_data_and_later_changes_sort_last(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.sqlite3"
    database = HelpdeskDatabase(path)
    seed(database, count_contacts=5)
    seeded = database.contacts()
    database.close()

    reopened = HelpdeskDatabase(path)
    changed = reopened.update_contact(seeded[0].id)

    assert reopened.contacts() == [*seeded[1:], changed]
    reopened.close()
