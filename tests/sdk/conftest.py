"""Bridges built with the SDK, served over real HTTP on 127.0.0.1, and the hub's own client
to talk to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bridgehub.bridge import BridgeClient, NetworkPolicy, RetryPolicy
from bridgehub.demo.serving import serve
from bridgehub.sdk import AuthField, Bridge

LOCAL = NetworkPolicy(allow_private_networks=True, allow_http=True)
API_KEY = "k-3f9a1c77d2"


def new_bridge(**declarations: Any) -> Bridge:
    """A bridge with plausible declarations; keyword arguments replace them."""
    defaults: dict[str, Any] = {
        "name": "tiny-desk",
        "display_name": "Tiny Desk",
        "description": "Tickets of Tiny Desk, beside every call.",
        "logo_url": "https://tiny.example/logo.png",
        "icon_url": "https://tiny.example/icon.png",
        "authentication_type": "custom",
        "authentication_fields": [AuthField("api_key", "API key")],
    }
    return Bridge(**(defaults | declarations))


class Switchboard:
    """One server for the whole session, passing each request to the running test's app:
    a server takes 0.2 s to stop, a bridge no time to make."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no bridge is plugged in"
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def switchboard() -> Iterator[Switchboard]:
    board = Switchboard()
    with serve(board, lifespan="off") as url:
        board.url = url
        yield board


@dataclass
class Served:
    url: str
    http: httpx.Client
    """Plain HTTP to the bridge, to see statuses and headers as they are."""
    hub: BridgeClient
    """The hub's own bridge client."""

    def endpoint(self, path: str) -> str:
        return self.url + path


Plug = Callable[[ASGIApp], Served]


@pytest.fixture
async def served(switchboard: Switchboard) -> AsyncIterator[Plug]:
    """`served(app)` plugs an app into the server for this test."""
    async with BridgeClient(LOCAL, retry=RetryPolicy(attempts=1)) as hub:
        with httpx.Client(base_url=switchboard.url) as http:

            def plug(app: ASGIApp) -> Served:
                switchboard.app = app
                return Served(switchboard.url, http, hub)

            yield plug
    switchboard.app = None
