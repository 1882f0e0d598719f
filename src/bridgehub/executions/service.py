"""Running actions: recorded first, then carried out by a job, retried with backoff on
transient failures, held while the activation waits for a person to reauthorize it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.owned import owned_row
from bridgehub.activations import tokens
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.agents.models import Agent
from bridgehub.bridge import BridgeError, BridgeUnavailable, CredentialsRejected, RequestRefused
from bridgehub.contacts.models import Contact
from bridgehub.executions.models import Execution, ExecutionAttempt, ExecutionStatus
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action
from bridgehub.integrations.service import action_service
from bridgehub.kit.errors import Conflict, InvalidInput, Problem
from bridgehub.kit.queries import where_equal
from bridgehub.runtime import Runtime
from bridgehub.worker import ACTIONS_QUEUE, enqueue

log = structlog.get_logger(__name__)

EXECUTE_TASK = "executions.execute"
_WAIT_FOR_A_SLOT = timedelta(seconds=1)


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions to list; each criterion left as None matches everything."""

    status: ExecutionStatus | None = None
    activation_id: uuid.UUID | None = None
    action: str | None = None
    """`provider/name`."""
    since: datetime | None = None
    """Created at or after this moment."""


@dataclass(frozen=True)
class HourlyCount:
    hour: datetime
    """The hour's start, in UTC."""
    status: ExecutionStatus
    count: int


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
        activation = await session.scalar(
            select(Activation).where(
                Activation.account_id == account.account_id,
                Activation.integration_id == found.integration_id,
            )
        )
        execution = new_execution(
            account,
            found,
            activation,
            data,
            contact_id=contact_id,
            agent_email=agent_email,
            event_id=event_id,
            automation_id=automation_id,
        )
        if contact_id is not None:
            await _require_contact(session, account, contact_id)
        await self.record(session, [execution])
        return execution

    async def record(self, session: AsyncSession, executions: Sequence[Execution]) -> None:
        """Record executions made by `new_execution` and queue them, in the caller's
        transaction."""
        session.add_all(executions)
        await session.flush()
        for execution in executions:
            await _queue(session, execution.id)

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

    async def search(
        self,
        session: AsyncSession,
        account: Account,
        criteria: ExecutionFilter,
        *,
        limit: int,
        offset: int = 0,
    ) -> Sequence[Execution]:
        """The executions matching `criteria`, newest first, `limit` of them after `offset`."""
        statement = where_equal(
            select(Execution).where(Execution.account_id == account.account_id),
            [
                (Execution.status, criteria.status),
                (Execution.activation_id, criteria.activation_id),
                (Execution.action, criteria.action),
            ],
        )
        if criteria.since is not None:
            statement = statement.where(Execution.created_at >= criteria.since)
        ordered = statement.order_by(Execution.created_at.desc(), Execution.id.desc())
        return (await session.scalars(ordered.limit(limit).offset(offset))).all()

    async def status_counts(
        self, session: AsyncSession, account: Account, since: datetime
    ) -> dict[uuid.UUID, dict[ExecutionStatus, int]]:
        """How many executions created since `since` are in each status, per activation."""
        statement = (
            select(Execution.activation_id, Execution.status, func.count())
            .where(Execution.account_id == account.account_id, Execution.created_at >= since)
            .group_by(Execution.activation_id, Execution.status)
        )
        counts: dict[uuid.UUID, dict[ExecutionStatus, int]] = {}
        for activation_id, status, count in await session.execute(statement):
            counts.setdefault(activation_id, {})[ExecutionStatus(status)] = count
        return counts

    async def hourly_counts(
        self, session: AsyncSession, account: Account, since: datetime
    ) -> Sequence[HourlyCount]:
        """Executions created since `since`, counted per hour (UTC) and status, oldest first;
        hours without any are left out."""
        hour = func.date_trunc("hour", func.timezone("UTC", Execution.created_at))
        statement = (
            select(hour, Execution.status, func.count())
            .where(Execution.account_id == account.account_id, Execution.created_at >= since)
            .group_by(hour, Execution.status)
            .order_by(hour)
        )
        return [
            HourlyCount(start.replace(tzinfo=UTC), ExecutionStatus(status), count)
            for start, status, count in await session.execute(statement)
        ]

    async def get(
        self, session: AsyncSession, account: Account, execution_id: uuid.UUID
    ) -> Execution:
        return await owned_row(session, account, Execution, execution_id, "execution")

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
        await _queue(session, execution.id)
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


def new_execution(
    account: Account,
    action: Action,
    activation: Activation | None,
    data: Mapping[str, Any],
    *,
    contact_id: uuid.UUID | None = None,
    agent_email: str | None = None,
    event_id: str | None = None,
    automation_id: uuid.UUID | None = None,
) -> Execution:
    """An execution of `action` through the account's `activation` of its integration, for
    `ExecutionService.record`; refuses incomplete inputs, then an activation that cannot run it."""
    check_inputs(ActionConfiguration.model_validate(action.configuration), data)
    usable = (ActivationStatus.ACTIVE, ActivationStatus.NEEDS_REAUTHORIZATION)
    if activation is None or activation.status not in usable:
        raise Conflict(
            f'The integration "{action.integration.name}" is not active for this account.'
        )
    return Execution(
        id=uuid.uuid4(),
        account_id=account.account_id,
        activation_id=activation.id,
        action_id=action.id,
        action=f"{action.integration.name}/{action.name}",
        data=dict(data),
        contact_id=contact_id,
        agent_email=agent_email.strip().lower() if agent_email else None,
        event_id=event_id,
        automation_id=automation_id,
        status=ExecutionStatus.QUEUED,
    )


async def _require_contact(session: AsyncSession, account: Account, contact_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Contact.id).where(Contact.id == contact_id, Contact.account_id == account.account_id)
    )
    if found is None:
        raise InvalidInput(
            "The execution is invalid.", [Problem("contact_id", f"no contact {contact_id}")]
        )


async def _queue(
    session: AsyncSession, execution_id: uuid.UUID, at: datetime | None = None
) -> None:
    await enqueue(
        session, EXECUTE_TASK, queue=ACTIONS_QUEUE, lock=None, at=at, execution_id=str(execution_id)
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
        await _queue(session, execution.id)
        resumed += 1
    return resumed


# --- carrying an execution out --------------------------------------------------------------


async def perform(runtime: Runtime, execution_id: uuid.UUID) -> None:
    """One attempt at an execution, in one of its integration's concurrency slots; without a
    free slot, the execution waits its turn."""
    async with runtime.sessionmaker() as claim, claim.begin():
        found = (
            await claim.execute(
                select(Execution.status, Action.integration_id)
                .join(Action, Action.id == Execution.action_id)
                .where(Execution.id == execution_id)
            )
        ).first()
        if found is None or found.status not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
            return
        if not await _take_slot(
            claim, found.integration_id, runtime.settings.integration_concurrency
        ):
            await _queue(claim, execution_id, at=datetime.now(UTC) + _WAIT_FOR_A_SLOT)
            return
        await _attempt(runtime, execution_id)


async def _take_slot(session: AsyncSession, integration_id: int, slots: int) -> bool:
    # Transaction-scoped advisory locks: released when the attempt ends, or its process dies.
    # The filter runs on one slot after the other and LIMIT stops at the first it locks, so
    # the other slots stay free (there must be no ORDER BY: sorting would lock them all).
    taken = await session.scalar(
        text(
            "SELECT slot FROM generate_series(0, :last) AS slot "
            "WHERE pg_try_advisory_xact_lock(:space, :first + slot) LIMIT 1"
        ),
        {"last": slots - 1, "space": _SLOT_SPACE, "first": integration_id << 16},
    )
    return taken is not None


_SLOT_SPACE = 0x6578  # names the slot locks apart from the hub's other advisory locks


async def _attempt(runtime: Runtime, execution_id: uuid.UUID) -> None:
    async with runtime.sessionmaker() as session:
        execution, activation, action, contact_external_id, agent_external_id = (
            await session.execute(_ATTEMPT_CONTEXT, {"execution_id": execution_id})
        ).one()
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
        execution.status = ExecutionStatus.RUNNING
        execution.attempts += 1
        await session.commit()

        started, clock = datetime.now(UTC), time.monotonic()
        configuration = ActionConfiguration.model_validate(action.configuration)
        try:
            credentials = await tokens.credentials_for(runtime, activation)
            outcome = await runtime.bridge.execute_action(
                configuration.endpoint,
                credentials,
                data=execution.data,
                contact_external_id=contact_external_id,
                agent_external_id=agent_external_id,
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


# An execution (`execution_id`) with its activation and action, and who the action is about
# and who does it as the bridge knows them (external ids, when the activation synced them).
# Built once, as every attempt runs it: building a statement costs more than running it.
_ATTEMPT_CONTEXT = (
    select(
        Execution,
        Activation,
        Action,
        select(Contact.external_id)
        .where(Contact.id == Execution.contact_id, Contact.activation_id == Execution.activation_id)
        .scalar_subquery(),
        select(Agent.external_id)
        .where(Agent.activation_id == Execution.activation_id, Agent.email == Execution.agent_email)
        .limit(1)
        .scalar_subquery(),
    )
    .join(Activation, Activation.id == Execution.activation_id)
    .join(Action, Action.id == Execution.action_id)
    .where(Execution.id == bindparam("execution_id"))
)


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
        await _queue(session, execution.id, at=datetime.now(UTC) + pause)
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
