"""Watching the SQL the hub sends for statements about tenant-owned rows that are not kept to
one account: in each SELECT, UPDATE and DELETE, every table with the `AccountOwned` mixin
must have its `account_id` compared with a value, or joined to the `account_id` of a table
that has (in the WHERE, or a JOIN's ON), and each INSERT must give `account_id`.
Distributing those tables by account (docs/scaling.md) needs exactly that: a statement
that names its account goes to one node.

The check reads SQLAlchemy's statement objects, not SQL text: every statement a session
executes (`do_orm_execute`: the hub's own selects, updates, deletes and inserts, its
`session.get`s, its relationship loads), and the rows a flush adds. What a flush updates or
deletes is by primary key of rows the session already holds: loaded by a statement that
was checked, or added with their account. Raw SQL (`text()`) is read as text: a statement
naming a tenant-owned table must name `account_id`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import greenlet
from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql import ClauseElement, Delete, Insert, Select, TextClause, Update
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.selectable import Alias, FromClause, Join

import bridgehub.tables  # noqa: F401  (registers every table)
from bridgehub.db.base import AccountOwned, Base

ACCOUNT_COLUMN = "account_id"

TENANT_TABLES = frozenset(
    mapper.local_table.name
    for mapper in Base.registry.mappers
    if issubclass(mapper.class_, AccountOwned) and isinstance(mapper.local_table, Table)
)


@dataclass(frozen=True)
class Unfiltered:
    """A statement about tenant-owned rows that is not kept to one account."""

    where: str
    """The hub's function that sent it (module:function)."""
    tables: tuple[str, ...]
    sql: str

    def __str__(self) -> str:
        return f"{self.where}: {', '.join(self.tables)} unfiltered in\n    {self.sql}"


# What to check -------------------------------------------------------------------------------


def unfiltered_tables(statement: ClauseElement, parameters: Any = None) -> set[str]:
    """The tenant-owned tables that `statement` reads or writes without keeping them to an
    account (`parameters`: what an INSERT is executed with)."""
    if isinstance(statement, TextClause):
        return _unfiltered_in_text(statement.text)
    missing: set[str] = set()
    if isinstance(statement, Insert | Update | Delete) and (written := _tenant(statement.table)):
        kept = (
            _inserts_account(statement, parameters)
            if isinstance(statement, Insert)
            else _key(statement.table) in _filtered([statement.whereclause])
        )
        if not kept:
            missing.add(written)
    for select, outer in _selects(statement):
        missing |= _unfiltered_in_select(select, outer)
    return missing


def _unfiltered_in_select(select: Select[Any], outer: frozenset[str]) -> set[str]:
    """Tenant-owned tables among the FROMs of `select` itself (its subqueries are checked on
    their own) that no condition of `select` keeps to an account. A table of an enclosing
    statement (`outer`) is correlated, as SQLAlchemy does it: the enclosing statement's
    conditions keep it to an account, and are checked there."""
    froms = select.get_final_froms()
    conditions = [select.whereclause, *_onclauses(froms)]
    filtered = _filtered(conditions, outer)
    return {
        name
        for table in _from_tables(froms)
        if (name := _tenant(table)) and _key(table) not in filtered
    }


def _selects(
    element: ClauseElement, outer: frozenset[str] = frozenset()
) -> Iterator[tuple[Select[Any], frozenset[str]]]:
    """Every SELECT in `element` (itself, its subqueries, CTEs and scalar subqueries), with
    the tables of the statements around it."""
    if isinstance(element, Select):
        yield element, outer
        outer = outer | {_key(table) for table in _from_tables(element.get_final_froms())}
    for child in element.get_children():
        yield from _selects(child, outer)


def _from_tables(froms: Iterable[FromClause]) -> Iterator[FromClause]:
    for item in froms:
        if isinstance(item, Join):
            yield from _from_tables((item.left, item.right))
        else:
            yield item


def _onclauses(froms: Iterable[FromClause]) -> Iterator[ClauseElement | None]:
    for item in froms:
        if isinstance(item, Join):
            yield item.onclause
            yield from _onclauses((item.left, item.right))


def _filtered(conditions: Iterable[ClauseElement | None], given: Iterable[str] = ()) -> set[str]:
    """The tables (by name, or alias name) that `conditions` keep to one account: those whose
    `account_id` is compared with a value (`= :account`, `IN`, `= ANY(...)`), and those whose
    `account_id` is joined to one of these (a co-located join); `given` are kept already."""
    kept = set(given)
    joined: list[tuple[str, str]] = []
    pending: list[ClauseElement] = [c for c in conditions if c is not None]
    while pending:
        element = pending.pop()
        if isinstance(element, BinaryExpression):
            left, right = _account_table(element.left), _account_table(element.right)
            if left and right:
                joined.append((left, right))
            elif left or right:
                other = element.right if left else element.left
                if getattr(other, "table", None) is None:  # a value, not another column
                    kept.update(name for name in (left, right) if name)
        if not isinstance(element, Select):  # a subquery's conditions are its own
            pending.extend(element.get_children())
    while True:  # along the joins, as far as they reach
        more = {b for a, b in joined if a in kept} | {a for a, b in joined if b in kept}
        if more <= kept:
            return kept
        kept |= more


def _account_table(side: Any) -> str | None:
    """The table whose `account_id` column `side` is, if it is one."""
    table = getattr(side, "table", None)
    if getattr(side, "name", None) == ACCOUNT_COLUMN and table is not None:
        return _key(table)
    return None


def _inserts_account(statement: Insert, parameters: Any) -> bool:
    if statement.select is not None:
        return ACCOUNT_COLUMN in {_name(column) for column in statement._select_names or ()}
    given = {_name(column) for column in (statement._values or {})}
    for row in statement._multi_values:
        for values in row:
            given |= {_name(column) for column in values} if isinstance(values, dict) else set()
    rows = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    return ACCOUNT_COLUMN in given or (bool(rows) and all(ACCOUNT_COLUMN in row for row in rows))


def _name(column: Any) -> str:
    return column if isinstance(column, str) else str(getattr(column, "key", column))


def _tenant(table: Any) -> str | None:
    """The tenant-owned table that `table` is (itself, or an alias of it), if any."""
    original = table.element if isinstance(table, Alias) else table
    if isinstance(original, Table) and original.name in TENANT_TABLES:
        return original.name
    return None


def _key(table: Any) -> str:
    return str(getattr(table, "name", id(table)))


_TABLE_WORDS = re.compile(r"\b(?:from|join|update|into)\s+(\w+)", re.IGNORECASE)


def _text_tables(sql: str) -> set[str]:
    return {name.lower() for name in _TABLE_WORDS.findall(sql)} & TENANT_TABLES


def _unfiltered_in_text(sql: str) -> set[str]:
    return set() if ACCOUNT_COLUMN in sql else _text_tables(sql)


# Watching a running hub --------------------------------------------------------------------


@dataclass
class Watch:
    """What the hub sent while watched: the tenant-owned tables named, the unfiltered
    statements."""

    tables: set[str] = field(default_factory=set)
    """The tenant-owned tables the statements named."""
    unfiltered: list[Unfiltered] = field(default_factory=list)

    def outside(self, allowed: dict[str, str]) -> list[Unfiltered]:
        """The unfiltered statements sent from elsewhere than the `allowed` functions."""
        return [found for found in self.unfiltered if found.where not in allowed]


@contextlib.contextmanager
def watching() -> Iterator[Watch]:
    """Check every statement any session executes, and the rows any flush adds, while the
    block runs."""
    watch = Watch()

    def on_execute(state: ORMExecuteState) -> None:
        if isinstance(state.statement, ClauseElement):
            _note(watch, state.statement, state.parameters)

    def on_flush(session: Session, transaction: UOWTransaction, instances: Any) -> None:
        del transaction, instances
        for row in session.new:
            if isinstance(row, AccountOwned) and row.account_id is None:
                _note(watch, type(row).__table__.insert(), None)

    event.listen(Session, "do_orm_execute", on_execute)
    event.listen(Session, "before_flush", on_flush)
    try:
        yield watch
    finally:
        event.remove(Session, "before_flush", on_flush)
        event.remove(Session, "do_orm_execute", on_execute)


def _note(watch: Watch, statement: ClauseElement, parameters: Any) -> None:
    named = tenant_tables(statement)
    if not named:
        return
    watch.tables |= named
    missing = unfiltered_tables(statement, parameters)
    if missing:
        caller = _hub_caller(sys._getframe(2))
        watch.unfiltered.append(Unfiltered(caller, tuple(sorted(missing)), _sql(statement)))


def tenant_tables(statement: ClauseElement) -> set[str]:
    """The tenant-owned tables `statement` reads or writes."""
    if isinstance(statement, TextClause):
        return _text_tables(statement.text)
    named = {
        _tenant(table)
        for select, _ in _selects(statement)
        for table in _from_tables(select.get_final_froms())
    }
    if isinstance(statement, Update | Delete | Insert):
        named.add(_tenant(statement.table))
    return {name for name in named if name}


def _hub_caller(frame: FrameType | None) -> str:
    """The innermost function of the hub's own code (outside its database helpers) on the
    stack: where a statement was made. An async session runs the statement in a greenlet of
    its own, whose stack ends there: the stack goes on in the greenlet that awaited it."""
    runner = greenlet.getcurrent()
    while True:
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if module.startswith("bridgehub.") and not module.startswith("bridgehub.db."):
                return f"{module}:{frame.f_code.co_name}"
            frame = frame.f_back
        runner = runner.parent
        if runner is None:
            return "outside the hub"
        frame = runner.gr_frame


def _sql(statement: ClauseElement) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return " ".join(str(statement.compile(dialect=dialect)).split())
