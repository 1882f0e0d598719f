"""Shared fixtures: one real PostgreSQL (embedded) per test session, and the hub on it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from bridgehub.app import create_app
from bridgehub.db import migrate
from bridgehub.db.embedded import EmbeddedServer, create_database, start_embedded_postgres
from bridgehub.logs import configure_logging
from bridgehub.settings import Settings

# Fixtures shared by the contact, sync and interaction tests, and by the UI's contact pages.
pytest_plugins = [
    "tests.helpdesk_fixtures",
    "tests.standalone_postgres",
    "tests.web.desks",
    "tests.contacts.directory_bridge",
    "tests.webhooks.receiver",
]

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "examples" / "catalog"
ADMIN_KEY = "bh_admin_test-key"
HUB_URL = "http://hub.test"


def seed_integration() -> dict[str, Any]:
    """The reference's integration example, verbatim (a fresh copy each call)."""
    document: dict[str, Any] = json.loads((CATALOG / "zendesk.integration.json").read_text())
    return document


def seed_action() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (CATALOG / "zendesk.create_ticket.action.json").read_text()
    )
    return document


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = start_embedded_postgres(tmp_path_factory.mktemp("postgres"))
    yield server
    server.cleanup()


NewDatabase = Callable[[str], str]


@pytest.fixture(scope="session")
def new_database(postgres: EmbeddedServer) -> NewDatabase:
    """Make an empty database on the test server; answers its SQLAlchemy URL."""

    def make(name: str) -> str:
        create_database(postgres.get_uri(), name)
        return postgres.get_uri(database=name, driver="psycopg")

    return make


@pytest.fixture(scope="session")
def database_url(new_database: NewDatabase) -> str:
    url = new_database("bridgehub_tests")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Bridges in tests live on 127.0.0.1 over plain HTTP, which the hub refuses by default.
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        admin_key=SecretStr(ADMIN_KEY),
        public_url=HUB_URL,
        allow_private_networks=True,
        allow_http=True,
        # Tests run the jobs they mean to, when they mean to (see `run_jobs`).
        workers=0,
        # A bridge that is too slow fails fast, and actions are tried again quickly.
        interactions_timeout_seconds=1.0,
        execution_retry_seconds=0.05,
        execution_max_attempts=3,
        webhook_retry_seconds=0.05,
    )


@pytest.fixture(scope="session")
async def hub(settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings, database=database_url)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def transport(hub: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=hub)


@pytest.fixture
async def client(hub: FastAPI, transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client for the hub; the database is emptied after each test."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url=HUB_URL, headers=headers) as http:
        yield http
    async with hub.state.runtime.sessionmaker() as session, session.begin():
        await session.execute(text("TRUNCATE integrations, actions, accounts CASCADE"))


TableRows = Callable[[str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def database_rows(hub: FastAPI) -> TableRows:
    """Read a table as the database holds it, to check what rests on disk."""

    async def rows(table: str) -> list[dict[str, Any]]:
        async with hub.state.runtime.sessionmaker() as session:
            result = await session.execute(text(f"SELECT row_to_json(t) FROM {table} t"))  # noqa: S608
            return [row[0] for row in result]

    return rows


async def create_account(
    client: httpx.AsyncClient, name: str = "Acme", region: str = "US"
) -> tuple[str, str]:
    """Create an account with the admin client; answers (account id, account key)."""
    response = await client.post("/v1/accounts", json={"name": name, "default_region": region})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["api_key"]


def as_account(key: str) -> dict[str, str]:
    """Headers that make one request act for an account instead of the admin."""
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Tenant:
    """One account of the hub, with a client acting for it."""

    id: str
    client: httpx.AsyncClient


@pytest.fixture
async def tenant(
    client: httpx.AsyncClient, transport: httpx.ASGITransport
) -> AsyncIterator[Tenant]:
    account_id, key = await create_account(client)
    async with httpx.AsyncClient(
        transport=transport, base_url=HUB_URL, headers=as_account(key)
    ) as http:
        yield Tenant(account_id, http)


HubSql = Callable[[str], Awaitable[None]]


@pytest.fixture
def hub_sql(hub: FastAPI) -> HubSql:
    """Run a statement on the hub's database, to put a row in a state no API call can."""

    async def run(statement: str) -> None:
        async with hub.state.runtime.sessionmaker() as session, session.begin():
            await session.execute(text(statement))

    return run


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the hub logs during the test, as the production handler renders it."""
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    yield stream
    configure_logging("info", "console")
