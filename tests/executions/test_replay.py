"""Automatic replay of an automation's executions that failed because the bridge was
unavailable: on the documented schedule, one attempt per replay, never for a refusal, and
off the schedule as soon as a person retries by hand or the automation stops replaying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from bridgehub.executions.replay import replay_due
from tests.automations.test_automations import MISSED_CALL, missed_call
from tests.conftest import HubSql, Tenant
from tests.executions.test_executions import ENDPOINT
from tests.helpdesk_fixtures import Helpdesk, RunJobs

ATTEMPTS = 3  # execution_max_attempts in the tests' settings
FIRST_PAUSE = timedelta(minutes=5)  # the default execution_replay_seconds


@pytest.fixture
async def automation(tenant: Tenant, connected: str) -> dict[str, Any]:
    del connected
    created = await tenant.client.post("/v1/automations", json=MISSED_CALL | {"replay": True})
    assert created.status_code == 201, created.text
    assert created.json()["replay"] is True
    return dict(created.json())


async def _fire(tenant: Tenant, run_jobs: RunJobs, event_id: str = "evt-1") -> dict[str, Any]:
    accepted = await tenant.client.post("/v1/events", json=missed_call(event_id, "+15555550199"))
    assert accepted.status_code == 202, accepted.text
    await run_jobs()
    [execution_id] = accepted.json()["executions"]
    return await _execution(tenant, execution_id)


async def _execution(tenant: Tenant, execution_id: str) -> dict[str, Any]:
    found = await tenant.client.get(f"/v1/executions/{execution_id}")
    assert found.status_code == 200
    return dict(found.json())


async def _replay_now(
    hub: FastAPI, hub_sql: HubSql, run_jobs: RunJobs, execution: dict[str, Any]
) -> int:
    """Bring the execution's replay forward to now, sweep, and run what the sweep queued."""
    await hub_sql(
        f"UPDATE executions SET replay_at = now() WHERE id = '{execution['id']}'"  # noqa: S608
    )
    replayed = await replay_due(hub.state.runtime.sessionmaker)
    await run_jobs()
    return replayed


def _seconds_until(moment: str) -> float:
    return (datetime.fromisoformat(moment) - datetime.now(UTC)).total_seconds()


@pytest.mark.usefixtures("automation")
async def test_a_failed_execution_is_replayed_on_the_schedule_until_it_succeeds(
    hub: FastAPI, tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk, hub_sql: HubSql
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, ATTEMPTS + 1, 503)

    failed = await _fire(tenant, run_jobs)
    assert (failed["status"], failed["attempts"], failed["replays"]) == ("failed", ATTEMPTS, 0)
    assert 0 < _seconds_until(failed["replay_at"]) <= FIRST_PAUSE.total_seconds()
    # Not due yet: the sweep leaves it.
    assert await replay_due(hub.state.runtime.sessionmaker) == 0

    assert await _replay_now(hub, hub_sql, run_jobs, failed) == 1
    again = await _execution(tenant, failed["id"])
    assert (again["status"], again["attempts"], again["replays"]) == ("failed", ATTEMPTS + 1, 1)
    # The second pause is six times the first: 30 minutes.
    assert 25 * 60 < _seconds_until(again["replay_at"]) <= 30 * 60

    await _replay_now(hub, hub_sql, run_jobs, again)
    done = await _execution(tenant, failed["id"])
    assert (done["status"], done["attempts"], done["replays"]) == ("succeeded", ATTEMPTS + 2, 2)
    assert done["replay_at"] is None
    assert len(helpdesk.bridge.created()) == 1


async def test_without_replay_or_after_a_refusal_a_failure_is_final(
    tenant: Tenant, connected: str, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    del connected
    plain = await tenant.client.post("/v1/automations", json=MISSED_CALL)
    assert plain.json()["replay"] is False
    helpdesk.bridge.fail_next(ENDPOINT, ATTEMPTS, 503)
    assert (await _fire(tenant, run_jobs, "evt-plain"))["replay_at"] is None

    await tenant.client.patch(f"/v1/automations/{plain.json()['id']}", json={"replay": True})
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    refused = await _fire(tenant, run_jobs, "evt-refused")
    assert (refused["status"], refused["replay_at"]) == ("failed", None)


@pytest.mark.usefixtures("automation")
async def test_the_fifth_replay_is_the_last(
    hub: FastAPI, tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk, hub_sql: HubSql
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, ATTEMPTS + 5, 503)
    execution = await _fire(tenant, run_jobs)
    for replays in range(1, 6):
        await _replay_now(hub, hub_sql, run_jobs, execution)
        execution = await _execution(tenant, execution["id"])
        assert execution["replays"] == replays
    assert (execution["status"], execution["replay_at"]) == ("failed", None)


async def test_a_retry_by_hand_or_turning_replay_off_takes_it_off_the_schedule(
    hub: FastAPI,
    tenant: Tenant,
    run_jobs: RunJobs,
    helpdesk: Helpdesk,
    automation: dict[str, Any],
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 2 * ATTEMPTS, 503)
    by_hand = await _fire(tenant, run_jobs, "evt-by-hand")
    turned_off = await _fire(tenant, run_jobs, "evt-turned-off")
    assert by_hand["replay_at"] is not None
    assert turned_off["replay_at"] is not None

    await tenant.client.post(f"/v1/executions/{by_hand['id']}/retry")
    assert (await _execution(tenant, by_hand["id"]))["replay_at"] is None
    await run_jobs()
    off = await tenant.client.patch(f"/v1/automations/{automation['id']}", json={"replay": False})
    assert off.json()["replay"] is False

    assert (await _execution(tenant, turned_off["id"]))["replay_at"] is None
    assert (await _execution(tenant, by_hand["id"]))["status"] == "succeeded"
    assert await replay_due(hub.state.runtime.sessionmaker) == 0
