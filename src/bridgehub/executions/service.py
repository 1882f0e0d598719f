"""Executions of actions: recorded and queued in the caller's transaction, listed, retried
and resumed; `bridgehub.executions.runner` carries each one out."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import of_account, owned_by, owned_row, owned_rows
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.contacts.models import Contact
from bridgehub.executions.models import Execution, ExecutionAttempt, ExecutionStatus, Part
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action, Integration
from bridgehub.integrations.service import action_service
from bridgehub.kit.errors import Conflict, InvalidInput, Problem
from bridgehub.queue import ACTIONS_QUEUE, EXECUTE_ACTION, enqueue

log = structlog.get_logger(__name__)

RETRYABLE = (ExecutionStatus.FAILED, ExecutionStatus.HELD)
"""The statuses a person may queue again: a failed one, or a held one without waiting for
its activation to be reauthorized (if it still needs that, its next attempt holds it again)."""
MAX_BULK_RETRY = 1000
"""The most executions one bulk retry queues: they are updated and queued in the request's
transaction, so it stays short; more ask for narrower filters."""


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions to list; each criterion left as None matches everything."""

    status: ExecutionStatus | None = None
    activation_id: uuid.UUID | None = None
    action: str | None = None
    """`provider/name`."""
    automation_id: uuid.UUID | None = None
    """The automation that made it."""
    call_id: str | None = None
    """The contact center's call it was made for."""
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
                owned_by(account, Activation),
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
            await queue_execution(session, execution.id, execution.account_id)

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
        statement = select(Execution).where(owned_by(account, Execution), *_matching(criteria))
        ordered = statement.order_by(Execution.created_at.desc(), Execution.id.desc())
        return (await session.scalars(ordered.limit(limit).offset(offset))).all()

    async def status_counts(
        self, session: AsyncSession, account: Account, since: datetime
    ) -> dict[uuid.UUID, dict[ExecutionStatus, int]]:
        """How many executions created since `since` are in each status, per activation."""
        statement = (
            select(Execution.activation_id, Execution.status, func.count())
            .where(owned_by(account, Execution), Execution.created_at >= since)
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
            .where(owned_by(account, Execution), Execution.created_at >= since)
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

    async def get_many(
        self, session: AsyncSession, account: Account, execution_ids: Collection[uuid.UUID]
    ) -> Sequence[Execution]:
        """The account's executions among `execution_ids`, in one statement."""
        return await owned_rows(session, account, Execution, execution_ids)

    async def attempts(
        self, session: AsyncSession, execution: Execution
    ) -> Sequence[ExecutionAttempt]:
        statement = select(ExecutionAttempt).where(ExecutionAttempt.execution_id == execution.id)
        return (await session.scalars(statement.order_by(ExecutionAttempt.number))).all()

    async def retryable_count(
        self, session: AsyncSession, account: Account, criteria: ExecutionFilter
    ) -> int:
        """How many executions matching `criteria` a bulk retry would queue again."""
        statement = (
            select(func.count())
            .select_from(Execution)
            .where(_retryable_of(account), *_matching(criteria))
        )
        return (await session.scalar(statement)) or 0

    async def retry_matching(
        self, session: AsyncSession, account: Account, criteria: ExecutionFilter
    ) -> int:
        """Queue again every failed or held execution of the account matching `criteria`, in
        the caller's transaction; answers how many. `criteria.status`, when given, must be one
        of `RETRYABLE`; more than `MAX_BULK_RETRY` matching ones are refused as a whole, so
        that a retry never stops half way through a list."""
        if criteria.status is not None and criteria.status not in RETRYABLE:
            raise InvalidInput(
                "The filters are invalid.",
                [Problem("status", f"only {' or '.join(RETRYABLE)} executions are retried")],
            )
        matching = await self.retryable_count(session, account, criteria)
        if matching > MAX_BULK_RETRY:
            raise Conflict(
                f"{matching} executions match; at most {MAX_BULK_RETRY} are retried at once."
                " Narrow the filters, e.g. with since."
            )
        requeued = (
            update(Execution)
            .where(_retryable_of(account), *_matching(criteria))
            .values(status=ExecutionStatus.QUEUED, error=None, finished_at=None, replay_at=None)
            .returning(Execution.id)
        )
        ids = (await session.scalars(requeued.execution_options(synchronize_session=False))).all()
        for execution_id in ids:
            await queue_execution(session, execution_id, account.account_id)
        log.info("executions retried", account_id=str(account.account_id), retried=len(ids))
        return len(ids)

    async def filter_of(
        self,
        session: AsyncSession,
        account: Account,
        *,
        status: ExecutionStatus | None = None,
        action: str | None = None,
        integration: str | None = None,
        automation_id: uuid.UUID | None = None,
        call_id: str | None = None,
        since: datetime | None = None,
    ) -> ExecutionFilter:
        """The filter the API's criteria name, the integration by its name; an integration
        the account has not connected is a 422 on path `integration`."""
        activation_id = None
        if integration is not None:
            activation_id = await session.scalar(
                select(Activation.id)
                .join(Integration, Integration.id == Activation.integration_id)
                .where(owned_by(account, Activation), Integration.name == integration)
            )
            if activation_id is None:
                raise InvalidInput(
                    "The filters are invalid.",
                    [Problem("integration", f'"{integration}" is not connected to this account')],
                )
        return ExecutionFilter(
            status=status,
            activation_id=activation_id,
            action=action,
            automation_id=automation_id,
            call_id=call_id,
            since=since,
        )

    async def retry(
        self, session: AsyncSession, account: Account, execution_id: uuid.UUID
    ) -> Execution:
        """Queue a failed or held execution again, with the same input."""
        execution = await self.get(session, account, execution_id)
        require_retryable(execution)
        return await self._requeue(session, execution)

    async def retry_with(
        self,
        session: AsyncSession,
        execution: Execution,
        data: Mapping[str, Any],
        deferred_inputs: Mapping[str, Sequence[Part]],
    ) -> Execution:
        """Queue a failed or held execution again with other inputs, refused (422) as a new
        execution's would be; `deferred_inputs` as `new_execution` takes them."""
        require_retryable(execution)
        action = await session.get(Action, execution.action_id)
        assert action is not None, "an action's executions are deleted with it"
        configuration = ActionConfiguration.model_validate(action.configuration)
        check_inputs(configuration, data, later=deferred_inputs)
        execution.data = dict(data)
        execution.deferred_inputs = dict(deferred_inputs) if deferred_inputs else None
        return await self._requeue(session, execution)

    async def _requeue(self, session: AsyncSession, execution: Execution) -> Execution:
        execution.status = ExecutionStatus.QUEUED
        execution.error = None
        execution.finished_at = None
        execution.replay_at = None
        await session.flush()
        await queue_execution(session, execution.id, execution.account_id)
        return execution


def require_retryable(execution: Execution) -> None:
    if execution.status not in RETRYABLE:
        raise Conflict(
            f"The execution is {execution.status}; only failed or held ones are retried."
        )


def _matching(criteria: ExecutionFilter) -> list[ColumnElement[bool]]:
    """The conditions that keep a statement about executions to those matching `criteria`;
    listings and bulk retries share them so that both always mean the same executions."""
    equal = [
        (Execution.status, criteria.status),
        (Execution.activation_id, criteria.activation_id),
        (Execution.action, criteria.action),
        (Execution.automation_id, criteria.automation_id),
        (Execution.call_id, criteria.call_id),
    ]
    conditions = [column == value for column, value in equal if value is not None]
    if criteria.since is not None:
        conditions.append(Execution.created_at >= criteria.since)
    return conditions


def _retryable_of(account: Account) -> ColumnElement[bool]:
    return and_(owned_by(account, Execution), Execution.status.in_(RETRYABLE))


def check_inputs(
    action: ActionConfiguration, data: Mapping[str, Any], later: Collection[str] = ()
) -> None:
    """Refuse, naming each, mandatory inputs without a value, values outside an input's
    choices and keys the action does not take; the inputs filled in `later` (at the
    attempt) need no value yet."""
    inputs = {field.key: field for field in action.inputs}
    problems = [
        Problem(
            f"data.{key}",
            f"is not an input of {action.provider}/{action.name}; inputs: {', '.join(inputs)}",
        )
        for key in [*data, *later]
        if key not in inputs
    ]
    problems += [
        Problem(f"data.{key}", f'"{field.name}" is required')
        for key, field in inputs.items()
        if field.mandatory and key not in later and _empty(data.get(key))
    ]
    problems += [
        Problem(f"data.{key}", refusal)
        for key, field in inputs.items()
        if not _empty(value := data.get(key)) and (refusal := field.refusal(value)) is not None
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
    replay: bool = False,
    call_id: str | None = None,
    deferred_inputs: Mapping[str, Sequence[Part]] | None = None,
) -> Execution:
    """An execution of `action` through the account's `activation` of its integration, for
    `ExecutionService.record`; refuses incomplete inputs, then an activation that cannot run
    it. `deferred_inputs` are filled in at each attempt from what the call logged
    (`bridgehub.executions.call_log`)."""
    configuration = ActionConfiguration.model_validate(action.configuration)
    check_inputs(configuration, data, later=deferred_inputs or {})
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
        replay=replay,
        call_id=call_id,
        deferred_inputs=dict(deferred_inputs) if deferred_inputs else None,
        status=ExecutionStatus.QUEUED,
    )


async def _require_contact(session: AsyncSession, account: Account, contact_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Contact.id).where(Contact.id == contact_id, owned_by(account, Contact))
    )
    if found is None:
        raise InvalidInput(
            "The execution is invalid.", [Problem("contact_id", f"no contact {contact_id}")]
        )


async def queue_execution(
    session: AsyncSession,
    execution_id: uuid.UUID,
    account_id: uuid.UUID,
    at: datetime | None = None,
) -> None:
    """Queue an attempt at the execution (at `at`, or now), in the caller's transaction."""
    await enqueue(
        session,
        EXECUTE_ACTION,
        queue=ACTIONS_QUEUE,
        lock=None,
        at=at,
        execution_id=str(execution_id),
        account_id=str(account_id),
    )


async def resume_held(
    session: AsyncSession, activation_id: uuid.UUID, account_id: uuid.UUID | None
) -> int:
    """Queue again what waited for the activation to be reauthorized."""
    held = await session.scalars(
        select(Execution).where(
            of_account(Execution, account_id),
            Execution.activation_id == activation_id,
            Execution.status == ExecutionStatus.HELD,
        )
    )
    resumed = 0
    for execution in held.all():
        execution.status = ExecutionStatus.QUEUED
        execution.error = None
        await queue_execution(session, execution.id, execution.account_id)
        resumed += 1
    return resumed


execution_service = ExecutionService()
