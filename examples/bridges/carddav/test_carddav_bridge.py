"""The CardDAV bridge served over real HTTP by uvicorn, against a real Radicale server."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from carddav_bridge import DEFAULT_PUBLIC_URL, CardDavBridge, Settings
from carddav_radicale import (
    PASSWORD,
    Radicale,
    SampleCard,
    Served,
    edited,
    run_radicale,
    sample_cards,
    serving_bridge,
)

from bridgehub.bridge import NetworkPolicy

HERE = Path(__file__).parent
CARDS = 300
PAGE_SIZE = 40
SECRET = "carddav-test-secret"
LOCAL = NetworkPolicy(allow_private_networks=True, allow_http=True)


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    with run_radicale(tmp_path) as server:
        yield server


@pytest.fixture
def cards(radicale: Radicale) -> list[SampleCard]:
    made = sample_cards(CARDS)
    radicale.fill(made)
    return made


@pytest.fixture
def few_cards(radicale: Radicale) -> list[SampleCard]:
    """An address book of a few cards, for tests about anything but its size."""
    made = sample_cards(8)
    radicale.fill(made)
    return made


@contextmanager
def serving(*, page_size: int = PAGE_SIZE, allow_private_networks: bool = True) -> Iterator[Served]:
    settings = Settings(
        page_size=page_size, secret=SECRET, allow_private_networks=allow_private_networks
    )
    with serving_bridge(settings) as served:
        yield served


@pytest.fixture
def bridge() -> Iterator[Served]:
    with serving() as served:
        yield served


def test_the_committed_configuration_is_the_generated_one() -> None:
    committed = json.loads((HERE / "carddav.integration.json").read_text(encoding="utf-8"))

    generated = CardDavBridge(Settings()).bridge.integration_configuration(DEFAULT_PUBLIC_URL)

    assert committed == generated


def test_a_full_sync_pages_through_every_card(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    run = bridge.sync(radicale.fields)

    assert run.pages == math.ceil(CARDS / PAGE_SIZE)
    assert run.by_id() == {f"{card.uid}.vcf": card.expected() for card in cards}
    # The run listed the address book once and fetched each card once.
    assert len(bridge.recorder.reports("sync-collection")) == 1
    fetched = bridge.recorder.fetched_cards()
    assert sorted(fetched) == sorted(card.href for card in cards)


def test_only_web_addresses_come_through_as_photos_and_websites(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    contacts = bridge.sync(radicale.fields).by_id()

    assert contacts["photo-card.vcf"].photo_url == "https://images.example/p/1.jpg"
    assert contacts["script-photo.vcf"].photo_url is None
    assert contacts["script-photo.vcf"].websites == ("https://ok.example/",)
    assert contacts["inline-photo.vcf"].photo_url is None
    assert contacts["n-only.vcf"].name == "Hiro Nakamura"
    assert contacts["org-only.vcf"].name == "Lonely Org"


def test_a_sync_from_the_checkpoint_fetches_only_changed_and_added_cards(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    first = bridge.sync(radicale.fields)
    changed = [edited(card, "once") for card in cards[10:15]]
    added = [
        SampleCard(f"added-{n}", f"Added Ädded {n}", phones=(f"+1 212 555 010{n}",))
        for n in range(3)
    ]
    for card in [*changed, *added]:
        radicale.put(card)
    radicale.delete(cards[20])
    before = len(bridge.recorder.fetched_cards())

    second = bridge.sync(radicale.fields, first.checkpoint)

    expected = {f"{card.uid}.vcf": card.expected() for card in [*changed, *added]}
    assert second.by_id() == expected
    assert second.deleted == [f"{cards[20].uid}.vcf"]
    assert sorted(bridge.recorder.fetched_cards()[before:]) == sorted(
        card.href for card in [*changed, *added]
    )
    # Nothing changed since: an empty run, still with a checkpoint.
    third = bridge.sync(radicale.fields, second.checkpoint)
    assert (third.contacts, third.deleted) == ([], [])
    assert third.checkpoint


def test_deleted_cards_come_once_on_the_first_page_of_the_next_run(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    first = bridge.sync(radicale.fields)
    gone = [cards[3], cards[250]]
    for card in gone:
        radicale.delete(card)
    radicale.put(edited(cards[7], "meanwhile"))
    for n in range(PAGE_SIZE + 1):  # enough for the run to take two pages
        radicale.put(SampleCard(f"later-{n:02}", f"Later Person {n}"))

    meta = {"synchronization_checkpoint": first.checkpoint}
    page = bridge.post("/contact_sync", {"auth": radicale.fields, "meta": meta}).json()
    second = bridge.sync(radicale.fields, first.checkpoint)

    assert sorted(page["deleted_contacts"]) == sorted(f"{card.uid}.vcf" for card in gone)
    assert "next_offset" in page
    assert sorted(second.deleted) == sorted(page["deleted_contacts"])
    assert not set(second.deleted) & set(second.by_id())
    assert bridge.sync(radicale.fields, second.checkpoint).deleted == []


def test_a_full_sync_names_no_deleted_cards(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    radicale.delete(cards[0])

    run = bridge.sync(radicale.fields)

    assert run.deleted == []
    assert len(run.contacts) == CARDS - 1


def test_an_expired_sync_token_answers_410_and_a_full_sync_follows(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    first = bridge.sync(radicale.fields)
    radicale.put(edited(cards[0], "after"))
    radicale.forget_sync_tokens()

    meta = {"synchronization_checkpoint": first.checkpoint}
    expired = bridge.post("/contact_sync", {"auth": radicale.fields, "meta": meta})
    again = bridge.sync(radicale.fields)

    assert expired.status_code == 410
    assert expired.json() == {
        "message": "The CardDAV server no longer knows the sync token of this checkpoint."
    }
    assert len(again.by_id()) == CARDS
    assert again.by_id()["photo-card.vcf"].title == "Edited after"
    # The new checkpoint works incrementally again.
    assert bridge.sync(radicale.fields, again.checkpoint).contacts == []


def test_a_sync_token_expiring_in_the_middle_of_a_run_answers_410(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    first = bridge.sync(radicale.fields)
    for card in cards[: PAGE_SIZE + 1]:
        radicale.put(edited(card, "again"))
    meta = {"synchronization_checkpoint": first.checkpoint}
    page = bridge.post("/contact_sync", {"auth": radicale.fields, "meta": meta}).json()
    radicale.forget_sync_tokens()

    # Another process has no listing of the run, and the server no token to list from.
    with serving() as other:
        rest = other.post(
            "/contact_sync",
            {"auth": radicale.fields, "meta": {**meta, "offset": page["next_offset"]}},
        )

    assert rest.status_code == 410


def test_a_run_goes_on_in_another_bridge_process(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    auth = radicale.fields
    first = bridge.post("/contact_sync", {"auth": auth, "meta": {}}).json()

    with serving() as other:
        rest = other.post("/contact_sync", {"auth": auth, "meta": {"offset": first["next_offset"]}})
        ids = [each["id"] for each in first["contacts"] + rest.json()["contacts"]]

    assert rest.status_code == 200
    assert len(ids) == len(set(ids)) == 2 * PAGE_SIZE
    # It had no listing of the run, so it listed again from the same token.
    assert len(other.recorder.reports("sync-collection")) == 1


def test_a_checkpoint_of_another_address_book_answers_410(
    radicale: Radicale, cards: list[SampleCard], bridge: Served
) -> None:
    checkpoint = bridge.sync(radicale.fields).checkpoint
    moved = {**radicale.fields, "addressbook_url": radicale.addressbook_url.rstrip("/")}
    other_book = {**moved, "addressbook_url": radicale.url + "/jane/other/"}
    with radicale.client() as http:
        assert http.request("MKCOL", "/jane/other/", content=_ADDRESS_BOOK).status_code == 201

    assert bridge.sync(moved, checkpoint).contacts == []  # the same book, spelled without /
    meta = {"synchronization_checkpoint": checkpoint}
    elsewhere = bridge.post("/contact_sync", {"auth": other_book, "meta": meta})
    assert (elsewhere.status_code, elsewhere.json()) == (
        410,
        {"message": "The checkpoint is of another address book."},
    )


_ADDRESS_BOOK = (
    b'<?xml version="1.0"?><mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
    b"<set><prop><resourcetype><collection/><C:addressbook/></resourcetype></prop></set></mkcol>"
)


def test_auth_validation_accepts_the_address_book(
    radicale: Radicale, few_cards: list[SampleCard], bridge: Served
) -> None:
    answer = bridge.post("/auth_validation", {"auth": radicale.fields})

    assert answer.status_code == 204, answer.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": "wrong"}, "refused this username and password"),
        ({"username": "nobody"}, "refused this username and password"),
        ({"addressbook_url": "/jane/"}, "not a CardDAV address book"),
        ({"addressbook_url": "/jane/missing/"}, "no CardDAV address book at this URL"),
        ({"addressbook_url": "ftp://127.0.0.1/"}, "must be an https:// URL"),
        ({"password": " "}, "are required"),
    ],
)
def test_auth_validation_refuses_what_does_not_open_an_address_book(
    radicale: Radicale,
    few_cards: list[SampleCard],
    bridge: Served,
    change: dict[str, str],
    message: str,
) -> None:
    auth = radicale.fields | change
    if auth["addressbook_url"].startswith("/"):
        auth["addressbook_url"] = radicale.url + auth["addressbook_url"]

    answer = bridge.post("/auth_validation", {"auth": auth})

    assert answer.status_code == 401
    assert message in answer.json()["message"]
    assert PASSWORD not in answer.text


def test_a_server_that_cannot_be_reached_is_temporarily_unavailable(
    radicale: Radicale, bridge: Served
) -> None:
    auth = radicale.fields
    with nothing_listening() as url:
        answer = bridge.post("/auth_validation", {"auth": {**auth, "addressbook_url": url}})

    assert answer.status_code == 503
    assert answer.json() == {"message": "The CardDAV server cannot be reached."}


@contextmanager
def nothing_listening() -> Iterator[str]:
    """An address book URL on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{probe.getsockname()[1]}/jane/contacts/"


def test_private_networks_are_refused_unless_allowed(radicale: Radicale) -> None:
    with serving(allow_private_networks=False) as guarded:
        answer = guarded.post("/auth_validation", {"auth": radicale.fields})

    assert answer.status_code == 401
    assert "private or local network" in answer.json()["message"]
    assert guarded.recorder.sent  # asked, and refused before any packet left


def test_an_offset_the_bridge_did_not_give_is_refused(radicale: Radicale, bridge: Served) -> None:
    meta = {"offset": "s1.e30.AAAA"}
    answer = bridge.post("/contact_sync", {"auth": radicale.fields, "meta": meta})

    assert answer.status_code == 400
    assert "meta.offset" in answer.json()["message"]


def test_check_bridge_passes(
    radicale: Radicale, cards: list[SampleCard], bridge: Served, tmp_path: Path
) -> None:
    configuration = CardDavBridge(Settings()).bridge.integration_configuration(bridge.url)
    (tmp_path / "carddav.integration.json").write_text(json.dumps(configuration))
    (tmp_path / "creds.json").write_text(json.dumps({"fields": radicale.fields}))
    command = [
        str(Path(sys.executable).parent / "bridgehub"),
        "check-bridge",
        "carddav.integration.json",
        "--credentials",
        "creds.json",
        "--allow-private-networks",
        "--json",
    ]

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    report = json.loads(done.stdout)
    assert done.returncode == 0, report["findings"]
    assert report["conforms"] is True
    passed = {each["rule"] for each in report["findings"] if each["verdict"] == "pass"}
    assert {"auth.accepts-valid", "auth.rejects-invalid", "contacts.incremental"} <= passed


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        ({"CARDDAV_PAGE_SIZE": "0"}, "CARDDAV_PAGE_SIZE must be a whole number from 1 to 1000"),
        ({"CARDDAV_TIMEOUT_SECONDS": "soon"}, "CARDDAV_TIMEOUT_SECONDS must be seconds"),
        ({"CARDDAV_ALLOW_PRIVATE_NETWORKS": "yes"}, "must be true or false; found 'yes'"),
    ],
)
def test_settings_refuse_bad_values(environment: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings.from_environment(environment)


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "CARDDAV_PUBLIC_URL": "https://bridges.example/carddav/",
            "CARDDAV_PAGE_SIZE": "250",
            "CARDDAV_BRIDGE_SECRET": "s",
            "CARDDAV_ALLOW_PRIVATE_NETWORKS": "TRUE",
        }
    )

    assert settings == Settings("https://bridges.example/carddav", 250, "s", True, 30.0)
