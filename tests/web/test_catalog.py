"""The catalog as cards, and the admin adding configurations by paste or upload."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bridgehub.web.json_lines import JsonLines
from bridgehub.web.templating import image_url
from tests.conftest import seed_integration
from tests.web.conftest import Browsing, HubAccount, WebHub, screenshot, sign_in


def test_cards_show_each_integration_and_what_the_account_uses(
    page: Page, connected_account: HubAccount, browsing: Browsing
) -> None:
    sign_in(page, connected_account.key)
    page.goto("/ui/catalog")
    helpdesk = page.locator("#integration-demo-helpdesk")
    expect(helpdesk.get_by_role("heading")).to_have_text("Demo Helpdesk")
    expect(helpdesk.locator("dd").nth(0)).to_have_text("Form")
    expect(helpdesk.locator("dd").nth(1).locator(".badge")).to_have_text(
        ["contacts", "interactions", "agents", "actions"]
    )
    expect(helpdesk.locator("dd").last).to_have_text("Active")
    crm = page.locator("#integration-demo-crm")
    expect(crm.locator("dd").first).to_have_text("OAuth 2.0")
    expect(crm.locator("dd").last).to_have_text("Not connected")
    expect(helpdesk.locator("img")).to_have_attribute("src", "https://helpdesk.example/logo.png")
    assert "https://helpdesk.example/logo.png" in browsing.external
    screenshot(page, "catalog")


@pytest.fixture
def unsafe_logo(web_hub: WebHub) -> Iterator[str]:
    """An integration whose stored logo is a `javascript:` URL, which no API call accepts."""
    document = seed_integration() | {"name": f"unsafe-{uuid.uuid4().hex[:6]}"}
    web_hub.api.post("/v1/integrations", json=document).raise_for_status()
    web_hub.sql(
        "UPDATE integrations SET configuration = CAST(:configuration AS json) WHERE name = :name",
        configuration=json.dumps(document | {"logo_url": "javascript:alert(1)"}),
        name=document["name"],
    )
    yield document["name"]
    web_hub.api.delete(f"/v1/integrations/{document['name']}")


def test_a_logo_that_is_not_http_is_never_rendered(account_page: Page, unsafe_logo: str) -> None:
    account_page.goto("/ui/catalog")
    card = account_page.locator(f"#integration-{unsafe_logo}")
    expect(card.locator("img")).to_have_count(0)
    assert "javascript:" not in account_page.content()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://cdn.example/logo.png", "https://cdn.example/logo.png"),
        ("http://cdn.example/logo.png", "http://cdn.example/logo.png"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:image/svg+xml,<svg/>", None),
        ("//cdn.example/logo.png", None),
        ("https://", None),
        (42, None),
    ],
)
def test_only_http_image_urls_pass(url: object, shown: str | None) -> None:
    assert image_url(url) == shown


BROKEN = """{
  "name": "broken-desk",
  "display_name": "Broken Desk",
  "description": "Tickets.",
  "logo_url": "https://broken.example/logo.png",
  "icon_url": "https://broken.example/icon.png",
  "authentication_type": "oauth",
  "authentication_configuration": [
    {"token": {"name": "Token", "source": "input", "type": "input", "mandatory": "yes"}}
  ]
}"""


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if fragment in line)


def test_pasted_configuration_problems_show_next_to_their_lines(admin_page: Page) -> None:
    admin_page.goto("/ui/admin/catalog")
    admin_page.get_by_label("Configuration (JSON)").fill(BROKEN)
    admin_page.get_by_role("button", name="Validate and save").click()

    expect(admin_page.get_by_role("alert")).to_contain_text("problems")
    kind_line = admin_page.locator(f"#line-{line_of(BROKEN, 'authentication_type')}")
    expect(kind_line.locator(".code-listing__problem")).to_contain_text(
        'authentication_type: found "oauth"'
    )
    field_line = admin_page.locator(f"#line-{line_of(BROKEN, 'mandatory')}")
    expect(
        field_line.locator(".code-listing__problem", has_text="token.mandatory")
    ).to_contain_text("must be true or false")
    expect(admin_page.get_by_label("Configuration (JSON)")).to_have_value(BROKEN)
    admin_page.goto("/ui/catalog")
    expect(admin_page.locator("#integration-broken-desk")).to_have_count(0)


def test_invalid_json_is_shown_at_its_line(admin_page: Page) -> None:
    text = '{\n  "name": "x",\n  "display_name": "X"\n  "description": "no comma above"\n}'
    admin_page.goto("/ui/admin/catalog")
    admin_page.get_by_label("Configuration (JSON)").fill(text)
    admin_page.get_by_role("button", name="Validate and save").click()
    expect(admin_page.locator("#line-4 .code-listing__problem")).to_contain_text("not valid JSON")


def test_a_pasted_client_secret_is_not_shown_back(admin_page: Page, browsing: Browsing) -> None:
    secret = "pasted-client-secret-" + uuid.uuid4().hex
    browsing.secrets.add(secret)
    document = seed_integration() | {
        "name": "secret-desk",
        "authentication_type": "oauth2",
        "oauth2_configuration": {
            "authorize_url": "https://auth.example/authorize",
            "token_url": "https://auth.example/token",
            "client_id": "desk",
            "client_secret": secret,
            "pkce": "yes",
        },
    }
    admin_page.goto("/ui/admin/catalog")
    admin_page.get_by_label("Configuration (JSON)").fill(json.dumps(document, indent=2))
    admin_page.get_by_role("button", name="Validate and save").click()
    expect(admin_page.get_by_role("alert")).to_contain_text("paste it again")
    expect(admin_page.locator(".code-listing__problem").first).to_be_visible()


def test_an_uploaded_configuration_is_saved_and_listed(
    admin_page: Page, web_hub: WebHub, tmp_path: Path
) -> None:
    name = f"uploaded-{uuid.uuid4().hex[:6]}"
    upload = tmp_path / "desk.integration.json"
    upload.write_text(json.dumps(seed_integration() | {"name": name, "display_name": "Uploaded"}))
    admin_page.goto("/ui/admin/catalog")
    admin_page.get_by_label("Or upload a file").set_input_files(upload)
    admin_page.get_by_role("button", name="Validate and save").click()

    expect(admin_page.get_by_role("status")).to_have_text(f'Integration "{name}" created.')
    admin_page.goto("/ui/catalog")
    expect(admin_page.locator(f"#integration-{name} h2")).to_have_text("Uploaded")
    web_hub.api.delete(f"/v1/integrations/{name}").raise_for_status()


def test_paths_map_to_the_lines_of_a_json_text() -> None:
    text = '{\n  "a": [\n    {"b": 1},\n    {\n      "c": "x"\n    }\n  ],\n  "d e": {}\n}'
    lines = JsonLines(text)
    assert lines.line_of("a") == 2
    assert lines.line_of("a[0].b") == 3
    assert lines.line_of("a[1]") == 4
    assert lines.line_of("a[1].c") == 5
    assert lines.line_of('["d e"]') == 8
    # A key the text lacks points at the object that should hold it.
    assert lines.line_of("a[1].missing") == 4
    assert lines.line_of("missing") == 1
