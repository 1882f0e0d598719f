"""Keyed digests of identifiers: what an erasure keeps instead of the phone or address.

The digest is HMAC-SHA256 under a key derived from an encryption key of the vault, so that
without the keys a digest cannot be tested against a list of numbers (a plain hash of a
phone number is reversed by trying every number). Each erasure names the key it used, and a
check computes digests under every configured key: erasures keep matching after a new key is
put first, as long as the key they were made under is still configured."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from bridgehub.erasures.models import IdentifierKind
from bridgehub.vault import Vault

_PURPOSE = "bridgehub erasure digest"


def current_digest(vault: Vault, kind: IdentifierKind, identifier: str) -> tuple[str, str]:
    """(key id, digest) of a normalized identifier under the current key."""
    key_id, key = next(iter(vault.derived_keys(_PURPOSE).items()))
    return key_id, _digest(key, kind, identifier)


def every_digest(
    vault: Vault, identifiers: Iterable[tuple[IdentifierKind, str]]
) -> dict[tuple[str, str], tuple[IdentifierKind, str]]:
    """Each normalized identifier's digest under every configured key, as
    {(key id, digest): identifier}."""
    keys = vault.derived_keys(_PURPOSE)
    return {
        (key_id, _digest(key, kind, identifier)): (kind, identifier)
        for kind, identifier in set(identifiers)
        for key_id, key in keys.items()
    }


def _digest(key: bytes, kind: IdentifierKind, identifier: str) -> str:
    # The kind is part of the message: a phone and an address never share a digest.
    return hmac.new(key, f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()
