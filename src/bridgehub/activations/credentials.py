"""An activation's credentials at rest: field values and OAuth 2.0 tokens, sealed together.

The sealing context names the activation, so credentials copied onto another
activation's row do not open.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from bridgehub.activations import forms
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.kit.redaction import known_secrets
from bridgehub.vault import Vault


@dataclass(frozen=True)
class Credentials:
    fields: dict[str, str] = field(default_factory=dict)
    """Values of the integration's authentication fields, sent to the bridge in `auth`."""
    tokens: dict[str, str] = field(default_factory=dict)
    """OAuth 2.0 tokens the hub itself uses: `access_token`, `refresh_token`."""

    @property
    def access_token(self) -> str | None:
        return self.tokens.get("access_token")

    def bridge_auth(self) -> dict[str, Any]:
        """`auth` for a bridge request: the fields, plus the current access token."""
        if self.access_token is None:
            return dict(self.fields)
        return {**self.fields, "access_token": self.access_token}


def _context(activation_id: uuid.UUID) -> str:
    return f"activation:{activation_id}:credentials"


def seal(vault: Vault, activation_id: uuid.UUID, credentials: Credentials) -> str:
    document = {"fields": credentials.fields, "tokens": credentials.tokens}
    return vault.encrypt(json.dumps(document), context=_context(activation_id))


def unseal(
    vault: Vault,
    activation_id: uuid.UUID,
    sealed: str | None,
    configuration: IntegrationConfiguration | None = None,
) -> Credentials:
    """Open the credentials, registering their secrets (`forms.is_public` tells which
    fields are; without the integration's `configuration`, every field is a secret)."""
    if sealed is None:
        return Credentials()
    document = json.loads(vault.decrypt(sealed, context=_context(activation_id)))
    credentials = Credentials(fields=document["fields"], tokens=document["tokens"])
    fields = (
        credentials.fields
        if configuration is None
        else forms.secrets_of(configuration, credentials.fields)
    )
    known_secrets.register(fields, credentials.tokens)
    return credentials


def reseal(vault: Vault, activation_id: uuid.UUID, sealed: str | None) -> str | None:
    return None if sealed is None else vault.reseal(sealed, context=_context(activation_id))
