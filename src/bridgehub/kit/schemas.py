"""API shapes shared by every domain: the error envelope and list answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    path: str = Field(
        description="Where the problem is, e.g. `authentication_configuration[1].email.mandatory`."
    )
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str = Field(description="What went wrong, for a person.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


_DESCRIPTIONS = {
    400: "The body could not be read as JSON (not UTF-8, or not JSON).",
    401: "Missing or invalid API key.",
    403: "The key is valid but may not do this (admin key versus account key).",
    404: "No such resource.",
    409: "Conflicts with the current state.",
    412: "The resource changed since it was read (If-Match).",
    422: "The input breaks one or more rules; `details` lists each with its path.",
    502: "A bridge or provider failed or answered against the protocol; the message says how.",
    503: "Not able to serve now: the database cannot be reached (`database_unavailable`, "
    "with a `Retry-After`), or its schema is not this hub's yet (`migrations_pending`).",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting the error envelope for each status code."""
    return {
        code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in status_codes
    }
