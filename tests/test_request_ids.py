"""Each request has an id, the caller's or a new one: echoed in the answer and on every line
logged while it is handled, so that an operator can follow one request through the logs."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import httpx
import pytest

from bridgehub.app import create_app
from bridgehub.settings import Settings
from tests.conftest import HUB_URL, Tenant
from tests.helpdesk_fixtures import Helpdesk, helpdesk_activation, helpdesk_catalog


def lines_of(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines()]


async def test_the_caller_s_request_id_is_echoed_and_logged(
    client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk, captured_logs: io.StringIO
) -> None:
    for path, document in helpdesk_catalog(helpdesk):
        assert (await client.post(path, json=document)).status_code == 201
    answer = await tenant.client.post(
        "/v1/activations",
        json=helpdesk_activation(helpdesk),
        headers={"X-Request-ID": "trace-42"},
    )
    assert answer.status_code == 201
    assert answer.headers["X-Request-ID"] == "trace-42"
    created = [line for line in lines_of(captured_logs) if line["event"] == "activation created"]
    assert [line["request_id"] for line in created] == ["trace-42"]


@pytest.mark.parametrize(
    "unfit", ["", "has spaces", 'quote"d', "x" * 129, "<script>", "ünïcode"], ids=repr
)
async def test_an_unfit_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, unfit: str
) -> None:
    # Headers travel as bytes: what is not ASCII is sent as its UTF-8 bytes.
    answer = await client.get("/health/live", headers={b"X-Request-ID": unfit.encode()})
    given = answer.headers["X-Request-ID"]
    assert given != unfit
    assert re.fullmatch("[0-9a-f]{32}", given)


async def test_each_request_without_an_id_gets_its_own(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health/live")).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


async def test_an_unexpected_error_names_the_request_in_its_answer_and_log(
    settings: Settings, database_url: str, captured_logs: io.StringIO
) -> None:
    hub = create_app(settings, database=database_url)

    @hub.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    # The last-resort handler answers, then raises again for the server to see.
    transport = httpx.ASGITransport(app=hub, raise_app_exceptions=False)
    async with (
        hub.router.lifespan_context(hub),
        httpx.AsyncClient(transport=transport, base_url=HUB_URL) as client,
    ):
        answer = await client.get("/broken", headers={"X-Request-ID": "trace-500"})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert answer.headers["X-Request-ID"] == "trace-500"
    logged = [line for line in lines_of(captured_logs) if line["event"] == "unhandled error"]
    assert [line["request_id"] for line in logged] == ["trace-500"]
