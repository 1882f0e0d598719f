"""A bridge built with the SDK, served over real HTTP and driven by the hub's own bridge
client: every decorator, every exception and what it answers, and requests that break the
protocol."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Mount

from bridgehub.bridge import (
    BridgeUnavailable,
    InteractionContact,
    RequestRefused,
    StaticCredentials,
)
from bridgehub.bridge import CredentialsRejected as HubSawCredentialsRejected
from bridgehub.sdk import (
    ActionInput,
    ActionOutcome,
    ActionRefused,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthValidationRequest,
    Bridge,
    Contact,
    ContactsPage,
    ContactSyncRequest,
    CredentialsRejected,
    Interaction,
    InteractionRequest,
    StateCodec,
    TemporarilyUnavailable,
)
from tests.sdk.conftest import API_KEY, Plug, new_bridge

CREDENTIALS = StaticCredentials({"api_key": API_KEY})
WRONG = StaticCredentials({"api_key": "not-the-key"})
JANE = InteractionContact(contact_name="Jane Doe", contact_external_id="1")


def check(auth: dict[str, Any]) -> None:
    if auth.get("api_key") != API_KEY:
        raise CredentialsRejected("That API key opens no Tiny Desk account.")


def ticket_action(bridge: Bridge, handler: Any) -> None:
    bridge.action(
        "create_ticket",
        display="create a ticket",
        description="create a new ticket in Tiny Desk",
        inputs=[
            ActionInput(key="subject", name="Subject", mandatory=True),
            ActionInput(key="priority", name="Priority", mandatory=False),
        ],
    )(handler)


# Auth validation -----------------------------------------------------------------------


async def test_auth_validation_answers_the_values_to_keep(served: Plug) -> None:
    bridge = new_bridge()

    @bridge.auth_validation
    def validate(request: AuthValidationRequest) -> dict[str, str]:
        check(request.auth)
        return {"account_id": "acct-7"}

    running = served(bridge)

    assert await running.hub.validate_auth(running.endpoint("/auth_validation"), CREDENTIALS) == {
        "account_id": "acct-7"
    }
    with pytest.raises(HubSawCredentialsRejected):
        await running.hub.validate_auth(running.endpoint("/auth_validation"), WRONG)


async def test_auth_validation_without_values_answers_204(served: Plug) -> None:
    bridge = new_bridge()

    @bridge.auth_validation
    async def validate(request: AuthValidationRequest) -> None:
        check(request.auth)

    running = served(bridge)

    assert (
        running.http.post("/auth_validation", json={"auth": {"api_key": API_KEY}}).status_code
        == 204
    )
    assert await running.hub.validate_auth(running.endpoint("/auth_validation"), CREDENTIALS) == {}


# Contact synchronization ---------------------------------------------------------------


class Position(BaseModel):
    index: int


def paging_bridge(contacts: list[Contact], page_size: int) -> Bridge:
    """Contacts in order of change; offsets and checkpoints are positions among them."""
    bridge = new_bridge()
    positions = StateCodec(Position, secret="tests-secret")

    @bridge.contacts
    async def sync(request: ContactSyncRequest) -> ContactsPage:
        check(request.auth)
        meta = request.meta
        start = positions.decode_optional(meta.offset, field="meta.offset") or (
            positions.decode_optional(meta.synchronization_checkpoint, field="meta.checkpoint")
        )
        first = 0 if start is None else start.index
        page = contacts[first : first + page_size]
        end = Position(index=first + len(page))
        if end.index < len(contacts):
            return ContactsPage(contacts=page, next_offset=positions.encode(end))
        return ContactsPage(contacts=page, synchronization_checkpoint=positions.encode(end))

    return bridge


async def test_contacts_page_through_offsets_and_end_with_a_checkpoint(served: Plug) -> None:
    contacts = [
        Contact(id=str(n), name=f"Contact {n}", phones=(f"+1 415 555 01{n:02}",)) for n in range(7)
    ]
    running = served(paging_bridge(contacts, page_size=3))
    url = running.endpoint("/contact_sync")

    pages = []
    offset = None
    while True:
        page = await running.hub.fetch_contacts(url, CREDENTIALS, checkpoint=None, offset=offset)
        pages.append(page)
        if (offset := page.next_offset) is None:
            break
    checkpoint = pages[-1].synchronization_checkpoint
    contacts.append(Contact(id="7", name="Newcomer"))
    later = await running.hub.fetch_contacts(url, CREDENTIALS, checkpoint=checkpoint, offset=None)

    assert [len(page.contacts) for page in pages] == [3, 3, 1]
    assert [c for page in pages for c in page.contacts] == contacts[:7]
    assert all(page.rejected == () for page in pages)
    assert [page.synchronization_checkpoint is None for page in pages] == [True, True, False]
    assert [c.id for c in later.contacts] == ["7"]


@pytest.mark.parametrize(
    ("offset", "why"),
    [
        ("3", "it is not in this bridge's format"),
        ("s1.eyJpbmRleCI6MX0.AAAAAAAAAAAAAAAAAAAAAA", "its signature does not match"),
        ("s1.eyJpbmRleCI6MX0.***", "it is not in this bridge's format"),
    ],
)
async def test_an_offset_the_bridge_never_gave_answers_400_naming_it(
    served: Plug, offset: str, why: str
) -> None:
    running = served(paging_bridge([Contact(id="1", name="Jane")], page_size=1))

    with pytest.raises(RequestRefused) as refused:
        await running.hub.fetch_contacts(
            running.endpoint("/contact_sync"), CREDENTIALS, checkpoint=None, offset=offset
        )

    assert refused.value.bridge_message == f"meta.offset is not a value this bridge gave: {why}."


# Interactions and agents ---------------------------------------------------------------


async def test_interactions_answer_only_the_requested_types(
    served: Plug, caplog: pytest.LogCaptureFixture
) -> None:
    bridge = new_bridge(interaction_types=["ticket", "call"])
    seen: list[InteractionRequest] = []

    @bridge.interactions
    def interactions(request: InteractionRequest) -> list[Interaction]:
        check(request.auth)
        seen.append(request)
        when = datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
        return [
            Interaction(id="42", type="ticket", subject="Printer on fire", priority="urgent",
                        status="open", date=when, url="https://tiny.example/tickets/42"),
            Interaction(id="43", type="call", subject="Inbound call", priority="none",
                        status="closed"),
        ]  # fmt: skip

    running = served(bridge)

    result = await running.hub.fetch_interactions(
        running.endpoint("/interactions"), CREDENTIALS, interaction_types=["ticket"], contact=JANE
    )

    assert seen[0].data == JANE
    assert [(each.id, each.type, each.date) for each in result.interactions] == [
        ("42", "ticket", datetime(2024, 5, 2, 8, 30, tzinfo=UTC))
    ]
    assert result.rejected == ()
    assert "1 interactions of types the hub did not ask for: call" in caplog.text


async def test_agents_answer_every_agent(served: Plug) -> None:
    bridge = new_bridge()

    @bridge.agents
    def agents(request: AgentSyncRequest) -> list[Agent]:
        check(request.auth)
        return [Agent(id="7", name="John Doe", email="john@tiny.example")]

    running = served(bridge)

    found = await running.hub.fetch_agents(running.endpoint("/agent_sync"), CREDENTIALS)

    assert [(a.id, a.name, a.email) for a in found.agents] == [
        ("7", "John Doe", "john@tiny.example")
    ]


# Actions -------------------------------------------------------------------------------


async def test_an_action_answers_its_outcome_with_201(served: Plug) -> None:
    bridge = new_bridge()
    received: list[ActionRequest] = []

    def create_ticket(request: ActionRequest) -> ActionOutcome:
        check(request.auth)
        received.append(request)
        return ActionOutcome(message="Ticket #9 created.", external_id="9", problem="not sent")

    ticket_action(bridge, create_ticket)
    running = served(bridge)

    raw = running.http.post(
        "/actions/create_ticket", json={"auth": {"api_key": API_KEY}, "data": {"subject": "Hi"}}
    )
    outcome = await running.hub.execute_action(
        running.endpoint("/actions/create_ticket"),
        CREDENTIALS,
        data={"subject": "Missed call", "priority": "high"},
        contact_external_id="1",
        agent_external_id="341231",
    )

    assert (raw.status_code, raw.json()) == (
        201,
        {"message": "Ticket #9 created.", "external_id": "9"},
    )
    assert (outcome.message, outcome.external_id, outcome.problem) == (
        "Ticket #9 created.",
        "9",
        None,
    )
    assert received[-1].data == {"subject": "Missed call", "priority": "high"}
    assert (received[-1].meta.contact_external_id, received[-1].meta.agent_external_id) == (
        "1",
        "341231",
    )


async def test_an_action_without_an_outcome_answers_204(served: Plug) -> None:
    bridge = new_bridge()
    ticket_action(bridge, lambda request: None)
    running = served(bridge)

    response = running.http.post(
        "/actions/create_ticket", json={"auth": {}, "data": {"subject": "Hi"}}
    )

    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.parametrize("data", [{}, {"subject": None}, {"subject": "   "}, {"priority": "high"}])
async def test_missing_mandatory_inputs_are_refused_before_the_handler_runs(
    served: Plug, data: dict[str, Any]
) -> None:
    bridge = new_bridge()
    calls: list[ActionRequest] = []
    ticket_action(bridge, calls.append)
    running = served(bridge)

    with pytest.raises(RequestRefused) as refused:
        await running.hub.execute_action(
            running.endpoint("/actions/create_ticket"), CREDENTIALS, data=data
        )

    assert refused.value.bridge_message == "Mandatory input missing: subject."
    assert calls == []


async def test_a_value_outside_an_inputs_choices_is_refused_before_the_handler_runs(
    served: Plug,
) -> None:
    bridge = new_bridge()
    calls: list[ActionRequest] = []
    bridge.action(
        "create_ticket",
        display="create a ticket",
        description="create a new ticket in Tiny Desk",
        inputs=[ActionInput(key="priority", name="Priority", mandatory=False, choices=["low"])],
    )(calls.append)
    running = served(bridge)

    with pytest.raises(RequestRefused) as refused:
        await running.hub.execute_action(
            running.endpoint("/actions/create_ticket"), CREDENTIALS, data={"priority": "asap"}
        )
    await running.hub.execute_action(
        running.endpoint("/actions/create_ticket"), CREDENTIALS, data={"priority": "low"}
    )

    assert refused.value.bridge_message == (
        '"Priority" must be one of "low"; found "asap" (a string).'
    )
    assert [call.data for call in calls] == [{"priority": "low"}]


async def test_an_action_refused_answers_400_with_its_message(served: Plug) -> None:
    bridge = new_bridge()

    def create_ticket(request: ActionRequest) -> ActionOutcome:
        raise ActionRefused(
            f'priority must be low, normal or high; found "{request.data["priority"]}".'
        )

    ticket_action(bridge, create_ticket)
    running = served(bridge)

    raw = running.http.post(
        "/actions/create_ticket", json={"auth": {}, "data": {"subject": "a", "priority": "max"}}
    )
    with pytest.raises(RequestRefused) as refused:
        await running.hub.execute_action(
            running.endpoint("/actions/create_ticket"),
            CREDENTIALS,
            data={"subject": "a", "priority": "critical"},
        )

    assert raw.status_code == 400
    assert raw.json() == {"message": 'priority must be low, normal or high; found "max".'}
    assert refused.value.bridge_message == 'priority must be low, normal or high; found "critical".'


@pytest.mark.parametrize(("retry_after", "header"), [(7.2, "8"), (0, "0"), (None, None)])
async def test_temporarily_unavailable_answers_503_with_retry_after(
    served: Plug, retry_after: float | None, header: str | None
) -> None:
    bridge = new_bridge()

    def create_ticket(request: ActionRequest) -> ActionOutcome:
        raise TemporarilyUnavailable("Tiny Desk is down for maintenance.", retry_after=retry_after)

    ticket_action(bridge, create_ticket)
    running = served(bridge)

    raw = running.http.post("/actions/create_ticket", json={"auth": {}, "data": {"subject": "a"}})
    with pytest.raises(BridgeUnavailable) as unavailable:
        await running.hub.execute_action(
            running.endpoint("/actions/create_ticket"), CREDENTIALS, data={"subject": "a"}
        )

    assert (raw.status_code, raw.headers.get("retry-after")) == (503, header)
    assert raw.json() == {"message": "Tiny Desk is down for maintenance."}
    assert unavailable.value.status_code == 503
    assert unavailable.value.retry_after == (None if header is None else float(header))


@pytest.mark.parametrize("seconds", [-1, float("inf"), float("nan")])
def test_retry_after_must_be_a_number_of_seconds(seconds: float) -> None:
    with pytest.raises(ValueError, match="retry_after"):
        TemporarilyUnavailable(retry_after=seconds)


# Every endpoint, every exception -------------------------------------------------------


def every_endpoint(failure: Exception) -> Bridge:
    """A bridge whose every handler raises `failure`."""
    bridge = new_bridge(interaction_types=["ticket"])

    def fail(request: Any) -> Any:
        raise failure

    bridge.auth_validation(fail)
    bridge.contacts(fail)
    bridge.interactions(fail)
    bridge.agents(fail)
    ticket_action(bridge, fail)
    return bridge


ENDPOINTS = ["/auth_validation", "/contact_sync", "/interactions", "/agent_sync",
             "/actions/create_ticket"]  # fmt: skip
WHOLE_REQUEST = {
    "auth": {"api_key": API_KEY},
    "meta": {"interaction_types": ["ticket"]},
    "data": {"contact_name": "Jane Doe", "subject": "Hi"},
}
"""Valid for every endpoint: each reads only its own keys."""


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (CredentialsRejected(), 401, "These credentials are not valid."),
        (RequestRefused_ := ActionRefused("No such queue."), 400, "No such queue."),
        (TemporarilyUnavailable(retry_after=3), 503, "The service is temporarily unavailable."),
        (RuntimeError("disk full"), 500, "The bridge failed while answering; its log says why."),
    ],
)
def test_every_endpoint_maps_every_exception_to_its_status(
    served: Plug, path: str, failure: Exception, status: int, message: str
) -> None:
    running = served(every_endpoint(failure))

    response = running.http.post(path, json=WHOLE_REQUEST)

    assert (response.status_code, response.json()) == (status, {"message": message})
    assert ("retry-after" in response.headers) == (status == 503)


def test_a_failing_handler_is_logged_without_the_request(
    served: Plug, caplog: pytest.LogCaptureFixture
) -> None:
    running = served(every_endpoint(RuntimeError("disk full")))

    running.http.post("/agent_sync", json=WHOLE_REQUEST)

    [record] = [each for each in caplog.records if each.name == "bridgehub.sdk"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "The handler of /agent_sync failed."
    assert "disk full" in caplog.text
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("register", "answer"),
    [
        ("contacts", [Contact(id="1", name="Jane")]),
        ("agents", {"agents": []}),
        ("agents", [{"id": "1", "name": "John", "email": "john@tiny.example"}]),
        ("auth_validation", "ok"),
        ("interactions", "ticket"),
    ],
)
def test_a_handler_answering_the_wrong_type_answers_500(
    served: Plug, caplog: pytest.LogCaptureFixture, register: str, answer: Any
) -> None:
    bridge = new_bridge(interaction_types=["ticket"])
    getattr(bridge, register)(lambda request: answer)
    running = served(bridge)

    response = running.http.post(bridge.endpoints[0], json=WHOLE_REQUEST)

    assert response.status_code == 500
    assert "must answer" in caplog.text


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/agent_sync", b"{not json", "must be valid JSON"),
        ("/agent_sync", b"", "must be valid JSON"),
        ("/agent_sync", b"[]", "must be an object"),
        ("/agent_sync", b'{"meta": {}}', "auth: is required"),
        (
            "/interactions",
            b'{"auth": {}, "data": {"contact_name": "Jane"}}',
            "meta: is required",
        ),
        ("/actions/create_ticket", b'{"auth": {}, "data": "subject"}', "data: must be an object"),
        ("/contact_sync", b'{"auth": {}, "meta": {"offset": ["1"]}}', "meta.offset"),
    ],
)
def test_requests_that_break_the_protocol_answer_400(
    served: Plug, path: str, body: bytes, problem: str
) -> None:
    running = served(every_endpoint(AssertionError("no handler may run")))

    response = running.http.post(path, content=body)

    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("The request breaks the bridge protocol: ")
    assert problem.lower() in message.lower()


def test_only_posts_to_served_paths_are_answered(served: Plug) -> None:
    running = served(every_endpoint(CredentialsRejected()))

    assert running.http.get("/agent_sync").status_code == 405
    assert running.http.post("/contacts", json=WHOLE_REQUEST).status_code == 404
    assert running.http.post("/actions/close_ticket", json=WHOLE_REQUEST).status_code == 404


# Serving -------------------------------------------------------------------------------


def test_plain_handlers_run_off_the_event_loop(served: Plug) -> None:
    """A blocking handler waits for a second request, which is only answered if the first
    one does not hold the event loop."""
    bridge = new_bridge()
    second_arrived = threading.Event()

    @bridge.agents
    def agents(request: AgentSyncRequest) -> list[Agent]:
        if request.auth.get("first"):
            assert second_arrived.wait(timeout=10), "the second request never ran"
        else:
            second_arrived.set()
        return []

    running = served(bridge)

    async def both() -> list[int]:
        async with httpx.AsyncClient(base_url=running.url) as http:
            first = http.post("/agent_sync", json={"auth": {"first": True}})
            second = http.post("/agent_sync", json={"auth": {}})
            answers = await asyncio.gather(first, second)
        return [each.status_code for each in answers]

    assert asyncio.run(both()) == [200, 200]


async def test_a_bridge_mounted_under_a_path_serves_and_configures_there(served: Plug) -> None:
    bridge = new_bridge()

    @bridge.auth_validation
    def validate(request: AuthValidationRequest) -> None:
        check(request.auth)

    running = served(Starlette(routes=[Mount("/tiny", bridge)]))
    configuration = bridge.integration_configuration(running.url + "/tiny")

    assert configuration["auth_validation_endpoint"] == running.endpoint("/tiny/auth_validation")
    assert (
        await running.hub.validate_auth(configuration["auth_validation_endpoint"], CREDENTIALS)
        == {}
    )


async def test_an_endpoint_served_at_a_chosen_path_is_configured_there(served: Plug) -> None:
    bridge = new_bridge(interaction_types=["ticket"])

    @bridge.interactions(path="/interaction_update")
    def tickets(request: InteractionRequest) -> list[Interaction]:
        check(request.auth)
        return []

    running = served(bridge)
    configuration = bridge.integration_configuration(running.url)

    assert bridge.endpoints == ("/interaction_update",)
    assert configuration["interaction_retrieval_endpoint"] == running.endpoint(
        "/interaction_update"
    )
    found = await running.hub.fetch_interactions(
        configuration["interaction_retrieval_endpoint"],
        CREDENTIALS,
        interaction_types=["ticket"],
        contact=JANE,
    )
    assert found.interactions == ()


def test_an_endpoint_path_starts_with_a_slash() -> None:
    bridge = new_bridge()

    with pytest.raises(ValueError, match='must start with "/"; found "agents"'):
        bridge.agents(path="agents")(lambda request: [])
    assert bridge.endpoints == ()


def test_an_endpoint_is_registered_once() -> None:
    bridge = new_bridge()
    bridge.agents(lambda request: [])
    ticket_action(bridge, lambda request: None)

    with pytest.raises(ValueError, match="already serves /agent_sync"):
        bridge.agents(lambda request: [])
    with pytest.raises(ValueError, match="already serves /actions/create_ticket"):
        ticket_action(bridge, lambda request: None)
    assert bridge.endpoints == ("/agent_sync", "/actions/create_ticket")
