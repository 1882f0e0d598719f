"""HTTP layer of the contact store."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from bridgehub.accounts.auth import AccountCaller
from bridgehub.contacts.schemas import ContactList, ContactRead
from bridgehub.contacts.service import contact_service
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses

router = APIRouter(prefix="/v1", tags=["contacts"])


@router.get(
    "/contacts", summary="List and search contacts", responses=error_responses(401, 403, 422)
)
async def list_contacts(
    account: AccountCaller,
    session: DbSession,
    q: Annotated[str | None, Query(description="Words starting the name or company.")] = None,
    email: str | None = None,
    phone: Annotated[
        str | None, Query(description="A phone number, written any usual way.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ContactList:
    rows, next_cursor = await contact_service.list(
        session, account, query=q, email=email, phone=phone, limit=limit, cursor=cursor
    )
    return ContactList(items=[ContactRead.from_row(*row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/contacts/{contact_id}", summary="Get a contact", responses=error_responses(401, 403, 404)
)
async def get_contact(
    contact_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> ContactRead:
    return ContactRead.from_row(*await contact_service.get(session, account, contact_id))
