"""The protocol's messages: requests as the hub sends them, answers as bridges may send them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bridgehub.bridge import Contact, InteractionContact, Rejection
from bridgehub.bridge.protocol import (
    ActionMeta,
    ActionRequest,
    AgentSyncRequest,
    AuthValidationRequest,
    ContactSyncMeta,
    ContactSyncRequest,
    InteractionMeta,
    InteractionRequest,
    MalformedAnswer,
    decode_body,
    parse_action_outcome,
    parse_agents,
    parse_auth_values,
    parse_contact_page,
    parse_interactions,
)
from tests.bridge.fakes import AUTH, SECRET


def sent(request: Any) -> Any:
    return json.loads(request.to_json())


def interaction(**changes: Any) -> dict[str, Any]:
    return {
        "id": "42",
        "subject": "Printer on fire",
        "description": "It is still burning",
        "date": "2024-05-02T08:30:00Z",
        "url": "https://acme.example.com/tickets/42",
        "type": "ticket",
        "priority": "urgent",
        "status": "open",
        **changes,
    }


# Requests ------------------------------------------------------------------------------


def test_auth_validation_and_agent_requests_carry_only_auth() -> None:
    assert sent(AuthValidationRequest(auth=AUTH)) == {"auth": AUTH}
    assert sent(AgentSyncRequest(auth=AUTH)) == {"auth": AUTH}


def test_a_first_contact_sync_sends_neither_checkpoint_nor_offset() -> None:
    assert sent(ContactSyncRequest(auth=AUTH)) == {"auth": AUTH, "meta": {}}
    later = ContactSyncRequest(
        auth=AUTH, meta=ContactSyncMeta(synchronization_checkpoint="2024-05-01T10:00:00Z")
    )
    assert sent(later)["meta"] == {"synchronization_checkpoint": "2024-05-01T10:00:00Z"}
    next_page = ContactSyncRequest(auth=AUTH, meta=ContactSyncMeta(offset="3"))
    assert sent(next_page)["meta"] == {"offset": "3"}


def test_an_interaction_request_leaves_out_an_unknown_external_id() -> None:
    contact = InteractionContact(contact_name="Jane Doe", contact_phones=("+15555555555",))
    request = InteractionRequest(
        auth=AUTH, meta=InteractionMeta(interaction_types=("ticket",)), data=contact
    )
    assert sent(request) == {
        "auth": AUTH,
        "meta": {"interaction_types": ["ticket"]},
        "data": {
            "contact_name": "Jane Doe",
            "contact_emails": [],
            "contact_phones": ["+15555555555"],
        },
    }


def test_an_action_request_omits_absent_meta_but_keeps_the_data_as_given() -> None:
    request = ActionRequest(
        auth={"token": SECRET, "region": None},
        meta=ActionMeta(agent_external_id="341231"),
        data={"subject": "Missed call", "due": None},
    )
    assert sent(request) == {
        "auth": {"token": SECRET, "region": None},
        "meta": {"agent_external_id": "341231"},
        "data": {"subject": "Missed call", "due": None},
    }


def test_auth_values_stay_out_of_a_requests_repr() -> None:
    assert SECRET not in repr(ContactSyncRequest(auth=AUTH))


# Answers -------------------------------------------------------------------------------


def test_empty_bodies_decode_to_none_and_anything_else_must_be_json() -> None:
    assert decode_body(b"") is None
    assert decode_body(b" \r\n") is None
    assert decode_body(b'{"a": 1}') == {"a": 1}
    for content in (b"<html>oops</html>", b"\xff\xfe\x00", b"[" * 100_000):
        with pytest.raises(MalformedAnswer, match="not JSON"):
            decode_body(content)


def test_auth_validation_may_answer_nothing_or_extra_values() -> None:
    assert parse_auth_values(None) == {}
    assert parse_auth_values({"account_id": 77, "plan": "pro"}) == {"account_id": 77, "plan": "pro"}
    with pytest.raises(MalformedAnswer, match="an object of authentication values"):
        parse_auth_values(["account_id"])


def test_a_contact_page_as_a_sloppy_bridge_sends_it() -> None:
    page = parse_contact_page(
        {
            "contacts": [
                {
                    "id": 341231,
                    "name": "Jane Doe",
                    "emails": ["jane@example.com"],
                    "phones": None,
                    "favourite_colour": "green",
                },
                {"id": "2", "name": "John Roe", "company": "Example Corp.", "twitter": "jroe"},
            ],
            "next_offset": 4,
            "synchronization_checkpoint": "2024-05-02T08:30:00Z",
            "total": 1000,
        }
    )
    assert page.contacts == (
        Contact(id="341231", name="Jane Doe", emails=("jane@example.com",)),
        Contact(id="2", name="John Roe", company="Example Corp.", twitter="jroe"),
    )
    assert page.rejected == ()
    assert page.next_offset == "4"
    assert page.synchronization_checkpoint == "2024-05-02T08:30:00Z"


def test_a_bad_contact_is_rejected_alone_with_its_reason() -> None:
    page = parse_contact_page(
        {
            "contacts": [
                {"id": "1", "name": "Jane Doe"},
                {"id": 2, "emails": ["nameless@example.com"]},
                {"id": "3", "name": "John Roe", "phones": "+1 555"},
                "not a contact",
                {"id": True, "name": "Boolean Id"},
                {"id": "6", "name": "Last One"},
            ]
        }
    )
    assert [contact.id for contact in page.contacts] == ["1", "6"]
    assert page.rejected == (
        Rejection(1, "2", "name: is required"),
        Rejection(2, "3", 'phones: must be an array; found "+1 555" (a string)'),
        Rejection(3, None, 'must be an object; found "not a contact" (a string)'),
        Rejection(4, None, "id: must be a string; found true (a boolean)"),
    )
    assert page.next_offset is None
    assert page.synchronization_checkpoint is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "the body is empty"),
        ([], "must be an object with `contacts`"),
        ({"items": []}, "contacts: is required"),
        ({"contacts": {"id": "1"}}, "contacts: must be an array"),
        ({"contacts": [], "next_offset": ["4"]}, "next_offset: must be a string"),
    ],
)
def test_a_page_without_a_list_of_contacts_breaks_the_protocol(body: Any, problem: str) -> None:
    with pytest.raises(MalformedAnswer, match=problem.replace("`", ".")):
        parse_contact_page(body)


def test_interactions_that_break_the_rules_are_dropped_and_reported() -> None:
    result = parse_interactions(
        [
            interaction(id=1),
            interaction(id="2", priority="critical"),
            interaction(id="3", status="in progress"),
            interaction(id="4", type="deal"),
            interaction(id="5", date="2024-05-02T08:30:00", extra={"nested": True}),
            interaction(id="6", subject=None),
        ],
        requested_types=["ticket"],
    )
    assert [item.id for item in result.interactions] == ["1", "5"]
    assert result.interactions[1].date == datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    assert result.interactions[0].priority == "urgent"
    rejected = {rejection.id: rejection.reason for rejection in result.rejected}
    assert rejected.keys() == {"2", "3", "4", "6"}
    assert rejected["2"].startswith("priority: ")
    assert '"urgent"' in rejected["2"]
    assert rejected["2"].endswith('found "critical" (a string)')
    assert rejected["3"].startswith("status: ")
    assert '"closed"' in rejected["3"]
    assert rejected["4"] == (
        'type: must be one of the requested types (ticket); found "deal" (a string)'
    )
    assert rejected["6"].startswith("subject: ")


def test_interactions_come_as_an_array() -> None:
    with pytest.raises(MalformedAnswer, match="must be an array of interactions"):
        parse_interactions({"interactions": [interaction()]}, ["ticket"])
    with pytest.raises(MalformedAnswer, match="the body is empty"):
        parse_interactions(None, ["ticket"])


def test_agents_need_an_id_a_name_and_an_email() -> None:
    result = parse_agents(
        {
            "agents": [
                {"id": 341231, "name": "John Doe", "email": "john.doe@example.com", "x": 1},
                {"id": 341232, "name": "No Email"},
                {"id": 341233, "name": "Empty Email", "email": ""},
            ]
        }
    )
    assert [(agent.id, agent.email) for agent in result.agents] == [
        ("341231", "john.doe@example.com")
    ]
    assert [(rejection.index, rejection.id) for rejection in result.rejected] == [
        (1, "341232"),
        (2, "341233"),
    ]
    assert result.rejected[0].reason == "email: is required"
    with pytest.raises(MalformedAnswer, match="agents: is required"):
        parse_agents({"users": []})


def test_an_action_may_answer_nothing_or_what_it_created() -> None:
    assert parse_action_outcome(None).model_dump() == {
        "message": None,
        "external_id": None,
        "contact_external_id": None,
        "contact_external_type": None,
        "contact_external_url": None,
        "contact": None,
        "problem": None,
        "contact_rejected": None,
        "status_code": None,
    }
    outcome = parse_action_outcome(
        {
            "message": "Ticket created",
            "external_id": 9001,
            "contact_external_id": 17,
            "contact_external_type": "lead",
            "contact_external_url": "https://crm.example.com/leads/17",
            "problem": "a bridge does not get to set this",
            "contact_rejected": "nor this",
            "status_code": 999,
            "ticket": {"id": 9001},
        }
    )
    assert outcome.external_id == "9001"
    assert outcome.contact_external_id == "17"
    assert outcome.message == "Ticket created"
    assert (outcome.problem, outcome.contact_rejected, outcome.status_code) == (None, None, None)
    with pytest.raises(MalformedAnswer, match="must be an object"):
        parse_action_outcome("done")


def test_an_action_may_answer_the_contact_it_created_read_as_a_synced_one() -> None:
    outcome = parse_action_outcome(
        {
            "contact_external_id": 981,
            "contact": {"id": 981, "name": "Unknown caller", "phones": None, "extra": 1},
        }
    )
    assert outcome.contact == Contact(id="981", name="Unknown caller")
    assert outcome.contact_rejected is None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"contact": {"id": "9"}}, "name: is required"),
        ({"contact": ["9", "Jane"]}, "must be an object; found an array"),
        ({"contact_external_id": "8", "contact": {"id": "9", "name": "Jane"}}, "differs"),
    ],
)
def test_a_contact_the_hub_rejects_spoils_nothing_else_of_the_answer(
    answer: dict[str, Any], reason: str
) -> None:
    outcome = parse_action_outcome({"message": "Contact created", "external_id": "9"} | answer)
    assert outcome.contact is None
    assert outcome.contact_rejected is not None
    assert reason in outcome.contact_rejected
    assert (outcome.message, outcome.external_id, outcome.problem) == ("Contact created", "9", None)
