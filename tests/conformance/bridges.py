"""A proxy in front of the demo bridge that breaks one thing at a time: the checker must
pass the demo and fail each broken variant. The proxy speaks to the demo bridge over HTTP
only, so it depends on nothing but the bridge's behaviour."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridgehub.bridge import NetworkPolicy
from bridgehub.demo.helpdesk import configurations
from bridgehub.demo.stack import CLIENT_ID, DemoStack

LOCAL = NetworkPolicy(allow_private_networks=True, allow_http=True)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    """JSON, or bytes sent as they are."""
    content_type: str | None = "application/json"

    @property
    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


Request_ = dict[str, Any]


@dataclass(frozen=True)
class Breakage:
    """What the proxy changes at the endpoints whose path ends with `endpoint`."""

    endpoint: str
    request: Callable[[Request_], Request_] | None = None
    """Rewrites the request before it goes to the bridge."""
    reply: Callable[[Request_, Reply], Reply] | None = None
    """Rewrites the bridge's answer, given the request as the checker sent it."""
    instead: Callable[[Request_], Reply] | None = None
    """Answers this instead of the bridge's successful (2xx) answers."""


@dataclass
class Proxy:
    """Forwards every request to the demo bridge, through `breakage` when one is set."""

    upstream: str
    url: str = ""
    breakage: Breakage | None = None
    forwarded: int = 0
    """Requests received, whatever became of them."""

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._forward, methods=["POST"])])

    def documents(self, stack: DemoStack) -> dict[str, dict[str, Any]]:
        """The demo's configurations, pointing at the proxy."""
        return by_name(configurations(self.url, stack.provider_url, CLIENT_ID, "unused"))

    async def _forward(self, request: Request) -> Response:
        sent: Request_ = json.loads(await request.body())
        self.forwarded += 1
        breakage = self.breakage
        if breakage is None or not request.url.path.endswith(breakage.endpoint):
            breakage = Breakage(endpoint="")
        forwarded = sent if breakage.request is None else breakage.request(sent)
        async with httpx.AsyncClient() as http:
            answer = await http.post(self.upstream + request.url.path, json=forwarded)
        reply = Reply(
            answer.status_code,
            answer.json() if answer.content else b"",
            answer.headers.get("Content-Type"),
        )
        if breakage.instead is not None and answer.is_success:
            reply = breakage.instead(sent)
        if breakage.reply is not None:
            reply = breakage.reply(sent, reply)
        return _response(reply)


def by_name(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{d['provider']}/{d['name']}" if "provider" in d else d["name"]: d for d in documents}


def write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(document, indent=2))
    return path


def _response(reply: Reply) -> Response:
    headers = {} if reply.content_type is None else {"Content-Type": reply.content_type}
    return Response(reply.content, reply.status, headers=headers)
