"""Carrying out an execution: one attempt at a time in a concurrency slot of its
integration, retried with backoff on transient failures, held while the activation waits
for a person to reauthorize it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import bindparam, column, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub import metrics
from bridgehub.accounts.tenancy import of_account
from bridgehub.activations import tokens
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.agents.models import Agent
from bridgehub.bridge import BridgeError, BridgeUnavailable, CredentialsRejected, RequestRefused
from bridgehub.contacts.models import Contact
from bridgehub.db.outage import unreachable
from bridgehub.events.models import EventType
from bridgehub.events.outbox import emit
from bridgehub.executions import call_log
from bridgehub.executions.created_contacts import take_contact
from bridgehub.executions.models import Execution, ExecutionAttempt, ExecutionStatus
from bridgehub.executions.replay import schedule_replay
from bridgehub.executions.service import queue_execution
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action
from bridgehub.kit.redaction import known_secrets
from bridgehub.runtime import Runtime

log = structlog.get_logger(__name__)

_WAIT_FOR_A_SLOT = timedelta(seconds=1)
_WAIT_FOR_EARLIER = timedelta(seconds=1)
_HUB_FAULT = "The hub could not carry out the action (its log says why); retry it once mended."


async def perform(
    runtime: Runtime, execution_id: uuid.UUID, account_id: uuid.UUID | None = None
) -> None:
    """One attempt at an execution, in one of its integration's concurrency slots; without a
    free slot, the execution waits its turn."""
    async with runtime.sessionmaker() as claim, claim.begin():
        found = (
            await claim.execute(
                _CLAIM.where(of_account(Execution, account_id)),
                {
                    "execution_id": execution_id,
                    "space": _SLOT_SPACE,
                    "last": runtime.settings.integration_concurrency - 1,
                },
            )
        ).first()
        if found is None or found.status not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
            return
        if found.slot is None:
            await queue_execution(
                claim, execution_id, found.account_id, at=datetime.now(UTC) + _WAIT_FOR_A_SLOT
            )
            return
        await _attempt(runtime, execution_id, found.account_id)


# The execution's state and one of its integration's concurrency slots, taken in the same
# round trip. The slots are transaction-scoped advisory locks: released when the attempt
# ends, or its process dies. The filter runs on one slot after the other and LIMIT stops at
# the first it locks, so the other slots stay free (there must be no ORDER BY: sorting would
# lock them all). A finished execution takes a slot too, for the instant its claim lasts.
_SLOT = (
    select(column("slot"))
    .select_from(func.generate_series(0, bindparam("last")).alias("slot"))
    .where(
        func.pg_try_advisory_xact_lock(
            bindparam("space"), (Action.integration_id.op("<<")(16)) + column("slot")
        )
    )
    .limit(1)
    .scalar_subquery()
)
_CLAIM = (
    select(Execution.status, Execution.account_id, _SLOT.label("slot"))
    .join(Action, Action.id == Execution.action_id)
    .where(Execution.id == bindparam("execution_id"))
)
_SLOT_SPACE = 0x6578  # names the slot locks apart from the hub's other advisory locks


async def _attempt(runtime: Runtime, execution_id: uuid.UUID, account_id: uuid.UUID) -> None:
    async with runtime.sessionmaker() as session:
        execution, activation, action, contact_external_id, agent_external_id = (
            await session.execute(
                _ATTEMPT_CONTEXT, {"execution_id": execution_id, "account_id": account_id}
            )
        ).one()
        if activation.status == ActivationStatus.NEEDS_REAUTHORIZATION:
            _hold(execution)
            await _tell_outcome(session, execution)
            await session.commit()
            return
        if activation.status != ActivationStatus.ACTIVE:
            _finish(
                execution, ExecutionStatus.FAILED, error=f"The activation is {activation.status}."
            )
            await _tell_outcome(session, execution)
            await session.commit()
            _count_if_finished(execution, activation.integration.name)
            return
        configuration = ActionConfiguration.model_validate(action.configuration)
        if execution.deferred_inputs and not await _filled_in(session, execution, configuration):
            await session.commit()
            _count_if_finished(execution, activation.integration.name)
            return
        execution.status = ExecutionStatus.RUNNING
        execution.attempts += 1
        await session.commit()

        started, clock = datetime.now(UTC), time.monotonic()
        try:
            credentials = await tokens.credentials_for(runtime, activation)
            outcome = await runtime.bridge.execute_action(
                configuration.endpoint,
                credentials,
                data=execution.data,
                contact_external_id=contact_external_id,
                agent_external_id=agent_external_id,
                integration=activation.integration.name,
            )
        except BridgeError as error:
            _record(session, execution, started, clock, error)
            await _after_failure(session, runtime, execution, error)
        except Exception as error:
            if unreachable(error):
                raise  # nothing can be written now: the job is handed back with the database
            # A fault of the hub's own (credentials it cannot open, a bug): failed now, the
            # execution can be retried once it is mended; left to the job's own retries, it
            # would stay `running` for good.
            log.exception("carrying out an execution failed", execution_id=str(execution.id))
            _record(session, execution, started, clock, error)
            _finish(execution, ExecutionStatus.FAILED, error=_HUB_FAULT)
        else:
            _record(session, execution, started, clock, None, status_code=outcome.status_code)
            answered = outcome.model_dump(exclude_none=True, exclude={"contact", "status_code"})
            noted = await take_contact(session, runtime, activation, outcome)
            # Stored and served: without any credential the bridge echoed back.
            execution.response = known_secrets.scrub_value(answered | noted)
            _finish(execution, ExecutionStatus.SUCCEEDED)
        await _tell_outcome(session, execution)
        await session.commit()
        _count_if_finished(execution, activation.integration.name)
        log.info(
            "action executed",
            execution_id=str(execution.id),
            action=execution.action,
            status=execution.status,
        )


# An execution (`execution_id` of `account_id`) with its activation and action, and who the
# action is about and who does it as the bridge knows them (external ids, when the activation
# synced them); every table on the execution's account, which keeps the statement on one node
# of a database distributed by account. Built once, as every attempt runs it: building a
# statement costs more than running it.
_ATTEMPT_CONTEXT = (
    select(
        Execution,
        Activation,
        Action,
        select(Contact.external_id)
        .where(
            Contact.account_id == Execution.account_id,
            Contact.id == Execution.contact_id,
            Contact.activation_id == Execution.activation_id,
        )
        .scalar_subquery(),
        select(Agent.external_id)
        .where(
            Agent.account_id == Execution.account_id,
            Agent.activation_id == Execution.activation_id,
            Agent.email == Execution.agent_email,
        )
        .limit(1)
        .scalar_subquery(),
    )
    .join(
        Activation,
        (Activation.id == Execution.activation_id)
        & (Activation.account_id == Execution.account_id),
    )
    .join(Action, Action.id == Execution.action_id)
    .where(
        Execution.id == bindparam("execution_id"),
        Execution.account_id == bindparam("account_id"),
    )
)


async def _filled_in(
    session: AsyncSession, execution: Execution, action: ActionConfiguration
) -> bool:
    """Fill in what earlier executions of the call logged; false when the execution cannot
    run yet (it waits for them) or at all (failed, with why)."""
    earlier = await call_log.unfinished_earlier(session, execution)
    if earlier is not None:
        await _wait_for(session, execution, earlier)
        return False
    refusal = await call_log.fill_in(session, execution, action)
    if refusal is not None:
        _finish(execution, ExecutionStatus.FAILED, error=refusal)
        return False
    return True


async def _wait_for(session: AsyncSession, execution: Execution, earlier: Execution) -> None:
    # Held ones may wait for a person for days: this one is held too rather than polling,
    # and resumes with them when both run through the reauthorized activation.
    if earlier.status == ExecutionStatus.HELD:
        execution.status = ExecutionStatus.HELD
        execution.error = (
            f"Waiting for execution {earlier.id} of the same call, held until its activation "
            "is reauthorized; retry this one once it ran."
        )
        return
    execution.error = f"Waiting for execution {earlier.id} of the same call to finish."
    await queue_execution(
        session, execution.id, execution.account_id, at=datetime.now(UTC) + _WAIT_FOR_EARLIER
    )


async def _after_failure(
    session: AsyncSession, runtime: Runtime, execution: Execution, error: BridgeError
) -> None:
    if isinstance(error, CredentialsRejected):
        await tokens.mark_rejected(runtime, execution.activation_id, error)
        _hold(execution)
    elif (
        isinstance(error, BridgeUnavailable)
        and execution.attempts < runtime.settings.execution_max_attempts
    ):
        execution.status = ExecutionStatus.QUEUED
        execution.error = str(error)
        pause = _pause(runtime, execution.attempts, error.retry_after)
        await queue_execution(
            session, execution.id, execution.account_id, at=datetime.now(UTC) + pause
        )
    elif isinstance(error, RequestRefused):
        _finish(execution, ExecutionStatus.FAILED, error=error.bridge_message or str(error))
    else:
        _finish(execution, ExecutionStatus.FAILED, error=str(error))
        if isinstance(error, BridgeUnavailable):
            schedule_replay(runtime.settings, execution)


def _pause(runtime: Runtime, attempts: int, retry_after: float | None) -> timedelta:
    """The wait before the next attempt: the doubling backoff, or the bridge's `Retry-After`
    when longer, never beyond `max_retry_after_seconds`. Unbounded, a huge `Retry-After`
    (or many doublings) overflowed `timedelta`, and the execution stayed `running` forever."""
    settings = runtime.settings
    doublings = min(attempts - 1, _MOST_DOUBLINGS)
    backoff = settings.execution_retry_seconds * 2.0**doublings
    return timedelta(
        seconds=min(max(backoff, retry_after or 0.0), settings.max_retry_after_seconds)
    )


_MOST_DOUBLINGS = 64  # far past any cap, and 2.0**64 is still a float


def _record(
    session: AsyncSession,
    execution: Execution,
    started: datetime,
    clock: float,
    error: Exception | None,
    *,
    status_code: int | None = None,
) -> None:
    """Record an attempt; `status_code` is the bridge's answer to one that succeeded."""
    session.add(
        ExecutionAttempt(
            execution_id=execution.id,
            number=execution.attempts,
            started_at=started,
            duration_ms=round((time.monotonic() - clock) * 1000),
            status_code=status_code if error is None else _status_code(error),
            outcome=_outcome(error),
            message=_message(error),
        )
    )


def _outcome(error: Exception | None) -> str:
    if error is None:
        return "succeeded"
    return error.outcome if isinstance(error, BridgeError) else "hub_error"


def _message(error: Exception | None) -> str | None:
    if error is None:
        return None
    # The hub's own errors are in its log: their text may hold anything.
    return str(error) if isinstance(error, BridgeError) else _HUB_FAULT


def _status_code(error: Exception | None) -> int | None:
    if isinstance(error, RequestRefused):
        return 400
    if isinstance(error, CredentialsRejected):
        return 401
    status_code: int | None = getattr(error, "status_code", None)
    return status_code


def _count_if_finished(execution: Execution, integration: str) -> None:
    if execution.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED):
        metrics.executions.labels(integration, execution.status).inc()
        metrics.execution_attempts.labels(integration, execution.status).observe(execution.attempts)


_OUTCOME_EVENTS = {
    ExecutionStatus.SUCCEEDED: EventType.EXECUTION_SUCCEEDED,
    ExecutionStatus.FAILED: EventType.EXECUTION_FAILED,
    ExecutionStatus.HELD: EventType.EXECUTION_HELD,
}


async def _tell_outcome(session: AsyncSession, execution: Execution) -> None:
    """Emit the event of where the attempt left the execution; none while it is retried."""
    event = _OUTCOME_EVENTS.get(execution.status)
    if event is None:
        return
    data = {
        "execution_id": str(execution.id),
        "activation_id": str(execution.activation_id),
        "action": execution.action,
        "status": execution.status,
        "attempts": execution.attempts,
        "error": execution.error,
        "replay_at": execution.replay_at.isoformat() if execution.replay_at else None,
    }
    await emit(session, execution.account_id, event, data)


def _hold(execution: Execution) -> None:
    execution.status = ExecutionStatus.HELD
    execution.error = "Waiting for the activation to be reauthorized; it resumes by itself then."


def _finish(execution: Execution, status: ExecutionStatus, *, error: str | None = None) -> None:
    execution.status = status
    execution.error = error
    execution.finished_at = datetime.now(UTC)
