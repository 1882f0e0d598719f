"""Opaque offsets and checkpoints: what a codec gives comes back; anything else is refused
with a 400 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from bridgehub.sdk import InvalidState, RequestRefused, StateCodec


class Position(BaseModel):
    changed_at: datetime
    id: int


class Renamed(BaseModel):
    """What Position became in a later version of the bridge."""

    changed_at: datetime
    contact_id: int


POSITION = Position(changed_at=datetime(2024, 5, 1, 10, tzinfo=UTC), id=42)
CODEC = StateCodec(Position, secret="s3cret", purpose="position")


def refusal(value: str, codec: StateCodec[Position] = CODEC) -> str:
    with pytest.raises(InvalidState) as refused:
        codec.decode(value, field="meta.offset")
    return refused.value.message


def test_a_state_comes_back_as_it_was_encoded() -> None:
    token = CODEC.encode(POSITION)

    assert CODEC.decode(token) == POSITION
    assert token.isascii()
    assert " " not in token
    assert CODEC.decode_optional(None) is None
    assert CODEC.decode_optional(token) == POSITION


def test_a_refusal_is_a_400_naming_the_field() -> None:
    refused = InvalidState("x")

    assert isinstance(refused, RequestRefused)
    assert refused.status_code == 400
    assert (
        refusal("3")
        == "meta.offset is not a value this bridge gave: it is not in this bridge's format."
    )


def test_an_edited_payload_or_signature_is_refused() -> None:
    version, payload, signature = CODEC.encode(POSITION).split(".")
    other_payload = CODEC.encode(POSITION.model_copy(update={"id": 43})).split(".")[1]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    assert "signature does not match" in refusal(f"{version}.{other_payload}.{signature}")
    assert "signature does not match" in refusal(f"{version}.{payload}.{flipped}")
    assert "signature does not match" in refusal(f"{version}.{payload}.{signature[:-4]}")


def test_another_secret_or_purpose_does_not_decode() -> None:
    token = CODEC.encode(POSITION)

    assert "signature" in refusal(token, StateCodec(Position, secret="other", purpose="position"))
    assert "signature" in refusal(
        token, StateCodec(Position, secret="s3cret", purpose="checkpoint")
    )
    assert "signature" in refusal(token, StateCodec(Position, purpose="position"))


def test_without_a_secret_values_are_still_checked() -> None:
    codec = StateCodec(Position)
    token = codec.encode(POSITION)

    assert codec.decode(token) == POSITION
    version, _, signature = token.split(".")
    edited = codec.encode(POSITION.model_copy(update={"id": 1})).split(".")[1]
    assert "signature" in refusal(f"{version}.{edited}.{signature}", codec)
    assert "signature" in refusal(CODEC.encode(POSITION), codec)


def test_a_state_that_no_longer_fits_its_model_is_refused() -> None:
    old = StateCodec(Position, secret="s3cret", purpose="position")
    new = StateCodec(Renamed, secret="s3cret", purpose="position")

    with pytest.raises(InvalidState, match=r"no longer reads as a state: contact_id: is required"):
        new.decode(old.encode(POSITION), field="meta.synchronization_checkpoint")


@pytest.mark.parametrize(
    "value",
    ["", "s1", "s1.!!.!!", "s2.e30.AAAA", "s1.e30", "s1.e30.AAAA.AAAA", "s1.é.AAAA",
     "s1." + "A" * 5000 + ".AAAA", "2024-05-01T10:00:00Z"],
)  # fmt: skip
def test_garbage_is_refused_as_not_in_the_format(value: str) -> None:
    assert refusal(value).endswith("it is not in this bridge's format.")


@given(st.text(max_size=300))
def test_no_text_but_the_codecs_own_decodes(value: str) -> None:
    with pytest.raises(InvalidState):
        CODEC.decode(value)
