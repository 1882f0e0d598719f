"""Telling a lost database apart from other database errors.

When PostgreSQL goes away (its server stopped or killed, the connection cut), requests
answer 503 `database_unavailable` and workers wait for it, instead of failing as if the
request or the job were at fault.
"""

from __future__ import annotations

import psycopg
import sqlalchemy.exc

from bridgehub.kit.errors import HubError

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    psycopg.Error,
)
"""Every kind of error a database call may raise; `unreachable` says which mean an outage."""

# SQLSTATE classes and codes of a server that cannot be reached or is going away:
# 08 connection exceptions, 57P01-57P03 shutdown and start-up.
_OUTAGE_STATES = ("08", "57P01", "57P02", "57P03")


class DatabaseUnavailable(HubError):
    status_code = 503
    code = "database_unavailable"


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached now (rather than refusing what
    was asked of it): worth waiting for, not the caller's fault."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no connection free in time
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        return error.connection_invalidated or (error.orig is not None and unreachable(error.orig))
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        state = error.sqlstate
        # Connection failures carry no SQLSTATE: the server never answered.
        return state is None or state.startswith(_OUTAGE_STATES)
    cause = error.__cause__ or error.__context__
    return cause is not None and unreachable(cause)


def outage(error: BaseException) -> DatabaseUnavailable | None:
    """The error to answer with when `error` is a lost database; None otherwise."""
    if not unreachable(error):
        return None
    return DatabaseUnavailable(
        "The database cannot be reached right now; try again in a few seconds."
    )
