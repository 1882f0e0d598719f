"""Properties of configuration validation over randomly damaged documents.

Whatever a document looks like, validation returns the model or explains itself with
problems; it never crashes, never depends on chance, and what it accepts it accepts again.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bridgehub.integrations.configuration import (
    ActionConfiguration,
    ActionInput,
    AuthenticationField,
    IntegrationConfiguration,
    InvalidConfiguration,
    OAuth2Configuration,
    validate_action,
    validate_integration,
)
from bridgehub.kit.errors import Problem

CATALOG = Path(__file__).resolve().parents[2] / "examples" / "catalog"

Location = tuple[str | int, ...]
Validator = Callable[[Any], BaseModel]
Mutation = Callable[[st.DrawFn, Any], Any]

# No example database: these tests must not write into the working tree.
property_settings = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- valid documents to start from -------------------------------------------------------------


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CATALOG / name).read_text())
    return document


def _oauth2_integration() -> dict[str, Any]:
    document = _example("zendesk.integration.json")
    code = {
        "source": "input",
        "display": "Code",
        "mandatory": True,
        "type": "oauth",
        "store": False,
    }
    document.update(
        authentication_type="oauth2",
        authentication_configuration=[{"code": code}],
        oauth2_configuration={
            "authorize_url": "https://zendesk.example.com/oauth/authorizations/new",
            "token_url": "https://zendesk.example.com/oauth/tokens",
            "client_id": "bridgehub",
            "client_secret_env": "ZENDESK_CLIENT_SECRET",
            "scopes": ["read", "write"],
            "pkce": True,
        },
    )
    return document


def _unauthenticated_integration() -> dict[str, Any]:
    document = _example("zendesk.integration.json")
    region = {"source": "default", "display": "Region", "mandatory": False, "type": "input"}
    document.update(
        authentication_type="none",
        authentication_configuration=[{"region": {**region, "store": True, "default": "eu"}}],
    )
    return document


VALID_INTEGRATIONS = [
    _example("zendesk.integration.json"),
    _oauth2_integration(),
    _unauthenticated_integration(),
]
VALID_ACTIONS = [_example("zendesk.create_ticket.action.json")]

validate_registered_action: Validator = partial(validate_action, providers={"zendesk"})

KINDS = [
    pytest.param(validate_integration, VALID_INTEGRATIONS, id="integration"),
    pytest.param(validate_registered_action, VALID_ACTIONS, id="action"),
]
VALIDATORS = [
    pytest.param(validate_integration, id="integration"),
    pytest.param(validate_registered_action, id="action"),
]


# --- random JSON -------------------------------------------------------------------------------

# Keys and strings the rules react to, so random damage reaches the cross-key checks.
KNOWN_KEYS = sorted(
    {
        *IntegrationConfiguration.model_fields,
        *AuthenticationField.model_fields,
        *OAuth2Configuration.model_fields,
        *ActionConfiguration.model_fields,
        *ActionInput.model_fields,
        "account",
        "email",
        "subject",
        "[key]",
    }
)
TELLING_STRINGS = [
    "",
    " ",
    "none",
    "custom",
    "oauth2",
    "input",
    "default",
    "auth_validation",
    "oauth",
    "true",
    "zendesk",
    "account",
    "subject",
    "ticket",
    "ZENDESK_SECRET",
    "https://example.com/x",
    "ftp://example.com/x",
    "http://[::1",
    "{{account}}",
    "https://{{account}}.zendesk.com",
    "{{",
    "}}",
    "{{}}",
    "[key]",
]

keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(TELLING_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


# --- damaging a document -----------------------------------------------------------------------


def _locations(value: Any, prefix: Location = ()) -> Iterator[Location]:
    """Every location in `value`, the root `()` included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _locations(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _locations(item, (*prefix, index))


def _at(document: Any, location: Location) -> Any:
    for part in location:
        document = document[part]
    return document


def _replaced(document: Any, location: Location, value: Any) -> Any:
    if not location:
        return value
    _at(document, location[:-1])[location[-1]] = value
    return document


def _any_location(draw: st.DrawFn, document: Any) -> Location:
    return draw(st.sampled_from(list(_locations(document))))


def _location_holding(
    draw: st.DrawFn, document: Any, holds: Callable[[Any], bool]
) -> Location | None:
    """A location whose value `holds`, or None if there is none."""
    found = [location for location in _locations(document) if holds(_at(document, location))]
    return draw(st.sampled_from(found)) if found else None


def _container_location(draw: st.DrawFn, document: Any, kind: type) -> Location | None:
    """A location holding a non-empty `kind` (dict or list), or None if there is none."""
    return _location_holding(draw, document, lambda value: isinstance(value, kind) and bool(value))


def delete_key(draw: st.DrawFn, document: Any) -> Any:
    location = _container_location(draw, document, dict)
    if location is not None:
        parent = _at(document, location)
        del parent[draw(st.sampled_from(list(parent)))]
    return document


def add_key(draw: st.DrawFn, document: Any) -> Any:
    location = _container_location(draw, document, dict)
    if location is not None:
        _at(document, location)[draw(keys)] = draw(json_values)
    return document


def rename_key(draw: st.DrawFn, document: Any) -> Any:
    location = _container_location(draw, document, dict)
    if location is None:
        return document
    parent = _at(document, location)
    old, new = draw(st.sampled_from(list(parent))), draw(keys)
    renamed = {(new if key == old else key): value for key, value in parent.items()}
    return _replaced(document, location, renamed)


def replace_value(draw: st.DrawFn, document: Any) -> Any:
    return _replaced(document, _any_location(draw, document), draw(json_values))


def wrap_in_list(draw: st.DrawFn, document: Any) -> Any:
    location = _any_location(draw, document)
    return _replaced(document, location, [_at(document, location)])


def _other_type(value: Any) -> list[Any]:
    """Values like `value` in a different JSON type: "true" for true, an array for an object."""
    if isinstance(value, bool):
        return [str(value).lower(), int(value), None]
    if isinstance(value, int | float):
        return [str(value), bool(value), [value]]
    if isinstance(value, str):
        return [value == "true", len(value), [value], {value: value}]
    if isinstance(value, list):
        return [dict(enumerate(map(str, value))), len(value), json.dumps(value)]
    if isinstance(value, dict):
        return [list(value.values()), list(value.items()), json.dumps(value)]
    return ["null", "", 0, False, [], {}]


def swap_type(draw: st.DrawFn, document: Any) -> Any:
    location = _any_location(draw, document)
    return _replaced(
        document, location, draw(st.sampled_from(_other_type(_at(document, location))))
    )


def nest_deeply(draw: st.DrawFn, document: Any) -> Any:
    location = _any_location(draw, document)
    value = _at(document, location)
    for wrapper in draw(st.lists(st.sampled_from(["list", "dict"]), min_size=10, max_size=150)):
        value = [value] if wrapper == "list" else {draw(keys): value}
    return _replaced(document, location, value)


def duplicate_element(draw: st.DrawFn, document: Any) -> Any:
    location = _container_location(draw, document, list)
    if location is not None:
        items = _at(document, location)
        items.insert(draw(st.integers(0, len(items))), copy.deepcopy(draw(st.sampled_from(items))))
    return document


def flip_boolean(draw: st.DrawFn, document: Any) -> Any:
    location = _location_holding(draw, document, lambda value: isinstance(value, bool))
    if location is None:
        return document
    return _replaced(document, location, not _at(document, location))


def retext(draw: st.DrawFn, document: Any) -> Any:
    location = _location_holding(draw, document, lambda value: isinstance(value, str))
    if location is None:
        return document
    return _replaced(document, location, draw(st.text(min_size=1).filter(str.strip)))


def reorder_keys(draw: st.DrawFn, document: Any) -> Any:
    location = _container_location(draw, document, dict)
    if location is None:
        return document
    parent = _at(document, location)
    reordered = {key: parent[key] for key in draw(st.permutations(list(parent)))}
    return _replaced(document, location, reordered)


# Changes that often keep a document valid, so that accepted documents come up often.
GENTLE_MUTATIONS: list[Mutation] = [flip_boolean, retext, reorder_keys, delete_key]

MUTATIONS: list[Mutation] = [
    *GENTLE_MUTATIONS,
    add_key,
    rename_key,
    replace_value,
    wrap_in_list,
    swap_type,
    nest_deeply,
    duplicate_element,
]


@st.composite
def mutated(
    draw: st.DrawFn, valid_documents: list[dict[str, Any]], mutations: list[Mutation]
) -> Any:
    """One of `valid_documents` after one to four of `mutations`."""
    document: Any = copy.deepcopy(draw(st.sampled_from(valid_documents)))
    for mutation in draw(st.lists(st.sampled_from(mutations), min_size=1, max_size=4)):
        document = mutation(draw, document)
    return document


def damaged(valid_documents: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return mutated(valid_documents, MUTATIONS)


def gently_changed(valid_documents: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return mutated(valid_documents, GENTLE_MUTATIONS)


# --- outcomes ----------------------------------------------------------------------------------


def outcome(validate: Validator, document: Any) -> BaseModel | list[Problem]:
    try:
        return validate(document)
    except InvalidConfiguration as error:
        return error.problems


def assert_explained(result: BaseModel | list[Problem], document: Any) -> None:
    """A refusal lists at least one distinct problem, each with a path and a sentence."""
    if isinstance(result, BaseModel):
        return
    assert result, "refused without a problem"
    for problem in result:
        assert isinstance(problem, Problem)
        assert isinstance(problem.path, str)
        assert isinstance(problem.message, str)
        assert problem.message.strip()
    assert len(set(result)) == len(result), "a problem is listed twice"
    if isinstance(document, dict):
        assert all(problem.path for problem in result), "an object's problem lost its path"
    else:
        assert [problem.path for problem in result] == [""]


# --- properties --------------------------------------------------------------------------------


@pytest.mark.parametrize(("validate", "valid_documents"), KINDS)
@property_settings
@given(data=st.data())
def test_damaged_document_is_accepted_or_explained(
    validate: Validator, valid_documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    document = data.draw(damaged(valid_documents))
    before = copy.deepcopy(document)

    result = outcome(validate, document)

    assert_explained(result, document)
    assert document == before, "validation changed the document"


@pytest.mark.parametrize("validate", VALIDATORS)
@property_settings
@given(document=json_values)
def test_any_json_value_is_accepted_or_explained(validate: Validator, document: Any) -> None:
    assert_explained(outcome(validate, document), document)


@pytest.mark.parametrize(("validate", "valid_documents"), KINDS)
@property_settings
@given(data=st.data())
def test_validation_is_deterministic(
    validate: Validator, valid_documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    document = data.draw(damaged(valid_documents))

    assert outcome(validate, document) == outcome(validate, copy.deepcopy(document))


@pytest.mark.parametrize(("validate", "valid_documents"), KINDS)
@property_settings
@given(data=st.data())
def test_accepted_document_round_trips(
    validate: Validator, valid_documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    document = data.draw(gently_changed(valid_documents) | damaged(valid_documents))
    result = outcome(validate, document)
    if not isinstance(result, BaseModel):
        return

    dumped = result.model_dump(exclude_unset=True)

    # Strict validation keeps every value as given, so nothing is added or lost.
    assert dumped == document
    assert validate(dumped) == result


@property_settings
@given(document=damaged(VALID_ACTIONS))
def test_provider_registry_only_adds_provider_problems(document: Any) -> None:
    unchecked = outcome(validate_action, document)
    registered = outcome(partial(validate_action, providers=frozenset()), document)

    if isinstance(unchecked, BaseModel):
        unchecked = []
    assert isinstance(registered, list)
    extra = [problem for problem in registered if problem not in unchecked]
    assert all(problem in registered for problem in unchecked)
    provider = document.get("provider") if isinstance(document, dict) else None
    # A malformed provider is reported once, for its form; only a well-formed one is looked up.
    well_formed = isinstance(provider, str) and all(p.path != "provider" for p in unchecked)
    expected = [f'no integration named "{provider}" is registered'] if well_formed else []
    assert [problem.message for problem in extra] == expected
    assert all(problem.path == "provider" for problem in extra)
