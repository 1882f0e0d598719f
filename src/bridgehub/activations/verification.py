"""Asking an integration's bridge whether credentials work (its auth_validation endpoint),
and what it adds to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridgehub.activations import forms
from bridgehub.bridge import BridgeClient, BridgeError, CredentialsRejected, StaticCredentials
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.kit.errors import HubError
from bridgehub.kit.redaction import known_secrets


class CredentialsRefused(HubError):
    status_code = 422
    code = "credentials_rejected"


class BridgeFailed(HubError):
    status_code = 502
    code = "bridge_error"


async def validate_with_bridge(
    bridge: BridgeClient, configuration: IntegrationConfiguration, auth: Mapping[str, Any]
) -> dict[str, str]:
    if configuration.auth_validation_endpoint is None:
        return {}
    try:
        answer = await bridge.validate_auth(
            configuration.auth_validation_endpoint,
            StaticCredentials(auth),
            integration=configuration.name,
        )
    except CredentialsRejected as error:
        raise credentials_refused(configuration, "these credentials", error) from error
    except BridgeError as error:
        raise bridge_failed(configuration, error) from error
    added = forms.from_auth_validation(configuration, answer)
    known_secrets.register(forms.secrets_of(configuration, added))
    return added


def credentials_refused(
    configuration: IntegrationConfiguration, which: str, error: CredentialsRejected
) -> CredentialsRefused:
    """The refusal as the person reads it, with what the bridge said when it said why."""
    return CredentialsRefused(error.told(f"{configuration.display_name} refused {which}") + ".")


def bridge_failed(configuration: IntegrationConfiguration, error: BridgeError) -> BridgeFailed:
    return BridgeFailed(
        f"The {configuration.display_name} bridge could not validate the credentials: {error}"
    )
