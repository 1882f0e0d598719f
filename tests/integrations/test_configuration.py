"""Every rule of the integration and action configuration reference, accepted and refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bridgehub.integrations.configuration import (
    ActionConfiguration,
    IntegrationConfiguration,
    InvalidConfiguration,
    validate_action,
    validate_integration,
)
from bridgehub.kit.errors import InvalidInput, Problem

CATALOG = Path(__file__).resolve().parents[2] / "examples" / "catalog"
INTEGRATION_EXAMPLE = CATALOG / "zendesk.integration.json"
ACTION_EXAMPLE = CATALOG / "zendesk.create_ticket.action.json"

Document = dict[str, Any]
Validator = Callable[[Any], object]

DELETED: Any = object()
"""Passed as a value to a builder: remove that key instead of setting it."""

REGISTERED_PROVIDERS = frozenset({"zendesk"})
validate_registered_action: Validator = partial(validate_action, providers=REGISTERED_PROVIDERS)

FIELD_KEYS = "source, display, mandatory, type, store, help, format, default, secret"
SOURCES_ALLOWED = 'allowed: "input", "default" or "auth_validation"'
TYPES_ALLOWED = 'allowed: "input" or "oauth"'
SYSTEM_NAME_RULE = "must be 1 to 64 lower-case letters, digits, '_' or '-'"
FIELD_NAME_RULE = "must be 1 to 64 letters, digits, '_' or '-', starting with a letter or '_'"
URL_RULE = "must be an http:// or https:// URL"
BOOLEAN_RULE = "must be true or false"

OPTIONAL_ENDPOINTS = [
    "auth_validation_endpoint",
    "contact_synchronization_endpoint",
    "interaction_retrieval_endpoint",
    "agent_synchronization_endpoint",
]
URL_KEYS = ["logo_url", "icon_url", *OPTIONAL_ENDPOINTS]


# --- building documents from the seed examples ---------------------------------------------


def _changed(document: Document, changes: dict[str, Any]) -> Document:
    for key, value in changes.items():
        if value is DELETED:
            del document[key]
        else:
            document[key] = value
    return document


def integration(**changes: Any) -> Document:
    """The seed integration (a fresh copy), with some top-level keys changed."""
    return _changed(json.loads(INTEGRATION_EXAMPLE.read_text()), changes)


def action(**changes: Any) -> Document:
    """The seed action (a fresh copy), with some top-level keys changed."""
    return _changed(json.loads(ACTION_EXAMPLE.read_text()), changes)


def action_input(index: int, **changes: Any) -> Document:
    """The seed action with some keys of `inputs[index]` changed."""
    document = action()
    _changed(document["inputs"][index], changes)
    return document


def typed_field(**changes: Any) -> Document:
    """A valid field a person types, with some of its keys changed."""
    spec = {
        "source": "input",
        "display": "Region",
        "mandatory": True,
        "type": "input",
        "store": True,
    }
    return _changed(spec, changes)


def seed_field_changed(name: str, **changes: Any) -> Document:
    """The seed integration with some keys of its authentication field `name` changed."""
    document = integration()
    for element in document["authentication_configuration"]:
        if name in element:
            _changed(element[name], changes)
    return document


def seed_field_renamed(old: str, new: str) -> Document:
    document = integration()
    for index, element in enumerate(document["authentication_configuration"]):
        if old in element:
            document["authentication_configuration"][index] = {new: element[old]}
    return document


def with_field(name: str, spec: Any, **changes: Any) -> Document:
    """The seed integration with one more authentication element, `{name: spec}`, at index 3."""
    document = integration(**changes)
    document["authentication_configuration"].append({name: spec})
    return document


def only_field(name: str, spec: Any, authentication_type: str) -> Document:
    """An integration whose single authentication element is `{name: spec}`."""
    return integration(
        authentication_type=authentication_type, authentication_configuration=[{name: spec}]
    )


def oauth2_settings(**changes: Any) -> Document:
    settings = {
        "authorize_url": "https://zendesk.example.com/oauth/authorizations/new",
        "token_url": "https://zendesk.example.com/oauth/tokens",
        "client_id": "bridgehub",
        "client_secret": "s3cr3t",
    }
    return _changed(settings, changes)


CODE_FOR_THE_BRIDGE = {
    "code": {
        "source": "input",
        "display": "Code",
        "mandatory": True,
        "type": "oauth",
        "store": False,
    }
}


def bridge_exchange_integration(**oauth2_changes: Any) -> Document:
    """OAuth 2.0 where the bridge exchanges the code: a `code` field of type `oauth`."""
    settings = {
        "authorize_url": "https://zendesk.example.com/oauth/authorizations/new",
        "client_id": "bridgehub",
    }
    return integration(
        authentication_type="oauth2",
        authentication_configuration=[CODE_FOR_THE_BRIDGE],
        oauth2_configuration=_changed(settings, oauth2_changes),
    )


def oauth2_integration(**oauth2_changes: Any) -> Document:
    """The seed integration switched to OAuth 2.0, without authentication fields."""
    return integration(
        authentication_type="oauth2",
        authentication_configuration=DELETED,
        oauth2_configuration=oauth2_settings(**oauth2_changes),
    )


# --- asserting outcomes ----------------------------------------------------------------------


def problems_of(validate: Validator, document: Any) -> list[Problem]:
    with pytest.raises(InvalidConfiguration) as raised:
        validate(document)
    return raised.value.problems


def assert_single_problem(problems: list[Problem], path: str, fragments: Iterable[str]) -> None:
    assert [problem.path for problem in problems] == [path], problems
    for fragment in fragments:
        assert fragment in problems[0].message, problems[0]


def refused(case_id: str, document: Any, path: str, *fragments: str) -> pytest.ParameterSet:
    """A parameter set: `document` yields exactly one problem, at `path`, saying `fragments`."""
    return pytest.param(document, path, fragments, id=case_id)


def accepted(case_id: str, document: Any) -> pytest.ParameterSet:
    return pytest.param(document, id=case_id)


# --- the seed examples -----------------------------------------------------------------------


def test_seed_integration_is_accepted_verbatim() -> None:
    document = integration()

    configuration = validate_integration(document)

    assert isinstance(configuration, IntegrationConfiguration)
    assert configuration.name == "zendesk"
    assert [name for name, _ in configuration.authentication_fields()] == [
        "account",
        "email",
        "token",
    ]
    assert configuration.model_dump(exclude_unset=True) == document


def test_seed_action_is_accepted_verbatim() -> None:
    document = action()

    configuration = validate_action(document, providers=REGISTERED_PROVIDERS)

    assert isinstance(configuration, ActionConfiguration)
    assert [item.key for item in configuration.inputs] == ["subject", "description"]
    assert configuration.model_dump(exclude_unset=True) == document


def test_a_refusal_is_an_invalid_input_listing_its_problems() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_integration(integration(name="Zendesk", display_name=""))

    error = raised.value
    assert isinstance(error, InvalidConfiguration)
    assert error.code == "invalid_configuration"
    assert error.message == "The integration configuration has 2 problems."
    assert error.details == [problem.as_detail() for problem in error.problems]


# --- integration: accepted -------------------------------------------------------------------


ACCEPTED_INTEGRATIONS = [
    accepted("one-letter name", integration(name="z")),
    accepted("digits, dash and underscore in name", integration(name="0crm_v2-eu")),
    accepted("64-character name", integration(name="z" * 64)),
    accepted("http url", integration(logo_url="http://localhost:8080/logo.png")),
    accepted("url with port and query", integration(icon_url="https://cdn.example.com:8443/i?s=2")),
    accepted("no optional endpoints", integration(**dict.fromkeys(OPTIONAL_ENDPOINTS, DELETED))),
    accepted("null optional endpoint", integration(agent_synchronization_endpoint=None)),
    accepted(
        "none without fields",
        integration(authentication_type="none", authentication_configuration=DELETED),
    ),
    accepted(
        "none with empty fields",
        integration(authentication_type="none", authentication_configuration=[]),
    ),
    accepted("oauth2 without fields", oauth2_integration()),
    accepted(
        "oauth2 without oauth2_configuration",
        integration(authentication_type="oauth2", authentication_configuration=DELETED),
    ),
    accepted(
        "field name with capitals and leading underscore", seed_field_renamed("email", "_Api-Key")
    ),
    accepted("64-character field name", seed_field_renamed("email", "e" * 64)),
    accepted("field without help", seed_field_changed("token", help=DELETED)),
    accepted("null help", seed_field_changed("token", help=None)),
    accepted(
        "mandatory false, store false", seed_field_changed("email", mandatory=False, store=False)
    ),
    accepted("secret true", seed_field_changed("email", secret=True)),
    accepted("secret false", seed_field_changed("token", secret=False)),
    accepted(
        "secret on a value from auth validation",
        with_field("agent_id", typed_field(source="auth_validation", secret=False)),
    ),
    accepted("format placeholder alone", seed_field_changed("account", format="{{account}}")),
    accepted(
        "format placeholder with spaces", seed_field_changed("account", format="{{ account }}")
    ),
    accepted(
        "source default with default",
        with_field("region", typed_field(source="default", default="eu")),
    ),
    accepted(
        "none with a default field",
        only_field("region", typed_field(source="default", default="eu"), "none"),
    ),
    accepted(
        "auth_validation stored", with_field("agent_id", typed_field(source="auth_validation"))
    ),
    accepted(
        "oauth field under oauth2",
        only_field("code", typed_field(type="oauth", store=False), "oauth2"),
    ),
    accepted("no interaction types", integration(interaction_types=DELETED)),
    accepted("empty interaction types", integration(interaction_types=[])),
    accepted(
        "several interaction types", integration(interaction_types=["ticket", "call", "chat"])
    ),
    accepted(
        "secret from environment",
        oauth2_integration(client_secret=DELETED, client_secret_env="ZENDESK_CLIENT_SECRET"),
    ),
    accepted("public client with pkce", oauth2_integration(client_secret=DELETED, pkce=True)),
    accepted("secret and pkce", oauth2_integration(pkce=True)),
    accepted("null secret with pkce", oauth2_integration(client_secret=None, pkce=True)),
    accepted("unique scopes", oauth2_integration(scopes=["read", "write", "tickets:read"])),
    accepted("empty scopes", oauth2_integration(scopes=[])),
    accepted("the bridge exchanges the code", bridge_exchange_integration(scopes=["tickets"])),
]


@pytest.mark.parametrize("document", ACCEPTED_INTEGRATIONS)
def test_integration_is_accepted(document: Document) -> None:
    configuration = validate_integration(document)

    assert configuration.model_dump(exclude_unset=True) == document


# --- integration: refused --------------------------------------------------------------------


NAME_REFUSALS = [
    refused("capital", integration(name="Zendesk"), "name", SYSTEM_NAME_RULE, '"Zendesk"'),
    refused("empty", integration(name=""), "name", SYSTEM_NAME_RULE, 'found "" (a string)'),
    refused("leading dash", integration(name="-crm"), "name", SYSTEM_NAME_RULE, '"-crm"'),
    refused("space", integration(name="zen desk"), "name", SYSTEM_NAME_RULE),
    refused("dot", integration(name="zendesk.com"), "name", SYSTEM_NAME_RULE),
    refused("65 characters", integration(name="z" * 65), "name", SYSTEM_NAME_RULE),
    refused("number", integration(name=7), "name", "must be a string; found 7 (a number)"),
    refused("missing", integration(name=DELETED), "name", "is required"),
]

TEXT_REFUSALS = [
    refused(f"{key} {case}", integration(**{key: value}), key, message)
    for key in ("display_name", "description")
    for case, value, message in [
        ("empty", "", "must not be empty"),
        ("whitespace only", " \t\n ", "must not be empty"),
        ("null", None, "must be a string; found null"),
        ("array", ["Zendesk"], "must be a string; found an array"),
        ("missing", DELETED, "is required"),
    ]
]

BAD_URLS = {
    "ftp": "ftp://files.example.com/zendesk.png",
    "relative": "/assets/integrations/zendesk.png",
    "not a url": "not a url",
    "space inside": "https://talkdeskapp.s3.amazonaws.com/assets/zendesk logo.png",
    "trailing newline": "https://example.com/logo.png\n",
    "no host": "https://",
    "scheme only host": "http:///logo.png",
    "javascript": "javascript:alert(1)",
    "broken ipv6 host": "http://[::1/logo.png",
}
URL_REFUSALS = [
    refused(f"{key} {case}", integration(**{key: url}), key, URL_RULE, f'"{url}"')
    for key in URL_KEYS
    for case, url in BAD_URLS.items()
] + [
    refused("logo_url number", integration(logo_url=1), "logo_url", "must be a string; found 1"),
    refused("logo_url missing", integration(logo_url=DELETED), "logo_url", "is required"),
    refused("icon_url missing", integration(icon_url=DELETED), "icon_url", "is required"),
]

AUTHENTICATION_TYPE_REFUSALS = [
    refused(
        "unknown",
        integration(authentication_type="basic"),
        "authentication_type",
        'found "basic" (a string)',
        'allowed: "none", "custom" or "oauth2"',
    ),
    refused(
        "wrong case",
        integration(authentication_type="Custom"),
        "authentication_type",
        'found "Custom" (a string)',
    ),
    refused("null", integration(authentication_type=None), "authentication_type", "found null"),
    refused(
        "missing", integration(authentication_type=DELETED), "authentication_type", "is required"
    ),
]

AUTHENTICATION_CONFIGURATION_REFUSALS = [
    refused(
        "custom without fields",
        integration(authentication_configuration=DELETED),
        "authentication_configuration",
        'is required when authentication_type is "custom"',
    ),
    refused(
        "custom with null fields",
        integration(authentication_configuration=None),
        "authentication_configuration",
        'is required when authentication_type is "custom"',
    ),
    refused(
        "custom with empty fields",
        integration(authentication_configuration=[]),
        "authentication_configuration",
        'must list at least one field when authentication_type is "custom"',
    ),
    refused(
        "object instead of array",
        integration(authentication_configuration={"email": typed_field()}),
        "authentication_configuration",
        "must be an array; found an object",
    ),
    refused(
        "element is a string",
        integration(authentication_configuration=["email"]),
        "authentication_configuration[0]",
        'must be an object; found "email" (a string)',
    ),
    refused(
        "element without field",
        integration(authentication_configuration=[{}]),
        "authentication_configuration[0]",
        "must hold exactly one field; found 0 (none)",
    ),
    refused(
        "element with two fields",
        integration(
            authentication_configuration=[{"email": typed_field(), "phone": typed_field()}]
        ),
        "authentication_configuration[0]",
        'must hold exactly one field; found 2 ("email", "phone")',
    ),
    refused(
        "field name repeated in another element",
        with_field("email", typed_field()),
        "authentication_configuration[3].email",
        'field name "email" is already defined in authentication_configuration[1]',
    ),
]

FIELD_NAME_REFUSALS = [
    refused(
        "space",
        seed_field_renamed("email", "e mail"),
        'authentication_configuration[1]["e mail"]',
        FIELD_NAME_RULE,
        'found "e mail" (a string)',
    ),
    refused(
        "dot",
        seed_field_renamed("email", "e.mail"),
        'authentication_configuration[1]["e.mail"]',
        FIELD_NAME_RULE,
    ),
    refused(
        "empty",
        seed_field_renamed("email", ""),
        'authentication_configuration[1][""]',
        FIELD_NAME_RULE,
    ),
    refused(
        "leading digit",
        seed_field_renamed("email", "2fa"),
        "authentication_configuration[1].2fa",
        FIELD_NAME_RULE,
        '"2fa"',
    ),
    refused(
        "leading dash",
        seed_field_renamed("email", "-email"),
        "authentication_configuration[1].-email",
        FIELD_NAME_RULE,
    ),
    refused(
        "65 characters",
        seed_field_renamed("email", "e" * 65),
        f"authentication_configuration[1].{'e' * 65}",
        FIELD_NAME_RULE,
    ),
]

EMAIL = "authentication_configuration[1].email"
REGION = "authentication_configuration[3].region"

FIELD_SHAPE_REFUSALS = [
    refused(
        "spec is a string",
        with_field("region", "input"),
        REGION,
        'must be an object; found "input" (a string)',
    ),
    refused(
        "unknown source",
        seed_field_changed("email", source="keyboard"),
        f"{EMAIL}.source",
        'found "keyboard" (a string)',
        SOURCES_ALLOWED,
    ),
    refused(
        "unknown type",
        seed_field_changed("email", type="password"),
        f"{EMAIL}.type",
        'found "password" (a string)',
        TYPES_ALLOWED,
    ),
    refused(
        "mandatory as string",
        seed_field_changed("email", mandatory="true"),
        f"{EMAIL}.mandatory",
        BOOLEAN_RULE,
        'found "true" (a string)',
    ),
    refused(
        "mandatory as number",
        seed_field_changed("email", mandatory=1),
        f"{EMAIL}.mandatory",
        BOOLEAN_RULE,
        "found 1 (a number)",
    ),
    refused(
        "store as string",
        seed_field_changed("email", store="false"),
        f"{EMAIL}.store",
        BOOLEAN_RULE,
        'found "false" (a string)',
    ),
    refused(
        "store null",
        seed_field_changed("email", store=None),
        f"{EMAIL}.store",
        BOOLEAN_RULE,
        "found null",
    ),
    refused(
        "secret as string",
        seed_field_changed("email", secret="yes"),
        f"{EMAIL}.secret",
        BOOLEAN_RULE,
        'found "yes" (a string)',
    ),
    refused(
        "secret as number",
        seed_field_changed("token", secret=1),
        "authentication_configuration[2].token.secret",
        BOOLEAN_RULE,
        "found 1 (a number)",
    ),
    refused(
        "empty display",
        seed_field_changed("email", display=""),
        f"{EMAIL}.display",
        "must not be empty",
    ),
    refused(
        "whitespace display",
        seed_field_changed("email", display="   "),
        f"{EMAIL}.display",
        "must not be empty",
    ),
    refused(
        "help as number",
        seed_field_changed("token", help=42),
        "authentication_configuration[2].token.help",
        "must be a string; found 42 (a number)",
    ),
    *(
        refused(
            f"{key} missing",
            seed_field_changed("email", **{key: DELETED}),
            f"{EMAIL}.{key}",
            "is required",
        )
        for key in ("source", "display", "mandatory", "type", "store")
    ),
    refused(
        "unknown key",
        seed_field_changed("email", required=True),
        f"{EMAIL}.required",
        "is not a known key",
        f"allowed keys: {FIELD_KEYS}",
    ),
    # A field whose name is also an attribute name must still list the attribute keys.
    *(
        refused(
            f"unknown key in field named {name}",
            with_field(name, typed_field(hint="x")),
            f"authentication_configuration[3].{name}.hint",
            f"allowed keys: {FIELD_KEYS}",
        )
        for name in ("help", "type", "default")
    ),
]

ACCOUNT_FORMAT = "authentication_configuration[0].account.format"

FORMAT_REFUSALS = [
    refused(
        "no placeholder",
        seed_field_changed("account", format="https://zendesk.com"),
        ACCOUNT_FORMAT,
        "must contain the placeholder {{account}} where the typed value goes; found none",
    ),
    refused(
        "placeholder twice",
        seed_field_changed("account", format="https://{{account}}.zendesk.com/{{account}}"),
        ACCOUNT_FORMAT,
        "exactly once and no other; found {{account}}, {{account}}",
    ),
    refused(
        "another field's placeholder",
        seed_field_changed("account", format="https://{{subdomain}}.zendesk.com"),
        ACCOUNT_FORMAT,
        "must contain the placeholder {{account}}",
        "found {{subdomain}}",
    ),
    refused(
        "own and another placeholder",
        seed_field_changed("account", format="https://{{account}}.{{region}}.zendesk.com"),
        ACCOUNT_FORMAT,
        "found {{account}}, {{region}}",
    ),
    refused(
        "empty placeholder",
        seed_field_changed("account", format="https://{{}}.zendesk.com"),
        ACCOUNT_FORMAT,
        "found {{}}",
    ),
    refused(
        "unclosed brace",
        seed_field_changed("account", format="https://{{account.zendesk.com"),
        ACCOUNT_FORMAT,
        "has unbalanced braces; write the placeholder as {{account}}",
    ),
    refused(
        "unopened brace",
        seed_field_changed("account", format="https://account}}.zendesk.com"),
        ACCOUNT_FORMAT,
        "has unbalanced braces",
    ),
    refused(
        "triple braces around the placeholder",
        seed_field_changed("account", format="https://{{{account}}}.zendesk.com"),
        ACCOUNT_FORMAT,
        "has unbalanced braces",
    ),
    refused(
        "stray brace after a good placeholder",
        seed_field_changed("account", format="https://{{account}}.zendesk.com}}"),
        ACCOUNT_FORMAT,
        "has unbalanced braces",
    ),
    refused(
        "format as number",
        seed_field_changed("account", format=1),
        ACCOUNT_FORMAT,
        "must be a string; found 1 (a number)",
    ),
    refused(
        "format on a default field",
        with_field("region", typed_field(source="default", default="eu", format="{{region}}")),
        f"{REGION}.format",
        'only applies to fields a person types (source "input" and type "input")',
    ),
    refused(
        "format on an auth_validation field",
        with_field("region", typed_field(source="auth_validation", format="{{region}}")),
        f"{REGION}.format",
        "only applies to fields a person types",
    ),
    refused(
        "format on an oauth field",
        only_field("code", typed_field(type="oauth", format="{{code}}"), "oauth2"),
        "authentication_configuration[0].code.format",
        "only applies to fields a person types",
    ),
]

SOURCE_AND_TYPE_REFUSALS = [
    refused(
        "source default without default",
        with_field("region", typed_field(source="default")),
        f"{REGION}.default",
        'is required when source is "default"',
    ),
    refused(
        "source default with null default",
        with_field("region", typed_field(source="default", default=None)),
        f"{REGION}.default",
        'is required when source is "default"',
    ),
    refused(
        "default as number",
        with_field("region", typed_field(source="default", default=3)),
        f"{REGION}.default",
        "must be a string; found 3 (a number)",
    ),
    refused(
        "default with source input",
        with_field("region", typed_field(default="eu")),
        f"{REGION}.default",
        'only applies when source is "default"; found source "input"',
    ),
    refused(
        "default with source auth_validation",
        with_field("region", typed_field(source="auth_validation", default="eu")),
        f"{REGION}.default",
        'found source "auth_validation"',
    ),
    refused(
        "oauth field under custom",
        with_field("code", typed_field(type="oauth")),
        "authentication_configuration[3].code.type",
        'need authentication_type "oauth2"; found "custom"',
    ),
    refused(
        "oauth field under none",
        only_field("code", typed_field(source="default", default="x", type="oauth"), "none"),
        "authentication_configuration[0].code.type",
        'need authentication_type "oauth2"; found "none"',
    ),
    refused(
        "typed field under none",
        only_field("region", typed_field(), "none"),
        "authentication_configuration[0].region.source",
        'authentication_type "none" asks the person for nothing',
        'use authentication_type "custom"',
    ),
    refused(
        "auth_validation value not stored",
        with_field("agent_id", typed_field(source="auth_validation", store=False)),
        "authentication_configuration[3].agent_id.store",
        'use store true with source "auth_validation"',
    ),
]

TOP_LEVEL_KEYS = (
    "name, display_name, description, logo_url, icon_url, authentication_type, "
    "authentication_configuration, auth_validation_endpoint, contact_synchronization_endpoint, "
    "interaction_retrieval_endpoint, agent_synchronization_endpoint, interaction_types, "
    "oauth2_configuration"
)

UNKNOWN_KEY_REFUSALS = [
    refused(
        "top-level typo",
        integration(logo="https://example.com/logo.png"),
        "logo",
        "is not a known key",
        f"allowed keys: {TOP_LEVEL_KEYS}",
    ),
    refused(
        "key with a space",
        integration(**{"icon url": "https://example.com/i.png"}),
        '["icon url"]',
        "is not a known key",
    ),
]

# pydantic marks a bad dict key by appending "[key]" to its location; a real key spelled
# that way must keep its own path.
PYDANTIC_MARKER_REFUSALS = [
    refused(
        "top-level key named [key]",
        integration(**{"[key]": 1}),
        '["[key]"]',
        "is not a known key",
    ),
    refused(
        "field named [key]",
        with_field("[key]", typed_field()),
        'authentication_configuration[3]["[key]"]',
        FIELD_NAME_RULE,
    ),
]

INTERACTION_TYPE_REFUSALS = [
    refused(
        "string instead of array",
        integration(interaction_types="ticket"),
        "interaction_types",
        'must be an array; found "ticket" (a string)',
    ),
    refused(
        "empty string",
        integration(interaction_types=["ticket", ""]),
        "interaction_types[1]",
        "must not be empty",
    ),
    refused(
        "whitespace string",
        integration(interaction_types=["ticket", "  "]),
        "interaction_types[1]",
        "must not be empty",
    ),
    refused(
        "number",
        integration(interaction_types=["ticket", 3]),
        "interaction_types[1]",
        "must be a string; found 3 (a number)",
    ),
    refused(
        "repeated",
        integration(interaction_types=["ticket", "call", "ticket"]),
        "interaction_types[2]",
        '"ticket" is listed more than once',
    ),
]

ENV_NAME_RULE = "must be an environment variable name"

OAUTH2_REFUSALS = [
    refused(
        "with custom authentication",
        integration(oauth2_configuration=oauth2_settings()),
        "oauth2_configuration",
        'only applies when authentication_type is "oauth2"; found "custom" (a string)',
    ),
    refused(
        "with no authentication",
        integration(
            authentication_type="none",
            authentication_configuration=DELETED,
            oauth2_configuration=oauth2_settings(),
        ),
        "oauth2_configuration",
        'found "none" (a string)',
    ),
    refused(
        "not an object",
        integration(
            authentication_type="oauth2",
            authentication_configuration=DELETED,
            oauth2_configuration="https://zendesk.example.com/oauth",
        ),
        "oauth2_configuration",
        "must be an object; found",
    ),
    *(
        refused(
            f"{key} missing",
            oauth2_integration(**{key: DELETED}),
            f"oauth2_configuration.{key}",
            "is required",
        )
        for key in ("authorize_url", "token_url", "client_id")
    ),
    *(
        refused(
            f"{key} while the bridge exchanges the code",
            bridge_exchange_integration(**{key: value}),
            f"oauth2_configuration.{key}",
            "is not used",
            "the bridge exchanges the authorization code itself",
        )
        for key, value in [
            ("token_url", "https://zendesk.example.com/oauth/tokens"),
            ("client_secret", "s3cr3t"),
            ("client_secret_env", "ZENDESK_SECRET"),
            ("pkce", True),
        ]
    ),
    *(
        refused(
            f"{key} not http",
            oauth2_integration(**{key: "ftp://zendesk.example.com/oauth"}),
            f"oauth2_configuration.{key}",
            URL_RULE,
        )
        for key in ("authorize_url", "token_url")
    ),
    refused(
        "empty client_id",
        oauth2_integration(client_id=""),
        "oauth2_configuration.client_id",
        "must not be empty",
    ),
    refused(
        "empty client_secret",
        oauth2_integration(client_secret=" "),
        "oauth2_configuration.client_secret",
        "must not be empty",
    ),
    refused(
        "secret and secret env",
        oauth2_integration(client_secret_env="ZENDESK_SECRET"),
        "oauth2_configuration.client_secret_env",
        "give either client_secret or client_secret_env, not both",
    ),
    refused(
        "no secret without pkce",
        oauth2_integration(client_secret=DELETED),
        "oauth2_configuration",
        "a client without a secret must use PKCE",
        "set client_secret, client_secret_env, or pkce true",
    ),
    refused(
        "no secret with pkce false",
        oauth2_integration(client_secret=None, pkce=False),
        "oauth2_configuration",
        "must use PKCE",
    ),
    refused(
        "pkce as string",
        oauth2_integration(pkce="true"),
        "oauth2_configuration.pkce",
        BOOLEAN_RULE,
        'found "true" (a string)',
    ),
    *(
        refused(
            f"secret env {case}",
            oauth2_integration(client_secret=DELETED, client_secret_env=name),
            "oauth2_configuration.client_secret_env",
            ENV_NAME_RULE,
            f'"{name}"',
        )
        for case, name in [
            ("with dash", "ZENDESK-SECRET"),
            ("leading digit", "1SECRET"),
            ("with space", "ZENDESK SECRET"),
            ("with dollar", "$ZENDESK_SECRET"),
            ("empty", ""),
        ]
    ),
    refused(
        "repeated scope",
        oauth2_integration(scopes=["read", "write", "read"]),
        "oauth2_configuration.scopes[2]",
        '"read" is listed more than once',
    ),
    refused(
        "empty scope",
        oauth2_integration(scopes=["read", ""]),
        "oauth2_configuration.scopes[1]",
        "must not be empty",
    ),
    refused(
        "scopes as string",
        oauth2_integration(scopes="read write"),
        "oauth2_configuration.scopes",
        "must be an array",
    ),
    refused(
        "unknown key",
        oauth2_integration(scope="read"),
        "oauth2_configuration.scope",
        "is not a known key",
        "allowed keys: authorize_url, token_url, client_id, client_secret, client_secret_env, "
        "scopes, pkce",
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "fragments"),
    [
        *NAME_REFUSALS,
        *TEXT_REFUSALS,
        *URL_REFUSALS,
        *AUTHENTICATION_TYPE_REFUSALS,
        *AUTHENTICATION_CONFIGURATION_REFUSALS,
        *FIELD_NAME_REFUSALS,
        *FIELD_SHAPE_REFUSALS,
        *FORMAT_REFUSALS,
        *SOURCE_AND_TYPE_REFUSALS,
        *UNKNOWN_KEY_REFUSALS,
        *PYDANTIC_MARKER_REFUSALS,
        *INTERACTION_TYPE_REFUSALS,
        *OAUTH2_REFUSALS,
    ],
)
def test_integration_is_refused(document: Document, path: str, fragments: tuple[str, ...]) -> None:
    assert_single_problem(problems_of(validate_integration, document), path, fragments)


def test_pkce_as_string_does_not_excuse_a_missing_secret() -> None:
    problems = problems_of(
        validate_integration, oauth2_integration(client_secret=DELETED, pkce="true")
    )

    assert [problem.path for problem in problems] == [
        "oauth2_configuration",
        "oauth2_configuration.pkce",
    ]
    assert "must use PKCE" in problems[0].message
    assert problems[1].message == 'must be true or false; found "true" (a string)'


# --- action ------------------------------------------------------------------------------------


ACCEPTED_ACTIONS = [
    accepted("no inputs", action(inputs=[])),
    accepted("optional input", action_input(1, mandatory=False)),
    accepted("input key with capitals and underscore", action_input(0, key="_Ticket-Subject")),
    accepted("http endpoint", action(endpoint="http://localhost:9292/actions/create_ticket")),
    accepted("one-letter name", action(name="c")),
    accepted("input with choices", action_input(1, choices=["low", "normal"], default="low")),
    accepted("input with choices and no default", action_input(1, choices=["low"])),
    accepted("input with a default and no choices", action_input(1, default="Call back")),
]


@pytest.mark.parametrize("document", ACCEPTED_ACTIONS)
def test_action_is_accepted(document: Document) -> None:
    configuration = validate_action(document, providers=REGISTERED_PROVIDERS)

    assert configuration.model_dump(exclude_unset=True) == document


def test_action_provider_is_unchecked_without_providers() -> None:
    document = action(provider="freshdesk")

    assert validate_action(document).provider == "freshdesk"


@pytest.mark.parametrize(
    ("providers", "provider"),
    [
        pytest.param(REGISTERED_PROVIDERS, "freshdesk", id="another integration"),
        pytest.param(frozenset(), "zendesk", id="nothing registered"),
        pytest.param(["zendesk-eu"], "zendesk", id="prefix of a registered name"),
    ],
)
def test_action_provider_must_be_registered(providers: Container[str], provider: str) -> None:
    problems = problems_of(partial(validate_action, providers=providers), action(provider=provider))

    assert_single_problem(
        problems, "provider", [f'no integration named "{provider}" is registered']
    )


def test_action_provider_pattern_is_checked_without_providers() -> None:
    problems = problems_of(validate_action, action(provider="Zendesk"))

    assert_single_problem(problems, "provider", [SYSTEM_NAME_RULE, 'found "Zendesk" (a string)'])


INPUT_KEYS = "key, name, mandatory"
ACTION_KEYS = "provider, name, display, description, endpoint, inputs"

ACTION_REFUSALS = [
    refused("provider missing", action(provider=DELETED), "provider", "is required"),
    refused(
        "name with space", action(name="create ticket"), "name", SYSTEM_NAME_RULE, '"create ticket"'
    ),
    refused("name with capital", action(name="CreateTicket"), "name", SYSTEM_NAME_RULE),
    refused("name missing", action(name=DELETED), "name", "is required"),
    refused("display empty", action(display=""), "display", "must not be empty"),
    refused("display whitespace", action(display="   "), "display", "must not be empty"),
    refused("display missing", action(display=DELETED), "display", "is required"),
    refused("description empty", action(description="\t"), "description", "must not be empty"),
    refused("description missing", action(description=DELETED), "description", "is required"),
    *(
        refused(f"endpoint {case}", action(endpoint=url), "endpoint", URL_RULE, f'"{url}"')
        for case, url in BAD_URLS.items()
    ),
    refused("endpoint missing", action(endpoint=DELETED), "endpoint", "is required"),
    refused("inputs missing", action(inputs=DELETED), "inputs", "is required"),
    refused("inputs null", action(inputs=None), "inputs", "must be an array; found null"),
    refused(
        "inputs object",
        action(inputs={"key": "subject"}),
        "inputs",
        "must be an array; found an object",
    ),
    refused("input is a string", action(inputs=["subject"]), "inputs[0]", "must be an object"),
    *(
        refused(
            f"input {key} missing",
            action_input(1, **{key: DELETED}),
            f"inputs[1].{key}",
            "is required",
        )
        for key in ("key", "name", "mandatory")
    ),
    refused(
        "input mandatory as string",
        action_input(1, mandatory="true"),
        "inputs[1].mandatory",
        BOOLEAN_RULE,
        'found "true" (a string)',
    ),
    refused(
        "input mandatory null", action_input(1, mandatory=None), "inputs[1].mandatory", BOOLEAN_RULE
    ),
    refused(
        "input key with space",
        action_input(1, key="ticket description"),
        "inputs[1].key",
        FIELD_NAME_RULE,
        '"ticket description"',
    ),
    refused("input key empty", action_input(1, key=""), "inputs[1].key", FIELD_NAME_RULE),
    refused(
        "input key number", action_input(1, key=2), "inputs[1].key", "must be a string; found 2"
    ),
    refused("input name empty", action_input(1, name=" "), "inputs[1].name", "must not be empty"),
    refused(
        "input keys repeated",
        action_input(1, key="subject"),
        "inputs[1].key",
        'key "subject" is already used by inputs[0]',
    ),
    refused(
        "input unknown key",
        action_input(0, type="string"),
        "inputs[0].type",
        f"is not a known key; allowed keys: {INPUT_KEYS}",
    ),
    refused(
        "input choices empty", action_input(1, choices=[]), "inputs[1].choices", "must not be empty"
    ),
    refused(
        "input choices a string",
        action_input(1, choices="low"),
        "inputs[1].choices",
        'must be an array; found "low" (a string)',
    ),
    refused(
        "input choice blank",
        action_input(1, choices=["low", " "]),
        "inputs[1].choices[1]",
        "must not be empty",
    ),
    refused(
        "input choice a number",
        action_input(1, choices=["low", 2]),
        "inputs[1].choices[1]",
        "must be a string; found 2",
    ),
    refused(
        "input choices repeated",
        action_input(1, choices=["low", "high", "low"]),
        "inputs[1].choices[2]",
        '"low" is listed more than once',
    ),
    refused(
        "input default outside the choices",
        action_input(1, choices=["low", "high"], default="asap"),
        "inputs[1].default",
        'must be one of the choices ("low" or "high"); found "asap"',
    ),
    refused(
        "input default a number",
        action_input(1, default=3),
        "inputs[1].default",
        "must be a string; found 3",
    ),
    refused(
        "top-level unknown key",
        action(method="POST"),
        "method",
        f"is not a known key; allowed keys: {ACTION_KEYS}",
    ),
]


@pytest.mark.parametrize(("document", "path", "fragments"), ACTION_REFUSALS)
def test_action_is_refused(document: Document, path: str, fragments: tuple[str, ...]) -> None:
    assert_single_problem(problems_of(validate_registered_action, document), path, fragments)


# --- documents that are not objects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("validate", "kind"),
    [
        pytest.param(validate_integration, "integration", id="integration"),
        pytest.param(validate_registered_action, "action", id="action"),
        pytest.param(validate_action, "action", id="action without providers"),
    ],
)
@pytest.mark.parametrize(
    ("document", "found"),
    [
        pytest.param([integration()], "an array", id="array"),
        pytest.param([], "an array", id="empty array"),
        pytest.param("zendesk", '"zendesk" (a string)', id="string"),
        pytest.param(None, "null", id="null"),
        pytest.param(3, "3 (a number)", id="number"),
        pytest.param(True, "true (a boolean)", id="boolean"),
    ],
)
def test_document_must_be_an_object(
    validate: Validator, kind: str, document: Any, found: str
) -> None:
    problems = problems_of(validate, document)

    assert problems == [
        Problem("", f"an {kind} configuration must be a JSON object; found {found}")
    ]


# --- every problem at once ------------------------------------------------------------------


def test_integration_problems_are_all_reported_in_document_order() -> None:
    document = integration(
        name="Zendesk",
        display_name=" ",
        logo_url="ftp://example.com/logo.png",
        icon_url=DELETED,
        interaction_types=["ticket", "ticket"],
        oauth2_configuration=oauth2_settings(client_secret_env="ZENDESK_SECRET"),
        color="green",
    )
    account = document["authentication_configuration"][0]["account"]
    account.update(source="keyboard", display="", format="https://zendesk.com")
    document["authentication_configuration"][1]["email"]["mandatory"] = "yes"
    document["authentication_configuration"].append({"token": typed_field(store="no")})

    problems = problems_of(validate_integration, document)

    assert [problem.path for problem in problems] == [
        "name",
        "display_name",
        "logo_url",
        "authentication_configuration[0].account.source",
        "authentication_configuration[0].account.display",
        "authentication_configuration[0].account.format",
        "authentication_configuration[0].account.format",
        "authentication_configuration[1].email.mandatory",
        "authentication_configuration[3].token",
        "authentication_configuration[3].token.store",
        "interaction_types[1]",
        "oauth2_configuration",
        "oauth2_configuration.client_secret_env",
        "color",
        "icon_url",
    ]
    messages = [problem.message for problem in problems]
    assert messages[6] == (
        "must contain the placeholder {{account}} where the typed value goes; found none"
    )
    assert messages[-1] == "is required"
    assert len(set(problems)) == len(problems)
    assert all(problem.message for problem in problems)


def test_action_problems_are_all_reported_in_document_order() -> None:
    document = action(provider="freshdesk", name="Create Ticket", endpoint="/create")
    document["inputs"][0].update(mandatory="yes", extra=1)
    document["inputs"][1].update(key="subject", name="")
    document["inputs"].append({"key": "priority"})

    problems = problems_of(validate_registered_action, document)

    assert [problem.path for problem in problems] == [
        "provider",
        "name",
        "endpoint",
        "inputs[0].mandatory",
        "inputs[0].extra",
        "inputs[1].key",
        "inputs[1].name",
        "inputs[2].mandatory",
        "inputs[2].name",
    ]
    assert len(set(problems)) == len(problems)
