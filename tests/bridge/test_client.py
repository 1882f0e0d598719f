"""The bridge client against real bridges over HTTP: requests, answers, retries and limits."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
import zlib
from collections.abc import AsyncIterator, Mapping
from email.utils import formatdate
from typing import Any

from starlette.responses import Response, StreamingResponse

from bridgehub import __version__
from bridgehub.bridge import (
    BridgeClient,
    BridgeUnavailable,
    CredentialsRejected,
    InteractionContact,
    ProtocolViolation,
    RequestRefused,
    RetryPolicy,
    StaticCredentials,
    Timeouts,
)
from tests.bridge.conftest import LOCAL, QUICK_RETRIES, StartBridge
from tests.bridge.fakes import AUTH, SECRET, Received, answer, failure, status

CREDENTIALS = StaticCredentials(AUTH)
JANE = InteractionContact(
    contact_external_id="1",
    contact_name="Jane Doe",
    contact_emails=("jane@example.com",),
    contact_phones=("+15555555555",),
)


def ticket(**changes: Any) -> dict[str, Any]:
    return {
        "id": 42,
        "subject": "Printer on fire",
        "type": "ticket",
        "priority": "urgent",
        "status": "open",
        **changes,
    }


# What the hub sends --------------------------------------------------------------------


async def test_every_call_is_a_json_post_naming_the_hub(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer({"agents": []}))
    await bridges.fetch_agents(bridge.url, CREDENTIALS)
    [request] = bridge.received
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"bridgehub/{__version__}"
    assert request.body == {"auth": AUTH}


async def test_contact_sync_sends_the_checkpoint_and_offset_it_is_given(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer({"contacts": []}))
    await bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
    await bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint="2024-05-01", offset="3")
    assert [request.body for request in bridge.received] == [
        {"auth": AUTH, "meta": {}},
        {"auth": AUTH, "meta": {"synchronization_checkpoint": "2024-05-01", "offset": "3"}},
    ]


async def test_interactions_are_asked_for_the_chosen_types_and_contact(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer([]))
    await bridges.fetch_interactions(
        bridge.url, CREDENTIALS, interaction_types=["ticket", "deal"], contact=JANE
    )
    assert bridge.received[0].body == {
        "auth": AUTH,
        "meta": {"interaction_types": ["ticket", "deal"]},
        "data": {
            "contact_external_id": "1",
            "contact_name": "Jane Doe",
            "contact_emails": ["jane@example.com"],
            "contact_phones": ["+15555555555"],
        },
    }


async def test_an_action_sends_its_data_and_only_the_ids_it_knows(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(204))
    data = {"subject": "Missed call", "description": "Jane Doe called at 10:02."}
    await bridges.execute_action(bridge.url, CREDENTIALS, data=data, contact_external_id="1")
    assert bridge.received[0].body == {
        "auth": AUTH,
        "meta": {"contact_external_id": "1"},
        "data": data,
    }


# What bridges answer -------------------------------------------------------------------


async def test_auth_validation_answers_the_extra_values_or_nothing(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(204), status(200), answer({"account_id": 77}, 201))
    assert await bridges.validate_auth(bridge.url, CREDENTIALS) == {}
    assert await bridges.validate_auth(bridge.url, CREDENTIALS) == {}
    assert await bridges.validate_auth(bridge.url, CREDENTIALS) == {"account_id": 77}


async def test_auth_validation_refuses_credentials_on_401(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(401))
    error = await failure(bridges.validate_auth(bridge.url, CREDENTIALS), CredentialsRejected)
    assert "authorization validation" in str(error)
    assert len(bridge.received) == 1


async def test_a_contact_page_keeps_the_good_contacts_and_reports_the_bad_one(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(
        answer(
            {
                "contacts": [
                    {"id": 1, "name": "Jane Doe", "unknown": "ignored"},
                    {"id": 2},
                    {"id": 3, "name": "John Roe"},
                ],
                "next_offset": 3,
                "synchronization_checkpoint": 1714638600,
            }
        )
    )
    page = await bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
    assert [(contact.id, contact.name) for contact in page.contacts] == [
        ("1", "Jane Doe"),
        ("3", "John Roe"),
    ]
    assert [(rejected.index, rejected.id, rejected.reason) for rejected in page.rejected] == [
        (1, "2", "name: is required")
    ]
    assert (page.next_offset, page.synchronization_checkpoint) == ("3", "1714638600")


async def test_interactions_that_break_the_rules_are_dropped_and_the_rest_shown(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(
        answer([ticket(), ticket(id=43, priority="p1"), ticket(id=44, type="order")])
    )
    result = await bridges.fetch_interactions(
        bridge.url, CREDENTIALS, interaction_types=["ticket"], contact=JANE
    )
    assert [interaction.id for interaction in result.interactions] == ["42"]
    assert [rejected.id for rejected in result.rejected] == ["43", "44"]


async def test_agents_without_an_email_are_rejected(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(
        answer(
            {
                "agents": [
                    {"id": 341231, "name": "John Doe", "email": "john.doe@example.com"},
                    {"id": 341232, "name": "Jane Doe"},
                ]
            }
        )
    )
    result = await bridges.fetch_agents(bridge.url, CREDENTIALS)
    assert [agent.id for agent in result.agents] == ["341231"]
    assert [(rejected.id, rejected.reason) for rejected in result.rejected] == [
        ("341232", "email: is required")
    ]


async def test_an_action_answers_what_it_created(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer({"message": "Created", "external_id": 9001}, 201), status(204))
    created = await bridges.execute_action(bridge.url, CREDENTIALS, data={})
    assert (created.message, created.external_id, created.problem) == ("Created", "9001", None)
    silent = await bridges.execute_action(bridge.url, CREDENTIALS, data={})
    assert (silent.message, silent.external_id, silent.problem) == (None, None, None)


async def test_an_action_that_was_done_is_not_failed_for_its_unreadable_answer(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(Response("Ticket created!", 201), answer(["9001"], 201))
    for _ in range(2):
        outcome = await bridges.execute_action(bridge.url, CREDENTIALS, data={})
        assert outcome.external_id is None
        assert outcome.problem is not None
        assert "answered 201 Created" in outcome.problem
    assert len(bridge.received) == 2


async def test_an_answer_that_is_not_json_breaks_the_protocol(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(Response("<html>Welcome to nginx!</html>", 200))
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), ProtocolViolation)
    assert "answered 200 OK with a body that breaks the bridge protocol" in str(error)
    assert "not JSON" in str(error)
    assert len(bridge.received) == 1


async def test_an_answer_of_the_wrong_shape_breaks_the_protocol(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer({"contacts": "none"}), answer([]))
    fetch = bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
    error = await failure(fetch, ProtocolViolation)
    assert "contacts: must be an array" in str(error)
    error = await failure(bridges.validate_auth(bridge.url, CREDENTIALS), ProtocolViolation)
    assert "must be an object of authentication values; found an array" in str(error)


async def test_400_refuses_the_request_with_the_bridges_message(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(answer({"message": "subject is mandatory"}, 400))
    error = await failure(bridges.execute_action(bridge.url, CREDENTIALS, data={}), RequestRefused)
    assert error.bridge_message == "subject is mandatory"
    assert "subject is mandatory" in str(error)
    assert len(bridge.received) == 1


async def test_auth_values_a_bridge_echoes_stay_hidden(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    echo = f"token {SECRET} has no access to agent@example.com's tickets"
    bridge = start_bridge(answer({"message": echo}, 400), answer({"contacts": SECRET}))
    error = await failure(bridges.execute_action(bridge.url, CREDENTIALS, data={}), RequestRefused)
    assert error.bridge_message == "token [hidden] has no access to [hidden]'s tickets"
    await failure(
        bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None),
        ProtocolViolation,
    )


async def test_404_breaks_the_protocol(bridges: BridgeClient, start_bridge: StartBridge) -> None:
    bridge = start_bridge(status(404))
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), ProtocolViolation)
    assert error.status_code == 404
    assert "404 Not Found" in str(error)
    assert len(bridge.received) == 1


async def test_redirects_are_not_followed(bridges: BridgeClient, start_bridge: StartBridge) -> None:
    elsewhere = start_bridge(answer({"agents": []}))
    bridge = start_bridge(status(302, {"Location": elsewhere.url}))
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), ProtocolViolation)
    assert error.status_code == 302
    assert f"a redirect to {elsewhere.url}" in str(error)
    assert elsewhere.received == []


# Transient failures --------------------------------------------------------------------


async def test_a_transient_failure_is_retried(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(503), answer({"agents": []}))
    assert (await bridges.fetch_agents(bridge.url, CREDENTIALS)).agents == ()
    assert len(bridge.received) == 2


async def test_retry_after_is_honoured(bridges: BridgeClient, start_bridge: StartBridge) -> None:
    bridge = start_bridge(status(429, {"Retry-After": "1"}), answer({"agents": []}))
    await bridges.fetch_agents(bridge.url, CREDENTIALS)
    first, second = bridge.received
    assert second.at - first.at >= 0.95


async def test_retries_give_up_with_the_last_status(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(503))
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), BridgeUnavailable)
    assert error.status_code == 503
    assert "503 Service Unavailable" in str(error)
    assert "after 3 attempts" in str(error)
    assert len(bridge.received) == QUICK_RETRIES.attempts


async def test_a_longer_retry_after_than_a_call_waits_is_left_to_the_caller(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    in_two_minutes = formatdate(time.time() + 120, usegmt=True)
    bridge = start_bridge(
        status(429, {"Retry-After": "120"}), status(503, {"Retry-After": in_two_minutes})
    )
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), BridgeUnavailable)
    assert (error.status_code, error.retry_after) == (429, 120)
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), BridgeUnavailable)
    assert error.status_code == 503
    assert error.retry_after is not None
    assert 110 < error.retry_after <= 120
    assert len(bridge.received) == 2


async def test_a_call_with_its_retries_ends_within_its_deadline(
    start_bridge: StartBridge,
) -> None:
    # Three attempts of at most 0.5 s: the call's deadline is 1.5 s, and the bridge's
    # second-long Retry-After, asked twice, would pass it.
    bridge = start_bridge(status(503, {"Retry-After": "1"}))
    async with BridgeClient(LOCAL, timeouts=Timeouts(agents=0.5)) as client:
        start = time.monotonic()
        error = await failure(client.fetch_agents(bridge.url, CREDENTIALS), BridgeUnavailable)
        elapsed = time.monotonic() - start
    assert "would pass the call's deadline of 1.5 s" in str(error)
    assert error.retry_after == 1
    assert len(bridge.received) == 2
    assert elapsed < 1.5


async def test_no_pause_is_longer_than_the_policy_allows(start_bridge: StartBridge) -> None:
    bridge = start_bridge(status(429, {"Retry-After": "2"}), answer({"agents": []}))
    async with BridgeClient(LOCAL, retry=RetryPolicy.waiting_at_most(1)) as client:
        error = await failure(client.fetch_agents(bridge.url, CREDENTIALS), BridgeUnavailable)
    assert "It asked to retry after 2 s" in str(error)
    assert len(bridge.received) == 1


async def test_actions_are_not_retried(bridges: BridgeClient, start_bridge: StartBridge) -> None:
    bridge = start_bridge(status(503), status(201))
    error = await failure(
        bridges.execute_action(bridge.url, CREDENTIALS, data={"subject": "x"}), BridgeUnavailable
    )
    assert error.status_code == 503
    assert len(bridge.received) == 1


async def test_a_bridge_that_does_not_answer_in_time_is_unavailable(
    start_bridge: StartBridge,
) -> None:
    async def slow(_: Received) -> Response:
        await asyncio.sleep(0.5)
        return answer({"contacts": []})

    bridge = start_bridge(slow)
    no_retries = RetryPolicy(attempts=1)
    async with BridgeClient(LOCAL, retry=no_retries, timeouts=Timeouts(contacts=0.1)) as client:
        fetch = client.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
        error = await failure(fetch, BridgeUnavailable)
    assert "did not answer within 0.1 s" in str(error)
    assert error.status_code is None


async def test_an_answer_that_trickles_in_ends_at_the_deadline(
    start_bridge: StartBridge,
) -> None:
    async def trickle(_: Received) -> Response:
        async def bytes_slowly() -> AsyncIterator[bytes]:
            for byte in b'{"contacts": []}':
                await asyncio.sleep(0.2)  # each read is quick: only a deadline stops it
                yield bytes([byte])

        return StreamingResponse(bytes_slowly(), media_type="application/json")

    bridge = start_bridge(trickle)
    no_retries = RetryPolicy(attempts=1)
    async with BridgeClient(LOCAL, retry=no_retries, timeouts=Timeouts(contacts=0.5)) as client:
        start = time.monotonic()
        fetch = client.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
        error = await failure(fetch, BridgeUnavailable)
    assert "did not answer within 0.5 s" in str(error)
    assert time.monotonic() - start < 0.5 + 1.0


async def test_a_bridge_that_cannot_be_reached_is_unavailable(bridges: BridgeClient) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    error = await failure(
        bridges.fetch_agents(f"http://127.0.0.1:{port}/agents", CREDENTIALS), BridgeUnavailable
    )
    assert "could not be reached" in str(error)
    assert error.status_code is None


# The size cap --------------------------------------------------------------------------


async def test_an_answer_over_the_cap_breaks_the_protocol(start_bridge: StartBridge) -> None:
    contacts = [{"id": str(number), "name": "x" * 50} for number in range(40)]

    async def streamed(_: Received) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b" " * 100  # JSON allows any amount of whitespace
            yield b'{"contacts": []}'

        return StreamingResponse(chunks(), media_type="application/json")

    declared = start_bridge(answer({"contacts": contacts}))
    undeclared = start_bridge(streamed)
    small = start_bridge(answer({"contacts": contacts[:5]}))
    async with BridgeClient(LOCAL, retry=QUICK_RETRIES, max_response_bytes=1000) as client:
        for bridge in (declared, undeclared):
            fetch = client.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
            error = await failure(fetch, ProtocolViolation)
            assert "larger than the 1000 bytes allowed" in str(error)
            assert len(bridge.received) == 1
        page = await client.fetch_contacts(small.url, CREDENTIALS, checkpoint=None, offset=None)
        assert len(page.contacts) == 5


async def test_a_gzip_answer_is_read_whole(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    contacts = [{"id": str(number), "name": f"Contact {number}"} for number in range(5000)]
    body = gzip.compress(json.dumps({"contacts": contacts}).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    bridge = start_bridge(Response(body, headers=headers))
    page = await bridges.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
    assert [contact.id for contact in page.contacts] == [c["id"] for c in contacts]


async def test_an_inflated_answer_over_the_cap_breaks_the_protocol(
    start_bridge: StartBridge,
) -> None:
    # 60 KB of zeros compress to about 100 bytes; the cap holds on what they inflate to.
    body = gzip.compress(b" " * 60_000)
    bridge = start_bridge(Response(body, headers={"Content-Encoding": "gzip"}))
    async with BridgeClient(LOCAL, retry=QUICK_RETRIES, max_response_bytes=1000) as client:
        fetch = client.fetch_contacts(bridge.url, CREDENTIALS, checkpoint=None, offset=None)
        error = await failure(fetch, ProtocolViolation)
    assert "larger than the 1000 bytes allowed" in str(error)


async def test_an_encoding_the_hub_did_not_ask_for_is_unreadable(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    body = zlib.compress(b'{"agents": []}')
    bridge = start_bridge(Response(body, headers={"Content-Encoding": "deflate"}))
    error = await failure(bridges.fetch_agents(bridge.url, CREDENTIALS), ProtocolViolation)
    assert "encoded as 'deflate'; only gzip is accepted" in str(error)


# The 401 rule --------------------------------------------------------------------------


class RefreshingCredentials:
    """OAuth-like credentials: the token in hand is stale, and a refresh gives a new one."""

    def __init__(self, *, can_refresh: bool = True) -> None:
        self._auth: dict[str, Any] = {**AUTH, "access_token": "stale-token"}
        self._can_refresh = can_refresh
        self.refreshes = 0

    def auth(self) -> Mapping[str, Any]:
        return self._auth

    async def refreshed(self) -> Mapping[str, Any] | None:
        self.refreshes += 1
        if not self._can_refresh:
            return None
        self._auth = {**self._auth, "access_token": f"fresh-token-{self.refreshes}"}
        return self._auth


async def only_fresh_tokens(request: Received) -> Response:
    if request.auth["access_token"].startswith("fresh-token"):
        return answer({"agents": []})
    return status(401)


async def test_after_a_401_the_call_is_repeated_once_with_refreshed_credentials(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(only_fresh_tokens)
    credentials = RefreshingCredentials()
    await bridges.fetch_agents(bridge.url, credentials)
    assert [request.auth["access_token"] for request in bridge.received] == [
        "stale-token",
        "fresh-token-1",
    ]
    assert bridge.received[1].auth["token"] == SECRET  # the stored fields travel along
    assert credentials.refreshes == 1


async def test_credentials_that_cannot_be_refreshed_are_rejected(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(only_fresh_tokens)
    credentials = RefreshingCredentials(can_refresh=False)
    await failure(bridges.fetch_agents(bridge.url, credentials), CredentialsRejected)
    assert credentials.refreshes == 1
    assert len(bridge.received) == 1


async def test_a_second_401_rejects_the_credentials(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(401))
    credentials = RefreshingCredentials()
    await failure(bridges.fetch_agents(bridge.url, credentials), CredentialsRejected)
    assert credentials.refreshes == 1
    assert [request.auth["access_token"] for request in bridge.received] == [
        "stale-token",
        "fresh-token-1",
    ]


async def test_the_401_rule_holds_for_actions(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(status(401), answer({"external_id": "7"}, 201))
    outcome = await bridges.execute_action(bridge.url, RefreshingCredentials(), data={})
    assert outcome.external_id == "7"
    assert len(bridge.received) == 2


async def test_concurrent_calls_each_refresh_for_themselves(
    bridges: BridgeClient, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(only_fresh_tokens)
    shared = RefreshingCredentials()
    await asyncio.gather(*(bridges.fetch_agents(bridge.url, shared) for _ in range(20)))
    assert shared.refreshes == 20  # sharing one refresh among them is the caller's business
    assert len(bridge.received) == 40
