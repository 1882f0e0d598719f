"""Connecting an account to an integration, keeping its credentials, and letting it go.

Bridges are asked before anything is written: credentials a bridge refuses leave no
trace. OAuth 2.0 activations complete their connection in `bridgehub.activations.authorization`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import owned_by, owned_row
from bridgehub.activations import authorization, forms, tokens
from bridgehub.activations import credentials as vaulted
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.activations.schemas import ActivationCreate, ActivationUpdate
from bridgehub.activations.verification import (
    bridge_failed,
    credentials_refused,
    validate_with_bridge,
)
from bridgehub.bridge import BridgeError, CredentialsRejected
from bridgehub.db.session import release_connection
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.models import Integration
from bridgehub.integrations.service import integration_service
from bridgehub.kit.errors import Conflict, InvalidInput, Problem
from bridgehub.kit.redaction import known_secrets
from bridgehub.runtime import Runtime
from bridgehub.vault import Vault

log = structlog.get_logger(__name__)


class ActivationService:
    async def list(self, session: AsyncSession, account: Account) -> Sequence[Activation]:
        statement = (
            select(Activation)
            .where(owned_by(account, Activation))
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
            await release_connection(session)
            stored = await self._validated(runtime, configuration, values)
            activation.status = ActivationStatus.ACTIVE
            activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, stored)
            await _insert(session, activation)
            await authorization.queue_first_syncs(session, activation)
            return activation, None
        activation.status = ActivationStatus.PENDING_AUTHORIZATION
        stored = vaulted.Credentials(fields=forms.kept(configuration, values))
        activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, stored)
        await _insert(session, activation)
        return activation, await authorization.start(session, runtime, activation, configuration)

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
            await authorization.resume_held_executions(session, activation)
        await session.flush()
        return activation

    async def delete(
        self, session: AsyncSession, account: Account, activation_id: uuid.UUID
    ) -> None:
        await session.delete(await self.get(session, account, activation_id))
        await session.flush()

    async def remove_integration(
        self, session: AsyncSession, name: str, *, force: bool = False
    ) -> None:
        """Remove an integration with its actions; while accounts use it, only with `force`,
        which disconnects them too."""
        integration = await integration_service.get(session, name)
        in_use = await session.scalar(
            select(func.count()).where(
                Activation.integration_id == integration.id,
                Activation.status != ActivationStatus.DISABLED,
            )
        )
        if in_use and not force:
            raise Conflict(
                f'"{name}" is connected by {in_use} account(s); disconnect them first, '
                "or delete with force=true to disconnect them too."
            )
        await session.delete(integration)
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
        return activation, await authorization.start(session, runtime, activation, configuration)

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
        await release_connection(session)
        credentials = await tokens.credentials_for(runtime, activation)
        try:
            await runtime.bridge.validate_auth(
                configuration.auth_validation_endpoint,
                credentials,
                integration=configuration.name,
            )
        except CredentialsRejected as error:
            await tokens.mark_rejected(runtime, activation.id, error)
            await session.refresh(activation)
            raise credentials_refused(configuration, "the stored credentials", error) from error
        except BridgeError as error:
            raise bridge_failed(configuration, error) from error
        await session.refresh(activation)
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
        return count + await authorization.reseal_verifiers(session, vault)

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
                owned_by(account, Activation),
                Activation.integration_id == integration.id,
            )
        )
        if existing is not None:
            raise _already_connected(integration.name)

    async def _validated(
        self, runtime: Runtime, configuration: IntegrationConfiguration, values: Mapping[str, str]
    ) -> vaulted.Credentials:
        """Ask the bridge about `values`; answers what to keep (with what the bridge added)."""
        added = await validate_with_bridge(runtime.bridge, configuration, values)
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
        await release_connection(session)
        added = await validate_with_bridge(runtime.bridge, configuration, request)
        fields = forms.kept(configuration, {**current.fields, **values, **added})
        renewed = vaulted.Credentials(fields=fields, tokens=current.tokens)
        activation.sealed_credentials = vaulted.seal(runtime.vault, activation.id, renewed)
        if (
            activation.status == ActivationStatus.NEEDS_REAUTHORIZATION
            and configuration.authentication_type != "oauth2"
        ):
            activation.status = ActivationStatus.ACTIVE
            activation.status_reason = None


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


def _already_connected(integration: str) -> Conflict:
    return Conflict(
        f'The account already has an activation of "{integration}"; '
        "change it with PATCH or delete it first."
    )


activation_service = ActivationService()
