"""Request bodies of the API are JSON whatever their Content-Type says, so that
`curl -d @file.json` works, with a precise error (line and column) when they are not JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from bridgehub.kit.errors import Unprocessable


class InvalidJson(Unprocessable):
    code = "invalid_json"


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        raise InvalidJson("The request needs a JSON body.")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON exchanged between systems is UTF-8
    except UnicodeDecodeError as error:
        raise InvalidJson("The body is not valid JSON: it is not UTF-8 text.") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidJson(f"The body is not valid JSON: {error.msg} at {where}.") from error
    except RecursionError as error:  # Python's parser recurses once per array or object
        raise InvalidJson("The body is not valid JSON: it nests too deeply.") from error


JsonBody = Annotated[Any, Depends(_json_body)]


_FORM = b"application/x-www-form-urlencoded"


class JsonApiBodies:
    """ASGI middleware: an API request sent as a form (curl's `-d` default) or without a
    Content-Type is read as the JSON it is, instead of failing on its declared type."""

    def __init__(self, app: ASGIApp, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            declared = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            if declared in (b"", _FORM):
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
