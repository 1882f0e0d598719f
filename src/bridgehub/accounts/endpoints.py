"""HTTP layer of accounts and their keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from bridgehub.accounts.auth import AdminCaller, AnyCaller
from bridgehub.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountKeyCreated,
    AccountKeyList,
    AccountKeyRead,
    AccountList,
    AccountRead,
    AccountUpdate,
)
from bridgehub.accounts.service import account_service
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post(
    "",
    summary="Create an account",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_account(data: AccountCreate, _: AdminCaller, session: DbSession) -> AccountCreated:
    account, key = await account_service.create(session, data)
    return AccountCreated.model_validate(
        {**AccountRead.model_validate(account).model_dump(), "api_key": key}
    )


@router.get(
    "", summary="List accounts (an account key sees its own)", responses=error_responses(401)
)
async def list_accounts(caller: AnyCaller, session: DbSession) -> AccountList:
    accounts = await account_service.list(session, caller)
    return AccountList(items=[AccountRead.model_validate(a) for a in accounts])


@router.get("/{account_id}", summary="Get an account", responses=error_responses(401, 404))
async def get_account(account_id: uuid.UUID, caller: AnyCaller, session: DbSession) -> AccountRead:
    return AccountRead.model_validate(await account_service.get(session, caller, account_id))


@router.patch(
    "/{account_id}",
    summary="Change an account",
    responses=error_responses(400, 401, 404, 409, 422),
)
async def update_account(
    account_id: uuid.UUID, data: AccountUpdate, caller: AnyCaller, session: DbSession
) -> AccountRead:
    return AccountRead.model_validate(
        await account_service.update(session, caller, account_id, data)
    )


@router.delete(
    "/{account_id}",
    summary="Delete an account and everything it holds",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def delete_account(account_id: uuid.UUID, _: AdminCaller, session: DbSession) -> Response:
    await account_service.delete(session, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{account_id}/keys", summary="List an account's keys", responses=error_responses(401, 404)
)
async def list_keys(account_id: uuid.UUID, caller: AnyCaller, session: DbSession) -> AccountKeyList:
    keys = await account_service.list_keys(session, caller, account_id)
    return AccountKeyList(items=[AccountKeyRead.model_validate(k) for k in keys])


@router.post(
    "/{account_id}/keys",
    summary="Create another key for an account",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 404),
)
async def create_key(
    account_id: uuid.UUID, caller: AnyCaller, session: DbSession
) -> AccountKeyCreated:
    key, secret = await account_service.create_key(session, caller, account_id)
    return AccountKeyCreated.model_validate(
        {**AccountKeyRead.model_validate(key).model_dump(), "api_key": secret}
    )


@router.delete(
    "/{account_id}/keys/{key_id}",
    summary="Revoke a key",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, 409),
)
async def revoke_key(
    account_id: uuid.UUID, key_id: uuid.UUID, caller: AnyCaller, session: DbSession
) -> Response:
    await account_service.revoke_key(session, caller, account_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
