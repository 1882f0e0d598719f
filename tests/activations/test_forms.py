"""The rules of an integration's authentication fields that the API and the UI share: which
fields a person types, which values are public, and a `format` put on and taken off."""

from __future__ import annotations

import pytest

from bridgehub.activations import forms
from bridgehub.integrations.configuration import IntegrationConfiguration
from tests.activations.conftest import custom_integration

ZENDESK = IntegrationConfiguration.model_validate(custom_integration("http://127.0.0.1:9"))
FIELDS = dict(ZENDESK.authentication_fields())


def test_typed_fields_are_the_ones_a_person_gives_in_order() -> None:
    # Not `region` (a default) nor `account_id` (filled by the bridge).
    assert list(forms.typed_fields(ZENDESK)) == ["account", "email", "token", "otp"]


def test_public_values_are_the_formatted_and_default_ones() -> None:
    public = [name for name, field in FIELDS.items() if forms.is_public(field)]
    assert public == ["account", "region"]
    values = {name: f"value of {name}" for name in FIELDS}
    shown = forms.visible(ZENDESK, values)
    assert [name for name, value in shown.items() if value == values[name]] == public


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
