"""HTTP layer of interactions, and of the caller-ID lookup that fetches them ahead."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from bridgehub.accounts.auth import AccountCaller
from bridgehub.contacts.schemas import LookupAnswer, LookupMatch
from bridgehub.contacts.service import contact_service
from bridgehub.db.session import DbSession, release_connection
from bridgehub.interactions.schemas import InteractionsAnswer
from bridgehub.interactions.service import interaction_service
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime

router = APIRouter(prefix="/v1", tags=["interactions"])
# Here rather than with the contact store: a lookup finding one person fetches that caller's
# interactions ahead of the screen pop.
lookup_router = APIRouter(prefix="/v1", tags=["contacts"])


@router.get(
    "/contacts/{contact_id}/interactions",
    summary="A contact's interactions from every connected system, newest first",
    responses=error_responses(401, 403, 404),
)
async def contact_interactions(
    contact_id: uuid.UUID, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> InteractionsAnswer:
    return await interaction_service.for_contact(session, runtime, account, contact_id)


@lookup_router.get(
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
    callers = (await contact_service.identify(session, account, phone)).callers
    # Background tasks run before the request's session closes, and a prefetch holding a
    # second connection per lookup exhausts the pool.
    await release_connection(session)
    answer = LookupAnswer.of(
        [LookupMatch.of(each.contact, each.integration, each.match) for each in callers]
    )
    if len(answer.people) == 1:
        # One caller, in however many systems: fetch the history of their best record (the
        # one the screen pop shows, gathered from every system) now, so it shows at once.
        best = answer.people[0].contact_ids[0]
        caller = next(each.contact for each in callers if each.contact.id == best)
        background.add_task(interaction_service.prefetch, runtime, account, caller)
    return answer
