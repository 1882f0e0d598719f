"""Webhooks: the account's subscriptions, a new one (its secret shown once, on the page that
answers its creation), deleting one, and a subscription's deliveries with every attempt and
a button to send one again."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.db.session import DbSession
from bridgehub.events.models import EventType
from bridgehub.kit.errors import HubError
from bridgehub.kit.messages import plain_message
from bridgehub.runtime import HubRuntime
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.templating import Flash, render, see_other
from bridgehub.webhooks.schemas import WebhookCreate
from bridgehub.webhooks.service import webhook_service

router = APIRouter()
nav.register("Webhooks", "webhooks", position=70, audience="account")


@router.get("/webhooks", name="webhooks")
async def webhooks(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    return await _index(request, session, account_of(operator))


@router.post("/webhooks")
async def create_webhook(
    request: Request, operator: SignedInAccount, session: DbSession, runtime: HubRuntime
) -> Response:
    account = account_of(operator)
    form = await request.form()
    url = str(form.get("url", ""))
    events = [str(event) for event in form.getlist("events")]
    try:
        data = WebhookCreate.model_validate({"url": url, "events": events})
        subscription, secret = await webhook_service.create(session, runtime, account, data)
    except (ValidationError, HubError) as problem:
        await session.rollback()
        refused = {"url": url, "chosen": events, "error": _message(problem)}
        return await _index(request, session, account, refused, status_code=422)
    created = {"created": subscription, "secret": secret}
    return await _index(request, session, account, created, status_code=201)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(
    request: Request, webhook_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    await webhook_service.delete(session, account_of(operator), webhook_id)
    return see_other(
        request, request.app.url_path_for("webhooks"), Flash("success", "Webhook deleted.")
    )


@router.get("/webhooks/{webhook_id}", name="webhook_deliveries")
async def deliveries(
    request: Request, webhook_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    subscription = await webhook_service.get(session, account, webhook_id)
    listed = await webhook_service.deliveries(session, account, webhook_id)
    context = {"subscription": subscription, "deliveries": listed}
    return render(request, "webhooks/deliveries.html", context)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    operator: SignedInAccount,
    session: DbSession,
) -> Response:
    await webhook_service.redeliver(session, account_of(operator), delivery_id)
    page = request.app.url_path_for("webhook_deliveries", webhook_id=str(webhook_id))
    return see_other(request, page, Flash("success", "Delivery queued again."))


async def _index(
    request: Request,
    session: AsyncSession,
    account: Account,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    subscriptions = await webhook_service.list(session, account)
    page = {"subscriptions": subscriptions, "event_types": list(EventType), **(context or {})}
    return render(request, "webhooks/index.html", page, status_code=status_code)


def _message(problem: ValidationError | HubError) -> str:
    if isinstance(problem, HubError):
        return str(problem)
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'form'}: {plain_message(e)}" for e in problem.errors()
    )
