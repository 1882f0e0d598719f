"""The hub's error hierarchy.

Every error a caller can see is a `HubError`; the HTTP layer turns it into
`{"error": {"code", "message", "details"}}` with the error's status code, and the CLI
prints its message. Services raise these and never build HTTP responses themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by a path such as `inputs[1].key`."""

    path: str
    message: str

    def as_detail(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class HubError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class Unauthorized(HubError):
    status_code = 401
    code = "unauthorized"


class Forbidden(HubError):
    status_code = 403
    code = "forbidden"


class NotFound(HubError):
    status_code = 404
    code = "not_found"


class Conflict(HubError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(HubError):
    status_code = 412
    code = "precondition_failed"


class Unprocessable(HubError):
    status_code = 422
    code = "invalid_request"


class InvalidInput(Unprocessable):
    """Input that breaks one or more rules; every broken rule is listed at once."""

    def __init__(self, message: str, problems: Sequence[Problem]) -> None:
        super().__init__(message, [problem.as_detail() for problem in problems])
        self.problems = list(problems)
