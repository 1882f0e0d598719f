"""Encryption at rest: AES-256-GCM, context-bound, with key rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bridgehub.vault import KEY_FILE_NAME, EncryptionKey, Vault, VaultError, load_keys


def test_a_sealed_value_opens_only_in_its_context() -> None:
    vault = Vault([EncryptionKey.generate()])
    sealed = vault.encrypt("s3cr3t", context="integration:crm:client_secret")
    assert "s3cr3t" not in sealed
    assert vault.decrypt(sealed, context="integration:crm:client_secret") == "s3cr3t"
    with pytest.raises(VaultError, match="does not open"):
        vault.decrypt(sealed, context="integration:other:client_secret")


def test_each_sealing_uses_a_fresh_nonce() -> None:
    vault = Vault([EncryptionKey.generate()])
    assert vault.encrypt("same", context="c") != vault.encrypt("same", context="c")


def test_old_keys_still_open_what_they_sealed_after_rotation() -> None:
    old, new = EncryptionKey.generate(), EncryptionKey.generate()
    sealed_before = Vault([old]).encrypt("value", context="c")
    rotated = Vault([new, old])
    assert rotated.decrypt(sealed_before, context="c") == "value"
    assert f".{new.id}." in rotated.encrypt("value", context="c")
    with pytest.raises(VaultError, match="not configured"):
        Vault([new]).decrypt(sealed_before, context="c")


def test_a_tampered_ciphertext_is_refused() -> None:
    vault = Vault([EncryptionKey.generate()])
    sealed = vault.encrypt("value", context="c")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(VaultError):
        vault.decrypt(tampered, context="c")
    with pytest.raises(VaultError, match="not a vault ciphertext"):
        vault.decrypt("plain text", context="c")


def test_keys_from_the_environment_are_used_in_order() -> None:
    first, second = EncryptionKey.generate(), EncryptionKey.generate()
    keys = load_keys(f"{first.serialize()}, {second.serialize()}", Path("/nonexistent"))
    assert [key.id for key in keys] == [first.id, second.id]


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ("no-separator", "id:base64-key"),
        ("k1:c2hvcnQ=", "must be 32 bytes"),
        ("k1:!!!not base64!!!", "not valid base64"),
    ],
)
def test_malformed_keys_are_explained(configured: str, message: str) -> None:
    with pytest.raises(VaultError, match=message):
        load_keys(configured, Path("/nonexistent"))


def test_without_configured_keys_a_private_key_file_is_created_once(tmp_path: Path) -> None:
    keys = load_keys(None, tmp_path)
    key_file = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_keys(None, tmp_path) == keys
