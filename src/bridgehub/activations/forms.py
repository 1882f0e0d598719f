"""An integration's authentication fields, applied to what a person submits.

Which values a person types, which come from defaults, the OAuth 2.0 authority or the
bridge's auth validation, which are kept, and which may be shown again; and the interaction
types a person may choose.
"""

from __future__ import annotations

import re
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


def typed_fields(configuration: IntegrationConfiguration) -> dict[str, AuthenticationField]:
    """The fields a person types, by name in the integration's order; defaults and values
    from the OAuth 2.0 authority or the bridge are the hub's business."""
    return {
        name: field
        for name, field in configuration.authentication_fields()
        if typed_by_person(field)
    }


# Words naming an identifier a person would not hide. A typed field whose name or label
# holds one is answered in clear and shown again after a refusal, so nobody types it twice;
# a field with none is unknown, and an unknown value stays a secret.
IDENTIFIER_WORDS = frozenset({
    "email", "mail", "user", "username", "login",  # who signs in
    "account", "subdomain", "domain", "url", "region",  # where their account lives
})  # fmt: skip
# Words naming a credential: a field holding one is a secret whatever identifier it also
# names ("Account password", `user_token`, "Login key").
CREDENTIAL_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "passcode", "pass", "pin", "otp", "code",
    "secret", "token", "apitoken", "key", "apikey", "auth", "credential", "credentials",
    "private", "signature",
})  # fmt: skip
_EMAIL_WORDS = frozenset({"email", "mail"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def is_public(name: str, field: AuthenticationField) -> bool:
    """Whether the field's value is public: answered in clear and shown again in forms.
    Every other value is a secret: masked in answers, never shown again, kept out of logs.

    An explicit `secret` decides. Otherwise a configured default is public, and so is a
    typed value shaped by a `format` or named an identifier (`IDENTIFIER_WORDS`, and no
    `CREDENTIAL_WORDS`); every other value (tokens, keys, passwords, values from the OAuth
    2.0 authority or the bridge's auth validation, anything unknown) is a secret."""
    if field.secret is not None:
        return not field.secret
    if field.format is not None or field.source == "default":
        return True
    return typed_by_person(field) and bool(_identifier_words(name, field))


def asks_for_email(name: str, field: AuthenticationField) -> bool:
    """Whether a person types an email address, bare, into the field: it is public, without
    a `format`, and named an email address and no other identifier."""
    words = _identifier_words(name, field)
    return is_public(name, field) and field.format is None and bool(words) and words <= _EMAIL_WORDS


def secrets_of(configuration: IntegrationConfiguration, values: Mapping[str, str]) -> list[str]:
    """The secret values among `values` (by field name): what the process must keep out of
    its logs. A name the integration does not declare counts as a secret."""
    fields = dict(configuration.authentication_fields())
    return [
        value
        for name, value in values.items()
        if name not in fields or not is_public(name, fields[name])
    ]


def _identifier_words(name: str, field: AuthenticationField) -> frozenset[str]:
    """The identifier words in the field's name and label, or none when they also name a
    credential."""
    words = {word.lower() for word in _WORD.findall(f"{name} {field.display}")}
    if words & CREDENTIAL_WORDS:
        return frozenset()
    return frozenset(words & IDENTIFIER_WORDS)


def offered_interaction_types(configuration: IntegrationConfiguration) -> list[str]:
    """The interaction types the integration offers, in its order: the ones a person may
    choose from, and the ones an activation brings when none are chosen."""
    return list(configuration.interaction_types or [])


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
        typed = ", ".join(typed_fields(configuration)) or "none"
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


def format_parts(field: AuthenticationField, name: str) -> tuple[str, str]:
    """The text the field's `format` puts before and after what a person types: `https://`
    and `.zendesk.com` for `https://{{account}}.zendesk.com`; none without a `format`."""
    if field.format is None:
        return "", ""
    return placeholder_parts(field.format, name)


def apply_format(field: AuthenticationField, name: str, raw: str) -> str:
    """Put what a person typed into the field's template: `acme` becomes
    `https://acme.zendesk.com`. A value already in the template's shape is kept as is,
    so pasting the whole URL works too."""
    if field.format is None or _inside_format(field, name, raw) is not None:
        return raw
    before, after = format_parts(field, name)
    return before + raw + after


def unformat(field: AuthenticationField, name: str, value: str) -> str:
    """What a person types for a value of the field: `acme` for `https://acme.zendesk.com`
    (the reverse of `apply_format`). A value not in the template's shape is its own."""
    typed = _inside_format(field, name, value)
    return value if typed is None else typed


def _inside_format(field: AuthenticationField, name: str, value: str) -> str | None:
    """The part of `value` between the text of the field's `format`, when `value` is in the
    template's shape (with something in between)."""
    before, after = format_parts(field, name)
    if value.startswith(before) and value.endswith(after) and len(value) > len(before + after):
        return value[len(before) : len(value) - len(after)]
    return None


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
    """Values as answers show them: the public ones (`is_public`) in clear, every other one
    masked."""
    fields = dict(configuration.authentication_fields())
    public = {name for name, field in fields.items() if is_public(name, field)}
    return {
        name: value if name in public else SECRET_MASK
        for name, value in values.items()
        if name in fields
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
