"""A burst of actions against one integration: no more than BRIDGEHUB_INTEGRATION_CONCURRENCY
run at once, and the rest wait their turn instead of failing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridgehub.demo.serving import serve
from bridgehub.queue import ACTIONS_QUEUE
from bridgehub.worker import work
from tests.conftest import Tenant, seed_action, seed_integration

BURST = 10


@dataclass
class SlowBridge:
    in_flight: int = 0
    most_at_once: int = 0
    done: int = 0
    all_done: threading.Event = field(default_factory=threading.Event)

    @property
    def app(self) -> Starlette:
        async def create_ticket(request: Request) -> Response:
            await request.body()
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
            await asyncio.sleep(0.2)
            self.in_flight -= 1
            self.done += 1
            if self.done == BURST:
                self.all_done.set()
            return JSONResponse({"external_id": str(self.done)}, 201)

        return Starlette(routes=[Route("/create_ticket", create_ticket, methods=["POST"])])


@pytest.fixture
def slow_bridge() -> Iterator[tuple[SlowBridge, str]]:
    bridge = SlowBridge()
    with serve(bridge.app) as url:
        yield bridge, url


async def test_a_burst_waits_its_turn(
    hub: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    slow_bridge: tuple[SlowBridge, str],
    empty_queue: None,
) -> None:
    bridge, url = slow_bridge
    integration = seed_integration() | {"authentication_type": "none"}
    del integration["authentication_configuration"], integration["auth_validation_endpoint"]
    await client.post("/v1/integrations", json=integration)
    await client.post("/v1/actions", json=seed_action() | {"endpoint": f"{url}/create_ticket"})
    assert (
        await tenant.client.post("/v1/activations", json={"integration": "zendesk"})
    ).status_code == 201
    data = {"subject": "Burst", "description": "One of many."}
    for _ in range(BURST):
        queued = await tenant.client.post(
            "/v1/executions", json={"action": "zendesk/create_ticket", "data": data}
        )
        assert queued.status_code == 202, queued.text

    runtime = hub.state.runtime
    limit = runtime.settings.integration_concurrency
    worker = asyncio.create_task(
        work(
            runtime,
            concurrency=limit * 2,
            name="burst",
            wait=True,
            install_signal_handlers=False,
            queues=[ACTIONS_QUEUE],
        )
    )
    try:
        # The bridge serves from its own thread; wait for it there.
        assert await asyncio.to_thread(bridge.all_done.wait, 30)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert bridge.most_at_once == limit
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert [e["status"] for e in executions] == ["succeeded"] * BURST
