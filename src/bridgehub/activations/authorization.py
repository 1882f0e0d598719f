"""The OAuth 2.0 round trip of an activation: sending the person to the provider, and
completing the connection when the provider sends them back with a code.

An activation waits in `pending_authorization` meanwhile. The state sent along is kept
only as a digest, and is spent on first use whatever happens next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import digest
from bridgehub.activations import credentials as vaulted
from bridgehub.activations import forms, tokens
from bridgehub.activations.models import Activation, ActivationStatus, OAuthAuthorization
from bridgehub.activations.oauth import OAuthFailure
from bridgehub.activations.verification import validate_with_bridge
from bridgehub.db.session import release_connection
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.service import integration_service
from bridgehub.kit.errors import Conflict, HubError
from bridgehub.kit.redaction import known_secrets
from bridgehub.queue import ACTIONS_QUEUE, FIRST_SYNCS, RESUME_HELD_EXECUTIONS, SYNC_QUEUE, enqueue
from bridgehub.runtime import Runtime
from bridgehub.vault import Vault

log = structlog.get_logger(__name__)


class AuthorizationFailed(HubError):
    """The OAuth 2.0 round trip could not complete; shown to the person on the callback page."""

    status_code = 400
    code = "authorization_failed"


async def start(
    session: AsyncSession,
    runtime: Runtime,
    activation: Activation,
    configuration: IntegrationConfiguration,
) -> str:
    """Record a new trip to the provider; answers where to send the person."""
    require_oauth2_configuration(configuration)
    try:
        client = tokens.oauth_client(runtime, activation, configuration)
    except OAuthFailure as failure:
        raise Conflict(f"{configuration.display_name} cannot be connected: {failure}.") from failure
    request = client.authorization_request()
    verifier = request.code_verifier
    session.add(
        OAuthAuthorization(
            activation_id=activation.id,
            state_digest=digest(request.state),
            sealed_code_verifier=None
            if verifier is None
            else runtime.vault.encrypt(verifier, context=verifier_context(digest(request.state))),
            expires_at=datetime.now(UTC)
            + timedelta(seconds=runtime.settings.oauth_state_ttl_seconds),
        )
    )
    return request.url


async def complete(
    session: AsyncSession,
    runtime: Runtime,
    state: str,
    code: str | None,
    error: str | None,
) -> Activation:
    """The provider sent the person back. Whatever happens, the state is spent."""
    authorization = await session.scalar(
        select(OAuthAuthorization)
        .where(OAuthAuthorization.state_digest == digest(state))
        .with_for_update()
    )
    _refuse_unusable(authorization)
    assert authorization is not None
    authorization.used_at = datetime.now(UTC)
    verifier = _code_verifier(runtime, authorization)
    authorization.sealed_code_verifier = None  # of no use once spent: not kept
    activation = await session.get_one(Activation, authorization.activation_id)
    # The state is spent before anything else can go wrong, and no connection waits on
    # the provider and the bridge.
    await release_connection(session)
    try:
        if error is not None or not code:
            raise AuthorizationFailed(
                f"The provider did not authorize the connection ({error or 'no code'})."
            )
        first = activation.status == ActivationStatus.PENDING_AUTHORIZATION
        await _finish(runtime, activation, code, verifier)
        await resume_held_executions(session, activation)
        if first:
            await queue_first_syncs(session, activation)
    except HubError as failure:
        activation.status_reason = failure.message
        # Kept although the request fails: the person sees why on the activation.
        await session.commit()
        log.info("authorization failed", activation_id=str(activation.id), reason=failure.message)
        raise
    await session.flush()
    log.info("authorization completed", activation_id=str(activation.id))
    return activation


async def _finish(
    runtime: Runtime, activation: Activation, code: str, verifier: str | None
) -> None:
    configuration = integration_service.parse(activation.integration)
    known_secrets.register(code)
    current = vaulted.unseal(
        runtime.vault, activation.id, activation.sealed_credentials, configuration
    )
    if _bridge_exchanges_code(configuration):
        # The code is single-use: the bridge exchanges it and answers with what to keep.
        token: dict[str, Any] = {}
    else:
        token = await _exchange(runtime, activation, configuration, code, verifier)
    from_provider = forms.from_oauth(configuration, token, code)
    new_tokens = tokens.tokens_after_refresh(current.tokens, token) if token else {}
    request = {**current.fields, **from_provider}
    if new_tokens:
        request["access_token"] = new_tokens["access_token"]
    added = await validate_with_bridge(runtime.bridge, configuration, request)
    fields = forms.kept(configuration, {**current.fields, **from_provider, **added})
    renewed = vaulted.Credentials(fields=fields, tokens=new_tokens)
    activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, renewed)
    activation.token_expires_at = tokens.expires_at(token) if token else None
    activation.status = ActivationStatus.ACTIVE
    activation.status_reason = None


async def resume_held_executions(session: AsyncSession, activation: Activation) -> None:
    """The activation works again: queue, in the caller's transaction, the resumption of the
    executions that waited for it."""
    await _enqueue_for(session, activation, RESUME_HELD_EXECUTIONS, ACTIONS_QUEUE)


async def queue_first_syncs(session: AsyncSession, activation: Activation) -> None:
    """The activation has just become active: queue, in the caller's transaction, its first
    contact and agent syncs, so its contacts come at once rather than at the scheduler's
    next tick."""
    await _enqueue_for(session, activation, FIRST_SYNCS, SYNC_QUEUE)


async def _enqueue_for(
    session: AsyncSession, activation: Activation, task: str, queue: str
) -> None:
    await enqueue(
        session,
        task,
        queue=queue,
        lock=None,
        activation_id=str(activation.id),
        account_id=str(activation.account_id),
    )


async def reseal_verifiers(session: AsyncSession, vault: Vault) -> int:
    """Seal the code verifiers of trips still under way with the vault's newest key."""
    count = 0
    pending = select(OAuthAuthorization).where(OAuthAuthorization.sealed_code_verifier.is_not(None))
    for authorization in await session.scalars(pending):
        assert authorization.sealed_code_verifier is not None
        context = verifier_context(authorization.state_digest)
        authorization.sealed_code_verifier = vault.reseal(
            authorization.sealed_code_verifier, context=context
        )
        count += 1
    return count


def _code_verifier(runtime: Runtime, authorization: OAuthAuthorization) -> str | None:
    if authorization.sealed_code_verifier is None:
        return None
    context = verifier_context(authorization.state_digest)
    return runtime.vault.decrypt(authorization.sealed_code_verifier, context=context)


async def _exchange(
    runtime: Runtime,
    activation: Activation,
    configuration: IntegrationConfiguration,
    code: str,
    verifier: str | None,
) -> dict[str, Any]:
    try:
        return await tokens.oauth_client(runtime, activation, configuration).exchange(
            code, verifier
        )
    except OAuthFailure as failure:
        raise AuthorizationFailed(
            f"Exchanging the authorization code failed: {failure}."
        ) from failure


def _bridge_exchanges_code(configuration: IntegrationConfiguration) -> bool:
    return any(
        name == "code" and field.type == "oauth"
        for name, field in configuration.authentication_fields()
    )


def require_oauth2_configuration(configuration: IntegrationConfiguration) -> None:
    if configuration.oauth2_configuration is None:
        raise Conflict(
            f"{configuration.display_name} cannot be connected: its configuration has no "
            "oauth2_configuration telling where to authorize."
        )


def _refuse_unusable(authorization: OAuthAuthorization | None) -> None:
    if authorization is None:
        raise AuthorizationFailed(
            "This authorization is unknown. Start the connection again from the hub."
        )
    if authorization.used_at is not None:
        raise AuthorizationFailed(
            "This authorization was already used. Start the connection again from the hub."
        )
    if authorization.expires_at <= datetime.now(UTC):
        raise AuthorizationFailed(
            "This authorization has expired. Start the connection again from the hub."
        )


def verifier_context(state_digest: str) -> str:
    return f"oauth:{state_digest}:code_verifier"
