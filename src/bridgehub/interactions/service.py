"""A contact's interactions from every active integration that retrieves them, asked in
parallel, each within its own deadline; one failing bridge never hides the others.

A short per-contact cache absorbs the same contact opened again and again while a call
goes on (and the pre-fetch of a screen pop).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import owned_by
from bridgehub.activations import tokens
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.bridge import BridgeError, CredentialsRejected, InteractionContact
from bridgehub.contacts.models import Contact
from bridgehub.contacts.service import contact_service
from bridgehub.db.session import release_connection
from bridgehub.integrations.service import integration_service
from bridgehub.interactions.cache import interaction_cache
from bridgehub.interactions.schemas import (
    DroppedInteraction,
    InteractionRead,
    InteractionsAnswer,
    RetrievalError,
)
from bridgehub.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Asked:
    activation: Activation
    url: str
    name: str
    icon_url: str


class InteractionService:
    async def for_contact(
        self, session: AsyncSession, runtime: Runtime, account: Account, contact_id: uuid.UUID
    ) -> InteractionsAnswer:
        contact, _ = await contact_service.get(session, account, contact_id)
        return await self._gathered(session, runtime, account, contact)

    async def prefetch(self, runtime: Runtime, account: Account, contact: Contact) -> None:
        """Warm the cache for a contact about to be shown (a screen pop with one match, whose
        lookup read the contact already); a failure only means the screen pop asks again
        itself."""
        try:
            async with runtime.sessionmaker() as session:
                await self._gathered(session, runtime, account, contact)
        except Exception:  # a background task: nobody awaits it to see an error
            log.exception("prefetching interactions failed", contact_id=str(contact.id))

    async def _gathered(
        self, session: AsyncSession, runtime: Runtime, account: Account, contact: Contact
    ) -> InteractionsAnswer:
        """The contact's interactions from every system that has them, or from the cache."""
        cached = interaction_cache(runtime).get(contact.id)
        if cached is not None:
            return cached
        asked = await _retrieving_activations(session, account)
        await release_connection(session)
        answers = await asyncio.gather(*(self._ask(runtime, each, contact) for each in asked))
        answer = _merge(answers)
        interaction_cache(runtime).put(contact.id, answer)
        return answer

    async def _ask(self, runtime: Runtime, asked: _Asked, contact: Contact) -> InteractionsAnswer:
        about = InteractionContact(
            # The bridge knows the contact by id only when the contact came from it.
            contact_external_id=contact.external_id
            if contact.activation_id == asked.activation.id
            else None,
            contact_name=contact.name,
            contact_emails=tuple(contact.emails),
            contact_phones=tuple(phone["e164"] or phone["raw"] for phone in contact.phones),
        )
        try:
            async with asyncio.timeout(runtime.settings.interactions_timeout_seconds):
                credentials = await tokens.credentials_for(runtime, asked.activation)
                result = await runtime.bridge.fetch_interactions(
                    asked.url,
                    credentials,
                    interaction_types=asked.activation.interaction_types,
                    contact=about,
                    integration=asked.name,
                )
        except TimeoutError:
            message = f"did not answer within {runtime.settings.interactions_timeout_seconds:g} s"
            return _failed(asked, message)
        except CredentialsRejected as refusal:
            await tokens.mark_rejected(runtime, asked.activation.id, refusal)
            return _failed(asked, refusal.told_to_reauthorize("refused the credentials"))
        except BridgeError as error:
            return _failed(asked, str(error))
        return InteractionsAnswer(
            items=[
                InteractionRead(
                    integration=asked.name, icon_url=asked.icon_url, **item.model_dump()
                )
                for item in result.interactions
            ],
            errors=[],
            dropped=[
                DroppedInteraction(integration=asked.name, id=r.id, reason=r.reason)
                for r in result.rejected
            ],
        )


async def _retrieving_activations(session: AsyncSession, account: Account) -> list[_Asked]:
    active = await session.scalars(
        select(Activation).where(
            owned_by(account, Activation),
            Activation.status == ActivationStatus.ACTIVE,
        )
    )
    asked = []
    for activation in active.all():
        configuration = integration_service.parse(activation.integration)
        if configuration.interaction_retrieval_endpoint and activation.interaction_types:
            asked.append(
                _Asked(
                    activation,
                    configuration.interaction_retrieval_endpoint,
                    configuration.name,
                    configuration.icon_url,
                )
            )
    return asked


def _failed(asked: _Asked, message: str) -> InteractionsAnswer:
    log.info("interaction retrieval failed", integration=asked.name, reason=message)
    return InteractionsAnswer(
        items=[], errors=[RetrievalError(integration=asked.name, message=message)]
    )


def _merge(answers: list[InteractionsAnswer]) -> InteractionsAnswer:
    items = [item for answer in answers for item in answer.items]
    # Newest first; undated ones last.
    items.sort(
        key=lambda item: (item.date is not None, item.date.timestamp() if item.date else 0),
        reverse=True,
    )
    return InteractionsAnswer(
        items=items,
        errors=[error for answer in answers for error in answer.errors],
        dropped=[dropped for answer in answers for dropped in answer.dropped],
    )


interaction_service = InteractionService()
