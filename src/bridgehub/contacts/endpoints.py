"""HTTP layer of the contact store, synchronization and caller-ID lookup."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status

from bridgehub.accounts.auth import AccountCaller
from bridgehub.activations.service import activation_service
from bridgehub.contacts import sync
from bridgehub.contacts.schemas import (
    ContactList,
    ContactRead,
    LookupAnswer,
    SyncRequest,
    SyncRunList,
    SyncRunRead,
    SyncStarted,
)
from bridgehub.contacts.service import ContactRow, contact_service
from bridgehub.db.session import DbSession
from bridgehub.interactions.service import interaction_service
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime

router = APIRouter(prefix="/v1", tags=["contacts"])


def _read(row: ContactRow) -> ContactRead:
    contact, integration = row
    return ContactRead(
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


@router.post(
    "/activations/{activation_id}/sync",
    summary="Synchronize contacts or agents now",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def request_sync(
    activation_id: uuid.UUID, data: SyncRequest, account: AccountCaller, session: DbSession
) -> SyncStarted:
    activation = await activation_service.get(session, account, activation_id)
    run = await sync.request(session, activation, data.what, trigger="manual")
    return SyncStarted(run_id=run.id, status=run.status)


@router.get(
    "/sync-runs/{run_id}",
    summary="A sync run's progress and outcome",
    responses=error_responses(401, 403, 404),
)
async def get_sync_run(
    run_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> SyncRunRead:
    return SyncRunRead.model_validate(await contact_service.run(session, account, run_id))


@router.get(
    "/sync-runs", summary="Recent sync runs, newest first", responses=error_responses(401, 403)
)
async def list_sync_runs(
    account: AccountCaller,
    session: DbSession,
    activation_id: Annotated[
        uuid.UUID | None, Query(description="Only this activation's runs.")
    ] = None,
) -> SyncRunList:
    runs = await contact_service.runs(session, account, activation_id)
    return SyncRunList(items=[SyncRunRead.model_validate(run) for run in runs])


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
    return ContactList(items=[_read(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/contacts/{contact_id}", summary="Get a contact", responses=error_responses(401, 403, 404)
)
async def get_contact(
    contact_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> ContactRead:
    return _read(await contact_service.get(session, account, contact_id))


@router.get(
    "/lookup",
    summary="Who is calling? Caller-ID lookup by phone number",
    responses=error_responses(401, 403, 422),
)
async def lookup(
    account: AccountCaller,
    session: DbSession,
    runtime: HubRuntime,
    background: BackgroundTasks,
    phone: Annotated[
        str, Query(min_length=1, description="The caller's number, written any usual way.")
    ],
) -> LookupAnswer:
    matches = await contact_service.lookup(session, account, phone)
    # Give the connection back now: background tasks run before the request's session
    # closes, and a prefetch holding a second connection per lookup exhausts the pool.
    await session.commit()
    if len(matches) == 1:
        # One caller: fetch their history now, so the screen pop shows it at once.
        background.add_task(interaction_service.prefetch, runtime, account, matches[0][0].id)
    return LookupAnswer(matches=[_read(row) for row in matches])
