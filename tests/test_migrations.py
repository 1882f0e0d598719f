"""The schema comes from migrations alone, and migrations match the models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bridgehub import tables
from bridgehub.db import migrate
from tests.conftest import NewDatabase


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def routines(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def schema_drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            options = {"compare_type": True, "include_object": tables.owned_by_the_hub}
            context = MigrationContext.configure(connection, opts=options)
            return list(compare_metadata(context, tables.metadata))
    finally:
        engine.dispose()


def test_migrations_build_the_schema_from_an_empty_database(new_database: NewDatabase) -> None:
    url = new_database("migrations_from_empty")
    assert table_names(url) == set()
    migrate.upgrade(url)
    assert {"integrations", "actions", "admin_keys", "alembic_version"} <= table_names(url)
    assert schema_drift(url) == []


def test_migrations_go_down_and_up_again(new_database: NewDatabase) -> None:
    url = new_database("migrations_round_trip")
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert table_names(url) == {"alembic_version"}
    assert routines(url) == set()
    migrate.upgrade(url)
    assert schema_drift(url) == []


def test_processes_starting_together_migrate_once(new_database: NewDatabase) -> None:
    url = new_database("migrations_concurrent")
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(migrate.upgrade, url) for _ in range(4)]:
            future.result()
    assert schema_drift(url) == []


def test_automations_existing_before_names_are_named_after_their_action_and_trigger(
    new_database: NewDatabase,
) -> None:
    url = new_database("automation_names")
    migrate.upgrade(url, "0016")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(_AUTOMATIONS_BEFORE_NAMES)
        migrate.upgrade(url)
        with engine.connect() as connection:
            names = connection.exec_driver_sql(
                "SELECT name FROM automations ORDER BY created_at"
            ).scalars()
            assert list(names) == [
                "Create a ticket in Helpdesk when a call is missed",
                "Create a ticket in Helpdesk when a call is missed (2)",
                "Create a ticket in Helpdesk when a call is missed from an unknown caller",
                "Create a ticket in Helpdesk when a call is missed",
            ]
    finally:
        engine.dispose()


# Two accounts: the second's automation is named as if the first's did not exist.
_AUTOMATIONS_BEFORE_NAMES = """
INSERT INTO accounts (id, name, default_region, created_at, updated_at) VALUES
    ('00000000-0000-0000-0000-000000000001', 'One', 'US', now(), now()),
    ('00000000-0000-0000-0000-000000000002', 'Two', 'US', now(), now());
INSERT INTO integrations (name, configuration, revision)
    VALUES ('helpdesk', '{"display_name": "Helpdesk"}', 1);
INSERT INTO actions (integration_id, name, configuration, revision)
    SELECT id, 'create_ticket', '{"display": "create a ticket"}', 1 FROM integrations;
INSERT INTO automations
    (id, account_id, trigger, action_id, action, inputs, conditions, enabled, replay,
     created_at, updated_at)
SELECT ('00000000-0000-0000-0000-00000000001' || n)::uuid,
       ('00000000-0000-0000-0000-00000000000' || CASE WHEN n = 4 THEN 2 ELSE 1 END)::uuid,
       'call.missed', actions.id, 'helpdesk/create_ticket', '{}',
       CASE WHEN n = 3 THEN '{"caller": "unknown"}' ELSE '{}' END::jsonb, true, false,
       now() + n * interval '1 second', now()
FROM actions, generate_series(1, 4) AS n;
"""


def test_attempt_outcomes_recorded_as_class_names_become_words(new_database: NewDatabase) -> None:
    url = new_database("migrations_outcome_words")
    migrate.upgrade(url, "0017")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # The attempt alone: its execution is beside the point here.
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.exec_driver_sql(
                "INSERT INTO execution_attempts "
                "(id, execution_id, number, started_at, duration_ms, outcome) VALUES "
                "(gen_random_uuid(), gen_random_uuid(), 1, now(), 5, 'RequestRefused'), "
                "(gen_random_uuid(), gen_random_uuid(), 2, now(), 5, 'succeeded')"
            )
        migrate.upgrade(url)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT outcome FROM execution_attempts ORDER BY number"
            )
            assert [row[0] for row in rows] == ["refused", "succeeded"]
        migrate.downgrade(url, "0017")
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT outcome FROM execution_attempts ORDER BY number"
            )
            assert [row[0] for row in rows] == ["RequestRefused", "succeeded"]
    finally:
        engine.dispose()
