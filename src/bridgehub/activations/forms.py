"""An integration's authentication fields, applied to what a person submits.

Which values a person types, which come from defaults, the OAuth 2.0 authority or the
bridge's auth validation, which are kept, and which may be shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridgehub.integrations.configuration import (
    SECRET_MASK,
    AuthenticationField,
    IntegrationConfiguration,
    placeholder_parts,
)
from bridgehub.kit.errors import InvalidInput, Problem


class InvalidCredentials(InvalidInput):
    code = "invalid_credentials"


def typed_by_person(field: AuthenticationField) -> bool:
    return field.source == "input" and field.type == "input"


def collect(
    configuration: IntegrationConfiguration, submitted: Mapping[str, Any]
) -> dict[str, str]:
    """The values to send to the bridge for what a person submitted: typed values
    (through their `format`) and defaults. Every problem is reported at once."""
    fields = dict(configuration.authentication_fields())
    problems = [
        problem
        for key, value in submitted.items()
        if (problem := _refusal(configuration, fields, key, value))
    ]
    values: dict[str, str] = {}
    for name, field in fields.items():
        if field.source == "default" and field.default is not None:
            values[name] = field.default
        elif typed_by_person(field):
            raw = submitted.get(name)
            if isinstance(raw, str) and raw.strip():
                values[name] = apply_format(field, name, raw.strip())
            elif (field.mandatory and raw is None) or (
                isinstance(raw, str) and not raw.strip() and field.mandatory
            ):
                problems.append(Problem(f"auth.{name}", f'"{field.display}" is required'))
    if problems:
        raise InvalidCredentials(
            f"The credentials for {configuration.display_name} are incomplete.", problems
        )
    return values


def _refusal(
    configuration: IntegrationConfiguration,
    fields: Mapping[str, AuthenticationField],
    key: str,
    value: Any,
) -> Problem | None:
    field = fields.get(key)
    if field is None:
        typed = ", ".join(name for name, f in fields.items() if typed_by_person(f)) or "none"
        return Problem(
            f"auth.{key}",
            f"is not a field of {configuration.name}; the fields a person gives are: {typed}",
        )
    if not typed_by_person(field):
        origin = {
            "default": "has a fixed default",
            "auth_validation": "is filled by the bridge's auth validation",
        }.get(field.source, "is filled by the OAuth 2.0 authority")
        return Problem(f"auth.{key}", f"{origin}; it cannot be given")
    if value is not None and not isinstance(value, str):
        return Problem(f"auth.{key}", "must be a string")
    return None


def apply_format(field: AuthenticationField, name: str, raw: str) -> str:
    """Put what a person typed into the field's template: `acme` becomes
    `https://acme.zendesk.com`. A value already in the template's shape is kept as is,
    so pasting the whole URL works too."""
    if field.format is None:
        return raw
    before, after = placeholder_parts(field.format, name)
    if raw.startswith(before) and raw.endswith(after) and len(raw) > len(before) + len(after):
        return raw
    return before + raw + after


def kept(configuration: IntegrationConfiguration, values: Mapping[str, str]) -> dict[str, str]:
    """What may be stored: `store: false` values live only in the request that collected them."""
    storable = {name for name, field in configuration.authentication_fields() if field.store}
    return {name: value for name, value in values.items() if name in storable}


def from_auth_validation(
    configuration: IntegrationConfiguration, answer: Mapping[str, Any]
) -> dict[str, str]:
    """The values a bridge returned for fields whose source is `auth_validation`; nothing else
    from the answer is taken."""
    wanted = {
        name
        for name, field in configuration.authentication_fields()
        if field.source == "auth_validation"
    }
    return {name: _text(answer[name]) for name in wanted if answer.get(name) is not None}


def from_oauth(
    configuration: IntegrationConfiguration, token: Mapping[str, Any], code: str
) -> dict[str, str]:
    """Fields of `type: oauth` take the authorization code, or the token answer's value
    of the same name."""
    offered = {**token, "code": code}
    return {
        name: _text(offered[name])
        for name, field in configuration.authentication_fields()
        if field.type == "oauth" and offered.get(name) is not None
    }


def visible(configuration: IntegrationConfiguration, values: Mapping[str, str]) -> dict[str, str]:
    """Values as answers show them: the ones the integration treats as public (shaped by a
    `format`, or a configured default) in clear, every other one masked."""
    fields = dict(configuration.authentication_fields())
    public = {
        name
        for name, field in fields.items()
        if field.format is not None or field.source == "default"
    }
    return {
        name: value if name in public else SECRET_MASK
        for name, value in values.items()
        if name in fields
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
