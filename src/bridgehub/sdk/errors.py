"""What a bridge handler raises to answer with one of the protocol's error statuses.

Raise the exception that says what happened; the bridge turns it into the status the hub
acts on, with `{"message": ...}` as the body:

- `CredentialsRejected`: 401. The hub refreshes OAuth 2.0 tokens and repeats the call
  once; after that, a person must reconnect the account.
- `ActionRefused`: 400. The action's data cannot be taken; final, never retried.
- `RequestRefused`: 400 for any other request the bridge cannot serve as asked.
- `InvalidState`: 400 for an offset or checkpoint this bridge never gave.
- `CheckpointExpired`: 410 for a checkpoint this bridge gave but can no longer use; the hub
  repeats the run as a full sync.
- `TemporarilyUnavailable`: 503 with `Retry-After`. The hub tries again later.

Any other exception escaping a handler is a bug: the bridge logs it and answers 500, which
the hub also treats as transient.
"""

from __future__ import annotations

import math

from bridgehub.bridge.protocol import BridgeRequest, ContactSyncRequest


class BridgeException(Exception):
    """Base of the exceptions that become an answer. Catch it to handle all of them."""

    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """Sent to the hub as the answer's `message`: never put a secret in it."""

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides its JSON body."""
        return {}

    def answers(self, request: BridgeRequest) -> bool:
        """Whether the protocol allows this answer to `request`. When it does not, raising
        it is a bug in the handler, answered as any other (500)."""
        return True


class CredentialsRejected(BridgeException):
    """The credentials in `auth` do not open the external service (any more): 401."""

    status_code = 401

    def __init__(self, message: str = "These credentials are not valid.") -> None:
        super().__init__(message)


class RequestRefused(BridgeException):
    """The bridge cannot serve this request as asked: 400 with the reason. Final: the hub
    does not repeat it."""

    status_code = 400


class ActionRefused(RequestRefused):
    """The external service cannot take the action's data, e.g. an unknown priority: 400
    with the reason, which the hub shows on the failed execution."""


class InvalidState(RequestRefused):
    """An offset or checkpoint that this bridge did not give, or that no longer decodes:
    400. Raised by `StateCodec.decode`."""


class CheckpointExpired(BridgeException):
    """The request's synchronization checkpoint was given by this bridge but cannot be used
    any more (the service forgot changes that old, a sync token expired): 410. The hub
    repeats the run as a full sync, without a checkpoint. Only a contact synchronization
    request that carried a checkpoint can be answered so."""

    status_code = 410

    def __init__(
        self,
        message: str = "This synchronization checkpoint can no longer be used; sync in full.",
    ) -> None:
        super().__init__(message)

    def answers(self, request: BridgeRequest) -> bool:
        return (
            isinstance(request, ContactSyncRequest)
            and request.meta.synchronization_checkpoint is not None
        )


class TemporarilyUnavailable(BridgeException):
    """The external service is down, overloaded or rate-limiting: 503, with `Retry-After`
    when `retry_after` (seconds) is given. The hub retries with backoff, waiting at least
    that long."""

    status_code = 503

    def __init__(
        self,
        message: str = "The service is temporarily unavailable.",
        *,
        retry_after: float | None = None,
    ) -> None:
        if retry_after is not None and not (retry_after >= 0 and math.isfinite(retry_after)):
            raise ValueError(f"retry_after must be a number of seconds ≥ 0; got {retry_after}")
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        # Retry-After takes whole seconds; rounding up never asks for too short a pause.
        return {"Retry-After": str(math.ceil(self.retry_after))}
