"""Instants a caller sends. The hub keeps them in UTC, and Python's datetime ends at the
years 1 and 9999: `9999-12-31T23:59:59-14:00` is valid ISO 8601 yet falls in the year
10000 in UTC, which would fail as a server error where the hub converts it. Such an instant
is refused where it is read instead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def _representable_in_utc(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_range",
            "must fall between the years 1 and 9999 in UTC; found {found}",
            {"found": value.isoformat()},
        ) from None
    return value


Instant = Annotated[datetime, AfterValidator(_representable_in_utc)]
"""A datetime that stays within datetime's range once converted to UTC."""
