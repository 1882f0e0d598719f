"""HTTP layer of webhooks."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from bridgehub.accounts.auth import AccountCaller
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime
from bridgehub.webhooks.schemas import (
    DeliveryList,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
)
from bridgehub.webhooks.service import webhook_service

router = APIRouter(prefix="/v1", tags=["webhooks"])


@router.post(
    "/webhooks",
    summary="Subscribe a URL to events; the answer holds the signing secret, shown once",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 422),
)
async def create_webhook(
    data: WebhookCreate, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> WebhookCreated:
    subscription, secret = await webhook_service.create(session, runtime, account, data)
    return WebhookCreated(**WebhookRead.from_row(subscription).model_dump(), secret=secret)


@router.get("/webhooks", summary="List webhook subscriptions", responses=error_responses(401, 403))
async def list_webhooks(account: AccountCaller, session: DbSession) -> WebhookList:
    subscriptions = await webhook_service.list(session, account)
    return WebhookList(items=[WebhookRead.from_row(s) for s in subscriptions])


@router.delete(
    "/webhooks/{webhook_id}",
    summary="Delete a webhook subscription and its deliveries",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def delete_webhook(
    webhook_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> Response:
    await webhook_service.delete(session, account, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="The latest 100 deliveries of a subscription, newest first, with every attempt",
    responses=error_responses(401, 403, 404),
)
async def list_deliveries(
    webhook_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> DeliveryList:
    return DeliveryList(items=await webhook_service.deliveries(session, account, webhook_id))


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery again now, with the same webhook-id",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404),
)
async def redeliver(delivery_id: uuid.UUID, account: AccountCaller, session: DbSession) -> Response:
    await webhook_service.redeliver(session, account, delivery_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)
