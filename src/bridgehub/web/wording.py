"""Messages the hub recorded (a sync's or an execution's error, an attempt's message) as the
people reading the UI see them."""

from __future__ import annotations

import re

from bridgehub.kit.redaction import known_secrets

# The bridge client names the endpoint it called with its address, "The bridge's action
# endpoint (https://bridge.internal/actions/x)", for the logs and `check-bridge`; on a page,
# people know the bridge by its integration's name, and its address is the hub's business.
_BRIDGE_ADDRESS = re.compile(r" \(https?://[^()\s]*\)")
# A bridge's reason ending with a period, inside a sentence that ends with one.
_DOUBLED_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")


def scrubbed(text: str | None) -> str:
    """An error or message as shown: without any secret the hub knows of, without a bridge's
    address, and with one period where two met."""
    if not text:
        return ""
    plain = _BRIDGE_ADDRESS.sub("", known_secrets.scrub(text))
    return _DOUBLED_PERIOD.sub(".", plain)
