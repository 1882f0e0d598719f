"""`retry_after_seconds`: an external service's `Retry-After`, in either of its forms, as the
seconds `TemporarilyUnavailable(retry_after=...)` takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bridgehub.sdk import retry_after_seconds


@pytest.mark.parametrize(("header", "seconds"), [("37", 37.0), (" 0 ", 0.0), ("120", 120.0)])
def test_a_number_of_seconds_is_read_as_is(header: str, seconds: float) -> None:
    assert retry_after_seconds(header) == seconds


def test_an_http_date_counts_from_now() -> None:
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    seconds = retry_after_seconds(in_two_minutes)
    assert seconds is not None
    assert 100 < seconds <= 120


def test_a_date_already_past_asks_for_no_pause() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5", "٣", "Wed, 99 Foo 2015"])
def test_an_absent_or_unreadable_header_gives_none(header: str | None) -> None:
    assert retry_after_seconds(header) is None
