"""A real webhook receiver for tests (a fixture), a small HTTP server recording every request,
and subscribing it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridgehub.demo.serving import serve
from tests.conftest import Tenant


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers each request with the next of `answers`, then 204."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def receive(self, request: Request) -> Response:
        self.received.append(Received(await request.body(), dict(request.headers)))
        return Response(status_code=self.answers.pop(0) if self.answers else 204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver served on 127.0.0.1 for the test."""
    with serving_receiver() as receiver:
        yield receiver


@contextmanager
def serving_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.receive, methods=["POST"])])
    with serve(app) as base_url:
        receiver.url = f"{base_url}/hook"
        yield receiver


async def subscribe(tenant: Tenant, url: str, *events: str) -> dict[str, Any]:
    created = await tenant.client.post("/v1/webhooks", json={"url": url, "events": list(events)})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body
