"""The statements each hot path sends to PostgreSQL, pinned: the hub's CPU and PostgreSQL's
per action and per lookup follow them (docs/performance.md), and one more slips in easily,
through a lazy load or a helper that looks a row up again. A change that moves a count must
change it here and say why in docs/performance.md.

Counted at the driver: every statement a cursor executes on the hub's engine. The task
queue's own statements (taking a job, finishing it) go through procrastinate's connection
pool and are not counted; each job costs the same two whatever it does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bridgehub.executions import runner
from tests.automations.test_automations import MISSED_CALL, missed_call
from tests.conftest import Tenant
from tests.helpdesk_fixtures import SyncNow, all_contacts

POSTING_AN_EVENT = 6
"""The key (with the account's phone region), the caller, the automations of the trigger
with their actions and activations, the event recorded with its outcome, the execution, its
job."""
EXECUTING_AN_ACTION = 6
"""The claim with its concurrency slot (one statement), the attempt's context (execution,
activation, action, who it is about), the execution marked running before the bridge is
called, then its outcome, the attempt, and whether a webhook subscription wants to hear of
it."""
LOOKING_UP_A_CALLER = 3
"""The key (with the account's phone region), the matches; then, one person being found, the
prefetch of their interactions (after the answer): the activations to ask."""


@contextmanager
def counting(hub: FastAPI) -> Iterator[list[str]]:
    """The statements the hub's engine executes inside the block."""
    engine: AsyncEngine = hub.state.runtime.sessionmaker.kw["bind"]
    sent: list[str] = []

    def count(*arguments: Any) -> None:
        sent.append(arguments[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


def _pinned(sent: list[str], expected: int) -> None:
    assert len(sent) == expected, "\n\n".join(sent)


@pytest.fixture
async def caller(tenant: Tenant, connected: str, sync_now: SyncNow) -> str:
    """A synced contact's number, and an automation for missed calls."""
    await sync_now(connected)
    created = await tenant.client.post("/v1/automations", json=MISSED_CALL)
    assert created.status_code == 201
    phone: str = next(c for c in await all_contacts(tenant) if c["phones"])["phones"][0]
    return phone


async def test_an_event_and_its_execution_take_their_pinned_statements(
    hub: FastAPI, tenant: Tenant, caller: str
) -> None:
    with counting(hub) as sent:
        accepted = await tenant.client.post("/v1/events", json=missed_call("evt-1", caller))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["contact_id"] is not None
    _pinned(sent, POSTING_AN_EVENT)

    [execution_id] = accepted.json()["executions"]
    with counting(hub) as sent:
        await runner.perform(hub.state.runtime, uuid.UUID(execution_id), uuid.UUID(tenant.id))
    executed = (await tenant.client.get(f"/v1/executions/{execution_id}")).json()
    assert executed["status"] == "succeeded", executed
    _pinned(sent, EXECUTING_AN_ACTION)


async def test_a_lookup_takes_its_pinned_statements(
    hub: FastAPI, tenant: Tenant, caller: str
) -> None:
    with counting(hub) as sent:
        found = await tenant.client.get("/v1/lookup", params={"phone": caller})
    assert found.json()["matches"], found.text
    _pinned(sent, LOOKING_UP_A_CALLER)
