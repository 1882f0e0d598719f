"""Erasing a person from an account on request, listing erasures, lifting one.

What an erasure does, in one transaction:
- deletes every contact of the account, in every integration, with the phone (E.164) or
  e-mail address (lower-cased) given; executions and events keep their rows, their link to
  the contact becoming NULL;
- redacts stored values of the account's executions (inputs, answer, error), their attempts'
  messages and events (payload, outcome) that were linked to an erased contact or contain
  the identifier or one of the erased contacts' other addresses and E.164 numbers: in them,
  each of those and each erased contact's name is replaced by `[erased]` wherever a string
  contains it, and a string that is a phone number reading as one of the erased numbers
  (written any way) is replaced whole;
- drops the erased contacts' cached interactions in this process (other processes' caches
  expire within `BRIDGEHUB_INTERACTIONS_CACHE_SECONDS`);
- records a keyed digest of the identifier, which keeps it out of later syncs (`suppression`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.service import region_of
from bridgehub.accounts.tenancy import owned_by, owned_row
from bridgehub.automations.models import Event
from bridgehub.contacts.models import Contact
from bridgehub.contacts.phones import normalize, normalize_email
from bridgehub.erasures.digests import current_digest
from bridgehub.erasures.models import Erasure, IdentifierKind
from bridgehub.erasures.schemas import ErasureCreate
from bridgehub.erasures.suppression import erasing
from bridgehub.events.models import OutboxEvent
from bridgehub.executions.models import Execution, ExecutionAttempt
from bridgehub.interactions.cache import interaction_cache
from bridgehub.kit.errors import Unprocessable
from bridgehub.runtime import Runtime

REDACTED = "[erased]"


@dataclass(frozen=True)
class _Redaction:
    """What to take out of stored values, and where to look for it."""

    identifiers: frozenset[str]
    """Lower-cased addresses and E.164 numbers: the records naming one are redacted."""
    names: frozenset[str]
    """Lower-cased names of the erased contacts."""
    written: frozenset[str]
    """Lower-cased numbers as the bridges wrote them, replaced when a string is one."""
    e164: frozenset[str]
    region: str
    contact_ids: frozenset[uuid.UUID]

    def apply(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if isinstance(value, str):
            return self._text(value)
        return value

    def _text(self, text: str) -> str:
        if text.strip().lower() in self.written or normalize(text, self.region).e164 in self.e164:
            return REDACTED
        for contained in self.identifiers | self.names:
            text = re.sub(re.escape(contained), REDACTED, text, flags=re.IGNORECASE)
        return text


class ErasureService:
    async def erase(
        self, session: AsyncSession, runtime: Runtime, account: Account, request: ErasureCreate
    ) -> Erasure:
        region = await region_of(session, account)
        kind, identifier = _normalized(request, region)
        await erasing(session, account.account_id)
        contacts = (
            await session.scalars(
                select(Contact).where(owned_by(account, Contact), _has(kind, identifier))
            )
        ).all()
        redaction = _redaction(identifier, contacts, region)
        redacted = await _redact_executions(session, account, redaction)
        redacted += await _redact_events(session, account, redaction)
        redacted += await _redact_outbox_events(session, account, redaction)
        if contacts:
            await session.execute(
                delete(Contact).where(
                    owned_by(account, Contact), Contact.id.in_(redaction.contact_ids)
                )
            )
        cache = interaction_cache(runtime)
        for contact_id in redaction.contact_ids:
            cache.forget(contact_id)
        key_id, digest = current_digest(runtime.vault, kind, identifier)
        erasure = Erasure(
            account_id=account.account_id,
            kind=kind,
            key_id=key_id,
            digest=digest,
            contacts_erased=len(contacts),
            records_redacted=redacted,
        )
        session.add(erasure)
        await session.flush()
        return erasure

    async def list(self, session: AsyncSession, account: Account) -> Sequence[Erasure]:
        return (
            await session.scalars(
                select(Erasure)
                .where(owned_by(account, Erasure))
                .order_by(Erasure.created_at.desc(), Erasure.id)
            )
        ).all()

    async def lift(self, session: AsyncSession, account: Account, erasure_id: uuid.UUID) -> None:
        """Stop keeping the identifier out; what was erased stays erased."""
        await session.delete(await owned_row(session, account, Erasure, erasure_id, "erasure"))


def _normalized(request: ErasureCreate, region: str) -> tuple[IdentifierKind, str]:
    if request.phone is not None:
        e164 = normalize(request.phone, region).e164
        if e164 is None:
            # The number is not repeated: error messages may be logged.
            raise Unprocessable(
                f"`phone` cannot be read as one line: write it with its country code "
                f"(+...), or as a valid number of the account's region ({region})."
            )
        return IdentifierKind.PHONE, e164
    email = normalize_email(request.email or "")
    if email is None:
        raise Unprocessable("`email` is not an e-mail address (local part @ domain).")
    return IdentifierKind.EMAIL, email


def _has(kind: IdentifierKind, identifier: str) -> ColumnElement[bool]:
    if kind == IdentifierKind.PHONE:
        return Contact.phone_e164.contains([identifier])
    return Contact.emails.contains([identifier])


def _redaction(identifier: str, contacts: Sequence[Contact], region: str) -> _Redaction:
    e164 = {identifier} if identifier.startswith("+") else set()
    e164 |= {number for contact in contacts for number in contact.phone_e164}
    emails = {email for contact in contacts for email in contact.emails}
    return _Redaction(
        identifiers=frozenset({identifier.lower(), *e164, *emails}),
        names=frozenset(c.name.strip().lower() for c in contacts if c.name.strip()),
        written=frozenset(phone["raw"].lower() for c in contacts for phone in c.phones),
        e164=frozenset(e164),
        region=region,
        contact_ids=frozenset(contact.id for contact in contacts),
    )


def _mentions(column: Any, redaction: _Redaction) -> ColumnElement[bool]:
    """Whether a stored JSON or text value contains the identifier (or its contact's other
    identifiers): the values a redaction must visit beyond those linked to the contacts."""
    stored = func.lower(cast(column, Text))
    return or_(*(stored.contains(value, autoescape=True) for value in redaction.identifiers))


# What an execution holds of the event and the bridge's answers; deferred inputs hold
# the event's values too, until (and after) they are filled in.
_EXECUTION_VALUES = (
    Execution.data,
    Execution.response,
    Execution.error,
    Execution.deferred_inputs,
)


async def _redact_executions(session: AsyncSession, account: Account, redaction: _Redaction) -> int:
    executions = (
        await session.scalars(
            select(Execution).where(
                owned_by(account, Execution),
                or_(
                    Execution.contact_id.in_(redaction.contact_ids),
                    *(_mentions(column, redaction) for column in _EXECUTION_VALUES),
                ),
            )
        )
    ).all()
    changed = _redacted(executions, _EXECUTION_VALUES, redaction)
    attempts = (
        await session.scalars(
            select(ExecutionAttempt)
            .join(Execution, Execution.id == ExecutionAttempt.execution_id)
            .where(
                owned_by(account, Execution),
                or_(
                    Execution.contact_id.in_(redaction.contact_ids),
                    _mentions(ExecutionAttempt.message, redaction),
                ),
            )
        )
    ).all()
    return changed + _redacted(attempts, (ExecutionAttempt.message,), redaction)


async def _redact_events(session: AsyncSession, account: Account, redaction: _Redaction) -> int:
    events = (
        await session.scalars(
            select(Event).where(
                owned_by(account, Event),
                or_(
                    Event.contact_id.in_(redaction.contact_ids),
                    _mentions(Event.payload, redaction),
                    _mentions(Event.outcome, redaction),
                ),
            )
        )
    ).all()
    return _redacted(events, (Event.payload, Event.outcome), redaction)


async def _redact_outbox_events(
    session: AsyncSession, account: Account, redaction: _Redaction
) -> int:
    """The hub's own events kept for webhooks: an execution's error may name the person.
    (What was already delivered is the receiver's to erase.)"""
    events = (
        await session.scalars(
            select(OutboxEvent).where(
                owned_by(account, OutboxEvent), _mentions(OutboxEvent.data, redaction)
            )
        )
    ).all()
    return _redacted(events, (OutboxEvent.data,), redaction)


def _redacted(rows: Sequence[Any], columns: Sequence[Any], redaction: _Redaction) -> int:
    """Redact the `columns` of each of `rows` in place; answers how many rows changed."""
    changed = 0
    for row in rows:
        redacted = False
        for column in columns:
            stored = getattr(row, column.key)
            if (value := redaction.apply(stored)) != stored:
                setattr(row, column.key, value)
                redacted = True
        changed += redacted
    return changed


erasure_service = ErasureService()
