"""Integration and action configurations, as the configuration reference defines them.

The pydantic models describe each document's shape (and give its JSON Schema); the
checks that span several keys (a `format` naming its own field, field names unique
across elements, `oauth` fields only for OAuth 2.0, ...) run beside them on the raw
document, so that one pass reports every problem at once, each with its path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.config import JsonDict
from pydantic_core import ErrorDetails, PydanticCustomError

from bridgehub.bridge.guard import never_allowed
from bridgehub.kit.errors import InvalidInput, Problem
from bridgehub.kit.messages import WRONG_TYPE, plain_message
from bridgehub.kit.paths import describe_value, format_path

AuthenticationType = Literal["none", "custom", "oauth2"]
FieldSource = Literal["input", "default", "auth_validation"]
FieldType = Literal["input", "oauth"]

SYSTEM_NAME_RULE = "1 to 64 lower-case letters, digits, '_' or '-', starting with a letter or digit"
FIELD_NAME_RULE = "1 to 64 letters, digits, '_' or '-', starting with a letter or '_'"
_SYSTEM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_SCHEMA: JsonDict = {"pattern": _SYSTEM_NAME.pattern}
"""The JSON Schema of a field naming an integration, for the API shapes that do."""
ACTION_KEY_SCHEMA: JsonDict = {"pattern": r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_-]{0,63}$"}
"""The JSON Schema of a field naming an action as `provider/name`."""
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

SECRET_MASK = "********"  # noqa: S105  (a placeholder, not a secret)
"""What answers show instead of an OAuth 2.0 client secret. A PUT that sends it back
keeps the stored secret."""


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError(
                "name",
                "must be {rule}; found {found}",
                {"rule": rule, "found": describe_value(value)},
            )
        return value

    return check


_URI_CHARACTER = re.compile(r"[!-~]")

_REGISTERING = {"registering": True}
"""The validation context of a configuration being registered, as opposed to one read back
from the database: rules added since a configuration was stored apply only to new ones, so
that a stricter hub still reads every integration it already holds."""


def _registering(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("registering") is True


def _http_url(value: str, info: ValidationInfo) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[::1"
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise PydanticCustomError(
            "url",
            "must be an http:// or https:// URL; found {found}",
            {"found": describe_value(value)},
        )
    if not _registering(info):
        return value  # stored before the rules below: still read, though no longer accepted
    if not all(_URI_CHARACTER.match(c) for c in value):
        # A URI (RFC 3986, what the schema's `format: uri` promises) is printable ASCII.
        raise PydanticCustomError(
            "url",
            "must be written in printable ASCII (an international host name in its xn-- form, "
            "other characters percent-encoded); found {found}",
            {"found": describe_value(value)},
        )
    refusal = never_allowed(value)
    if refusal is not None:  # said now, rather than at the first call
        raise PydanticCustomError("url", "{url} {refusal}", {"url": value, "refusal": refusal})
    return value


SystemName = Annotated[
    str,
    AfterValidator(_matching(_SYSTEM_NAME, SYSTEM_NAME_RULE)),
    WithJsonSchema({"type": "string", "pattern": _SYSTEM_NAME.pattern}),
]
FieldName = Annotated[
    str,
    AfterValidator(_matching(_FIELD_NAME, FIELD_NAME_RULE)),
    WithJsonSchema({"type": "string", "pattern": _FIELD_NAME.pattern}),
]
EnvironmentVariable = Annotated[
    str,
    AfterValidator(_matching(_ENV_NAME, "an environment variable name (letters, digits and '_')")),
    WithJsonSchema({"type": "string", "pattern": _ENV_NAME.pattern}),
]
HttpUrl = Annotated[
    str,
    AfterValidator(_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


Text = Annotated[
    str, AfterValidator(_not_blank), WithJsonSchema({"type": "string", "minLength": 1})
]


class _Configuration(BaseModel):
    # Strict: a configuration is written by a person, so "true" for true or a typo'd
    # key is a mistake to point at, not something to guess around.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AuthenticationField(_Configuration):
    """How the hub obtains one authentication value sent to the bridge in `auth`."""

    source: FieldSource = Field(description="Where the value comes from.")
    display: Text = Field(description="Label shown to the person activating the integration.")
    mandatory: bool = Field(description="Whether activation requires a value.")
    type: FieldType = Field(
        description="`input`: typed by a person; `oauth`: filled by the OAuth 2.0 authority."
    )
    store: bool = Field(
        description="Whether the value is kept after the request that collected it."
    )
    help: str | None = Field(default=None, description="Hint shown beside the input.")
    format: str | None = Field(
        default=None,
        description="Template around the typed value, naming the field itself, e.g. `https://{{account}}.zendesk.com`.",
    )
    default: str | None = Field(
        default=None, description="The value of a field whose source is `default`."
    )
    secret: bool | None = Field(
        default=None,
        description="Whether the value is a secret: masked in answers, never shown again. "
        "Without it, a default is public, and so is a typed value with a `format` or named as "
        "an identifier (email, user name, login, account, domain, URL, region); every other "
        "value is a secret.",
    )


AuthenticationElement = Annotated[
    dict[FieldName, AuthenticationField],
    Field(json_schema_extra={"minProperties": 1, "maxProperties": 1}),
]


class OAuth2Configuration(_Configuration):
    """Where and how the hub runs the OAuth 2.0 authorization code flow."""

    authorize_url: HttpUrl
    token_url: HttpUrl | None = None
    client_id: Text
    client_secret: Text | None = None
    client_secret_env: EnvironmentVariable | None = Field(
        default=None, description="Name of the environment variable holding the client secret."
    )
    scopes: list[Text] = Field(default_factory=list)
    pkce: bool = False


class IntegrationConfiguration(_Configuration):
    """An integration, exactly as the configuration reference describes it."""

    name: SystemName = Field(description="The system name of the integration; unique.")
    display_name: Text
    description: Text
    logo_url: HttpUrl
    icon_url: HttpUrl
    authentication_type: AuthenticationType
    authentication_configuration: list[AuthenticationElement] | None = Field(
        default=None, description="One object per field, each holding exactly one field name."
    )
    auth_validation_endpoint: HttpUrl | None = None
    contact_synchronization_endpoint: HttpUrl | None = None
    interaction_retrieval_endpoint: HttpUrl | None = None
    agent_synchronization_endpoint: HttpUrl | None = None
    interaction_types: list[Text] | None = None
    oauth2_configuration: OAuth2Configuration | None = None

    def authentication_fields(self) -> Iterator[tuple[str, AuthenticationField]]:
        for element in self.authentication_configuration or ():
            yield from element.items()


class ActionInput(_Configuration):
    key: FieldName = Field(description="The key of this input in the request's `data`.")
    name: Text = Field(description="The input's name, shown to people.")
    mandatory: bool = Field(description="Whether the action refuses to run without a value.")
    choices: list[Text] | None = Field(
        default=None,
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description='The only values the input takes, e.g. `["low", "normal", "high"]`: '
        "offered as a list, and any other value is refused before the bridge is called.",
    )
    default: str | None = Field(
        default=None,
        description="What the bridge takes when no value is given, offered first in forms; one "
        "of `choices` when the input has them.",
    )

    def document(self) -> dict[str, Any]:
        """The input as a configuration writes it: the hub's additions only when used."""
        return self.model_dump(exclude_none=True)

    def refusal(self, value: Any) -> str | None:
        """Why `value` (given, not blank) cannot be this input's value; None when it can."""
        if self.choices is None or value in self.choices:
            return None
        return (
            f'"{self.name}" must be one of {_listed(self.choices)}; found {describe_value(value)}'
        )


class ActionConfiguration(_Configuration):
    """An action, exactly as the configuration reference describes it."""

    provider: SystemName = Field(description="The `name` of the integration providing the action.")
    name: SystemName = Field(description="Identifier of the action, unique within its provider.")
    display: Text = Field(description='Lower-case and short: "create a ticket".')
    description: Text = Field(description='Lower-case: "create a new ticket in Zendesk".')
    endpoint: HttpUrl
    inputs: list[ActionInput]


def action_title(display: str, integration_display_name: str) -> str:
    """An action as a person names it: "Create a ticket in Demo Helpdesk" (`display` is
    lower-case, as the reference asks)."""
    return f"{display[:1].upper()}{display[1:]} in {integration_display_name}"


Model = TypeVar("Model", bound=_Configuration)


# --- validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Located:
    """A problem whose location is still a tuple, so problems sort in document order."""

    location: tuple[str | int, ...]
    message: str


def validate_integration(document: Any) -> IntegrationConfiguration:
    """Validate an integration configuration, raising `InvalidConfiguration` with every problem."""
    return _validate(IntegrationConfiguration, document, _integration_rules)


def validate_action(
    document: Any, *, providers: Container[str] | None = None
) -> ActionConfiguration:
    """Validate an action configuration.

    With `providers`, the action's `provider` must be one of them; without, that check
    is left to whoever knows the registered integrations.
    """

    def rules(action: Mapping[str, Any]) -> Iterator[_Located]:
        yield from _action_rules(action)
        provider = action.get("provider")
        well_formed = isinstance(provider, str) and _SYSTEM_NAME.match(provider)
        if providers is not None and well_formed and provider not in providers:
            yield _Located(("provider",), f'no integration named "{provider}" is registered')

    return _validate(ActionConfiguration, document, rules)


class InvalidConfiguration(InvalidInput):
    code = "invalid_configuration"


def _validate(
    model: type[Model], document: Any, rules: Callable[[Mapping[str, Any]], Iterator[_Located]]
) -> Model:
    kind = "integration" if model is IntegrationConfiguration else "action"
    if not isinstance(document, dict):
        found = describe_value(document)
        raise InvalidConfiguration(
            f"The {kind} configuration is invalid.",
            [Problem("", f"an {kind} configuration must be a JSON object; found {found}")],
        )
    problems: list[_Located] = list(rules(document))
    try:
        configuration = model.model_validate(document, context=_REGISTERING)
    except ValidationError as error:
        problems.extend(_explain(model, detail) for detail in error.errors(include_url=False))
    if problems:
        problems.sort(key=lambda p: _document_position(document, p.location))
        raise InvalidConfiguration(
            f"The {kind} configuration has {_count(len(problems), 'problem')}.",
            _unique(Problem(format_path(p.location), p.message) for p in problems),
        )
    return configuration


def _document_position(document: Any, location: tuple[str | int, ...]) -> list[tuple[int, str]]:
    """Where `location` sits in `document`, step by step, so problems sort as it reads.

    A key the document lacks (a missing one) sorts after the keys its object has, by name.
    """
    position: list[tuple[int, str]] = []
    current = document
    for part in location:
        if isinstance(current, dict) and part in current:
            position.append((list(current).index(part), ""))
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            position.append((part, ""))
            current = current[part]
        else:
            position.append((len(current) if isinstance(current, dict | list) else 0, str(part)))
            current = None
    return position


def _unique(problems: Iterator[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# --- turning pydantic's errors into sentences --------------------------------------------


def _explain(model: type[BaseModel], detail: ErrorDetails) -> _Located:
    location = tuple(detail["loc"])
    kind = detail["type"]
    if _about_a_key(location, detail):
        # A bad dict key: point at the key itself, not at pydantic's marker.
        location = location[:-1]
    found = describe_value(detail["input"])
    if kind == "missing":
        return _Located(location, "is required")
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(model, location[:-1]))
        return _Located(location, f"is not a known key; allowed keys: {allowed}")
    if kind == "literal_error":
        expected = str((detail.get("ctx") or {}).get("expected", "")).replace("'", '"')
        return _Located(location, f"found {found}; allowed: {expected}")
    if kind in WRONG_TYPE:
        return _Located(location, f"{plain_message(detail)}; found {found}")
    if kind in ("too_short", "too_long") and isinstance(detail["input"], dict):
        names = ", ".join(detail["input"]) or "none"
        return _Located(
            location, f"must hold exactly one field; found {len(detail['input'])} ({names})"
        )
    return _Located(location, plain_message(detail))


def _about_a_key(location: tuple[str | int, ...], detail: ErrorDetails) -> bool:
    """Whether pydantic reports a bad dict key, which it locates as `(..., key, "[key]")`.

    Checked beyond the marker, because a document may itself hold a key named "[key]".
    """
    return (
        len(location) >= 2
        and location[-1] == "[key]"
        and isinstance(location[-2], str)
        and location[-2] == detail["input"]
        and detail["type"] != "extra_forbidden"
    )


def _fields_at(model: type[BaseModel], location: tuple[str | int, ...]) -> list[str]:
    """The keys allowed in the object at `location`."""
    annotation: Any = model
    for part in location:
        annotation = _annotation_of_part(annotation, part)
    for candidate in _alternatives(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return list(candidate.model_fields)
    return []


def _annotation_of_part(annotation: Any, part: str | int) -> Any:
    """The annotation of `part` inside a value annotated `annotation` (None if unknown).

    Walks the annotation step by step, so a field *named* like an attribute (a field
    called "help") is taken as a dict key, not as that attribute.
    """
    for candidate in _alternatives(annotation):
        origin, arguments = get_origin(candidate), get_args(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            return arguments[0]
        elif origin is dict and isinstance(part, str):
            return arguments[1]
    return None


def _alternatives(annotation: Any) -> Iterator[Any]:
    """The types an annotation allows, with `Annotated` and `X | None` unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _alternatives(get_args(annotation)[0])
    elif origin is Union or origin is UnionType:
        for argument in get_args(annotation):
            yield from _alternatives(argument)
    else:
        yield annotation


# --- rules that span several keys ---------------------------------------------------------


def _integration_rules(document: Mapping[str, Any]) -> Iterator[_Located]:
    authentication_type = document.get("authentication_type")
    elements = document.get("authentication_configuration")
    if authentication_type == "custom" and elements is None:
        yield _Located(
            ("authentication_configuration",), 'is required when authentication_type is "custom"'
        )
    if authentication_type == "custom" and elements == []:
        yield _Located(
            ("authentication_configuration",),
            'must list at least one field when authentication_type is "custom"',
        )
    if isinstance(elements, list):
        yield from _authentication_field_rules(elements, authentication_type)
    oauth2 = document.get("oauth2_configuration")
    if oauth2 is not None and authentication_type != "oauth2":
        yield _Located(
            ("oauth2_configuration",),
            'only applies when authentication_type is "oauth2"; '
            f"found {describe_value(authentication_type)}",
        )
    if isinstance(oauth2, dict):
        yield from _oauth2_rules(oauth2, bridge_exchanges_code=_declares_code_field(elements))
    yield from _repeated_strings(document.get("interaction_types"), ("interaction_types",))


def _authentication_field_rules(
    elements: list[Any], authentication_type: Any
) -> Iterator[_Located]:
    first_seen: dict[str, int] = {}
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            continue
        if len(element) != 1:
            names = ", ".join(f'"{name}"' for name in element) or "none"
            yield _Located(
                ("authentication_configuration", index),
                f"must hold exactly one field; found {len(element)} ({names})",
            )
        for name, spec in element.items():
            location: tuple[str | int, ...] = ("authentication_configuration", index, name)
            if name in first_seen:
                earlier = format_path(("authentication_configuration", first_seen[name]))
                yield _Located(location, f'field name "{name}" is already defined in {earlier}')
            first_seen.setdefault(name, index)
            if isinstance(spec, dict):
                yield from _field_rules(name, spec, location, authentication_type)


def _field_rules(
    name: str, spec: Mapping[str, Any], location: tuple[str | int, ...], authentication_type: Any
) -> Iterator[_Located]:
    source, kind = spec.get("source"), spec.get("type")
    if source == "default" and spec.get("default") is None:
        yield _Located((*location, "default"), 'is required when source is "default"')
    if source in ("input", "auth_validation") and spec.get("default") is not None:
        yield _Located(
            (*location, "default"),
            f'only applies when source is "default"; found source "{source}"',
        )
    if kind == "oauth" and authentication_type in ("none", "custom"):
        yield _Located(
            (*location, "type"),
            '"oauth" fields are filled by the OAuth 2.0 authority, '
            'so they need authentication_type "oauth2"; '
            f'found "{authentication_type}"',
        )
    if authentication_type == "none" and source == "input" and kind == "input":
        yield _Located(
            (*location, "source"),
            'authentication_type "none" asks the person for nothing; '
            'use authentication_type "custom" for fields a person types',
        )
    if source == "auth_validation" and spec.get("store") is False:
        yield _Located(
            (*location, "store"),
            "a value returned by auth validation is only useful when kept; "
            'use store true with source "auth_validation"',
        )
    template = spec.get("format")
    if isinstance(template, str):
        yield from _format_rules(name, template, (*location, "format"), source, kind)


def _format_rules(
    name: str, template: str, location: tuple[str | int, ...], source: Any, kind: Any
) -> Iterator[_Located]:
    if source != "input" or kind != "input":
        yield _Located(
            location, 'only applies to fields a person types (source "input" and type "input")'
        )
    placeholders = _PLACEHOLDER.findall(template)
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover or "{{{" in template or "}}}" in template:
        yield _Located(location, f"has unbalanced braces; write the placeholder as {{{{{name}}}}}")
    elif not placeholders:
        yield _Located(
            location,
            f"must contain the placeholder {{{{{name}}}}} where the typed value goes; found none",
        )
    elif placeholders != [name]:
        found = ", ".join(f"{{{{{p}}}}}" for p in placeholders)
        yield _Located(
            location,
            f"must contain the placeholder {{{{{name}}}}} exactly once and no other; found {found}",
        )


def _oauth2_rules(oauth2: Mapping[str, Any], *, bridge_exchanges_code: bool) -> Iterator[_Located]:
    yield from _repeated_strings(oauth2.get("scopes"), ("oauth2_configuration", "scopes"))
    if bridge_exchanges_code:
        # The code is single-use: when the bridge exchanges it, the hub must not.
        for key in _HUB_EXCHANGE_KEYS:
            if oauth2.get(key) is not None:
                yield _Located(
                    ("oauth2_configuration", key),
                    'is not used: the field "code" has type "oauth", so the bridge exchanges '
                    "the authorization code itself",
                )
        return
    if oauth2.get("token_url") is None:
        yield _Located(
            ("oauth2_configuration", "token_url"),
            'is required, unless the bridge exchanges the code (a field "code" with type "oauth")',
        )
    has_secret = oauth2.get("client_secret") is not None
    has_secret_env = oauth2.get("client_secret_env") is not None
    if has_secret and has_secret_env:
        yield _Located(
            ("oauth2_configuration", "client_secret_env"),
            "give either client_secret or client_secret_env, not both",
        )
    if not has_secret and not has_secret_env and oauth2.get("pkce") is not True:
        yield _Located(
            ("oauth2_configuration",),
            "a client without a secret must use PKCE: "
            "set client_secret, client_secret_env, or pkce true",
        )


_HUB_EXCHANGE_KEYS = ("token_url", "client_secret", "client_secret_env", "pkce")


def _declares_code_field(elements: Any) -> bool:
    return isinstance(elements, list) and any(
        isinstance(element, dict)
        and isinstance(element.get("code"), dict)
        and element["code"].get("type") == "oauth"
        for element in elements
    )


def _action_rules(action: Mapping[str, Any]) -> Iterator[_Located]:
    inputs = action.get("inputs")
    if not isinstance(inputs, list):
        return
    first_seen: dict[str, int] = {}
    for index, item in enumerate(inputs):
        if isinstance(item, dict):
            yield from _choice_rules(item, index)
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            continue
        if key in first_seen:
            yield _Located(
                ("inputs", index, "key"),
                f'key "{key}" is already used by inputs[{first_seen[key]}]',
            )
        first_seen.setdefault(key, index)


def _choice_rules(item: Mapping[str, Any], index: int) -> Iterator[_Located]:
    choices, default = item.get("choices"), item.get("default")
    yield from _repeated_strings(choices, ("inputs", index, "choices"))
    if (
        isinstance(choices, list)
        and choices
        and isinstance(default, str)
        and default not in choices
    ):
        yield _Located(
            ("inputs", index, "default"),
            f"must be one of the choices ({_listed(choices)}); found {json.dumps(default)}",
        )


def _listed(values: list[Any]) -> str:
    """`"low", "normal" or "high"`."""
    quoted = [json.dumps(value) for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _repeated_strings(values: Any, location: tuple[str | int, ...]) -> Iterator[_Located]:
    if not isinstance(values, list):
        return
    seen: set[str] = set()
    for index, value in enumerate(values):
        if isinstance(value, str) and value in seen:
            yield _Located((*location, index), f"{json.dumps(value)} is listed more than once")
        if isinstance(value, str):
            seen.add(value)


def placeholder_parts(template: str, name: str) -> tuple[str, str]:
    """The text before and after `{{name}}` in a valid `format` template."""
    match = _PLACEHOLDER.search(template)
    assert match is not None, "templates are validated on registration"
    assert match.group(1) == name, "templates are validated on registration"
    return template[: match.start()], template[match.end() :]


def json_schemas() -> dict[str, dict[str, Any]]:
    """The published JSON Schemas of both configurations, keyed by kind."""
    return {
        "integration": IntegrationConfiguration.model_json_schema(),
        "action": ActionConfiguration.model_json_schema(),
    }
