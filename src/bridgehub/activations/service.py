"""Connecting an account to an integration, keeping its credentials, and letting it go.

Bridges are asked before anything is written: credentials a bridge refuses leave no
trace. OAuth 2.0 activations wait in `pending_authorization` until the provider sends
the person back with a code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account, digest
from bridgehub.accounts.owned import owned_row
from bridgehub.activations import credentials as vaulted
from bridgehub.activations import forms, tokens
from bridgehub.activations.models import Activation, ActivationStatus, OAuthAuthorization
from bridgehub.activations.oauth import OAuthFailure
from bridgehub.activations.schemas import ActivationCreate, ActivationUpdate
from bridgehub.bridge import BridgeError, CredentialsRejected, StaticCredentials
from bridgehub.executions.service import resume_held
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.models import Integration
from bridgehub.integrations.service import integration_service
from bridgehub.kit.errors import Conflict, HubError, InvalidInput, Problem
from bridgehub.kit.redaction import known_secrets
from bridgehub.runtime import Runtime
from bridgehub.vault import Vault

log = structlog.get_logger(__name__)


class CredentialsRefused(HubError):
    status_code = 422
    code = "credentials_rejected"


class BridgeFailed(HubError):
    status_code = 502
    code = "bridge_error"


class AuthorizationFailed(HubError):
    """The OAuth 2.0 round trip could not complete; shown to the person on the callback page."""

    status_code = 400
    code = "authorization_failed"


class ActivationService:
    async def list(self, session: AsyncSession, account: Account) -> Sequence[Activation]:
        statement = (
            select(Activation)
            .where(Activation.account_id == account.account_id)
            .order_by(Activation.created_at, Activation.id)
        )
        return (await session.scalars(statement)).all()

    async def get(
        self, session: AsyncSession, account: Account, activation_id: uuid.UUID
    ) -> Activation:
        return await owned_row(session, account, Activation, activation_id, "activation")

    async def create(
        self, session: AsyncSession, runtime: Runtime, account: Account, data: ActivationCreate
    ) -> tuple[Activation, str | None]:
        """Connect; answers the activation and, for OAuth 2.0, where to send the person."""
        integration = await self._integration(session, data.integration)
        configuration = integration_service.parse(integration)
        await self._refuse_second_activation(session, account, integration)
        interaction_types = _chosen_interaction_types(configuration, data.interaction_types)
        values = forms.collect(configuration, data.auth)
        known_secrets.register(forms.secrets_of(configuration, values))
        activation = Activation(
            id=uuid.uuid4(),
            account_id=account.account_id,
            integration=integration,
            interaction_types=interaction_types,
            sync_interval_minutes=data.sync_interval_minutes,
        )
        if configuration.authentication_type != "oauth2":
            await _end_reads(session)
            stored = await self._validated(runtime, configuration, values)
            activation.status = ActivationStatus.ACTIVE
            activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, stored)
            await _insert(session, activation)
            return activation, None
        _require_oauth2_configuration(configuration)
        activation.status = ActivationStatus.PENDING_AUTHORIZATION
        stored = vaulted.Credentials(fields=forms.kept(configuration, values))
        activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, stored)
        await _insert(session, activation)
        return activation, await self._start_authorization(
            session, runtime, activation, configuration
        )

    async def update(
        self,
        session: AsyncSession,
        runtime: Runtime,
        account: Account,
        activation_id: uuid.UUID,
        data: ActivationUpdate,
    ) -> Activation:
        activation = await self.get(session, account, activation_id)
        was_active = activation.status == ActivationStatus.ACTIVE
        configuration = integration_service.parse(activation.integration)
        interaction_types = (
            None
            if data.interaction_types is None
            else _chosen_interaction_types(configuration, data.interaction_types)
        )
        if data.auth is not None:
            await self._change_credentials(session, runtime, activation, configuration, data.auth)
        if interaction_types is not None:
            activation.interaction_types = interaction_types
        if data.sync_interval_minutes is not None:
            activation.sync_interval_minutes = data.sync_interval_minutes
        if data.status is not None:
            _change_status(activation, data.status)
        if activation.status == ActivationStatus.ACTIVE and not was_active:
            await resume_held(session, activation.id)
        await session.flush()
        return activation

    async def delete(
        self, session: AsyncSession, account: Account, activation_id: uuid.UUID
    ) -> None:
        await session.delete(await self.get(session, account, activation_id))
        await session.flush()

    async def reconnect(
        self, session: AsyncSession, runtime: Runtime, account: Account, activation_id: uuid.UUID
    ) -> tuple[Activation, str]:
        """A new trip to the OAuth 2.0 provider, e.g. after the refresh token stopped working."""
        activation = await self.get(session, account, activation_id)
        configuration = integration_service.parse(activation.integration)
        if configuration.authentication_type != "oauth2":
            raise Conflict(
                "Only OAuth 2.0 activations reconnect; change the credentials with PATCH instead."
            )
        _require_oauth2_configuration(configuration)
        return activation, await self._start_authorization(
            session, runtime, activation, configuration
        )

    async def check(
        self, session: AsyncSession, runtime: Runtime, account: Account, activation_id: uuid.UUID
    ) -> Activation:
        """Ask the bridge whether the stored credentials still work (refreshing tokens first
        when needed)."""
        activation = await self.get(session, account, activation_id)
        configuration = integration_service.parse(activation.integration)
        if activation.status != ActivationStatus.ACTIVE:
            raise Conflict(
                f"The activation is {activation.status}; only an active one can be checked."
            )
        if configuration.auth_validation_endpoint is None:
            return activation
        await _end_reads(session)
        credentials = await tokens.credentials_for(runtime, activation)
        try:
            await runtime.bridge.validate_auth(configuration.auth_validation_endpoint, credentials)
        except CredentialsRejected as error:
            await tokens.mark_rejected(runtime, activation.id)
            await session.refresh(activation)
            raise CredentialsRefused(
                f"{configuration.display_name} refused the stored credentials."
            ) from error
        except BridgeError as error:
            raise _bridge_failed(configuration, error) from error
        await session.refresh(activation)
        return activation

    async def complete_authorization(
        self,
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
        await session.commit()  # the state is spent before anything else can go wrong
        try:
            if error is not None or not code:
                raise AuthorizationFailed(
                    f"The provider did not authorize the connection ({error or 'no code'})."
                )
            await self._finish_authorization(runtime, activation, code, verifier)
            await resume_held(session, activation.id)
        except HubError as failure:
            activation.status_reason = failure.message
            await session.commit()
            log.info(
                "authorization failed", activation_id=str(activation.id), reason=failure.message
            )
            raise
        await session.flush()
        log.info("authorization completed", activation_id=str(activation.id))
        return activation

    async def reseal_secrets(self, session: AsyncSession, vault: Vault) -> int:
        count = 0
        for activation in await session.scalars(
            select(Activation).where(Activation.sealed_credentials.is_not(None))
        ):
            activation.sealed_credentials = vaulted.reseal(
                vault, activation.id, activation.sealed_credentials
            )
            count += 1
        pending = select(OAuthAuthorization).where(
            OAuthAuthorization.sealed_code_verifier.is_not(None)
        )
        for authorization in await session.scalars(pending):
            assert authorization.sealed_code_verifier is not None
            context = _verifier_context(authorization.state_digest)
            authorization.sealed_code_verifier = vault.reseal(
                authorization.sealed_code_verifier, context=context
            )
            count += 1
        return count

    def answer_auth(self, activation: Activation, runtime: Runtime) -> dict[str, str]:
        configuration = integration_service.parse(activation.integration)
        stored = vaulted.unseal(
            runtime.vault, activation.id, activation.sealed_credentials, configuration
        )
        return forms.visible(configuration, stored.fields)

    async def _integration(self, session: AsyncSession, name: str) -> Integration:
        integration = await integration_service.find(session, name)
        if integration is None:
            raise InvalidInput(
                "The activation is invalid.",
                [Problem("integration", f'no integration named "{name}" is registered')],
            )
        return integration

    async def _refuse_second_activation(
        self, session: AsyncSession, account: Account, integration: Integration
    ) -> None:
        existing = await session.scalar(
            select(Activation.id).where(
                Activation.account_id == account.account_id,
                Activation.integration_id == integration.id,
            )
        )
        if existing is not None:
            raise _already_connected(integration.name)

    async def _validated(
        self, runtime: Runtime, configuration: IntegrationConfiguration, values: Mapping[str, str]
    ) -> vaulted.Credentials:
        """Ask the bridge about `values`; answers what to keep (with what the bridge added)."""
        added = await _validate_with_bridge(runtime, configuration, values)
        return vaulted.Credentials(fields=forms.kept(configuration, {**values, **added}))

    async def _change_credentials(
        self,
        session: AsyncSession,
        runtime: Runtime,
        activation: Activation,
        configuration: IntegrationConfiguration,
        submitted: Mapping[str, Any],
    ) -> None:
        current = vaulted.unseal(
            runtime.vault, activation.id, activation.sealed_credentials, configuration
        )
        typed = {
            name: value
            for name, value in current.fields.items()
            if name in forms.typed_fields(configuration)
        }
        values = forms.collect(configuration, {**typed, **submitted})
        known_secrets.register(forms.secrets_of(configuration, values))
        request = {
            **values,
            **({"access_token": current.access_token} if current.access_token else {}),
        }
        await _end_reads(session)
        added = await _validate_with_bridge(runtime, configuration, request)
        fields = forms.kept(configuration, {**current.fields, **values, **added})
        renewed = vaulted.Credentials(fields=fields, tokens=current.tokens)
        activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, renewed)
        if (
            activation.status == ActivationStatus.NEEDS_REAUTHORIZATION
            and configuration.authentication_type != "oauth2"
        ):
            activation.status = ActivationStatus.ACTIVE
            activation.status_reason = None

    async def _start_authorization(
        self,
        session: AsyncSession,
        runtime: Runtime,
        activation: Activation,
        configuration: IntegrationConfiguration,
    ) -> str:
        try:
            client = tokens.oauth_client(runtime, activation, configuration)
        except OAuthFailure as failure:
            raise Conflict(
                f"{configuration.display_name} cannot be connected: {failure}."
            ) from failure
        request = client.authorization_request()
        verifier = request.code_verifier
        session.add(
            OAuthAuthorization(
                activation_id=activation.id,
                state_digest=digest(request.state),
                sealed_code_verifier=None
                if verifier is None
                else runtime.vault.encrypt(
                    verifier, context=_verifier_context(digest(request.state))
                ),
                expires_at=datetime.now(UTC)
                + timedelta(seconds=runtime.settings.oauth_state_ttl_seconds),
            )
        )
        return request.url

    async def _finish_authorization(
        self, runtime: Runtime, activation: Activation, code: str, verifier: str | None
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
        added = await _validate_with_bridge(runtime, configuration, request)
        fields = forms.kept(configuration, {**current.fields, **from_provider, **added})
        renewed = vaulted.Credentials(fields=fields, tokens=new_tokens)
        activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, renewed)
        activation.token_expires_at = tokens.expires_at(token) if token else None
        activation.status = ActivationStatus.ACTIVE
        activation.status_reason = None


def _code_verifier(runtime: Runtime, authorization: OAuthAuthorization) -> str | None:
    if authorization.sealed_code_verifier is None:
        return None
    context = _verifier_context(authorization.state_digest)
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


async def _validate_with_bridge(
    runtime: Runtime, configuration: IntegrationConfiguration, auth: Mapping[str, Any]
) -> dict[str, str]:
    if configuration.auth_validation_endpoint is None:
        return {}
    try:
        answer = await runtime.bridge.validate_auth(
            configuration.auth_validation_endpoint, StaticCredentials(auth)
        )
    except CredentialsRejected as error:
        raise CredentialsRefused(
            f"{configuration.display_name} refused these credentials."
        ) from error
    except BridgeError as error:
        raise _bridge_failed(configuration, error) from error
    added = forms.from_auth_validation(configuration, answer)
    known_secrets.register(forms.secrets_of(configuration, added))
    return added


async def _insert(session: AsyncSession, activation: Activation) -> None:
    name = activation.integration.name
    session.add(activation)
    try:
        await session.flush()
    except IntegrityError as error:  # connected by a concurrent request meanwhile
        raise _already_connected(name) from error
    log.info(
        "activation created",
        activation_id=str(activation.id),
        integration=name,
        status=activation.status,
    )


async def _end_reads(session: AsyncSession) -> None:
    """End the transaction before calling a bridge, so that no database connection sits
    idle through a call that may take seconds. Nothing has been written yet."""
    await session.commit()


def _bridge_failed(configuration: IntegrationConfiguration, error: BridgeError) -> BridgeFailed:
    return BridgeFailed(
        f"The {configuration.display_name} bridge could not validate the credentials: {error}"
    )


def _chosen_interaction_types(
    configuration: IntegrationConfiguration, chosen: list[str] | None
) -> list[str]:
    offered = forms.offered_interaction_types(configuration)
    if chosen is None:
        return list(offered)
    problems = [
        Problem(
            f"interaction_types[{index}]",
            f'"{kind}" is not offered by {configuration.name}; '
            f"offered: {', '.join(offered) or 'none'}",
        )
        for index, kind in enumerate(chosen)
        if kind not in offered
    ]
    if problems:
        raise InvalidInput("The activation is invalid.", problems)
    return list(dict.fromkeys(chosen))


def _change_status(activation: Activation, wanted: ActivationStatus) -> None:
    if wanted == ActivationStatus.DISABLED or activation.status == ActivationStatus.ACTIVE:
        activation.status = wanted
    elif activation.status == ActivationStatus.DISABLED:
        activation.status = ActivationStatus.ACTIVE
        activation.status_reason = None
    else:
        raise Conflict(
            f"The activation is {activation.status}: complete its authorization (or give new "
            "credentials) before enabling it."
        )


def _bridge_exchanges_code(configuration: IntegrationConfiguration) -> bool:
    return any(
        name == "code" and field.type == "oauth"
        for name, field in configuration.authentication_fields()
    )


def _require_oauth2_configuration(configuration: IntegrationConfiguration) -> None:
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


def _verifier_context(state_digest: str) -> str:
    return f"oauth:{state_digest}:code_verifier"


def _already_connected(integration: str) -> Conflict:
    return Conflict(
        f'The account already has an activation of "{integration}"; '
        "change it with PATCH or delete it first."
    )


activation_service = ActivationService()
