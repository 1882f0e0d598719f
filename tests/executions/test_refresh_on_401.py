"""An action against an OAuth 2.0 integration whose access token the provider stopped
honouring: the bridge answers 401, the hub refreshes the token and repeats the request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bridgehub.demo.helpdesk import (
    CRM,
    CRM_INSTANCE_URL,
    HelpdeskBridge,
    configurations,
    crm_oauth_client,
)
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import HelpdeskDatabase
from bridgehub.demo.oauth_provider import OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve
from tests.activations.conftest import authorize
from tests.conftest import HUB_URL, Tenant
from tests.helpdesk_fixtures import RunJobs
from tests.metric_samples import scrape

SECRET = "crm-client-secret-for-tests"


@pytest.fixture(scope="module")
def crm_world() -> Iterator[tuple[OAuthProvider, HelpdeskBridge, str, str]]:
    provider = OAuthProvider(
        ProviderConfig(
            clients=[crm_oauth_client("hub", SECRET, f"{HUB_URL}/oauth/callback")],
            auto_approve=True,
            token_extras={"instance_url": CRM_INSTANCE_URL},
        )
    )
    database = HelpdeskDatabase()
    seed(database, count_contacts=5, count_agents=2, interactions_per_contact=0)
    bridge = HelpdeskBridge(database, token_is_valid=provider.is_valid_access_token)
    with serve(provider.app) as provider_url, serve(bridge.app) as bridge_url:
        yield provider, bridge, provider_url, bridge_url


async def test_a_401_refreshes_the_token_and_the_action_still_runs_once(
    client: httpx.AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    crm_world: tuple[OAuthProvider, HelpdeskBridge, str, str],
) -> None:
    provider, bridge, provider_url, bridge_url = crm_world
    for document in configurations(bridge_url, provider_url, "hub", SECRET):
        if document.get("name") == CRM or document.get("provider") == CRM:
            path = "/v1/actions" if "provider" in document else "/v1/integrations"
            assert (await client.post(path, json=document)).status_code == 201
    started = await tenant.client.post("/v1/activations", json={"integration": CRM})
    assert (await authorize(tenant, started.json()["authorize_url"])).status_code == 200

    refreshes = provider.token_requests.get("refresh_token", 0)
    before = await scrape(client)
    provider.expire_access_tokens()
    queued = await tenant.client.post(
        "/v1/executions",
        json={"action": f"{CRM}/log_call", "data": {"summary": "Talked about the renewal"}},
    )
    assert queued.status_code == 202, queued.text
    await run_jobs()
    execution = (await tenant.client.get(f"/v1/executions/{queued.json()['id']}")).json()
    assert execution["status"] == "succeeded", execution
    assert execution["attempts"] == 1
    assert provider.token_requests["refresh_token"] == refreshes + 1
    calls = bridge.received("/crm/actions/log_call")
    assert [provider.is_valid_access_token(c.json()["auth"]["access_token"]) for c in calls] == [
        False,
        True,
    ]
    assert len(bridge.created()) == 1
    after = await scrape(client)
    refreshed = {"integration": CRM, "outcome": "ok"}
    assert after.value("bridgehub_token_refreshes_total", **refreshed) == (
        before.value("bridgehub_token_refreshes_total", **refreshed) + 1
    )
    # The call refused with the old token and repeated with the new one is one call.
    action = {"integration": CRM, "endpoint": "action", "outcome": "ok"}
    assert after.value("bridgehub_bridge_calls_total", **action) == (
        before.value("bridgehub_bridge_calls_total", **action) + 1
    )
