"""Automations and the events that fire them.

An event is recorded once per account and id: posting it again, even at the same moment,
creates nothing new. Recording it, looking the caller up, and queueing one execution per
matching automation happen in one transaction.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import owned_by, owned_row
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.agents.models import Agent
from bridgehub.automations import templates
from bridgehub.automations.models import Automation, Event
from bridgehub.automations.schemas import (
    TRIGGERS,
    AutomationCreate,
    AutomationUpdate,
    Call,
    Conditions,
    EventCreate,
    ExecutionRetry,
    Trigger,
)
from bridgehub.contacts.models import Contact
from bridgehub.contacts.service import contact_service
from bridgehub.executions.models import Execution, Part
from bridgehub.executions.replay import stop_replays
from bridgehub.executions.service import (
    check_inputs,
    execution_service,
    find_action,
    new_execution,
    require_retryable,
)
from bridgehub.integrations.configuration import ActionConfiguration, action_title
from bridgehub.integrations.models import Action, Integration
from bridgehub.integrations.service import integration_service
from bridgehub.kit.errors import Conflict, HubError, InvalidInput, Problem

log = structlog.get_logger(__name__)


class AutomationService:
    async def create(
        self, session: AsyncSession, account: Account, data: AutomationCreate
    ) -> Automation:
        action = await find_action(session, data.action)
        await _check_inputs(session, action, data.inputs)
        if data.name is None:
            caller = data.conditions.caller
            name = await _free_name(session, account, _generated_name(data.trigger, caller, action))
        else:
            name = await _unused_name(session, account, data.name)
        automation = Automation(
            account_id=account.account_id,
            name=name,
            trigger=data.trigger,
            action_id=action.id,
            action=data.action,
            inputs=data.inputs,
            conditions=data.conditions.model_dump(exclude_none=True),
            enabled=data.enabled,
            replay=data.replay,
        )
        session.add(automation)
        await session.flush()
        return automation

    async def list(self, session: AsyncSession, account: Account) -> Sequence[Automation]:
        statement = select(Automation).where(owned_by(account, Automation))
        return (await session.scalars(statement.order_by(Automation.created_at))).all()

    async def get(
        self, session: AsyncSession, account: Account, automation_id: uuid.UUID
    ) -> Automation:
        return await owned_row(session, account, Automation, automation_id, "automation")

    async def update(
        self,
        session: AsyncSession,
        account: Account,
        automation_id: uuid.UUID,
        data: AutomationUpdate,
    ) -> Automation:
        automation = await self.get(session, account, automation_id)
        action = await find_action(session, automation.action)
        # A name made from the trigger follows it, unless the automation was named.
        was_generated = _is_numbered(
            automation.name,
            _generated_name(automation.trigger, automation.conditions.get("caller"), action),
        )
        renamed = data.name is not None and data.name != automation.name
        if data.name is not None and renamed:
            automation.name = await _unused_name(session, account, data.name)
        if data.inputs is not None:
            await _check_inputs(session, action, data.inputs)
            automation.inputs = data.inputs
        if data.trigger is not None:
            automation.trigger = data.trigger
        if data.enabled is not None:
            automation.enabled = data.enabled
        if data.replay is not None:
            automation.replay = data.replay
            if not data.replay:
                await stop_replays(session, account.account_id, automation.id)
        if data.conditions is not None:
            automation.conditions = data.conditions.model_dump(exclude_none=True)
        generated = _generated_name(automation.trigger, automation.conditions.get("caller"), action)
        if was_generated and not renamed and not _is_numbered(automation.name, generated):
            automation.name = await _free_name(session, account, generated)
        await session.flush()
        return automation

    async def delete(
        self, session: AsyncSession, account: Account, automation_id: uuid.UUID
    ) -> None:
        await session.delete(await self.get(session, account, automation_id))
        await stop_replays(session, account.account_id, automation_id)
        await session.flush()

    async def available_actions(self, session: AsyncSession, account: Account) -> Sequence[Action]:
        """The actions an automation of this account can run: those of its active
        integrations, by integration and action name."""
        statement = (
            select(Action)
            .join(Action.integration)
            .join(Activation, Activation.integration_id == Integration.id)
            .where(
                owned_by(account, Activation),
                Activation.status == ActivationStatus.ACTIVE,
            )
            .order_by(Integration.name, Action.name)
        )
        return (await session.scalars(statement)).all()

    async def retry(
        self,
        session: AsyncSession,
        account: Account,
        execution_id: uuid.UUID,
        data: ExecutionRetry,
    ) -> Execution:
        """Queue a failed or held execution again, with the input it was sent or with its
        automation's current templates rendered from the event that made it."""
        if data.input == "same":
            return await execution_service.retry(session, account, execution_id)
        execution = await execution_service.get(session, account, execution_id)
        require_retryable(execution)
        automation, event = await _origin(session, account, execution)
        received = EventCreate.model_validate(event.payload)
        contact = await session.get(Contact, event.contact_id) if event.contact_id else None
        values = await _values(session, account, received, contact)
        rendered, deferred = _inputs(automation.inputs, values, execution.call_id)
        return await execution_service.retry_with(session, execution, rendered, deferred)

    async def preview(
        self,
        session: AsyncSession,
        account: Account,
        action: Action,
        trigger: Trigger,
        caller: str | None,
        inputs: Mapping[str, str],
    ) -> Sequence[Rendering]:
        """The inputs as a sample event of `trigger` renders them, from a known caller (a
        contact of the account with a phone, or `sample_contact()` when it has none) and
        from an unknown one, as far as the `caller` condition lets the automation run for
        each; with what the action would refuse of each rendering."""
        known = await session.scalar(
            select(Contact)
            .where(owned_by(account, Contact), func.cardinality(Contact.phone_e164) > 0)
            .order_by(Contact.name, Contact.id)
            .limit(1)
        )
        agent_email = await session.scalar(
            select(Agent.email).where(owned_by(account, Agent)).order_by(Agent.email).limit(1)
        )
        known = known or sample_contact()
        samples = [
            (f"{known.name}, a known caller", known, known.phone_e164[0], "known"),
            ("an unknown caller", None, SAMPLE_UNKNOWN_NUMBER, "unknown"),
        ]
        configuration = ActionConfiguration.model_validate(action.configuration)
        renderings = []
        for description, contact, number, kind in samples:
            if caller not in (None, kind):
                continue
            event = _sample_event(trigger, number, agent_email or SAMPLE_AGENT_EMAIL)
            values = await _values(session, account, event, contact)
            rendered, deferred = _inputs(inputs, values, _SAMPLE_CALL_ID)
            shown = rendered | {key: _shown_parts(parts) for key, parts in deferred.items()}
            ordered = {
                field.key: shown[field.key] for field in configuration.inputs if field.key in shown
            }
            problems = _refused(configuration, rendered, deferred)
            renderings.append(Rendering(description, ordered, problems))
        return renderings

    async def summary(self, session: AsyncSession, automation: Automation) -> str:
        """ "When a call is missed, then create a ticket": why actions' `display` is lower-case."""
        action = await find_action(session, automation.action)
        when = occasion(automation.trigger, automation.conditions.get("caller"))
        return f"{when}, then {action.configuration['display']}"


@dataclass(frozen=True)
class Rendering:
    """What an automation's inputs render to for one sample caller."""

    caller: str
    """Who the sample caller is, in words: "Jane Doe, a known caller"."""
    inputs: dict[str, str]
    problems: dict[str, str]
    """Why the action would refuse an input so rendered, by input key."""


def sample_contact() -> Contact:
    """The known caller of a preview, for an account without contacts; never stored."""
    return Contact(
        id=uuid.UUID(int=0),
        external_id="sample",
        name="Jane Doe",
        company="Acme Inc.",
        title="Head of Support",
        emails=["jane.doe@example.com"],
        phones=[{"raw": "+1 555 555 0123", "e164": "+15555550123"}],
        phone_e164=["+15555550123"],
    )


SAMPLE_UNKNOWN_NUMBER = "+15555550199"
SAMPLE_AGENT_EMAIL = "agent@example.com"
_SAMPLE_CALL_ID = "sample-call"


def _sample_event(trigger: Trigger, caller: str, agent_email: str) -> EventCreate:
    call = Call(
        id=_SAMPLE_CALL_ID,
        caller=caller,
        to="+15555550100",
        agent_email=agent_email,
        duration_seconds=95,
        recording_url="https://recordings.example/sample-call.mp3",
        disposition="Resolved",
        notes="Asked for a call back tomorrow.",
    )
    return EventCreate(id="sample-event", type=trigger, occurred_at=datetime.now(UTC), call=call)


def _shown_parts(parts: Sequence[Part]) -> str:
    return "".join(
        part if isinstance(part, str) else f"[what the call logged in {part['logged']}]"
        for part in parts
    )


def _refused(
    action: ActionConfiguration, rendered: Mapping[str, str], deferred: Mapping[str, Any]
) -> dict[str, str]:
    try:
        check_inputs(action, rendered, later=deferred)
    except InvalidInput as refusal:
        return {
            detail["path"].removeprefix("data."): detail["message"] for detail in refusal.details
        }
    return {}


class EventService:
    async def receive(
        self, session: AsyncSession, account: Account, data: EventCreate
    ) -> tuple[Event, bool]:
        """Record the event and act on it; answers it and whether it was new."""
        if data.occurred_at is None:  # the telephony side did not say: it happened now
            data = data.model_copy(update={"occurred_at": datetime.now(UTC)})
        # What the event calls for is worked out before it is recorded, so that one statement
        # records it with its outcome; a duplicate only finds out then, and drops that work.
        contact = await self._caller(session, account, data)
        executions, skipped = await self._plan(session, account, data, contact)
        event = await session.scalar(
            insert(Event)
            .values(
                id=uuid.uuid4(),
                account_id=account.account_id,
                external_id=data.id,
                type=data.type,
                occurred_at=data.occurred_at,
                payload=data.model_dump(mode="json"),
                contact_id=contact.id if contact is not None else None,
                outcome={"executions": [str(e.id) for e in executions], "skipped": skipped},
            )
            .on_conflict_do_nothing(index_elements=[Event.account_id, Event.external_id])
            .returning(Event)
        )
        if event is None:  # posted before: the first post acted on it
            existing = await session.scalar(
                select(Event).where(owned_by(account, Event), Event.external_id == data.id)
            )
            assert existing is not None
            return existing, False
        await execution_service.record(session, executions)
        log.info(
            "event received",
            event_id=data.id,
            type=data.type,
            executions=len(executions),
            skipped=len(skipped),
        )
        return event, True

    async def _plan(
        self, session: AsyncSession, account: Account, data: EventCreate, contact: Contact | None
    ) -> tuple[list[Execution], list[dict[str, str]]]:
        """The executions the account's automations of this trigger call for, not recorded
        yet, and the automations skipped, with why."""
        values = await _values(session, account, data, contact)
        call_id = data.call.id if data.call else None
        executions, skipped = [], []
        for automation, action, activation in await session.execute(
            _AUTOMATIONS_OF, {"account_id": account.account_id, "trigger": data.type}
        ):
            reason = _unmet(Conditions.model_validate(automation.conditions), data, contact)
            if reason is None:
                rendered, deferred = _inputs(automation.inputs, values, call_id)
                try:
                    execution = new_execution(
                        account,
                        action,
                        activation,
                        rendered,
                        contact_id=contact.id if contact is not None else None,
                        agent_email=data.call.agent_email if data.call else None,
                        event_id=data.id,
                        automation_id=automation.id,
                        replay=automation.replay,
                        call_id=call_id,
                        deferred_inputs=deferred,
                    )
                    executions.append(execution)
                    continue
                except HubError as refusal:
                    reason = _refusal_text(refusal)
            skipped.append({"automation_id": str(automation.id), "reason": reason})
        return executions, skipped

    async def _caller(
        self, session: AsyncSession, account: Account, data: EventCreate
    ) -> Contact | None:
        number = data.call.caller if data.call else None
        if not number:
            return None
        matches = await contact_service.lookup(session, account, number)
        return matches[0][0] if matches else None


async def _values(
    session: AsyncSession, account: Account, data: EventCreate, contact: Contact | None
) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {
        "event": {
            "id": data.id,
            "type": data.type,
            "occurred_at": data.occurred_at.isoformat() if data.occurred_at else "",
        },
        "call": {},
        "contact": {},
        "agent": {},
    }
    if data.call is not None:
        values["call"] = {
            key: str(value)
            for key, value in data.call.model_dump(by_alias=True).items()
            if value is not None
        }
    if contact is not None:
        values["contact"] = {
            "id": str(contact.id),
            "external_id": contact.external_id,
            "name": contact.name,
            "company": contact.company or "",
            "title": contact.title or "",
            "email": contact.emails[0] if contact.emails else "",
            "phone": next((p["e164"] or p["raw"] for p in contact.phones), ""),
        }
    if data.call is not None and data.call.agent_email:
        agent = (
            await session.execute(
                select(Agent.name, Agent.external_id).where(
                    owned_by(account, Agent),
                    Agent.email == data.call.agent_email.lower(),
                )
            )
        ).first()
        values["agent"] = {"email": data.call.agent_email}
        if agent is not None:
            values["agent"] |= {"name": agent.name, "external_id": agent.external_id}
    return values


# The enabled automations of an account (`account_id`) and trigger (`trigger`), each with
# its action and the account's activation of the action's integration (None when it has
# none). Built once, as every event runs it: building a statement costs more than running it.
_AUTOMATIONS_OF = (
    select(Automation, Action, Activation)
    .join(Action, Action.id == Automation.action_id)
    .outerjoin(
        Activation,
        and_(
            Activation.account_id == Automation.account_id,
            Activation.integration_id == Action.integration_id,
        ),
    )
    .where(
        Automation.account_id == bindparam("account_id"),
        Automation.trigger == bindparam("trigger"),
        Automation.enabled.is_(True),
    )
    # Its integration is the action's, loaded with the action; joining it (inner) again
    # would drop the automations whose integration the account has not connected.
    .options(raiseload(Activation.integration))
)


def _inputs(
    inputs: Mapping[str, str], values: templates.Values, call_id: str | None
) -> tuple[dict[str, str], dict[str, list[Part]]]:
    """The inputs rendered now, and those naming what the call logged, rendered as far as
    they can be: the rest is filled in when the action runs. Without a call id, nothing can
    have been logged for the call, and those render empty now."""
    deferred = {
        key: templates.parts(template, values)
        for key, template in inputs.items()
        if call_id is not None and templates.logged_in(template)
    }
    rendered = {
        key: templates.render(template, values)
        for key, template in inputs.items()
        if key not in deferred
    }
    return rendered, deferred


async def _check_inputs(session: AsyncSession, found: Action, inputs: Mapping[str, str]) -> None:
    """Every mandatory input mapped, only the action's inputs, templates that can render,
    plain text among an input's choices, naming what the call logged only in integrations
    of the catalog."""
    action = ActionConfiguration.model_validate(found.configuration)
    keys = {field.key for field in action.inputs}
    problems = [
        Problem(
            f"inputs.{key}",
            f"is not an input of {action.provider}/{action.name}; inputs: {', '.join(keys)}",
        )
        for key in inputs
        if key not in keys
    ]
    problems += [
        Problem(f"inputs.{field.key}", f'"{field.name}" is mandatory and must be mapped')
        for field in action.inputs
        if field.mandatory and not inputs.get(field.key, "").strip()
    ]
    problems += [
        Problem(f"inputs.{key}", problem)
        for key, template in inputs.items()
        for problem in templates.problems(template)
    ]
    problems += [
        Problem(f"inputs.{field.key}", refusal)
        for field in action.inputs
        if _fixed(template := inputs.get(field.key, ""))
        and (refusal := field.refusal(template)) is not None
    ]
    problems += [
        Problem(f"inputs.{key}", f'"{name}" in call.logged is not an integration of the catalog')
        for key, template in inputs.items()
        for name in sorted(templates.logged_in(template))
        if await integration_service.find(session, name) is None
    ]
    if problems:
        raise InvalidInput("The automation is invalid.", problems)


async def _origin(
    session: AsyncSession, account: Account, execution: Execution
) -> tuple[Automation, Event]:
    """The automation and the event an execution was made from, both still kept."""
    if execution.automation_id is None:
        raise InvalidInput(
            "The retry is invalid.",
            [Problem("input", 'only an automation\'s execution has a current mapping; use "same"')],
        )
    automation = await session.scalar(
        select(Automation).where(
            owned_by(account, Automation), Automation.id == execution.automation_id
        )
    )
    if automation is None:
        raise Conflict("Its automation was deleted; retry it with the same input.")
    event = await session.scalar(
        select(Event).where(owned_by(account, Event), Event.external_id == execution.event_id)
    )
    if event is None:
        raise Conflict(
            "The event it was made from is no longer kept; retry it with the same input."
        )
    return automation, event


def _generated_name(trigger: str, caller: str | None, action: Action) -> str:
    """ "Create a ticket in Demo Helpdesk when a call is missed from an unknown caller"."""
    when = occasion(trigger, caller)
    title = action_title(
        action.configuration["display"], action.integration.configuration["display_name"]
    )
    return f"{title} {when[:1].lower()}{when[1:]}"


def _is_numbered(name: str, base: str) -> bool:
    """Whether `name` is `base`, or `base` numbered as `_free_name` numbers it."""
    return re.fullmatch(rf"{re.escape(base)}( \([0-9]+\))?", name) is not None


async def _names_like(session: AsyncSession, account: Account, name: str) -> set[str]:
    """The account's automation names that are `name` or `name` numbered: "name (2)"."""
    statement = select(Automation.name).where(
        owned_by(account, Automation),
        or_(Automation.name == name, Automation.name.startswith(f"{name} (", autoescape=True)),
    )
    return set((await session.scalars(statement)).all())


async def _free_name(session: AsyncSession, account: Account, name: str) -> str:
    """`name`, numbered from 2 when an automation of the account already has it."""
    taken = await _names_like(session, account, name)
    numbered = (f"{name} ({number})" for number in itertools.count(2))
    return next(each for each in itertools.chain([name], numbered) if each not in taken)


async def _unused_name(session: AsyncSession, account: Account, name: str) -> str:
    if name in await _names_like(session, account, name):
        raise InvalidInput(
            "The automation is invalid.",
            [Problem("name", f'another automation is named "{name}"; choose another name')],
        )
    return name


def _fixed(template: str) -> bool:
    """Whether a template is plain text, the same in every execution: what it renders is
    known, and checked, when the automation is saved."""
    return bool(template.strip()) and not templates.has_placeholders(template)


def occasion(trigger: str, caller: str | None) -> str:
    """When an automation of `trigger` and `caller` condition runs, in words: "When a call
    is missed from an unknown caller"."""
    words = TRIGGERS.get(trigger, trigger)
    return f"{words} from {_CALLERS[caller]}" if caller in _CALLERS else words


_CALLERS = {"known": "a known caller", "unknown": "an unknown caller"}


def _unmet(conditions: Conditions, data: EventCreate, contact: Contact | None) -> str | None:
    call = data.call
    if conditions.min_duration_seconds is not None:
        duration = call.duration_seconds if call else None
        if duration is None or duration < conditions.min_duration_seconds:
            return f"the call lasted less than {conditions.min_duration_seconds} s"
    if conditions.to is not None and (call is None or call.to != conditions.to):
        return f"the call was not to {conditions.to}"
    if conditions.caller is not None:
        return _caller_unmet(conditions.caller, data, contact)
    return None


def _caller_unmet(wanted: str, data: EventCreate, contact: Contact | None) -> str | None:
    # Known or unknown says whether a lookup found the caller; without a number there was
    # nobody to look up, and "create a contact for unknown callers" has nothing to go on.
    if data.call is None or not data.call.caller:
        return "the call gives no caller's number"
    known = contact is not None
    if known == (wanted == "known"):
        return None
    if known:
        return "the caller is known: a contact has their number"
    return "the caller is unknown: no contact has their number"


def _refusal_text(refusal: HubError) -> str:
    details = "; ".join(f"{d['path']}: {d['message']}" for d in refusal.details)
    return f"{refusal.message} {details}".strip()


automation_service = AutomationService()
event_service = EventService()
