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


def test_attempt_outcomes_recorded_as_class_names_become_words(new_database: NewDatabase) -> None:
    url = new_database("migrations_outcome_words")
    migrate.upgrade(url, "0015")
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
        migrate.downgrade(url, "0015")
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT outcome FROM execution_attempts ORDER BY number"
            )
            assert [row[0] for row in rows] == ["RequestRefused", "succeeded"]
    finally:
        engine.dispose()
