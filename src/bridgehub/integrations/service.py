"""The catalog's logic: register, replace, read and remove configurations.

Nothing here knows about HTTP. Every write validates the whole document first and
changes nothing when any rule is broken.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from bridgehub.integrations.configuration import (
    SECRET_MASK,
    AuthenticationType,
    IntegrationConfiguration,
    InvalidConfiguration,
    validate_action,
    validate_integration,
)
from bridgehub.integrations.models import Action, Integration
from bridgehub.kit.errors import Conflict, NotFound, PreconditionFailed, Problem
from bridgehub.vault import Vault

Outcome = Literal["created", "updated", "unchanged"]


def _secret_context(name: str) -> str:
    return f"integration:{name}:client_secret"


class IntegrationService:
    async def list(
        self, session: AsyncSession, *, authentication_type: AuthenticationType | None = None
    ) -> Sequence[Integration]:
        statement = select(Integration).order_by(Integration.name)
        if authentication_type is not None:
            kind = Integration.configuration["authentication_type"].as_string()
            statement = statement.where(kind == authentication_type)
        return (await session.scalars(statement)).all()

    async def get(self, session: AsyncSession, name: str) -> Integration:
        integration = await self.find(session, name)
        if integration is None:
            raise NotFound(f'No integration named "{name}" is registered.')
        return integration

    async def find(self, session: AsyncSession, name: str) -> Integration | None:
        return await session.scalar(select(Integration).where(Integration.name == name))

    async def create(self, session: AsyncSession, vault: Vault, document: Any) -> Integration:
        configuration = validate_integration(_reject_mask(document))
        if await self.find(session, configuration.name) is not None:
            raise _name_taken(configuration.name)
        integration = Integration(name=configuration.name)
        _store(integration, document, vault)
        session.add(integration)
        try:
            await session.flush()
        except IntegrityError as error:  # registered by someone else since we looked
            raise _name_taken(configuration.name) from error
        return integration

    async def replace(
        self,
        session: AsyncSession,
        vault: Vault,
        name: str,
        document: Any,
        *,
        expected_revision: int | None = None,
    ) -> Integration:
        integration = await self.get(session, name)
        _check_revision(integration.revision, expected_revision)
        document = _unmask(document, integration, vault)
        configuration = validate_integration(document)
        _refuse_rename({"name": (configuration.name, name)})
        if _store(integration, document, vault):
            await _flush_versioned(session)
        return integration

    def parse(self, integration: Integration) -> IntegrationConfiguration:
        """The stored configuration as a model (it was validated on registration)."""
        return IntegrationConfiguration.model_validate(integration.configuration)

    async def save(
        self, session: AsyncSession, vault: Vault, document: Any
    ) -> tuple[Integration, Outcome]:
        """Create the integration, or replace the one with its name: for loading a catalog."""
        configuration = validate_integration(_reject_mask(document))
        existing = await self.find(session, configuration.name)
        if existing is None:
            return await self.create(session, vault, document), "created"
        changed = _store(existing, document, vault)
        await session.flush()
        return existing, "updated" if changed else "unchanged"

    def answer(self, integration: Integration) -> dict[str, Any]:
        """The configuration as callers see it: as registered, the client secret masked."""
        document = copy.deepcopy(integration.configuration)
        if integration.sealed_client_secret is not None:
            document["oauth2_configuration"]["client_secret"] = SECRET_MASK
        return document

    async def reseal_secrets(self, session: AsyncSession, vault: Vault) -> int:
        sealed = await session.scalars(
            select(Integration).where(Integration.sealed_client_secret.is_not(None))
        )
        count = 0
        for integration in sealed:
            assert integration.sealed_client_secret is not None
            context = _secret_context(integration.name)
            integration.sealed_client_secret = vault.reseal(
                integration.sealed_client_secret, context=context
            )
            count += 1
        return count

    def client_secret(self, integration: Integration, vault: Vault) -> str | None:
        if integration.sealed_client_secret is None:
            return None
        return vault.decrypt(
            integration.sealed_client_secret, context=_secret_context(integration.name)
        )


class ActionService:
    async def list_for(self, session: AsyncSession, provider: str) -> Sequence[Action]:
        integration = await session.scalar(
            select(Integration)
            .where(Integration.name == provider)
            .options(selectinload(Integration.actions))
        )
        if integration is None:
            raise NotFound(f'No integration named "{provider}" is registered.')
        return integration.actions

    async def list(self, session: AsyncSession) -> Sequence[Action]:
        statement = select(Action).join(Action.integration).order_by(Integration.name, Action.name)
        return (await session.scalars(statement)).all()

    async def get(self, session: AsyncSession, provider: str, name: str) -> Action:
        action = await self.find(session, provider, name)
        if action is None:
            raise NotFound(f'Integration "{provider}" has no action named "{name}".')
        return action

    async def find(self, session: AsyncSession, provider: str, name: str) -> Action | None:
        statement = (
            select(Action)
            .join(Action.integration)
            .where(Integration.name == provider, Action.name == name)
        )
        return await session.scalar(statement)

    async def create(self, session: AsyncSession, document: Any) -> Action:
        integration = await self._provider(session, document)
        configuration = validate_action(document, providers=_names(integration))
        assert integration is not None  # validation refuses an unknown provider
        if await self.find(session, integration.name, configuration.name) is not None:
            raise _action_taken(integration.name, configuration.name)
        action = Action(
            integration_id=integration.id, name=configuration.name, configuration=document
        )
        session.add(action)
        try:
            await session.flush()
        except IntegrityError as error:
            raise _action_taken(integration.name, configuration.name) from error
        return action

    async def replace(
        self,
        session: AsyncSession,
        provider: str,
        name: str,
        document: Any,
        *,
        expected_revision: int | None = None,
    ) -> Action:
        action = await self.get(session, provider, name)
        _check_revision(action.revision, expected_revision)
        configuration = validate_action(document)
        _refuse_rename(
            {"provider": (configuration.provider, provider), "name": (configuration.name, name)}
        )
        if action.configuration != document:
            action.configuration = document
            await _flush_versioned(session)
        return action

    async def delete(self, session: AsyncSession, provider: str, name: str) -> None:
        await session.delete(await self.get(session, provider, name))
        await session.flush()

    async def save(self, session: AsyncSession, document: Any) -> tuple[Action, Outcome]:
        integration = await self._provider(session, document)
        configuration = validate_action(document, providers=_names(integration))
        assert integration is not None
        existing = await self.find(session, integration.name, configuration.name)
        if existing is None:
            return await self.create(session, document), "created"
        if existing.configuration == document:
            return existing, "unchanged"
        existing.configuration = document
        await session.flush()
        return existing, "updated"

    async def _provider(self, session: AsyncSession, document: Any) -> Integration | None:
        provider = document.get("provider") if isinstance(document, dict) else None
        if not isinstance(provider, str):
            return None
        return await integration_service.find(session, provider)


integration_service = IntegrationService()
action_service = ActionService()


def _store(integration: Integration, document: dict[str, Any], vault: Vault) -> bool:
    """Put `document` into `integration`, sealing the client secret. True when anything changed."""
    configuration = copy.deepcopy(document)
    oauth2 = configuration.get("oauth2_configuration") or {}
    secret = oauth2.pop("client_secret", None)
    unchanged = (
        integration.configuration == configuration
        and (secret is None) == (integration.sealed_client_secret is None)
        and (
            secret is None
            or vault.decrypt(
                integration.sealed_client_secret or "", context=_secret_context(integration.name)
            )
            == secret
        )
    )
    if unchanged:
        return False
    integration.configuration = configuration
    integration.sealed_client_secret = (
        None if secret is None else vault.encrypt(secret, context=_secret_context(integration.name))
    )
    return True


def _reject_mask(document: Any) -> Any:
    if _masked(document):
        raise InvalidConfiguration(
            "The integration configuration has 1 problem.",
            [
                Problem(
                    "oauth2_configuration.client_secret",
                    "give the client secret itself, not the mask shown in answers",
                )
            ],
        )
    return document


def _unmask(document: Any, integration: Integration, vault: Vault) -> Any:
    """A PUT that sends back the masked secret keeps the stored one."""
    if not _masked(document) or integration.sealed_client_secret is None:
        return _reject_mask(document)
    document = copy.deepcopy(document)
    document["oauth2_configuration"]["client_secret"] = integration_service.client_secret(
        integration, vault
    )
    return document


def _masked(document: Any) -> bool:
    oauth2 = document.get("oauth2_configuration") if isinstance(document, dict) else None
    return isinstance(oauth2, dict) and oauth2.get("client_secret") == SECRET_MASK


def _check_revision(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The resource is at revision {current}, not {expected}; read it again."
        )


async def _flush_versioned(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as error:
        raise PreconditionFailed(
            "The resource was changed by someone else meanwhile; read it again."
        ) from error


def _names(integration: Integration | None) -> tuple[str, ...]:
    return () if integration is None else (integration.name,)


def _refuse_rename(identity: dict[str, tuple[str, str]]) -> None:
    """Names are identities (actions and activations refer to them), so a PUT keeps them."""
    problems = [
        Problem(
            path,
            f'must stay "{expected}" as in the URL; found "{found}" (renaming is not supported)',
        )
        for path, (found, expected) in identity.items()
        if found != expected
    ]
    if problems:
        raise InvalidConfiguration("The configuration cannot be renamed.", problems)


def _name_taken(name: str) -> Conflict:
    return Conflict(f'An integration named "{name}" is already registered.')


def _action_taken(provider: str, name: str) -> Conflict:
    return Conflict(f'Integration "{provider}" already has an action named "{name}".')
