"""The standing fault suite: a bridge misbehaving for real over HTTP, driven through the
hub's API. Whatever the fault, the run, execution, activation or lookup ends with a clear
error within its budget, writes nothing half-way, keeps `/health` answering while it lasts,
and keeps the process's memory bounded.

Each case prints what it measured (run with `-s` to see them); docs/reliability.md's
"Faults tried" table holds the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import httpx
import pytest

from tests.conftest import HUB_URL, TableRows, Tenant
from tests.faults.bridge import (
    ACTION,
    AUTH_VALIDATION,
    CHECKPOINT,
    CONTACT_SYNC,
    DEEPLY_NESTED,
    INTERACTIONS,
    REDIRECT_LOOPBACK,
    REDIRECT_METADATA,
    STORM_429,
    STORM_503,
    WRONG_SHAPE,
    WRONG_SHAPE_LIST,
    Fault,
    FaultyBridge,
    MiB,
    gzip_bombed,
    not_json,
    oversized,
    reset_mid_body,
    trickle,
    wrong_content_type,
)
from tests.faults.conftest import (
    ACTION_NAME,
    CALL_DEADLINE,
    EXECUTION_ATTEMPTS,
    INTERACTIONS_DEADLINE,
    LONGEST_PAUSE,
    PROVIDER,
    activate,
)
from tests.helpdesk_fixtures import RunJobs, all_contacts, sync_and_run_jobs

CAP = 10 * MiB  # the client's cap on an answer's size
MEMORY_BOUND = 64 * MiB

ATTEMPTS = 3  # of a call safe to repeat, within the call
MARGIN = 5.0
"""Added to each budget: the suite asserts an end within it, never a precise duration."""
BUDGET = {
    AUTH_VALIDATION: ATTEMPTS * CALL_DEADLINE,
    CONTACT_SYNC: ATTEMPTS * CALL_DEADLINE,
    INTERACTIONS: INTERACTIONS_DEADLINE,
    ACTION: EXECUTION_ATTEMPTS * (CALL_DEADLINE + LONGEST_PAUSE),
}
"""The longest each endpoint's work may take, by the suite's settings."""


class ActionEnd(Enum):
    """How an action whose bridge answers with the fault ends."""

    DONE_ANYWAY = "done anyway"
    """A 2xx: the action was done, so it succeeds with the problem recorded beside it and
    is never repeated."""
    RETRIED_THEN_FAILED = "retried, then failed"
    """A transient failure: tried again up to the attempts allowed, then failed."""
    FAILED_AT_ONCE = "failed at once"
    """A break of the protocol that another attempt would not mend."""


@dataclass(frozen=True)
class Case:
    name: str
    fault: Fault
    says: str
    """What the error says (a regular expression): which fault it was, in words."""
    action: ActionEnd = ActionEnd.DONE_ANYWAY
    instead: Mapping[str, Fault] = field(default_factory=dict)
    """The fault for endpoints that need another to show the same thing."""

    def at(self, endpoint: str) -> Fault:
        return self.instead.get(endpoint, self.fault)


NOT_JSON = "not JSON"
TOO_LARGE = rf"larger than the {CAP} bytes allowed"
TOO_SLOW = "did not answer within"
BROKEN = "broke the connection off"
# Auth validation may answer any object, and an action any object: a list is their wrong
# shape; interactions are a list, so an object is theirs.
WRONG_SHAPES = {AUTH_VALIDATION: WRONG_SHAPE_LIST, ACTION: WRONG_SHAPE_LIST}

CASES = [
    Case("not JSON", not_json, NOT_JSON),
    Case("wrong Content-Type", wrong_content_type, NOT_JSON),
    Case("over the cap, declared", oversized(CAP + MiB, declared=True), TOO_LARGE),
    Case("over the cap, undeclared", oversized(CAP + MiB, declared=False), TOO_LARGE),
    Case("gzip bomb (200 KB to 200 MiB)", gzip_bombed, TOO_LARGE),
    Case("a byte a second", trickle, TOO_SLOW, ActionEnd.RETRIED_THEN_FAILED),
    Case("reset mid-body", reset_mid_body, BROKEN, ActionEnd.RETRIED_THEN_FAILED),
    Case("100,000 [", DEEPLY_NESTED, NOT_JSON),
    Case("wrong shape", WRONG_SHAPE, "breaks the bridge protocol", instead=WRONG_SHAPES),
    Case("503 storm, Retry-After 99999999999999", STORM_503, "503", ActionEnd.RETRIED_THEN_FAILED),
    Case("429 storm, Retry-After 100000", STORM_429, "429", ActionEnd.RETRIED_THEN_FAILED),
    Case("redirect to loopback", REDIRECT_LOOPBACK, "redirect", ActionEnd.FAILED_AT_ONCE),
    Case("redirect to 169.254.169.254", REDIRECT_METADATA, "redirect", ActionEnd.FAILED_AT_ONCE),
]


@dataclass
class Health:
    """`GET /health` asked again and again while a fault lasts."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def probing(transport: httpx.ASGITransport) -> AsyncIterator[Health]:
    health = Health()

    async def probe() -> None:
        async with httpx.AsyncClient(transport=transport, base_url=HUB_URL) as http:
            while True:
                start = time.monotonic()
                answer = await http.get("/health")
                health.latencies.append(time.monotonic() - start)
                health.statuses.append(answer.status_code)
                health.answered.set()
                await asyncio.sleep(0.05)

    running = asyncio.create_task(probe())
    try:
        yield health
    finally:
        # A fault that ends at once may end before the first probe is answered: that one
        # is still waited for (a hub that never answers fails the test on its empty list).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(MARGIN):
                await health.answered.wait()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def peak_memory() -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    status = Path("/proc/self/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) * 1024


def reset_peak_memory() -> None:
    # Linux resets VmHWM to the current resident size on "5" (since 4.0).
    Path("/proc/self/clear_refs").write_text("5")


@dataclass(frozen=True)
class Ended:
    """How a fault's work ended: the error it was given, or an action's recorded problem."""

    error: str


Drive = Callable[[Tenant, RunJobs, TableRows, FaultyBridge, Case], Awaitable[Ended]]


async def checkpoint(rows: TableRows) -> str | None:
    [activation] = await rows("activations")
    found: str | None = activation["contacts_checkpoint"]
    return found


async def synced(tenant: Tenant, run_jobs: RunJobs, registered: FaultyBridge) -> str:
    """An activation whose healthy first sync stored two contacts and a checkpoint."""
    created = await activate(tenant)
    assert created.status_code == 201, created.text
    activation_id: str = created.json()["id"]
    first = await sync_and_run_jobs(tenant, run_jobs, activation_id)
    assert first["status"] == "succeeded", first
    return activation_id


async def fail_auth_validation(
    tenant: Tenant, run_jobs: RunJobs, rows: TableRows, bridge: FaultyBridge, case: Case
) -> Ended:
    bridge.faults[AUTH_VALIDATION] = case.at(AUTH_VALIDATION)
    refused = await activate(tenant)
    assert refused.status_code >= 400, refused.text
    assert (await tenant.client.get("/v1/activations")).json()["items"] == []
    assert await rows("activations") == []
    return Ended(refused.json()["error"]["message"])


async def fail_contact_sync(
    tenant: Tenant, run_jobs: RunJobs, rows: TableRows, bridge: FaultyBridge, case: Case
) -> Ended:
    activation_id = await synced(tenant, run_jobs, bridge)
    before = await all_contacts(tenant)
    bridge.faults[CONTACT_SYNC] = case.at(CONTACT_SYNC)
    run = await sync_and_run_jobs(tenant, run_jobs, activation_id)
    assert run["status"] == "failed", run
    # Nothing of the failed page is written, and the next run starts where this one did.
    assert await all_contacts(tenant) == before
    assert await checkpoint(rows) == CHECKPOINT
    return Ended(run["error"])


async def fail_interactions(
    tenant: Tenant, run_jobs: RunJobs, rows: TableRows, bridge: FaultyBridge, case: Case
) -> Ended:
    await synced(tenant, run_jobs, bridge)
    contact = (await all_contacts(tenant))[0]
    bridge.faults[INTERACTIONS] = case.at(INTERACTIONS)
    answer = await tenant.client.get(f"/v1/contacts/{contact['id']}/interactions")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["items"] == []
    [error] = body["errors"]
    assert error["integration"] == PROVIDER
    return Ended(error["message"])


async def fail_action(
    tenant: Tenant, run_jobs: RunJobs, rows: TableRows, bridge: FaultyBridge, case: Case
) -> Ended:
    created = await activate(tenant)
    assert created.status_code == 201, created.text
    bridge.faults[ACTION] = case.at(ACTION)
    queued = await tenant.client.post(
        "/v1/executions", json={"action": ACTION_NAME, "data": {"subject": "Missed call"}}
    )
    assert queued.status_code == 202, queued.text
    await run_jobs()
    execution = (await tenant.client.get(f"/v1/executions/{queued.json()['id']}")).json()
    if case.action is ActionEnd.DONE_ANYWAY:
        assert execution["status"] == "succeeded", execution
        assert execution["attempts"] == 1
        return Ended(execution["response"]["problem"])
    assert execution["status"] == "failed", execution
    assert execution["finished_at"] is not None
    retried = case.action is ActionEnd.RETRIED_THEN_FAILED
    assert execution["attempts"] == (EXECUTION_ATTEMPTS if retried else 1)
    return Ended(execution["error"])


DRIVES: dict[str, Drive] = {
    AUTH_VALIDATION: fail_auth_validation,
    CONTACT_SYNC: fail_contact_sync,
    INTERACTIONS: fail_interactions,
    ACTION: fail_action,
}


@pytest.mark.parametrize("endpoint", list(DRIVES))
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_faulty_bridge_ends_the_work_cleanly(
    case: Case,
    endpoint: str,
    tenant: Tenant,
    run_jobs: RunJobs,
    database_rows: TableRows,
    registered: FaultyBridge,
    transport: httpx.ASGITransport,
) -> None:
    reset_peak_memory()
    before = peak_memory()
    async with probing(transport) as health:
        start = time.monotonic()
        ended = await DRIVES[endpoint](tenant, run_jobs, database_rows, registered, case)
        elapsed = time.monotonic() - start
    growth = peak_memory() - before

    assert re.search(case.says, ended.error), ended.error
    assert elapsed < BUDGET[endpoint] + MARGIN
    assert health.statuses, "/health was never answered while the fault lasted"
    assert set(health.statuses) == {200}
    assert growth < MEMORY_BOUND
    print(  # the figures docs/reliability.md reports
        f"\nFAULT {case.name} | {endpoint} | ended in {elapsed:.2f} s | "
        f"/health answered {len(health.latencies)} times, slowest "
        f"{max(health.latencies) * 1000:.0f} ms | peak memory +{growth / MiB:.1f} MiB"
    )


async def test_a_failed_action_can_be_retried_once_the_bridge_recovers(
    tenant: Tenant, run_jobs: RunJobs, database_rows: TableRows, registered: FaultyBridge
) -> None:
    storm = next(case for case in CASES if case.fault is STORM_503)
    ended = await fail_action(tenant, run_jobs, database_rows, registered, storm)
    assert "503" in ended.error
    [execution] = (await tenant.client.get("/v1/executions")).json()["items"]
    registered.faults.clear()
    retried = await tenant.client.post(f"/v1/executions/{execution['id']}/retry")
    assert retried.status_code == 202, retried.text
    await run_jobs()
    again = (await tenant.client.get(f"/v1/executions/{execution['id']}")).json()
    assert again["status"] == "succeeded", again
