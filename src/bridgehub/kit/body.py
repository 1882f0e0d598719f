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
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = (
            f" at line {error.lineno}, column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
        raise InvalidJson(f"The body is not valid JSON: {reason}{where}.") from error


JsonBody = Annotated[Any, Depends(_json_body)]
