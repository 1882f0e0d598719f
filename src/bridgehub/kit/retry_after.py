"""The pause an HTTP `Retry-After` header asks for, read the same way by the hub (of its
bridges' answers) and by bridges (of their external services' answers)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds, from either of its forms (a number of seconds, or an HTTP
    date, which counts from now and is 0 once past); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
