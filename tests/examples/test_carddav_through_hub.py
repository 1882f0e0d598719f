"""The CardDAV example bridge through the hub: its generated configuration registered, an
account connected to a real Radicale address book, contacts synced by a real worker, then
synced again after cards were edited and added over CardDAV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from carddav_bridge import CardDavBridge, Settings
from carddav_radicale import (
    Radicale,
    SampleCard,
    Served,
    edited,
    run_radicale,
    sample_cards,
    serving_bridge,
)

from tests.conftest import Tenant
from tests.helpdesk_fixtures import SyncNow, all_contacts

CARDS = 400
PAGE_SIZE = 50


@dataclass(frozen=True)
class CardDav:
    radicale: Radicale
    cards: list[SampleCard]
    bridge: Served


@pytest.fixture
def carddav(tmp_path: Path) -> Iterator[CardDav]:
    settings = Settings(page_size=PAGE_SIZE, allow_private_networks=True)
    cards = sample_cards(CARDS)
    with run_radicale(tmp_path) as radicale, serving_bridge(settings) as bridge:
        radicale.fill(cards)
        yield CardDav(radicale, cards, bridge)


@pytest.fixture
async def registered(client: httpx.AsyncClient, carddav: CardDav) -> None:
    configuration = CardDavBridge(Settings()).bridge.integration_configuration(carddav.bridge.url)
    created = await client.post("/v1/integrations", json=configuration)
    assert created.status_code == 201, created.text


@pytest.mark.usefixtures("registered")
async def test_contacts_sync_and_then_only_what_changed(
    tenant: Tenant, carddav: CardDav, sync_now: SyncNow
) -> None:
    activated = await tenant.client.post(
        "/v1/activations", json={"integration": "carddav", "auth": carddav.radicale.fields}
    )
    assert activated.status_code == 201, activated.text
    activation = activated.json()["id"]

    first = await sync_now(activation)

    assert first["status"] == "succeeded", first
    assert (first["created"], first["rejected"], first["pages"]) == (CARDS, 0, CARDS // PAGE_SIZE)
    stored = {each["external_id"]: each for each in await all_contacts(tenant)}
    assert {id_: each["name"] for id_, each in stored.items()} == {
        f"{card.uid}.vcf": card.expected().name for card in carddav.cards
    }
    assert stored["photo-card.vcf"]["photo_url"] == "https://images.example/p/1.jpg"
    assert stored["script-photo.vcf"]["photo_url"] is None

    changed = [edited(card, "in Radicale") for card in carddav.cards[100:106]]
    added = [SampleCard(f"new-{n}", f"Nouvelle Personne {n}") for n in range(4)]
    for card in [*changed, *added]:
        carddav.radicale.put(card)
    fetched_before = len(carddav.bridge.recorder.fetched_cards())

    second = await sync_now(activation)

    assert second["status"] == "succeeded", second
    assert (second["created"], second["updated"], second["unchanged"]) == (4, 6, 0)
    fetched = carddav.bridge.recorder.fetched_cards()[fetched_before:]
    assert sorted(fetched) == sorted(card.href for card in [*changed, *added])
    stored = {each["external_id"]: each for each in await all_contacts(tenant)}
    assert len(stored) == CARDS + 4
    for card in changed:
        assert stored[f"{card.uid}.vcf"]["title"] == "Edited in Radicale"
        assert "+442079460018" in stored[f"{card.uid}.vcf"]["phones"]
    assert {stored[f"{card.uid}.vcf"]["name"] for card in added} == {card.name for card in added}
    lookup = await tenant.client.get("/v1/lookup", params={"phone": "020 7946 0018"})
    assert {each["external_id"] for each in lookup.json()["matches"]} >= {
        f"{card.uid}.vcf" for card in changed
    }


@pytest.mark.usefixtures("registered")
async def test_a_wrong_password_is_refused_and_leaves_nothing(
    tenant: Tenant, carddav: CardDav
) -> None:
    auth = {**carddav.radicale.fields, "password": "not-the-app-password"}

    refused = await tenant.client.post(
        "/v1/activations", json={"integration": "carddav", "auth": auth}
    )

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "credentials_rejected"
    # The bridge's own words say what the person needs to know.
    assert error["message"] == (
        "CardDAV contacts refused these credentials: "
        "The CardDAV server refused this username and password."
    )
    assert "not-the-app-password" not in refused.text
    assert (await tenant.client.get("/v1/activations")).json() == {"items": []}


@pytest.mark.usefixtures("registered")
async def test_a_deleted_card_leaves_the_hub_and_a_forgotten_token_brings_a_full_run(
    tenant: Tenant, carddav: CardDav, sync_now: SyncNow
) -> None:
    activated = await tenant.client.post(
        "/v1/activations", json={"integration": "carddav", "auth": carddav.radicale.fields}
    )
    activation = activated.json()["id"]
    assert (await sync_now(activation))["created"] == CARDS

    gone, silently_gone = carddav.cards[7], carddav.cards[8]
    carddav.radicale.delete(gone)
    incremental = await sync_now(activation)
    assert (incremental["full"], incremental["deleted"]) == (False, 1)
    stored = {each["external_id"] for each in await all_contacts(tenant)}
    assert f"{gone.uid}.vcf" not in stored
    assert len(stored) == CARDS - 1

    # The server forgets its sync tokens: the bridge answers 410, the hub syncs in full and
    # finds what went missing meanwhile.
    carddav.radicale.forget_sync_tokens()
    carddav.radicale.delete(silently_gone)
    carddav.radicale.forget_sync_tokens()
    full = await sync_now(activation)
    assert (full["status"], full["full_reason"], full["deleted"]) == (
        "succeeded",
        "checkpoint_refused",
        1,
    )
    assert len(await all_contacts(tenant)) == CARDS - 2
