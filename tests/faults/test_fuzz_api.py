"""The whole API, fuzzed from its own OpenAPI document: whatever a caller sends, the hub
answers without a server error, and with what the document says it answers.

The hub runs in-process (schemathesis calls the ASGI application on its own event loop) on a
database of its own, since the fuzzer leaves whatever it created behind. Each generated request
is sent once with the admin key and once with an account's key, which reach different code
(the admin manages the catalog and accounts; an account its activations, contacts, actions).
Generation is derandomized and small, so the run is the same on every machine and fits in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bridgehub.app import create_app
from bridgehub.db import migrate
from bridgehub.settings import Settings
from tests.conftest import ADMIN_KEY, NewDatabase, as_account

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_hub(settings: Settings, new_database: NewDatabase) -> Iterator[FastAPI]:
    url = new_database("bridgehub_fuzz")
    migrate.upgrade(url)
    yield create_app(settings, database=url)
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def account_key(fuzzed_hub: FastAPI) -> str:
    with asgi.get_client(cast("asgi.ASGIApp", fuzzed_hub)) as http:
        created = http.post(
            "http://testserver/v1/accounts",
            json={"name": "Fuzzed", "default_region": "US"},
            headers=as_account(ADMIN_KEY),
        )
    assert created.status_code == 201, created.text
    # The fuzzer registers bridges at hosts it makes up (https://0.com): none may be called,
    # whatever the machine's network, so the started hub's bridge client resolves no host.
    fuzzed_hub.state.runtime.bridge._resolver = _resolve_nothing
    key: str = created.json()["api_key"]
    return key


async def _resolve_nothing(host: str, port: int) -> list[str]:
    raise OSError(f"{host}:{port} is a host the fuzzer made up")


# The document is the application's, built without starting it (no database needed), so that
# the operations are known when tests are collected.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@hypothesis_settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error_or_an_undocumented_answer(
    case: Case[Any], fuzzed_hub: FastAPI, account_key: str
) -> None:
    for key in (ADMIN_KEY, account_key):
        case.call_and_validate(app=fuzzed_hub, headers=as_account(key), checks=CHECKS)
