"""API shapes of accounts and their keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)


def _known_region(region: str) -> str:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"{region!r} is not a country code phone numbers are known for (e.g. US, GB, PT)"
        )
    return region


Region = Annotated[
    str,
    StringConstraints(to_upper=True, min_length=2, max_length=2),
    AfterValidator(_known_region),
    # Documented as the codes themselves, which the API also takes in lower case.
    WithJsonSchema({"type": "string", "enum": sorted(phonenumbers.SUPPORTED_REGIONS)}),
]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    default_region: Region = Field(
        default="US",
        description="ISO 3166 country code for phone numbers written without one.",
    )


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    default_region: Region | None = None


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    default_region: str
    created_at: datetime


class AccountCreated(AccountRead):
    api_key: str = Field(
        description="The account's API key. Shown only in this answer: store it now."
    )


class AccountList(BaseModel):
    items: list[AccountRead]


class AccountKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    hint: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime


class AccountKeyCreated(AccountKeyRead):
    api_key: str = Field(description="The new key. Shown only in this answer.")


class AccountKeyList(BaseModel):
    items: list[AccountKeyRead]
