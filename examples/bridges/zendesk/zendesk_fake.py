"""A fake Zendesk for the bridge's tests: Zendesk cannot be reached from a test machine,
so this small Starlette app replays the recorded answers in `recordings/` (shaped as
Zendesk's API documentation shows them) over real HTTP, and checks every request the
bridge makes against them.

Each recording file holds a list of exchanges: `request` (`method`, `path`, `query` as
lists of values by name, and for a POST its JSON `body`) and the `response` to give
(`status`, `headers`, `body`). A request is answered only when it matches an exchange
exactly and carries the account's credentials (Basic `{email}/token:{api_token}`);
anything else is answered as Zendesk would (401, 404) and kept in `unexpected`, so that
a test sees every request the bridge should not have made. The account's API lives
under `/{subdomain}`, as `ZENDESK_API_URL=http://127.0.0.1:PORT/{subdomain}` says.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

RECORDINGS = Path(__file__).with_name("recordings")


@dataclass(frozen=True)
class Seen:
    """A request as it reached the fake Zendesk."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


@dataclass
class FakeZendesk:
    """A Zendesk account `subdomain` that the agent `email` opens with `api_token`."""

    subdomain: str = "acme"
    email: str = "ada@acme.example"
    api_token: str = "zd-test-token-6f2b"  # noqa: S105 (the fake account's, not a secret)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    received: list[Seen] = field(default_factory=list)
    unexpected: list[Seen] = field(default_factory=list)
    _throttled: deque[int] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.exchanges:
            for path in sorted(RECORDINGS.glob("*.json")):
                self.exchanges.extend(json.loads(path.read_text(encoding="utf-8")))

    @property
    def auth(self) -> dict[str, str]:
        """What a person types when connecting this account, by field name."""
        return {"account": self.subdomain, "email": self.email, "token": self.api_token}

    def rate_limit_next(self, retry_after: int) -> None:
        """Answer the next request 429, with `Retry-After`, as Zendesk's rate limit does."""
        with self._lock:
            self._throttled.append(retry_after)

    def forget(self) -> None:
        """Forget every request and planned 429, as if just started."""
        with self._lock:
            self.received.clear()
            self.unexpected.clear()
            self._throttled.clear()

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [each for each in self.received if each.path == path]

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{subdomain}/api/v2/{rest:path}", self._answer, methods=["GET", "POST"])]
        )

    async def _answer(self, request: Request) -> Response:
        content = await request.body()
        seen = Seen(
            method=request.method,
            path="/api/v2/" + request.path_params["rest"],
            query={name: request.query_params.getlist(name) for name in request.query_params},
            body=json.loads(content) if content else None,
            authorization=request.headers.get("authorization"),
        )
        with self._lock:
            self.received.append(seen)
            throttled = self._throttled.popleft() if self._throttled else None
        if request.path_params["subdomain"] != self.subdomain:
            return self._unexpected(seen, 404, "No such account.")
        if seen.authorization != self.authorization:
            return self._unexpected(seen, 401, {"error": "Couldn't authenticate you"})
        if throttled is not None:
            return JSONResponse(
                {"error": "APIRateLimitExceeded", "description": "Too many requests"},
                429,
                headers={"Retry-After": str(throttled)},
            )
        if seen.method == "POST" and request.headers.get("content-type") != "application/json":
            return self._unexpected(seen, 400, {"error": "Content-Type must be JSON"})
        for exchange in self.exchanges:
            if _matches(exchange["request"], seen):
                answer = exchange["response"]
                return JSONResponse(answer["body"], answer["status"], headers=answer["headers"])
        return self._unexpected(seen, 404, {"error": "InvalidEndpoint", "description": "Not found"})

    @property
    def authorization(self) -> str:
        """The `Authorization` header of the account's agent."""
        token = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        return f"Basic {token}"

    def _unexpected(self, seen: Seen, status: int, body: dict[str, str] | str) -> Response:
        with self._lock:
            self.unexpected.append(seen)
        if isinstance(body, str):
            return PlainTextResponse(body, status)
        return JSONResponse(body, status)


def _matches(recorded: dict[str, Any], seen: Seen) -> bool:
    return bool(
        recorded["method"] == seen.method
        and recorded["path"] == seen.path
        and recorded["query"] == seen.query
        and recorded.get("body") == seen.body
    )
