"""The catalog documents of a bridge, generated from its own declarations.

A `Bridge` knows what it is called, how people authenticate to it, which endpoints it
serves and which actions it offers; the integration and action configurations (see the
configuration reference) are derived from that and a base URL, and checked with the hub's
own validator before anyone sees them, so configuration and bridge cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bridgehub.integrations.configuration import (
    ActionInput,
    FieldSource,
    FieldType,
    InvalidConfiguration,
    OAuth2Configuration,
    validate_action,
    validate_integration,
)
from bridgehub.kit.paths import describe_value


@dataclass(frozen=True)
class AuthField:
    """One authentication value the hub sends the bridge in `auth`, and how it gets it.

    - `source="input"` (the default): typed by the person connecting the account.
    - `source="default"`: always `default`.
    - `source="auth_validation"`: returned by the bridge's auth validation handler.
    - `type="oauth"`: filled from the OAuth 2.0 token answer (`oauth2` integrations).

    `mandatory` defaults to True for fields a person types and False for the others.
    `format` wraps what the person types, naming the field itself:
    `AuthField("account", "Account", format="https://{{account}}.desk.example")`.
    """

    name: str
    display: str
    source: FieldSource = "input"
    type: FieldType = "input"
    mandatory: bool | None = None
    store: bool = True
    help: str | None = None
    format: str | None = None
    default: str | None = None

    def element(self) -> dict[str, Any]:
        """The field as an element of `authentication_configuration`."""
        mandatory = self.mandatory
        if mandatory is None:
            mandatory = self.source == "input" and self.type == "input"
        spec: dict[str, Any] = {
            "source": self.source,
            "display": self.display,
            "mandatory": mandatory,
            "type": self.type,
            "store": self.store,
        }
        optional = {"help": self.help, "format": self.format, "default": self.default}
        spec.update({key: value for key, value in optional.items() if value is not None})
        return {self.name: spec}


class DeclarationError(ValueError):
    """A bridge's declarations would give a configuration the hub refuses. The message
    lists every problem with its path in the configuration."""


@dataclass(frozen=True)
class ActionDeclaration:
    name: str
    display: str
    description: str
    inputs: tuple[ActionInput, ...]

    @property
    def path(self) -> str:
        return f"/actions/{self.name}"

    @property
    def mandatory_inputs(self) -> tuple[str, ...]:
        return tuple(each.key for each in self.inputs if each.mandatory)


@dataclass(frozen=True)
class IntegrationDeclaration:
    """What a bridge declares about its integration, apart from its handlers."""

    name: str
    display_name: str
    description: str
    logo_url: str
    icon_url: str
    authentication_type: str
    authentication_fields: tuple[AuthField, ...]
    interaction_types: tuple[str, ...]
    oauth2: OAuth2Configuration | None
    actions: dict[str, ActionDeclaration] = field(default_factory=dict)

    def integration_document(
        self,
        base_url: str,
        endpoints: Iterable[tuple[str, str]],
        oauth2: OAuth2Configuration | None,
    ) -> dict[str, Any]:
        """The integration configuration; `endpoints` pairs configuration keys with paths."""
        base_url = _base(base_url)
        document: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "logo_url": self.logo_url,
            "icon_url": self.icon_url,
            "authentication_type": self.authentication_type,
        }
        if self.authentication_fields:
            document["authentication_configuration"] = [
                each.element() for each in self.authentication_fields
            ]
        document.update({key: base_url + path for key, path in endpoints})
        if self.interaction_types:
            document["interaction_types"] = list(self.interaction_types)
        oauth2 = oauth2 if oauth2 is not None else self.oauth2
        if oauth2 is not None:
            document["oauth2_configuration"] = oauth2.model_dump(exclude_none=True)
        _checked(f'The bridge "{self.name}"', lambda: validate_integration(document))
        return document

    def action_document(self, action: ActionDeclaration, base_url: str) -> dict[str, Any]:
        document = {
            "provider": self.name,
            "name": action.name,
            "display": action.display,
            "description": action.description,
            "endpoint": _base(base_url) + action.path,
            "inputs": [each.document() for each in action.inputs],
        }
        _checked(
            f'The action "{action.name}" of the bridge "{self.name}"',
            lambda: validate_action(document, providers={self.name}),
        )
        return document


def _base(base_url: str) -> str:
    """`base_url` without its trailing slash; ValueError when it is no http(s) URL."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        found = describe_value(base_url)
        raise ValueError(f"The base URL must be an http:// or https:// URL; found {found}.")
    return base_url.rstrip("/")


def _checked(subject: str, validate: Callable[[], object]) -> None:
    try:
        validate()
    except InvalidConfiguration as error:
        problems = "\n".join(f"  {p.path or '(document)'}: {p.message}" for p in error.problems)
        message = f"{subject} declares an invalid configuration:\n{problems}"
        raise DeclarationError(message) from None
