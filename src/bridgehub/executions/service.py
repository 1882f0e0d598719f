"""Running actions: recorded first, then carried out by a job, retried with backoff on
transient failures, held while the activation waits for a person to reauthorize it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.activations import tokens
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.agents.models import Agent
from bridgehub.bridge import BridgeError, BridgeUnavailable, CredentialsRejected, RequestRefused
from bridgehub.contacts.models import Contact
from bridgehub.executions.models import Execution, ExecutionAttempt, ExecutionStatus
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action
from bridgehub.integrations.service import action_service
from bridgehub.kit.errors import Conflict, InvalidInput, NotFound, Problem
from bridgehub.runtime import Runtime
from bridgehub.worker import ACTIONS_QUEUE, enqueue

log = structlog.get_logger(__name__)

EXECUTE_TASK = "executions.execute"
_WAIT_FOR_A_SLOT = timedelta(seconds=1)


class ExecutionService:
    async def create(
        self,
        session: AsyncSession,
        account: Account,
        *,
        action: str,
        data: Mapping[str, Any],
        contact_id: uuid.UUID | None = None,
        agent_email: str | None = None,
        event_id: str | None = None,
        automation_id: uuid.UUID | None = None,
    ) -> Execution:
        """Record an execution and queue it, in the caller's transaction."""
        found = await find_action(session, action)
        check_inputs(ActionConfiguration.model_validate(found.configuration), data)
        activation = await _activation_for(session, account, found)
        if contact_id is not None:
            await _require_contact(session, account, contact_id)
        execution = Execution(
            id=uuid.uuid4(),
            account_id=account.account_id,
            activation_id=activation.id,
            action_id=found.id,
            action=action,
            data=dict(data),
            contact_id=contact_id,
            agent_email=agent_email.strip().lower() if agent_email else None,
            event_id=event_id,
            automation_id=automation_id,
            status=ExecutionStatus.QUEUED,
        )
        session.add(execution)
        await session.flush()
        await _queue(session, execution)
        return execution

    async def list(
        self,
        session: AsyncSession,
        account: Account,
        *,
        status: ExecutionStatus | None = None,
        limit: int = 50,
    ) -> Sequence[Execution]:
        statement = select(Execution).where(Execution.account_id == account.account_id)
        if status is not None:
            statement = statement.where(Execution.status == status)
        return (
            await session.scalars(statement.order_by(Execution.created_at.desc()).limit(limit))
        ).all()

    async def get(
        self, session: AsyncSession, account: Account, execution_id: uuid.UUID
    ) -> Execution:
        execution = await session.scalar(
            select(Execution).where(
                Execution.id == execution_id, Execution.account_id == account.account_id
            )
        )
        if execution is None:
            raise NotFound(f"No execution {execution_id}.")
        return execution

    async def attempts(
        self, session: AsyncSession, execution: Execution
    ) -> Sequence[ExecutionAttempt]:
        statement = select(ExecutionAttempt).where(ExecutionAttempt.execution_id == execution.id)
        return (await session.scalars(statement.order_by(ExecutionAttempt.number))).all()

    async def retry(
        self, session: AsyncSession, account: Account, execution_id: uuid.UUID
    ) -> Execution:
        execution = await self.get(session, account, execution_id)
        if execution.status not in (ExecutionStatus.FAILED, ExecutionStatus.HELD):
            raise Conflict(
                f"The execution is {execution.status}; only failed or held ones are retried."
            )
        execution.status = ExecutionStatus.QUEUED
        execution.error = None
        execution.finished_at = None
        await session.flush()
        await _queue(session, execution)
        return execution


def check_inputs(action: ActionConfiguration, data: Mapping[str, Any]) -> None:
    """Refuse, naming each, mandatory inputs without a value and keys the action does not take."""
    inputs = {field.key: field for field in action.inputs}
    problems = [
        Problem(
            f"data.{key}",
            f"is not an input of {action.provider}/{action.name}; inputs: {', '.join(inputs)}",
        )
        for key in data
        if key not in inputs
    ]
    problems += [
        Problem(f"data.{key}", f'"{field.name}" is required')
        for key, field in inputs.items()
        if field.mandatory and _empty(data.get(key))
    ]
    if problems:
        raise InvalidInput(
            f"The inputs of {action.provider}/{action.name} are incomplete.", problems
        )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


async def find_action(session: AsyncSession, name: str) -> Action:
    """The action named `provider/name`, or a 422 on path `action`."""
    provider, _, action = name.partition("/")
    found = await action_service.find(session, provider, action) if action else None
    if found is None:
        raise InvalidInput(
            "The execution is invalid.",
            [Problem("action", f'no action "{name}" is registered; name it as provider/action')],
        )
    return found


async def _activation_for(session: AsyncSession, account: Account, action: Action) -> Activation:
    activation = await session.scalar(
        select(Activation).where(
            Activation.account_id == account.account_id,
            Activation.integration_id == action.integration_id,
        )
    )
    usable = (ActivationStatus.ACTIVE, ActivationStatus.NEEDS_REAUTHORIZATION)
    if activation is None or activation.status not in usable:
        raise Conflict(
            f'The integration "{action.integration.name}" is not active for this account.'
        )
    return activation


async def _require_contact(session: AsyncSession, account: Account, contact_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Contact.id).where(Contact.id == contact_id, Contact.account_id == account.account_id)
    )
    if found is None:
        raise InvalidInput(
            "The execution is invalid.", [Problem("contact_id", f"no contact {contact_id}")]
        )


async def _queue(session: AsyncSession, execution: Execution, at: datetime | None = None) -> None:
    await enqueue(
        session, EXECUTE_TASK, queue=ACTIONS_QUEUE, lock=None, at=at, execution_id=str(execution.id)
    )


async def resume_held(session: AsyncSession, activation_id: uuid.UUID) -> int:
    """Queue again what waited for the activation to be reauthorized."""
    held = await session.scalars(
        select(Execution).where(
            Execution.activation_id == activation_id, Execution.status == ExecutionStatus.HELD
        )
    )
    resumed = 0
    for execution in held.all():
        execution.status = ExecutionStatus.QUEUED
        execution.error = None
        await _queue(session, execution)
        resumed += 1
    return resumed


# --- carrying an execution out --------------------------------------------------------------


async def perform(runtime: Runtime, execution_id: uuid.UUID) -> None:
    """One attempt at an execution, in one of its integration's concurrency slots; without a
    free slot, the execution waits its turn."""
    async with runtime.sessionmaker() as claim, claim.begin():
        execution = await claim.get(Execution, execution_id)
        if execution is None or execution.status not in (
            ExecutionStatus.QUEUED,
            ExecutionStatus.RUNNING,
        ):
            return
        action = await claim.get_one(Action, execution.action_id)
        if not await _take_slot(
            claim, action.integration_id, runtime.settings.integration_concurrency
        ):
            await _queue(claim, execution, at=datetime.now(UTC) + _WAIT_FOR_A_SLOT)
            return
        await _attempt(runtime, execution_id)


async def _take_slot(session: AsyncSession, integration_id: int, slots: int) -> bool:
    # Transaction-scoped advisory locks: released when the attempt ends, or its process dies.
    for slot in range(slots):
        key = (integration_id << 16) + slot
        if await session.scalar(select(func.pg_try_advisory_xact_lock(_SLOT_SPACE, key))):
            return True
    return False


_SLOT_SPACE = 0x6578  # names the slot locks apart from the hub's other advisory locks


async def _attempt(runtime: Runtime, execution_id: uuid.UUID) -> None:
    async with runtime.sessionmaker() as session:
        execution = await session.get_one(Execution, execution_id)
        activation = await session.get_one(Activation, execution.activation_id)
        action = await session.get_one(Action, execution.action_id)
        if activation.status == ActivationStatus.NEEDS_REAUTHORIZATION:
            _hold(execution)
            await session.commit()
            return
        if activation.status != ActivationStatus.ACTIVE:
            _finish(
                execution, ExecutionStatus.FAILED, error=f"The activation is {activation.status}."
            )
            await session.commit()
            return
        meta = await _meta(session, execution, activation)
        execution.status = ExecutionStatus.RUNNING
        execution.attempts += 1
        await session.commit()

        started, clock = datetime.now(UTC), time.monotonic()
        configuration = ActionConfiguration.model_validate(action.configuration)
        try:
            credentials = await tokens.credentials_for(runtime, activation)
            outcome = await runtime.bridge.execute_action(
                configuration.endpoint, credentials, data=execution.data, **meta
            )
        except BridgeError as error:
            _record(session, execution, started, clock, error)
            await _after_failure(session, runtime, execution, error)
        else:
            _record(session, execution, started, clock, None)
            execution.response = outcome.model_dump(exclude_none=True)
            _finish(execution, ExecutionStatus.SUCCEEDED)
        await session.commit()
        log.info(
            "action executed",
            execution_id=str(execution.id),
            action=execution.action,
            status=execution.status,
        )


async def _meta(
    session: AsyncSession, execution: Execution, activation: Activation
) -> dict[str, str | None]:
    """Who the action is about and who does it, as the bridge knows them."""
    contact_external_id = None
    if execution.contact_id is not None:
        contact = await session.get(Contact, execution.contact_id)
        if contact is not None and contact.activation_id == activation.id:
            contact_external_id = contact.external_id
    agent_external_id = None
    if execution.agent_email:
        agent_external_id = await session.scalar(
            select(Agent.external_id).where(
                Agent.activation_id == activation.id, Agent.email == execution.agent_email
            )
        )
    return {"contact_external_id": contact_external_id, "agent_external_id": agent_external_id}


async def _after_failure(
    session: AsyncSession, runtime: Runtime, execution: Execution, error: BridgeError
) -> None:
    if isinstance(error, CredentialsRejected):
        await tokens.mark_rejected(runtime, execution.activation_id)
        _hold(execution)
    elif (
        isinstance(error, BridgeUnavailable)
        and execution.attempts < runtime.settings.execution_max_attempts
    ):
        execution.status = ExecutionStatus.QUEUED
        execution.error = str(error)
        pause = _pause(runtime, execution.attempts, error.retry_after)
        await _queue(session, execution, at=datetime.now(UTC) + pause)
    elif isinstance(error, RequestRefused):
        _finish(execution, ExecutionStatus.FAILED, error=error.bridge_message or str(error))
    else:
        _finish(execution, ExecutionStatus.FAILED, error=str(error))


def _pause(runtime: Runtime, attempts: int, retry_after: float | None) -> timedelta:
    backoff = runtime.settings.execution_retry_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=max(backoff, retry_after or 0.0))


def _record(
    session: AsyncSession,
    execution: Execution,
    started: datetime,
    clock: float,
    error: BridgeError | None,
) -> None:
    session.add(
        ExecutionAttempt(
            execution_id=execution.id,
            number=execution.attempts,
            started_at=started,
            duration_ms=round((time.monotonic() - clock) * 1000),
            status_code=_status_code(error),
            outcome="succeeded" if error is None else type(error).__name__,
            message=None if error is None else str(error),
        )
    )


def _status_code(error: BridgeError | None) -> int | None:
    if isinstance(error, RequestRefused):
        return 400
    if isinstance(error, CredentialsRejected):
        return 401
    status_code: int | None = getattr(error, "status_code", None)
    return status_code


def _hold(execution: Execution) -> None:
    execution.status = ExecutionStatus.HELD
    execution.error = "Waiting for the activation to be reauthorized; it resumes by itself then."


def _finish(execution: Execution, status: ExecutionStatus, *, error: str | None = None) -> None:
    execution.status = status
    execution.error = error
    execution.finished_at = datetime.now(UTC)


execution_service = ExecutionService()
