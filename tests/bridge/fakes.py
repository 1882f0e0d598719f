"""Fake bridges for the client's tests: real HTTP servers that answer as scripted."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridgehub.bridge import BridgeError, RequestRefused

SECRET = "s3cr3t-9f2b7c41"
AUTH = {"email": "agent@example.com", "token": SECRET}
"""What every test authenticates with: no error message may ever show these values."""


@dataclass(frozen=True)
class Received:
    """A request as a fake bridge received it."""

    at: float  # time.monotonic() on arrival
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # the decoded JSON, None when empty

    @property
    def auth(self) -> Any:
        return self.body["auth"]


Reply = Response | Callable[[Received], Awaitable[Response]]
"""A fixed answer, or a function of the request that computes one."""


class FakeBridge:
    """Answers request n with reply n (the last reply repeats), recording every request."""

    def __init__(self, *replies: Reply) -> None:
        self._replies = replies or (Response(status_code=204),)
        self.received: list[Received] = []
        self.url = ""
        """Where it is served; set by `BridgeHost.add`."""

    async def handle(self, request: Request) -> Response:
        content = await request.body()
        received = Received(
            at=time.monotonic(),
            method=request.method,
            path=request.url.path,
            headers=dict(request.headers),
            body=json.loads(content) if content else None,
        )
        self.received.append(received)
        reply = self._replies[min(len(self.received), len(self._replies)) - 1]
        return reply if isinstance(reply, Response) else await reply(received)


class BridgeHost:
    """One server for all fake bridges of a test run, each under its own path: starting a
    server per test would cost uvicorn's shutdown time every time."""

    def __init__(self) -> None:
        self.url = ""
        self._bridges: dict[str, FakeBridge] = {}
        self._names = (f"bridge-{number}" for number in itertools.count(1))
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(routes=[Route("/{name}/{rest:path}", self._route, methods=methods)])

    def add(self, bridge: FakeBridge) -> FakeBridge:
        name = next(self._names)
        self._bridges[name] = bridge
        bridge.url = f"{self.url}/{name}/endpoint"
        return bridge

    async def _route(self, request: Request) -> Response:
        bridge = self._bridges.get(request.path_params["name"])
        return Response(status_code=404) if bridge is None else await bridge.handle(request)


def answer(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(body, status, headers=dict(headers or {}))


def status(code: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=code, headers=dict(headers or {}))


Error = TypeVar("Error", bound=BridgeError)


async def failure(call: Awaitable[object], kind: type[Error]) -> Error:
    """The error that `call` raises, checked to be a `kind` that shows no auth value."""
    with pytest.raises(kind) as raised:
        await call
    assert_hidden(str(raised.value), AUTH.values())
    if isinstance(raised.value, RequestRefused):
        assert_hidden(raised.value.bridge_message or "", AUTH.values())
    return raised.value


def assert_hidden(text: str, values: Iterable[str]) -> None:
    for value in values:
        assert value not in text, f"{value!r} shows in {text!r}"
