"""The bridge client's fixtures: fake bridges served over real HTTP, and a client for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from bridgehub.bridge import BridgeClient, NetworkPolicy, RetryPolicy
from bridgehub.demo.serving import serve
from tests.bridge.fakes import BridgeHost, FakeBridge, Reply

LOCAL = NetworkPolicy(allow_private_networks=True, allow_http=True)
"""The fake bridges live on 127.0.0.1 and speak plain HTTP."""
QUICK_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.02)

StartBridge = Callable[..., FakeBridge]


@pytest.fixture(scope="session")
def bridge_host() -> Iterator[BridgeHost]:
    host = BridgeHost()
    with serve(host.app) as url:
        host.url = url
        yield host


@pytest.fixture
def start_bridge(bridge_host: BridgeHost) -> StartBridge:
    """Start a fake bridge answering with the given replies (see `FakeBridge`)."""

    def start(*replies: Reply) -> FakeBridge:
        return bridge_host.add(FakeBridge(*replies))

    return start


@pytest.fixture
async def bridges() -> AsyncIterator[BridgeClient]:
    """The hub's client, allowed to reach the fake bridges."""
    async with BridgeClient(LOCAL, retry=QUICK_RETRIES) as client:
        yield client
