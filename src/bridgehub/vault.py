"""Encryption at rest for every secret the hub keeps.

AES-256-GCM with a fresh 96-bit nonce per value. Each ciphertext names the key that
sealed it, so keys can rotate: the first key encrypts, every listed key decrypts. The
`context` (e.g. `integration:zendesk:client_secret`) is authenticated with the value,
so a ciphertext copied into another row or column fails to open instead of leaking.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridgehub.kit.redaction import known_secrets
from bridgehub.settings import Settings

_FORMAT = "v1"
_NONCE_BYTES = 12
KEY_FILE_NAME = "encryption-keys"


class VaultError(Exception):
    """A secret could not be sealed or opened; the message never contains the secret."""


@dataclass(frozen=True)
class EncryptionKey:
    id: str
    material: bytes

    def __post_init__(self) -> None:
        if len(self.material) != 32:
            raise VaultError(
                f"encryption key {self.id!r} must be 32 bytes (AES-256), not {len(self.material)}"
            )
        if not self.id or "." in self.id or ":" in self.id:
            raise VaultError(
                "an encryption key id must be non-empty and contain neither '.' nor ':'"
            )

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(id=secrets.token_hex(4), material=AESGCM.generate_key(bit_length=256))

    @classmethod
    def parse(cls, text: str) -> EncryptionKey:
        """Read `id:base64-key`, the form used in `BRIDGEHUB_ENCRYPTION_KEYS` and the key file."""
        key_id, separator, encoded = text.strip().partition(":")
        if not separator:
            raise VaultError("an encryption key must be written as id:base64-key")
        try:
            material = base64.urlsafe_b64decode(encoded.encode())
        except (binascii.Error, ValueError) as error:
            raise VaultError(f"encryption key {key_id!r} is not valid base64") from error
        return cls(id=key_id, material=material)

    def serialize(self) -> str:
        return f"{self.id}:{base64.urlsafe_b64encode(self.material).decode()}"


class Vault:
    def __init__(self, keys: list[EncryptionKey]) -> None:
        if not keys:
            raise VaultError("the vault needs at least one encryption key")
        self._current = keys[0]
        self._keys = {key.id: AESGCM(key.material) for key in keys}
        self._materials = {key.id: key.material for key in keys}

    @property
    def current_key_id(self) -> str:
        return self._current.id

    def derived_keys(self, purpose: str) -> dict[str, bytes]:
        """A 32-byte key for `purpose` derived (HKDF-SHA256) from each configured key, by key
        id, the current key's first: a purpose never uses the encryption keys themselves."""
        return {
            key_id: HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
            ).derive(material)
            for key_id, material in self._materials.items()
        }

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current.id].encrypt(nonce, plaintext.encode(), context.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_FORMAT}.{self._current.id}.{payload}"

    def reseal(self, token: str, *, context: str) -> str:
        """The same value sealed again under the current key (for key rotation)."""
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def decrypt(self, token: str, *, context: str) -> str:
        version, _, rest = token.partition(".")
        key_id, _, payload = rest.partition(".")
        if version != _FORMAT or not payload:
            raise VaultError("not a vault ciphertext")
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise VaultError(f"the value was sealed with key {key_id!r}, which is not configured")
        raw = base64.urlsafe_b64decode(payload.encode())
        try:
            sealed = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag as error:
            raise VaultError(
                f"the value does not open with key {key_id!r} in context {context!r}"
            ) from error
        plaintext = sealed.decode()
        # Whatever comes out of the vault is a secret the logs must never show.
        known_secrets.register(plaintext)
        return plaintext


def load_keys(configured: str | None, home: Path) -> list[EncryptionKey]:
    """Keys from `BRIDGEHUB_ENCRYPTION_KEYS` (comma-separated, newest first), or else from
    the key file in the data folder, which is created with one new key on first use."""
    if configured:
        return [EncryptionKey.parse(part) for part in configured.split(",") if part.strip()]
    key_file = home / KEY_FILE_NAME
    if not key_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two processes start at once, one writes the key and both use it.
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(EncryptionKey.generate().serialize() + "\n")
    return [EncryptionKey.parse(line) for line in key_file.read_text().splitlines() if line.strip()]


def add_key_to_file(home: Path) -> EncryptionKey:
    """Put a new key first in the data folder's key file: it seals from now on, and the
    older keys stay to open what they sealed."""
    existing = load_keys(None, home)
    key = EncryptionKey.generate()
    key_file = home / KEY_FILE_NAME
    replacement = key_file.with_suffix(".new")
    descriptor = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(k.serialize() + "\n" for k in [key, *existing])
    replacement.replace(key_file)
    return key


def vault_from_settings(settings: Settings) -> Vault:
    configured = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    return Vault(load_keys(configured, settings.home))
