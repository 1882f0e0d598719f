"""Erasure digests: keyed, never the identifier, and still matching after a key rotation."""

from __future__ import annotations

from bridgehub.erasures.digests import current_digest, every_digest
from bridgehub.erasures.models import IdentifierKind
from bridgehub.vault import EncryptionKey, Vault

PHONE = (IdentifierKind.PHONE, "+14155550142")


def test_an_erasure_made_under_an_older_key_matches_while_that_key_is_configured() -> None:
    old, new = EncryptionKey.generate(), EncryptionKey.generate()
    made = current_digest(Vault([old]), *PHONE)
    assert made[0] == old.id
    assert made in every_digest(Vault([new, old]), [PHONE])
    assert made not in every_digest(Vault([new]), [PHONE])


def test_a_digest_depends_on_the_key_and_the_kind_and_hides_the_identifier() -> None:
    vault = Vault([EncryptionKey.generate()])
    key_id, digest = current_digest(vault, *PHONE)
    assert "4155550142" not in digest
    assert digest != current_digest(Vault([EncryptionKey.generate()]), *PHONE)[1]
    assert digest != current_digest(vault, IdentifierKind.EMAIL, PHONE[1])[1]
    assert every_digest(vault, [PHONE]) == {(key_id, digest): PHONE}
