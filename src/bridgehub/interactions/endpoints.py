"""HTTP layer of interactions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from bridgehub.accounts.auth import AccountCaller
from bridgehub.db.session import DbSession
from bridgehub.interactions.schemas import InteractionsAnswer
from bridgehub.interactions.service import interaction_service
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime

router = APIRouter(prefix="/v1", tags=["interactions"])


@router.get(
    "/contacts/{contact_id}/interactions",
    summary="A contact's interactions from every connected system, newest first",
    responses=error_responses(401, 403, 404),
)
async def contact_interactions(
    contact_id: uuid.UUID, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> InteractionsAnswer:
    return await interaction_service.for_contact(session, runtime, account, contact_id)
