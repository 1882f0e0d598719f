"""The JSON Schemas of the bridge protocol's messages (docs/bridge-protocol.md), for bridge
authors in any language to validate against or generate types from.

Each schema is generated from the model the hub builds that request with, or validates
that answer with (bridge/protocol.py), so the published shapes cannot drift from what the
hub sends and accepts. Requests are described as the hub sends them (absent keys are left
out, never null); answers with the tolerance the hub grants bridges (identifiers as JSON
numbers, nulls for absent values, unknown keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from bridgehub.bridge.protocol import (
    ActionOutcome,
    ActionRequest,
    AgentListBody,
    AgentSyncRequest,
    AuthValidationRequest,
    ContactPageBody,
    ContactSyncRequest,
    InteractionListBody,
    InteractionRequest,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PATH = "/schemas/bridge/"
"""Where the hub serves them, each as `{name}.json`."""


@dataclass(frozen=True)
class BridgeMessage:
    name: str
    title: str
    description: str
    shape: Any
    """The model (or type) the hub builds the request with, or validates the answer with."""
    sent_by_hub: bool


class _Schema(GenerateJsonSchema):
    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated: JsonSchemaValue = _unwrapped(super().generate(schema, mode))
        return generated

    def field_title_should_be_set(self, schema: Any) -> bool:
        # Titles such as "Contact External Id" only repeat the key; models keep theirs,
        # which code generators name their types after.
        return False


class _SentByHub(_Schema):
    """The hub leaves absent optional keys out of its requests: never null, never required."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def encode_default(self, dft: Any) -> Any:
        return _without_nulls(super().encode_default(dft))


def _unwrapped(node: Any) -> Any:
    """The schema with its descriptions on one line: docstrings' line breaks only wrap the
    source."""
    if isinstance(node, list):
        return [_unwrapped(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: " ".join(value.split())
        if key == "description" and isinstance(value, str)
        else _unwrapped(value)
        for key, value in node.items()
    }


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


_REQUEST = "The hub sends it as the JSON body of a POST to {endpoint}."
_EXTRA_KEYS = "Keys not described here may be present and are to be ignored."

MESSAGES: tuple[BridgeMessage, ...] = (
    BridgeMessage(
        "auth-validation-request",
        "Authorization validation request",
        "Do these credentials work? Sent when an account activates the integration, and when "
        "it changes credentials. "
        + _REQUEST.format(endpoint="the integration's `auth_validation_endpoint`"),
        AuthValidationRequest,
        sent_by_hub=True,
    ),
    BridgeMessage(
        "auth-validation-response",
        "Authorization validation answer",
        "The body of a 2xx answer (which may also be empty): extra authentication values, for "
        "fields whose `source` is `auth_validation` (an account id the bridge looked up, say). "
        "The hub stores them under the same keys and sends them in every later request's "
        "`auth`. A 401 means the credentials are invalid.",
        dict[str, Any],
        sent_by_hub=False,
    ),
    BridgeMessage(
        "contact-sync-request",
        "Contact synchronization request",
        "One page of the account's contacts: changed after `meta.synchronization_checkpoint` "
        "(all of them when it is absent), from `meta.offset` (the first page when it is "
        "absent). "
        + _REQUEST.format(endpoint="the integration's `contact_synchronization_endpoint`"),
        ContactSyncRequest,
        sent_by_hub=True,
    ),
    BridgeMessage(
        "contact-sync-response",
        "Contact synchronization answer",
        "One page of contacts. The hub asks again with `offset` set to `next_offset` until a "
        "page has none. A checkpoint the bridge can no longer use is answered 410 Gone "
        "instead (protocol 6.3), and the hub repeats the run as a full run. " + _EXTRA_KEYS,
        ContactPageBody,
        sent_by_hub=False,
    ),
    BridgeMessage(
        "interaction-retrieval-request",
        "Interaction retrieval request",
        "The contact's history in the external service (tickets, deals, orders), of the "
        "types in `meta.interaction_types`. Without `data.contact_external_id` the bridge "
        "matches on the contact's name, emails and phones. "
        + _REQUEST.format(endpoint="the integration's `interaction_retrieval_endpoint`"),
        InteractionRequest,
        sent_by_hub=True,
    ),
    BridgeMessage(
        "interaction-retrieval-response",
        "Interaction retrieval answer",
        "The contact's interactions: a JSON array, not an object. An item that breaks these "
        "rules, or whose `type` was not requested, is dropped and reported; the rest of the "
        "list is still shown. " + _EXTRA_KEYS,
        InteractionListBody,
        sent_by_hub=False,
    ),
    BridgeMessage(
        "agent-sync-request",
        "Agent synchronization request",
        "Which agents does the external service have? "
        + _REQUEST.format(endpoint="the integration's `agent_synchronization_endpoint`"),
        AgentSyncRequest,
        sent_by_hub=True,
    ),
    BridgeMessage(
        "agent-sync-response",
        "Agent synchronization answer",
        "The agents of the external service. The hub keeps the list per activation and "
        "matches agents to its own users by email. " + _EXTRA_KEYS,
        AgentListBody,
        sent_by_hub=False,
    ),
    BridgeMessage(
        "action-request",
        "Action execution request",
        "Carry out an action, run by an automation or by a person. "
        + _REQUEST.format(endpoint="the action's `endpoint`"),
        ActionRequest,
        sent_by_hub=True,
    ),
    BridgeMessage(
        "action-response",
        "Action execution answer",
        "The body of a 2xx answer (which may also be empty): the action was done, and the hub "
        "records these values with the execution. A 400 refuses the request for good, with "
        "`message` saying why; 5xx, 429 and timeouts are retried. " + _EXTRA_KEYS,
        ActionOutcome,
        sent_by_hub=False,
    ),
)

_BY_NAME = {message.name: message for message in MESSAGES}


class UnknownMessage(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"No bridge message named {name!r}; known: {', '.join(_BY_NAME)}.")


def message_schema(name: str, base_url: str) -> dict[str, Any]:
    """The JSON Schema of the message `name`, identified by where the hub at `base_url`
    serves it."""
    message = _BY_NAME.get(name)
    if message is None:
        raise UnknownMessage(name)
    generator = _SentByHub if message.sent_by_hub else _Schema
    generated = TypeAdapter(message.shape).json_schema(schema_generator=generator)
    generated.pop("title", None)
    generated.pop("description", None)
    return {
        "$schema": DIALECT,
        "$id": message_url(name, base_url),
        "title": message.title,
        "description": message.description,
        **generated,
    }


def message_schemas(base_url: str) -> dict[str, dict[str, Any]]:
    """Every message's JSON Schema, keyed by name."""
    return {name: message_schema(name, base_url) for name in _BY_NAME}


def message_url(name: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{name}.json"


class MessageSchemaLink(BaseModel):
    name: str = Field(description="The message, e.g. `contact-sync-response`.")
    title: str
    description: str
    url: str = Field(description="Where its JSON Schema is served (its `$id`).")


def message_index(base_url: str) -> list[MessageSchemaLink]:
    return [
        MessageSchemaLink(
            name=message.name,
            title=message.title,
            description=message.description,
            url=message_url(message.name, base_url),
        )
        for message in MESSAGES
    ]
