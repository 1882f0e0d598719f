"""OAuth 2.0 access tokens: refreshed before they expire and when a bridge answers 401.

Only one refresh per activation runs at a time across every hub process: a PostgreSQL
advisory lock serialises them, and whoever waited re-reads the credentials and uses the
token the winner stored instead of refreshing again (many providers revoke a refresh
token once used, so a second refresh would fail and lock the account out).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub import metrics
from bridgehub.activations import credentials as vaulted
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.activations.oauth import OAuthClient, OAuthFailure, client_secret, token_lifetime
from bridgehub.bridge import BridgeUnavailable, CredentialsRejected
from bridgehub.events.models import EventType
from bridgehub.events.outbox import emit
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.service import integration_service
from bridgehub.runtime import Runtime

log = structlog.get_logger(__name__)


def oauth_client(
    runtime: Runtime, activation: Activation, configuration: IntegrationConfiguration
) -> OAuthClient:
    settings = configuration.oauth2_configuration
    assert settings is not None, "only oauth2 integrations with an oauth2_configuration get here"
    stored_secret = integration_service.client_secret(activation.integration, runtime.vault)
    return OAuthClient(
        configuration=settings,
        client_secret=client_secret(settings, stored_secret),
        redirect_uri=runtime.settings.public_url.rstrip("/") + "/oauth/callback",
        policy=runtime.network_policy,
    )


def expires_at(token: Mapping[str, Any]) -> datetime | None:
    lifetime = token_lifetime(token)
    return None if lifetime is None else datetime.now(UTC) + timedelta(seconds=lifetime)


def tokens_after_refresh(previous: Mapping[str, str], token: Mapping[str, Any]) -> dict[str, str]:
    """The new access token, and the new refresh token when the provider rotated it;
    providers that do not rotate omit it, and the old one stays valid."""
    refresh_token = token.get("refresh_token") or previous.get("refresh_token")
    tokens = {"access_token": str(token["access_token"])}
    if refresh_token:
        tokens["refresh_token"] = str(refresh_token)
    return tokens


def needs_refresh(activation: Activation, margin_seconds: int) -> bool:
    if activation.token_expires_at is None:
        return False
    return activation.token_expires_at - timedelta(seconds=margin_seconds) <= datetime.now(UTC)


async def refresh(
    runtime: Runtime, activation_id: uuid.UUID, seen_access_token: str | None
) -> Mapping[str, Any] | None:
    """Refresh the activation's access token unless someone already replaced `seen_access_token`.

    Answers the `auth` to use now, or None when the activation needs a person to
    reauthorize it (no refresh token, or the provider refused the refresh).
    """
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(select(func.pg_advisory_xact_lock(_lock_key(activation_id))))
        activation = await session.get(Activation, activation_id, populate_existing=True)
        if activation is None or activation.status != ActivationStatus.ACTIVE:
            return None
        current = _unseal(runtime, activation)
        if current.access_token != seen_access_token:
            return current.bridge_auth()
        return await _refresh_locked(session, runtime, activation, current)


async def _refresh_locked(
    session: AsyncSession, runtime: Runtime, activation: Activation, current: vaulted.Credentials
) -> Mapping[str, Any] | None:
    configuration = integration_service.parse(activation.integration)
    refreshes = metrics.token_refreshes
    refresh_token = current.tokens.get("refresh_token")
    if refresh_token is None or configuration.oauth2_configuration is None:
        refreshes.labels(configuration.name, "no_refresh_token").inc()
        await mark_needs_reauthorization(
            session, activation, "The access token was refused and there is no refresh token."
        )
        return None
    try:
        token = await oauth_client(runtime, activation, configuration).refresh(refresh_token)
    except OAuthFailure as failure:
        if not failure.permanent:
            refreshes.labels(configuration.name, "unavailable").inc()
            raise BridgeUnavailable(f"Could not refresh the access token: {failure}") from failure
        refreshes.labels(configuration.name, "refused").inc()
        await mark_needs_reauthorization(
            session, activation, f"Refreshing the access token failed: {failure}."
        )
        return None
    refreshes.labels(configuration.name, "ok").inc()
    renewed = vaulted.Credentials(
        fields=current.fields, tokens=tokens_after_refresh(current.tokens, token)
    )
    activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, renewed)
    activation.token_expires_at = expires_at(token)
    log.info("access token refreshed", activation_id=str(activation.id))
    return renewed.bridge_auth()


async def mark_needs_reauthorization(
    session: AsyncSession, activation: Activation, reason: str
) -> None:
    activation.status = ActivationStatus.NEEDS_REAUTHORIZATION
    activation.status_reason = reason
    data = {"activation_id": str(activation.id), "reason": reason}
    await emit(session, activation.account_id, EventType.ACTIVATION_NEEDS_REAUTHORIZATION, data)
    log.warning("activation needs reauthorization", activation_id=str(activation.id), reason=reason)


async def mark_rejected(
    runtime: Runtime, activation_id: uuid.UUID, refusal: CredentialsRejected
) -> None:
    """A bridge refused the credentials even after any refresh: a person must act, told
    what the bridge said. Recorded in its own transaction, so it holds whatever happens to
    the caller's."""
    async with runtime.sessionmaker() as session, session.begin():
        activation = await session.get(Activation, activation_id, with_for_update=True)
        if activation is not None and activation.status == ActivationStatus.ACTIVE:
            await mark_needs_reauthorization(
                session, activation, refusal.told("The bridge refused the stored credentials") + "."
            )


def _unseal(runtime: Runtime, activation: Activation) -> vaulted.Credentials:
    configuration = integration_service.parse(activation.integration)
    return vaulted.unseal(
        runtime.vault, activation.id, activation.sealed_credentials, configuration
    )


def _lock_key(activation_id: uuid.UUID) -> int:
    # pg_advisory_xact_lock takes a signed 64-bit key; half a UUID is unique enough here.
    return int.from_bytes(activation_id.bytes[:8], "big", signed=True)


class ActivationCredentials:
    """The bridge client's view of an activation: its `auth`, refreshed after a 401."""

    def __init__(
        self, runtime: Runtime, activation: Activation, current: vaulted.Credentials
    ) -> None:
        self._runtime = runtime
        self._activation_id = activation.id
        self._refreshable = (
            activation.integration.configuration.get("authentication_type") == "oauth2"
        )
        self._auth: Mapping[str, Any] = current.bridge_auth()

    def auth(self) -> Mapping[str, Any]:
        return self._auth

    async def refreshed(self) -> Mapping[str, Any] | None:
        if not self._refreshable:
            return None
        renewed = await refresh(self._runtime, self._activation_id, self._auth.get("access_token"))
        if renewed is not None:
            self._auth = renewed
        return renewed


async def credentials_for(runtime: Runtime, activation: Activation) -> ActivationCredentials:
    """Credentials for calling the activation's bridge, refreshed first when about to expire."""
    current = _unseal(runtime, activation)
    credentials = ActivationCredentials(runtime, activation, current)
    if needs_refresh(activation, runtime.settings.token_refresh_margin_seconds):
        await credentials.refreshed()
    return credentials
