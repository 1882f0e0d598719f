"""Opaque offsets and checkpoints: a small typed state in a string only this bridge reads.

The protocol lets a bridge put anything in `next_offset` and `synchronization_checkpoint`;
the hub sends it back verbatim. A `StateCodec` turns a pydantic model into such a string
and back, and refuses, with a 400 naming the field, anything it did not produce::

    class Position(BaseModel):
        changed_at: datetime
        id: int

    positions = StateCodec(Position, secret=os.environ["DESK_BRIDGE_SECRET"])
    offset = positions.encode(Position(changed_at=row.changed_at, id=row.id))
    position = positions.decode(request.meta.offset, field="meta.offset")

Each string carries an HMAC-SHA256 over its content. With a `secret` nobody else can make
one that decodes; without one the check still refuses garbage, truncated or edited values
(anyone who reads this code could forge one, which is harmless when the state holds only
positions the credentials already give access to). Checkpoints outlive the bridge process,
so the secret must stay the same across restarts: a random one would refuse every stored
checkpoint after a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bridgehub.bridge.protocol import describe
from bridgehub.sdk.errors import InvalidState

State = TypeVar("State", bound=BaseModel)

_VERSION = "s1"
_SIGNATURE_BYTES = 16
_LONGEST = 4096
"""Longer values are refused before any work: no state worth an offset is that large."""


class StateCodec(Generic[State]):
    """Encodes a `State` model as an opaque, signed string, and decodes it back."""

    def __init__(
        self, model: type[State], *, secret: str | bytes | None = None, purpose: str | None = None
    ) -> None:
        """`purpose` tells strings of different codecs apart (an offset codec refuses a
        checkpoint codec's strings); it defaults to the model's qualified name."""
        self.model = model
        self._key = secret.encode() if isinstance(secret, str) else (secret or b"")
        self._purpose = (purpose or f"{model.__module__}.{model.__qualname__}").encode()

    def encode(self, state: State) -> str:
        payload = state.model_dump_json().encode()
        return f"{_VERSION}.{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, value: str, *, field: str = "the value") -> State:
        """The state `value` stands for. Raises `InvalidState` (a 400 naming `field`, e.g.
        `meta.offset`) when this codec did not produce it."""
        parts = value.split(".") if len(value) <= _LONGEST else []
        if len(parts) != 3 or parts[0] != _VERSION:
            raise _invalid(field, "it is not in this bridge's format")
        try:
            payload, signature = _unb64(parts[1]), _unb64(parts[2])
        except ValueError:
            raise _invalid(field, "it is not in this bridge's format") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise _invalid(field, "its signature does not match")
        try:
            return self.model.model_validate_json(payload)
        except ValidationError as error:
            # Signed by us, yet no longer a valid state: the model changed since.
            raise _invalid(field, f"it no longer reads as a state: {describe(error)}") from None

    def decode_optional(self, value: str | None, *, field: str = "the value") -> State | None:
        """`decode`, with None (an absent offset or checkpoint) passed through."""
        return None if value is None else self.decode(value, field=field)

    def _sign(self, payload: bytes) -> bytes:
        message = self._purpose + b"\0" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Raises ValueError for anything but unpadded URL-safe base64."""
    if not text.isascii():
        raise ValueError("not base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


def _invalid(field: str, why: str) -> InvalidState:
    return InvalidState(f"{field} is not a value this bridge gave: {why}.")
