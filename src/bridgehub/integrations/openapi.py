"""The OpenAPI 3.1 document of a bridge, from its integration and action configurations:
for authors who generate a server stub, or read the bridge's contract, in any language.

Each endpoint the configurations declare becomes a POST operation whose request and answer
bodies are the protocol's message schemas (bridge/schemas.py), made concrete for this
integration: `auth` holds its authentication fields, an action's `data` its inputs. The
hub sends credentials in each request's `auth` object, never in headers, so the document
declares no security scheme: `auth` is where a bridge finds and checks them.

Endpoint URLs are absolute. Their paths become the document's paths; the origin most of
them share is the document's server, and an endpoint served elsewhere names its own.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bridgehub import __version__
from bridgehub.bridge.schemas import MESSAGES, message_schema
from bridgehub.integrations.configuration import (
    ActionConfiguration,
    ActionInput,
    AuthenticationField,
    IntegrationConfiguration,
    validate_action,
    validate_integration,
)
from bridgehub.integrations.files import ConfigurationFile
from bridgehub.kit.errors import InvalidInput, Problem

OPENAPI_VERSION = "3.1.0"
_COMPONENTS = "#/components/schemas/"
_ACCESS_TOKEN = "access_token"  # noqa: S105 (a key, not a secret)


class NoOpenApiDocument(InvalidInput):
    code = "no_openapi_document"


def bridge_openapi(
    integration: IntegrationConfiguration, actions: Sequence[ActionConfiguration] = ()
) -> dict[str, Any]:
    """The OpenAPI document of the bridge these configurations describe. Raises
    `NoOpenApiDocument` when an action is another integration's or an endpoint URL cannot
    be a path of the document (a query, a shared path)."""
    strangers = [
        Problem(
            f"actions.{action.name}.provider", f'is "{action.provider}", not "{integration.name}"'
        )
        for action in actions
        if action.provider != integration.name
    ]
    if strangers:
        raise NoOpenApiDocument(f"Some actions are not {integration.name}'s.", strangers)
    components = _Components()
    endpoints = [
        *_integration_endpoints(integration, components),
        *(_action_endpoint(integration, action, components) for action in actions),
    ]
    servers, paths = _placed(endpoints)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{integration.display_name} bridge",
            "version": __version__,
            "description": _info_description(integration),
        },
        "paths": paths,
        "components": {"schemas": components.schemas},
    }
    if servers:
        document["servers"] = servers
    return document


def configurations_of(
    files: Sequence[ConfigurationFile],
) -> tuple[IntegrationConfiguration, list[ActionConfiguration]]:
    """The one integration among valid configuration files, and the actions among them."""
    integrations = [file for file in files if file.kind == "integration"]
    if len(integrations) != 1:
        raise NoOpenApiDocument(
            f"Give one integration configuration (and its actions'); found {len(integrations)}.",
            [Problem(str(file.path), f"integration {file.name}") for file in integrations],
        )
    actions = [validate_action(file.document) for file in files if file.kind == "action"]
    return validate_integration(integrations[0].document), actions


def _info_description(integration: IntegrationConfiguration) -> str:
    return (
        f"{integration.description}\n\n"
        f"The bridge protocol's endpoints of the integration `{integration.name}`, as the hub "
        "calls them: each a POST with a JSON body. Credentials travel in each request's `auth` "
        "object, not in headers; a bridge answers 401 when they do not work."
    )


# --- schemas ------------------------------------------------------------------------------


class _Components:
    """The document's `components/schemas`: the message schemas and the models they share,
    their references rewritten to point here."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def add(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        """Adds `schema` (a message schema: its `$defs` are added beside it) and answers a
        reference to it."""
        schema = copy.deepcopy(schema)
        for key in ("$schema", "$id"):
            # An embedded `$id` would make the references inside resolve against it.
            schema.pop(key, None)
        for shared, definition in {**schema.pop("$defs", {}), name: schema}.items():
            rewritten = _pointing_here(definition)
            if self.schemas.setdefault(shared, rewritten) != rewritten:
                raise RuntimeError(f"two different schemas are named {shared}")
        return {"$ref": _COMPONENTS + name}

    def add_message(self, message: str) -> dict[str, str]:
        return self.add(_pascal(message), message_schema(message, ""))


def _pointing_here(node: Any) -> Any:
    if isinstance(node, list):
        return [_pointing_here(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: value.replace("#/$defs/", _COMPONENTS)
        if key == "$ref" and isinstance(value, str)
        else _pointing_here(value)
        for key, value in node.items()
    }


def _pascal(name: str) -> str:
    return "".join(word.capitalize() for word in re.split(r"[-_]", name))


def _request(message: str, **properties: dict[str, Any]) -> dict[str, Any]:
    """The request schema of `message` with some of its properties made concrete."""
    schema = message_schema(message, "")
    schema["properties"] = {**schema["properties"], **properties}
    return schema


def _auth(integration: IntegrationConfiguration, *, validating: bool) -> dict[str, Any]:
    """The `auth` object the hub sends: in the auth validation that activating runs, or in
    every later request (what is stored, with what auth validation returned)."""
    sent = [
        (name, field)
        for name, field in integration.authentication_fields()
        if (field.source != "auth_validation" if validating else field.store)
    ]
    properties = {
        name: {"type": "string", "description": _field_description(field)} for name, field in sent
    }
    required = [
        name
        for name, field in sent
        if field.source == "default" or (field.source == "input" and field.mandatory)
    ]
    if integration.authentication_type == "oauth2":
        properties.setdefault(
            _ACCESS_TOKEN, {"type": "string", "description": "The current OAuth 2.0 access token."}
        )
        # A bridge that exchanges the authorization code itself gets the code instead.
        exchanges_code = any(name == "code" for name, _ in integration.authentication_fields())
        if not exchanges_code and _ACCESS_TOKEN not in required:
            required.append(_ACCESS_TOKEN)
    return {
        "description": "The credentials the hub sends in the auth validation that activating runs."
        if validating
        else "The credentials the hub sends in every later request, as stored for the account.",
        "type": "object",
        "properties": properties,
        "required": required,
    }


def _field_description(field: AuthenticationField) -> str:
    origin = {
        "input": "Typed by the person activating the integration",
        "default": "The configuration's default",
        "auth_validation": "Returned by the bridge's auth validation",
    }[field.source]
    if field.type == "oauth":
        origin = "From the OAuth 2.0 token answer"
    return " ".join(filter(None, [f"{field.display}.", f"{origin}.", field.help]))


def _auth_values(integration: IntegrationConfiguration) -> dict[str, Any]:
    """The answer of an auth validation: the values of the fields it fills."""
    schema = message_schema("auth-validation-response", "")
    schema["properties"] = {
        name: {"description": _field_description(field)}
        for name, field in integration.authentication_fields()
        if field.source == "auth_validation"
    }
    return schema


def _inputs(action: ActionConfiguration) -> dict[str, Any]:
    """An action's `data`: its inputs, the mandatory ones always with a value."""
    return {
        "type": "object",
        "description": "The action's inputs by key: strings when an automation fills them "
        "from its templates; a person running the action through the API may send any JSON "
        "value. A mandatory input always has one; an input with choices takes only them.",
        "properties": {each.key: _input(each) for each in action.inputs},
        "required": [each.key for each in action.inputs if each.mandatory],
        "additionalProperties": False,
    }


def _input(field: ActionInput) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": field.name}
    if field.choices is not None:
        schema |= {"type": "string", "enum": field.choices}
    if field.default is not None:
        schema["default"] = field.default
    return schema


# --- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    key: str
    """Where the configuration names it: `contact_synchronization_endpoint`,
    `actions.create_ticket.endpoint`."""
    url: str
    operation: dict[str, Any]


@dataclass(frozen=True)
class _Exchange:
    """An endpoint of the integration that answers with what the hub asked for."""

    key: str
    operation_id: str
    summary: str
    message: str
    answer: str
    refusals: tuple[tuple[str, str], ...] = ()
    """Statuses beyond 401 that refuse the request, and what they mean."""


_EXCHANGES = (
    _Exchange(
        "contact_synchronization_endpoint",
        "syncContacts",
        "One page of the account's contacts",
        "contact-sync",
        "A page of contacts.",
        (
            ("400", "The request breaks the protocol, e.g. an `offset` the bridge never gave."),
            (
                "410",
                "The bridge can no longer use the checkpoint (protocol 6.3): the hub repeats the "
                "run as a full run, without checkpoint and offset.",
            ),
        ),
    ),
    _Exchange(
        "interaction_retrieval_endpoint",
        "retrieveInteractions",
        "A contact's interactions",
        "interaction-retrieval",
        "The contact's interactions.",
    ),
    _Exchange(
        "agent_synchronization_endpoint",
        "syncAgents",
        "The agents of the external service",
        "agent-sync",
        "The agents.",
    ),
)

_DESCRIPTIONS = {message.name: message.description for message in MESSAGES}

_UNAUTHORIZED = (
    "The credentials do not work (any more). For an `oauth2` integration the hub refreshes the "
    "access token and asks once more."
)

_RETRIED = {
    "description": "Transient: the hub retries with backoff, honouring `Retry-After`.",
    "headers": {
        "Retry-After": {
            "description": "Seconds, or an HTTP date, before the hub asks again.",
            "schema": {"type": "string"},
        }
    },
}


def _integration_endpoints(
    integration: IntegrationConfiguration, components: _Components
) -> Iterable[_Endpoint]:
    if integration.auth_validation_endpoint is not None:
        yield _Endpoint(
            "auth_validation_endpoint",
            integration.auth_validation_endpoint,
            _auth_validation(integration, components),
        )
    auth = components.add("Auth", _auth(integration, validating=False))
    for exchange in _EXCHANGES:
        url: str | None = getattr(integration, exchange.key)
        if url is None:
            continue
        request = f"{exchange.message}-request"
        responses = {
            "200": _answer(components, f"{exchange.message}-response", exchange.answer),
            **{status: _refusal(components, why) for status, why in exchange.refusals},
        }
        operation = _operation(
            components,
            exchange.operation_id,
            exchange.summary,
            exchange.message,
            components.add(_pascal(request), _request(request, auth=auth)),
            responses,
        )
        yield _Endpoint(exchange.key, url, operation)


def _auth_validation(
    integration: IntegrationConfiguration, components: _Components
) -> dict[str, Any]:
    auth = components.add("AuthAtValidation", _auth(integration, validating=True))
    values = components.add("AuthValidationResponse", _auth_values(integration))
    return _operation(
        components,
        "validateAuth",
        "Do these credentials work?",
        "auth-validation",
        components.add("AuthValidationRequest", _request("auth-validation-request", auth=auth)),
        {
            "200": {"description": _DESCRIPTIONS["auth-validation-response"], **_json(values)},
            "204": {"description": "The credentials are valid (any 2xx says so)."},
        },
    )


def _action_endpoint(
    integration: IntegrationConfiguration, action: ActionConfiguration, components: _Components
) -> _Endpoint:
    name = _pascal(action.name)
    auth = components.add("Auth", _auth(integration, validating=False))
    request = _request("action-request", auth=auth, data=_inputs(action))
    request["title"] = f"{action.display} request"
    operation = _operation(
        components,
        f"{name[:1].lower()}{name[1:]}Action",
        action.display,
        "action",
        components.add(f"{name}ActionRequest", request),
        {
            "201": _answer(components, "action-response", "Done (any 2xx says so)."),
            "204": {"description": "Done, with nothing to record."},
            "400": _refusal(components, "Refused for good (bad data): not retried."),
            "429": _RETRIED,
            "503": _RETRIED,
        },
    )
    return _Endpoint(f"actions.{action.name}.endpoint", action.endpoint, operation)


def _operation(
    components: _Components,
    operation_id: str,
    summary: str,
    message: str,
    request: dict[str, str],
    responses: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """A POST of `message`'s request, answered with `responses` or a 401."""
    every = {**responses, "401": _refusal(components, _UNAUTHORIZED)}
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": _DESCRIPTIONS[f"{message}-request"],
        "requestBody": {"required": True, **_json(request)},
        "responses": dict(sorted(every.items())),
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(components: _Components, message: str, description: str) -> dict[str, Any]:
    return {"description": description, **_json(components.add_message(message))}


def _refusal(components: _Components, description: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "description": "Why the bridge refused: the hub shows `message` to the person.",
        "properties": {"message": {"type": "string"}},
    }
    return {"description": description, **_json(components.add("Refusal", schema))}


# --- where each endpoint is served --------------------------------------------------------


def _placed(endpoints: Sequence[_Endpoint]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The document's servers and paths. Raises NoOpenApiDocument for URLs that cannot be
    told apart by path, or whose query an OpenAPI path cannot hold."""
    origins = [_origin(endpoint.url) for endpoint in endpoints]
    common = Counter(origins).most_common(1)[0][0] if origins else None
    paths: dict[str, Any] = {}
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for endpoint, origin in zip(endpoints, origins, strict=True):
        parts = urlsplit(endpoint.url)
        path = parts.path or "/"
        if parts.query or parts.fragment or "{" in path or "}" in path:
            problems.append(
                Problem(
                    endpoint.key,
                    "has a query, a fragment or braces, which an OpenAPI path cannot hold; "
                    f"found {endpoint.url}",
                )
            )
        elif path in paths:
            problems.append(
                Problem(
                    endpoint.key,
                    f"has the path {path} of {owners[path]}, and a path holds one POST",
                )
            )
        else:
            owners[path] = endpoint.key
            paths[path] = {"post": endpoint.operation}
            if origin != common:
                paths[path]["servers"] = [{"url": origin}]
    if problems:
        raise NoOpenApiDocument("The endpoints cannot be paths of one OpenAPI document.", problems)
    return ([{"url": common}] if common else []), paths


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
