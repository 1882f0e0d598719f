"""`check-bridge --trace`: every request the checker sent and every answer, for a bridge
author to see what the hub says and what their bridge said back.

Secrets are masked before anything is shown: every value of a request's `auth` (the keys
stay, for the author to see which were sent), values under secret-sounding keys and
headers (`Authorization`, cookies, tokens), and any value sent in an `auth` wherever it
comes back, in headers or bodies.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from bridgehub.bridge import Exchange
from bridgehub.bridge.guard import shown_url
from bridgehub.kit.redaction import REDACTED, SecretRegistry

SHOWN_BODY = 2000
"""Characters of a body shown; the rest is counted."""


@dataclass(frozen=True)
class TracedExchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str

    def as_json(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": {
                "status": self.status,
                "headers": self.response_headers,
                "body": self.response_body,
            },
        }

    def lines(self) -> list[str]:
        """For people: the request after `→`, the answer after `←`, headers and body
        indented."""
        phrase = _phrase(self.status)
        return [
            f"→ {self.method} {self.url}",
            *_indented(self.request_headers, self.request_body),
            f"← {self.status}{f' {phrase}' if phrase else ''}",
            *_indented(self.response_headers, self.response_body),
        ]


class Tracer:
    """Records exchanges as they happen; `exchanges` masks them all at once, so a secret
    first seen in a later request is masked in earlier answers too."""

    def __init__(self) -> None:
        self._recorded: list[Exchange] = []

    def record(self, exchange: Exchange) -> None:
        self._recorded.append(exchange)

    def exchanges(self) -> tuple[TracedExchange, ...]:
        secrets = SecretRegistry()
        sent = [_json(exchange.request.content) for exchange in self._recorded]
        for body in sent:
            if isinstance(body, dict):
                secrets.register(body.get("auth"))
        return tuple(
            _traced(exchange, body, secrets)
            for exchange, body in zip(self._recorded, sent, strict=True)
        )


def _traced(exchange: Exchange, sent: Any, secrets: SecretRegistry) -> TracedExchange:
    request = exchange.request
    return TracedExchange(
        method=request.method,
        url=shown_url(_as_addressed(request)),
        request_headers=_headers(request.headers, secrets),
        request_body=_shown_body(_masked_request(sent, secrets), request.content, secrets),
        status=exchange.status,
        response_headers=_headers(exchange.headers, secrets),
        response_body=_response_body(exchange, secrets),
    )


def _as_addressed(request: httpx.Request) -> httpx.URL:
    """The URL as the configuration gives it: the request went to the checked address."""
    host = request.headers.get("Host")
    return request.url.copy_with(netloc=host.encode()) if host else request.url


def _masked_request(body: Any, secrets: SecretRegistry) -> Any:
    if not isinstance(body, dict):
        return secrets.scrub_value(body)
    auth = body.get("auth")
    return {
        key: (
            dict.fromkeys(auth, REDACTED)
            if key == "auth" and isinstance(auth, dict)
            else secrets.scrub_value(value, str(key))
        )
        for key, value in body.items()
    }


def _response_body(exchange: Exchange, secrets: SecretRegistry) -> str:
    content = _inflated(exchange.body, exchange.headers.get("Content-Encoding", ""))
    return _shown_body(secrets.scrub_value(_json(content)), content, secrets)


def _shown_body(masked: Any, content: bytes, secrets: SecretRegistry) -> str:
    """A JSON body masked value by value; any other body as text, masked by value."""
    if masked is not None or content.strip() == b"null":
        text = json.dumps(masked, ensure_ascii=False)
    else:
        text = secrets.scrub(content.decode("utf-8", errors="replace"))
    if len(text) <= SHOWN_BODY:
        return text
    return f"{text[:SHOWN_BODY]}… ({len(text) - SHOWN_BODY} more characters)"


def _headers(headers: httpx.Headers, secrets: SecretRegistry) -> dict[str, str]:
    return {name: str(secrets.scrub_value(value, name)) for name, value in headers.multi_items()}


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content.strip() else None
    except ValueError:
        return None


def _inflated(body: bytes, encoding: str) -> bytes:
    """The body as the bridge wrote it, of which no more than is shown is inflated."""
    if encoding.strip().lower() not in ("gzip", "deflate"):
        return body
    window = zlib.MAX_WBITS | (16 if encoding.strip().lower() == "gzip" else 0)
    try:
        # A shown character takes four bytes at most; twice that leaves a rest to count.
        return zlib.decompressobj(window).decompress(body, SHOWN_BODY * 8)
    except zlib.error:
        return body


def _indented(headers: dict[str, str], body: str) -> list[str]:
    return [
        *(f"  {name}: {value}" for name, value in headers.items()),
        *([f"  {body}"] if body else []),
    ]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
