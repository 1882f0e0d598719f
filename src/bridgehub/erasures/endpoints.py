"""HTTP layer of erasures."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from bridgehub.accounts.auth import AccountCaller
from bridgehub.db.session import DbSession
from bridgehub.erasures.schemas import ErasureCreate, ErasureList, ErasureRead
from bridgehub.erasures.service import erasure_service
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime

router = APIRouter(prefix="/v1", tags=["erasures"])


@router.post(
    "/erasures",
    summary="Erase a person by phone or e-mail address, and keep them out of later syncs",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 422),
)
async def create_erasure(
    data: ErasureCreate, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ErasureRead:
    return ErasureRead.from_row(await erasure_service.erase(session, runtime, account, data))


@router.get("/erasures", summary="List erasures", responses=error_responses(401, 403))
async def list_erasures(account: AccountCaller, session: DbSession) -> ErasureList:
    erasures = await erasure_service.list(session, account)
    return ErasureList(items=[ErasureRead.from_row(erasure) for erasure in erasures])


@router.delete(
    "/erasures/{erasure_id}",
    summary="Lift an erasure: the identifier is no longer kept out",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def lift_erasure(
    erasure_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> Response:
    await erasure_service.lift(session, account, erasure_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
