"""Messages a bridge author or an operator reads speak JSON and the protocol, never Python:
the message table, and the API's error details for a set of bad inputs."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from bridgehub.bridge.protocol import Contact, describe
from bridgehub.kit.messages import FALLBACK, MESSAGES, plain_message
from tests.conftest import Tenant, seed_integration

PYTHON_WORDS = re.compile(
    r"\b(tuple|dict|str|int|float|bool|NoneType|frozenset|bytes|pydantic|"
    r"\w+(?:Error|Refused|Rejected|Exception|Violation|Unavailable))\b"
    r"|[Ii]nput should be|Value error|Field required|Extra inputs",
)


def python_words(text: str) -> list[str]:
    return [match.group(0) for match in PYTHON_WORDS.finditer(text)]


def test_the_word_list_catches_what_pydantic_says() -> None:
    class Sample(BaseModel):
        phones: tuple[str, ...]

    with pytest.raises(ValidationError) as error:
        Sample.model_validate({"phones": "+1 555"})
    assert python_words(error.value.errors()[0]["msg"]) == ["Input should be", "tuple"]
    assert python_words("execution outcome RequestRefused") == ["RequestRefused"]


def test_the_message_table_speaks_json() -> None:
    for kind, message in {**MESSAGES, "fallback": FALLBACK}.items():
        assert python_words(message) == [], kind


def test_a_string_where_an_array_belongs_is_called_an_array() -> None:
    with pytest.raises(ValidationError) as error:
        Contact.model_validate({"id": "1", "name": "Jane", "phones": "+1 555"})
    assert describe(error.value) == 'phones: must be an array; found "+1 555" (a string)'
    assert plain_message(error.value.errors()[0]) == "must be an array"


BAD_ACCOUNT_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/activations", {"integration": 5, "auth": "x", "interaction_types": "ticket"}),
    ("POST", "/v1/activations", {"integration": "zendesk", "sync_interval_minutes": "often"}),
    ("POST", "/v1/executions", {"action": [], "data": "x", "contact_id": "nope"}),
    ("POST", "/v1/events", {"id": 1, "type": "call.exploded", "call": [], "occurred_at": "now"}),
    ("POST", "/v1/automations", {"trigger": 1, "action": None, "inputs": [], "enabled": "y"}),
    ("POST", "/v1/webhooks", {"url": 5, "events": "sync.succeeded", "extra": True}),
    ("GET", "/v1/lookup", {}),
    ("GET", "/v1/contacts?limit=many", {}),
    ("POST", "/v1/executions/retry", {"status": 7, "since": "yesterday"}),
]


async def test_api_error_details_speak_json(tenant: Tenant, client: httpx.AsyncClient) -> None:
    integration = seed_integration() | {"authentication_configuration": "fields", "icon_url": 5}
    answers = [
        await client.post("/v1/integrations", json=integration),
        await client.post("/v1/accounts", json={"name": ["Acme"], "default_region": 1}),
    ]
    for method, path, body in BAD_ACCOUNT_REQUESTS:
        answers.append(await tenant.client.request(method, path, json=body or None))

    details = []
    for answer in answers:
        assert answer.status_code == 422, (answer.request.url, answer.text)
        error = answer.json()["error"]
        assert error["details"], error
        details.extend(error["details"])
        assert python_words(error["message"]) == []
    said = [f"{detail['path']}: {detail['message']}" for detail in details]
    assert [text for text in said if python_words(text)] == []
    assert "integration: must be a string" in said
