"""Everything that can go wrong when the hub calls a bridge, as one hierarchy.

Catch `BridgeError` for "the call failed", or a subclass to act on the cause: a refused
target or a refused request is final, `CredentialsRejected` needs a person to reauthorize,
`BridgeUnavailable` is worth trying again later. No other exception leaves the package.

Messages are written for a person. They never contain request bodies, and auth values are
hidden even when a bridge echoes them back (see `redact`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

HIDDEN = "[hidden]"


class BridgeError(Exception):
    outcome: ClassVar[str] = "failed"
    """What happened, in one plain word a person reads (an execution attempt's outcome)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def redact(self, values: Collection[str]) -> None:
        """Replace each of `values` in the message with `[hidden]`."""
        self.message = _hide(self.message, values)
        self.args = (self.message,)


class TargetRefused(BridgeError):
    """The network policy refused the bridge URL (its scheme, or the address it resolves
    to). Nothing was sent: the call never left the machine."""

    outcome = "address_refused"


class _Refusal(BridgeError):
    """The bridge refused the request, perhaps saying why in its answer's `message`."""

    def __init__(self, message: str, *, bridge_message: str | None = None) -> None:
        super().__init__(message)
        self.bridge_message = bridge_message
        """Why, in the bridge's own words (its `message`), when it said: shown to the person
        as what the bridge said."""

    def redact(self, values: Collection[str]) -> None:
        super().redact(values)
        if self.bridge_message is not None:
            self.bridge_message = _hide(self.bridge_message, values)

    def told(self, what: str) -> str:
        """`what` happened, followed by what the bridge said when it said why ("Acme CRM
        refused these credentials: unknown subdomain or API key"), without a final stop."""
        if self.bridge_message is None:
            return what
        return f"{what}: {self.bridge_message.rstrip('.')}"


class CredentialsRejected(_Refusal):
    """The bridge answered 401: the credentials no longer work, even after a refresh."""

    outcome = "credentials_rejected"

    def told_to_reauthorize(self, what: str) -> str:
        """`what` happened and what the bridge said, then what the person must do."""
        return f"{self.told(what)}; the activation needs reauthorization"


class RequestRefused(_Refusal):
    """The bridge answered 400: it refused the data. Final; repeating it cannot help."""

    outcome = "refused"


class CheckpointRefused(BridgeError):
    """The bridge answered 410 to a contact sync's checkpoint: it can no longer use it
    (expired, signed with a rotated key). The run is repeated in full (protocol 6.3)."""

    outcome = "checkpoint_refused"


class BridgeUnavailable(BridgeError):
    """Transient: 5xx, 429, a timeout, or no connection. Worth trying again later."""

    outcome = "unavailable"

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        """The HTTP status of the last answer; None when there was no answer."""
        self.retry_after = retry_after
        """Seconds the bridge asked to wait (its `Retry-After`), when it asked."""


class ProtocolViolation(BridgeError):
    """The answer breaks the bridge protocol: a redirect, a status the protocol does not
    allow (404...), a body that is not JSON, has the wrong shape or is too large."""

    outcome = "protocol_violation"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        """The HTTP status of the answer. A 2xx here means the bridge did the work but its
        answer could not be used."""


def _hide(text: str, values: Collection[str]) -> str:
    # Longest first, so that a value containing another one is hidden whole.
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, HIDDEN)
    return text
