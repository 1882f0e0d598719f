"""API shapes of contacts and caller-ID lookups."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from bridgehub.contacts.models import Contact
from bridgehub.contacts.people import Identity, group_people
from bridgehub.contacts.phones import Match, MatchWord


class ContactRead(BaseModel):
    id: uuid.UUID
    activation_id: uuid.UUID
    integration: str
    external_id: str
    name: str
    company: str | None
    title: str | None
    emails: list[str]
    phones: list[str] = Field(
        description="E.164 where the number could be read, otherwise as received."
    )
    photo_url: str | None
    address: str | None
    websites: list[str]
    twitter: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, contact: Contact, integration: str) -> ContactRead:
        return cls(
            id=contact.id,
            activation_id=contact.activation_id,
            integration=integration,
            external_id=contact.external_id,
            name=contact.name,
            company=contact.company,
            title=contact.title,
            emails=contact.emails,
            phones=[phone["e164"] or phone["raw"] for phone in contact.phones],
            photo_url=contact.photo_url,
            address=contact.address,
            websites=contact.websites,
            twitter=contact.twitter,
            updated_at=contact.updated_at,
        )


class ContactList(BaseModel):
    items: list[ContactRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class PersonRead(BaseModel):
    """Contacts of several integrations that are one person."""

    name: str = Field(description="The name of the person's best match.")
    contact_ids: list[uuid.UUID] = Field(description="Their contacts, best match first.")
    integrations: list[str] = Field(
        description="The integrations holding them, in the order of `contact_ids`, each once."
    )


class LookupMatch(ContactRead):
    match: MatchWord = Field(
        description="How the number matched: `exact` (the same number, country code "
        "included), `national` (the same national number, written without its country code "
        "on one side) or `partial` (one number ends with the other)."
    )

    @classmethod
    def of(cls, contact: Contact, integration: str, match: Match) -> LookupMatch:
        return cls(**ContactRead.from_row(contact, integration).model_dump(), match=match.word)


class LookupAnswer(BaseModel):
    matches: list[LookupMatch] = Field(
        description="Best match first: exact numbers, then the same line written otherwise."
    )
    people: list[PersonRead] = Field(
        description="The matches grouped into persons, best first: contacts of different "
        "integrations sharing an email address or a name (compared without case, accents "
        "or extra spaces) are one person."
    )

    @classmethod
    def of(cls, matches: list[LookupMatch]) -> LookupAnswer:
        identities = [Identity(each.name, each.emails, each.integration) for each in matches]
        people = [[matches[position] for position in group] for group in group_people(identities)]
        return cls(
            matches=matches,
            people=[
                PersonRead(
                    name=person[0].name,
                    contact_ids=[each.id for each in person],
                    integrations=list(dict.fromkeys(each.integration for each in person)),
                )
                for person in people
            ],
        )
