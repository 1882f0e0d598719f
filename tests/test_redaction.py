"""The log scrubber: registered values, secret-sounding keys and secret query parameters."""

from __future__ import annotations

from bridgehub.kit.redaction import REDACTED, SecretRegistry


def test_registered_values_are_removed_wherever_they_appear() -> None:
    registry = SecretRegistry()
    registry.register("hunter2-secret", {"nested": ["tok-abcdef"]})
    scrubbed = registry.scrub_value(
        {"event": "login with hunter2-secret", "items": ["x tok-abcdef y"]}
    )
    assert scrubbed == {"event": f"login with {REDACTED}", "items": [f"x {REDACTED} y"]}


def test_a_secret_containing_another_is_removed_whole() -> None:
    registry = SecretRegistry()
    registry.register("abcdefgh", "abcdefgh-longer")
    assert registry.scrub("abcdefgh-longer and abcdefgh") == f"{REDACTED} and {REDACTED}"


def test_short_values_are_not_treated_as_secrets() -> None:
    registry = SecretRegistry()
    registry.register("eu", "abc")
    assert registry.scrub("region eu abc") == "region eu abc"


def test_values_under_secret_sounding_keys_are_hidden() -> None:
    registry = SecretRegistry()
    event = {
        "authorization": "Bearer x",
        "client_secret": "s",
        "refresh_token": "r",
        "auth": {"a": 1},
        "user": "ann",
    }
    assert registry.scrub_value(event) == {
        "authorization": REDACTED,
        "client_secret": REDACTED,
        "refresh_token": REDACTED,
        "auth": REDACTED,
        "user": "ann",
    }


def test_secret_query_parameters_are_hidden() -> None:
    registry = SecretRegistry()
    assert registry.scrub("GET /cb?state=abc&code=xyz&next=/home") == (
        f"GET /cb?state={REDACTED}&code={REDACTED}&next=/home"
    )


def test_the_registry_is_bounded() -> None:
    registry = SecretRegistry()
    registry.register(*(f"secret-{n:06d}" for n in range(50_010)))
    assert registry.scrub("secret-000000") == "secret-000000"
    assert registry.scrub("secret-050009") == REDACTED
