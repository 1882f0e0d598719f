"""Every request has an id: the caller's `X-Request-ID` when it is a sensible one (a proxy
or a client tracing its calls sets it), else a new one. It is echoed in the answer and bound
to every log line written while the request is handled."""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# Ids from outside end up in logs and answers: printable, short, no spaces or quotes.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_STATE_KEY = "request_id"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        # Errors nothing handled reach the handler of last resort outside this middleware:
        # it finds the id on the request (`request_id_of`).
        scope.setdefault("state", {})[_STATE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def request_id_of(request: Request) -> str | None:
    found: str | None = request.scope.get("state", {}).get(_STATE_KEY)
    return found


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if _ACCEPTED.fullmatch(given):
                return given
    return uuid.uuid4().hex
