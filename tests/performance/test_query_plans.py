"""The plans of statements a sync runs once a page, on a table as a sync finds it: growing
fast, its statistics taken (by autovacuum) before its first pages or not at all. A plan
that reads every stored contact of the activation for each page makes a sync quadratic in
the number of contacts (docs/performance.md)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import create_engine, text

from bridgehub.contacts.store import _STORED_HASHES
from bridgehub.db import migrate
from tests.conftest import NewDatabase

STORED = 20_000
_STORE = text(
    "INSERT INTO contacts (id, account_id, activation_id, external_id, name, emails, phones, "
    "phone_e164, phone_keys, websites, content_hash, created_at, updated_at) "
    "SELECT gen_random_uuid(), :account_id, :activation_id, 'c' || n, 'Name ' || n, '{}', "
    "'[]', '{}', '{}', '{}', 'h', now(), now() FROM generate_series(1, :count) AS n"
)


def test_a_page_finds_its_stored_contacts_by_index_whatever_the_statistics(
    new_database: NewDatabase,
) -> None:
    url = new_database("plans_stored_hashes")
    migrate.upgrade(url)
    owner = {"account_id": uuid.uuid4(), "activation_id": uuid.uuid4()}
    page = [f"c{n}" for n in range(STORED - 499, STORED + 501)]  # half of them stored
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # The rows alone: their account and activation are beside the point here.
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            # Statistics of the empty table, as autovacuum takes them before a first sync.
            connection.exec_driver_sql("ANALYZE contacts")
            connection.execute(_STORE, {**owner, "count": STORED})
        compiled = _STORED_HASHES.compile(engine)
        parameters = {**compiled.params, **owner, "external_ids": json.dumps(page)}
        with engine.connect() as connection:
            found = connection.exec_driver_sql(str(compiled), parameters).all()
            (plan,) = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {compiled}", parameters
            ).scalar_one()
    finally:
        engine.dispose()
    assert len(found) == 500
    scans = list(_scans(plan["Plan"]))
    # Each id sent is looked up through the unique index; no scan reads the activation's rows.
    assert ("Index Scan", "uq_contacts_activation_id") in scans, scans
    assert all(kind in ("Index Scan", "Function Scan") for kind, _ in scans), scans


def _scans(node: dict[str, Any]) -> Any:
    """(kind, index) of each scan in a JSON plan."""
    if node["Node Type"].endswith("Scan"):
        yield node["Node Type"], node.get("Index Name")
    for child in node.get("Plans", []):
        yield from _scans(child)
