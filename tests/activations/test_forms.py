"""The rules of an integration's authentication fields that the API and the UI share: which
fields a person types, which values are public, and a `format` put on and taken off."""

from __future__ import annotations

from typing import Any

import pytest

from bridgehub.activations import forms
from bridgehub.integrations.configuration import AuthenticationField, IntegrationConfiguration
from tests.activations.conftest import auth_field, custom_integration

ZENDESK = IntegrationConfiguration.model_validate(custom_integration("http://127.0.0.1:9"))
FIELDS = dict(ZENDESK.authentication_fields())


def test_typed_fields_are_the_ones_a_person_gives_in_order() -> None:
    # Not `region` (a default) nor `account_id` (filled by the bridge).
    assert list(forms.typed_fields(ZENDESK)) == ["account", "email", "token", "otp"]


def test_public_values_are_the_formatted_default_and_identifier_ones() -> None:
    # Not `token` nor `otp` (typed, no identifier), nor `account_id` (from the bridge).
    public = [name for name, field in FIELDS.items() if forms.is_public(name, field)]
    assert public == ["account", "email", "region"]
    values = {name: f"value of {name}" for name in FIELDS}
    shown = forms.visible(ZENDESK, values)
    assert [name for name, value in shown.items() if value == values[name]] == public
    assert forms.secrets_of(ZENDESK, values | {"gone": "value of gone"}) == [
        "value of token",
        "value of account_id",
        "value of otp",
        "value of gone",  # a field the integration no longer declares
    ]


def typed(name: str, display: str, **extra: Any) -> tuple[str, AuthenticationField]:
    return name, AuthenticationField.model_validate(auth_field(display=display, **extra))


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("email", "Agent Email"),
        ("agent", "Agent e-mail"),  # the label alone says so
        ("username", "User name"),
        ("userName", "Name"),
        ("login", "Login"),
        ("account", "Account"),
        ("subdomain", "Subdomain"),
        ("domain", "Domain"),
        ("instance_url", "Instance URL"),
        ("region", "Region"),
    ],
)
def test_a_typed_identifier_is_public(name: str, display: str) -> None:
    assert forms.is_public(*typed(name, display))


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("token", "API Token"),
        ("api_token", "API token"),
        ("apiKey", "Key"),
        ("password", "Password"),
        ("key", "Key"),
        ("otp", "One-time code"),
        ("pin", "A field"),
        ("account_password", "Account password"),  # an identifier beside a credential
        ("email", "Email token"),
        ("user_secret", "User"),
        ("tenant", "Tenant"),  # unknown: a secret
        ("x", "A field"),
    ],
)
def test_any_other_typed_value_is_secret(name: str, display: str) -> None:
    assert not forms.is_public(*typed(name, display))


@pytest.mark.parametrize(
    ("field", "public"),
    [
        (typed("email", "Agent Email", secret=True), False),
        (typed("account", "Account", format="https://{{account}}.example", secret=True), False),
        (typed("token", "API Token", secret=False), True),
        (typed("account_id", "Account", source="auth_validation", secret=False), True),
    ],
)
def test_an_explicit_secret_wins(field: tuple[str, AuthenticationField], public: bool) -> None:
    assert forms.is_public(*field) is public


@pytest.mark.parametrize(
    ("field", "email"),
    [
        (typed("email", "Agent Email"), True),
        (typed("contact", "E-mail"), True),
        (typed("login", "Email or user name"), False),
        (typed("email", "Email", format="{{email}}@acme.example"), False),
        (typed("email", "Agent Email", secret=True), False),
    ],
)
def test_a_bare_email_address_is_asked_for_as_such(
    field: tuple[str, AuthenticationField], email: bool
) -> None:
    assert forms.asks_for_email(*field) is email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("acme", "https://acme.zendesk.com"),
        ("https://acme.zendesk.com", "https://acme.zendesk.com"),  # pasted whole
    ],
)
def test_a_format_is_put_on_and_taken_off(typed: str, stored: str) -> None:
    account = FIELDS["account"]
    assert forms.format_parts(account, "account") == ("https://", ".zendesk.com")
    assert forms.apply_format(account, "account", typed) == stored
    assert forms.unformat(account, "account", stored) == "acme"


@pytest.mark.parametrize("value", ["", "https://.zendesk.com", "acme.example"])
def test_a_value_out_of_the_formats_shape_is_its_own(value: str) -> None:
    assert forms.unformat(FIELDS["account"], "account", value) == value


def test_a_field_without_format_is_taken_as_typed() -> None:
    email = FIELDS["email"]
    assert forms.format_parts(email, "email") == ("", "")
    assert forms.apply_format(email, "email", "agent@acme.example") == "agent@acme.example"
    assert forms.unformat(email, "email", "agent@acme.example") == "agent@acme.example"
