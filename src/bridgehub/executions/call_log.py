"""What earlier executions of a call logged, for the inputs of later ones.

An automation's input may name `{{call.logged.<integration>.external_id}}`: the
`external_id` answered by the latest succeeded execution of the same call (same account,
same `call.id`) in that integration, recorded before this one; e.g. the call record that
the call-ended automation created, for the disposition to update it.

Such an input is kept as parts (`bridgehub.executions.models.Part`) in
`Execution.deferred_inputs` and filled into `data` at each attempt, never when the event
arrives: the earlier execution may not have run yet. While an earlier execution of the
call in a named integration has not finished, the later one waits for it
(`unfinished_earlier`; the runner decides how).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.executions.models import Execution, ExecutionStatus, Part
from bridgehub.executions.service import check_inputs
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action, Integration
from bridgehub.kit.errors import InvalidInput

UNFINISHED = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, ExecutionStatus.HELD)


async def unfinished_earlier(session: AsyncSession, execution: Execution) -> Execution | None:
    """The oldest execution of the call, recorded before this one, in an integration its
    inputs name, that has not finished yet."""
    statement = (
        _earlier_of_the_call(execution, Execution)
        .where(Execution.status.in_(UNFINISHED))
        .order_by(Execution.created_at)
        .limit(1)
    )
    found: Execution | None = await session.scalar(statement)
    return found


async def fill_in(
    session: AsyncSession, execution: Execution, action: ActionConfiguration
) -> str | None:
    """Fill the deferred inputs into the execution's data from what the call logged;
    answers why the action cannot run when a mandatory one is left empty, with what the
    call has not logged."""
    deferred: Mapping[str, Sequence[Part]] = execution.deferred_inputs or {}
    logged = await _logged(session, execution)
    execution.data = {
        **execution.data,
        **{key: _joined(parts, logged) for key, parts in deferred.items()},
    }
    try:
        check_inputs(action, execution.data)
    except InvalidInput as refusal:
        details = "; ".join(f"{d['path']}: {d['message']}" for d in refusal.details)
        missing = ", ".join(sorted(_integrations(execution) - logged.keys()))
        nothing = f" Call {execution.call_id} logged nothing in {missing}." if missing else ""
        return f"{refusal.message} {details}.{nothing}"
    return None


async def _logged(session: AsyncSession, execution: Execution) -> dict[str, str]:
    """Each named integration's latest `external_id` for the call, where it has one."""
    external_id = Execution.response["external_id"].astext
    statement = (
        _earlier_of_the_call(execution, Integration.name, external_id)
        .where(Execution.status == ExecutionStatus.SUCCEEDED, external_id.is_not(None))
        .ext(distinct_on(Integration.name))
        .order_by(Integration.name, Execution.created_at.desc())
    )
    return dict((await session.execute(statement)).all())


def _earlier_of_the_call(execution: Execution, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .join(Action, Action.id == Execution.action_id)
        .join(Integration, Integration.id == Action.integration_id)
        .where(
            Execution.account_id == execution.account_id,
            Execution.call_id == execution.call_id,
            Execution.created_at < execution.created_at,
            Integration.name.in_(_integrations(execution)),
        )
    )


def _integrations(execution: Execution) -> set[str]:
    """The integrations the execution's deferred inputs name."""
    deferred: Mapping[str, Sequence[Part]] = execution.deferred_inputs or {}
    return {
        part["logged"] for parts in deferred.values() for part in parts if isinstance(part, dict)
    }


def _joined(parts: Iterable[Part], logged: Mapping[str, str]) -> str:
    return "".join(
        part if isinstance(part, str) else logged.get(part["logged"], "") for part in parts
    )
