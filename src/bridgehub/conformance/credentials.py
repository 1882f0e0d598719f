"""The `auth` objects the checker sends, built exactly as the hub builds them for an
activation made with the test credentials (see `activations/forms.py`)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridgehub.activations import forms
from bridgehub.conformance.schemas import CredentialsFile
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.kit.errors import InvalidInput, Problem
from bridgehub.kit.redaction import known_secrets

ACCESS_TOKEN = "access_token"  # noqa: S105 (a key, not a secret)
CODE = "code"


class UnusableCredentials(InvalidInput):
    code = "unusable_credentials"


@dataclass(frozen=True)
class TrialActivation:
    """What the hub would hold for an activation made with the test credentials."""

    configuration: IntegrationConfiguration
    typed: dict[str, str]
    """What a person typed, before any `format`."""
    token: dict[str, Any]
    """The OAuth 2.0 token answer (oauth2 only)."""

    def validation_auth(self) -> dict[str, Any]:
        """`auth` for the auth validation that activating runs."""
        return self._auth(added={}, validating=True)

    def auth(self, added: Mapping[str, Any]) -> dict[str, Any]:
        """`auth` for every later request, with what auth validation answered."""
        return self._auth(added=added, validating=False)

    def made_up_auth(self) -> dict[str, Any] | None:
        """`auth` shaped like the real one, with every typed value and token replaced by
        something no bridge can accept; None when there is nothing to make up."""
        typed = {name: _nonsense() for name in self.typed}
        token = {
            name: _nonsense() if name in (ACCESS_TOKEN, CODE) else value
            for name, value in self.token.items()
        }
        if typed == self.typed and token == self.token:
            return None
        return TrialActivation(self.configuration, typed, token).validation_auth()

    def _auth(self, *, added: Mapping[str, Any], validating: bool) -> dict[str, Any]:
        configuration = self.configuration
        values = forms.collect(configuration, self.typed)
        oauth2 = configuration.authentication_type == "oauth2"
        # An oauth2 activation keeps the typed values before sending the person away, so
        # `store: false` ones never reach the bridge.
        base = forms.kept(configuration, values) if oauth2 else values
        from_provider = _from_provider(configuration, self.token) if oauth2 else {}
        access = {ACCESS_TOKEN: str(self.token[ACCESS_TOKEN])} if ACCESS_TOKEN in self.token else {}
        if validating:
            return {**base, **from_provider, **access}
        returned = forms.from_auth_validation(configuration, added)
        return {**forms.kept(configuration, {**base, **from_provider, **returned}), **access}


def trial_activation(
    configuration: IntegrationConfiguration, credentials: CredentialsFile
) -> TrialActivation:
    """The test activation, or UnusableCredentials naming every problem of the file."""
    problems = _oauth_problems(configuration, credentials)
    try:
        forms.collect(configuration, credentials.fields)
    except forms.InvalidCredentials as invalid:
        problems += [
            Problem("fields." + p.path.removeprefix("auth."), p.message) for p in invalid.problems
        ]
    if problems:
        raise UnusableCredentials(
            f"The credentials do not fit {configuration.display_name}.", problems
        )
    activation = TrialActivation(
        configuration, dict(credentials.fields), dict(credentials.oauth or {})
    )
    # Kept out of any log line a bridge call writes.
    known_secrets.register(activation.validation_auth())
    return activation


def _oauth_problems(
    configuration: IntegrationConfiguration, credentials: CredentialsFile
) -> list[Problem]:
    kind = configuration.authentication_type
    if kind != "oauth2":
        if credentials.oauth is None:
            return []
        return [
            Problem("oauth", f"is only for oauth2 integrations; {configuration.name} is {kind}")
        ]
    if credentials.oauth is None:
        return [Problem("oauth", "is required for an oauth2 integration: the token answer")]
    given = [credentials.oauth.get(key) for key in (ACCESS_TOKEN, CODE)]
    if not any(isinstance(value, str) and value.strip() for value in given):
        return [
            Problem(
                "oauth.access_token",
                "is required, as a non-empty string (or `code`, for a bridge that exchanges "
                "the authorization code itself)",
            )
        ]
    return []


def _from_provider(
    configuration: IntegrationConfiguration, token: Mapping[str, Any]
) -> dict[str, str]:
    answer = {name: value for name, value in token.items() if name != CODE}
    code = token.get(CODE)
    values = forms.from_oauth(configuration, answer, str(code) if code is not None else "")
    # Without a code in the file, there is none to send: `from_oauth` would send "".
    return values if code is not None else {k: v for k, v in values.items() if k != CODE}


def _nonsense() -> str:
    return "bridgehub-check-" + secrets.token_hex(8)
