"""Request bodies read as JSON whatever their Content-Type, so that `curl -d @file.json`
works, with a precise error (line and column) when they are not JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

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


JsonBody = Annotated[Any, Depends(_json_body)]
