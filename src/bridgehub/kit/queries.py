"""Small pieces of SQL that several domains' listings share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute

Listed = TypeVar("Listed", bound=Select[Any])


def where_equal(
    statement: Listed, criteria: Iterable[tuple[QueryableAttribute[Any], Any]]
) -> Listed:
    """`statement` narrowed to the rows whose column equals each criterion given: a
    criterion left as None matches everything."""
    for column, value in criteria:
        if value is not None:
            statement = statement.where(column == value)
    return statement
