"""The Zendesk bridge: Zendesk's end-users as contacts, its agents and admins as agents,
the tickets a contact requested as interactions, and `create_ticket`, over Zendesk's REST
API (v2). Its catalog documents are the configuration reference's Zendesk example.

Serve it with `uvicorn zendesk_bridge:bridge` (from this folder). Settings, from the
environment:

- `ZENDESK_BRIDGE_SECRET`: signs the offsets and checkpoints it hands the hub. Keep it the
  same across restarts.
- `ZENDESK_API_URL`: for tests and development only, where the API of an account lives,
  `{subdomain}` standing for the account's (`http://127.0.0.1:8123/{subdomain}`). Unset,
  calls go to Zendesk itself: `https://{subdomain}.zendesk.com`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from zendesk_api import (
    ZENDESK_API_URL,
    Account,
    ZendeskApi,
    ZendeskError,
    account_of,
    json_object,
    refusal_message,
)

from bridgehub.sdk import (
    ActionInput,
    ActionOutcome,
    ActionRefused,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthField,
    AuthValidationRequest,
    Bridge,
    Contact,
    ContactsPage,
    ContactSyncRequest,
    CredentialsRejected,
    Interaction,
    InteractionContact,
    InteractionRequest,
    Priority,
    StateCodec,
    Status,
)

log = logging.getLogger("zendesk_bridge")

TICKETS_PER_CONTACT = 100
"""The most recently updated tickets shown for a contact: one page of Zendesk's."""
AGENTS_PER_PAGE = 100
MOST_AGENT_PAGES = 1000
"""A Zendesk account has far fewer agents; more pages mean a cursor that never ends."""

_NEVER = datetime.min.replace(tzinfo=UTC)
"""When a ticket without a date was created, for sorting: before any other."""
_STATUSES: dict[str, Status] = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    # On hold: waiting for a third party, which the protocol's statuses call pending.
    "hold": "pending",
    "solved": "solved",
    "closed": "closed",
}
_PRIORITIES: dict[str | None, Priority] = {
    None: "none",
    "low": "low",
    "normal": "normal",
    "high": "high",
    "urgent": "urgent",
}


class _ExportCursor(BaseModel):
    """Where Zendesk's incremental user export is: the `after_cursor` it answered."""

    after_cursor: str


def create_bridge(api_url: str = ZENDESK_API_URL, secret: str | None = None) -> Bridge:
    """The bridge, calling Zendesk's API at `api_url` (see `ZendeskApi`), signing its
    offsets and checkpoints with `secret`."""
    api = ZendeskApi(api_url)
    # Cursors only reach users the credentials open anyway: without a secret, the
    # codec's integrity check is enough.
    cursors = StateCodec(_ExportCursor, secret=secret, purpose="zendesk/export-cursor")
    bridge = Bridge(
        name="zendesk",
        display_name="Zendesk",
        description=(
            "Centralize all your customer conversations so nothing gets ignored and "
            "everything is searchable   from one place. Easily organize, prioritize and "
            "engage with others on support requests."
        ),
        logo_url="https://talkdeskapp.s3.amazonaws.com/assets/integrations/zendesk.png",
        icon_url="https://talkdeskapp.s3.amazonaws.com/assets/integrations/zendesk_icon.png",
        authentication_type="custom",
        authentication_fields=[
            AuthField("account", "Account", format="https://{{account}}.zendesk.com"),
            AuthField("email", "Agent Email"),
            AuthField("token", "API Token", help="Find under Settings > Channels"),
        ],
        interaction_types=["ticket"],
        lifespan=api.lifespan,
    )

    @bridge.auth_validation
    async def validate(request: AuthValidationRequest) -> None:
        account = account_of(request.auth)
        found = json_object(await api.get(account, "/api/v2/users/me"), "reading the agent")
        user = found.get("user") or {}
        # Zendesk answers an anonymous user (no id) to a request it could not tie to one.
        if user.get("id") is None:
            raise CredentialsRejected("Zendesk does not accept this email and API token.")
        if user.get("role") not in ("agent", "admin"):
            raise CredentialsRejected(
                f"{account.email} is not an agent of {account.subdomain}.zendesk.com; "
                "connect with an agent's or admin's email."
            )

    @bridge.contacts
    async def contacts(request: ContactSyncRequest) -> ContactsPage:
        account = account_of(request.auth)
        meta = request.meta
        if meta.offset is not None:
            start: _ExportCursor | None = cursors.decode(meta.offset, field="meta.offset")
        else:
            start = cursors.decode_optional(
                meta.synchronization_checkpoint, field="meta.synchronization_checkpoint"
            )
        # The first sync exports every user since the account began.
        query = [("start_time", "0")] if start is None else [("cursor", start.after_cursor)]
        page = json_object(
            await api.get(account, "/api/v2/incremental/users/cursor.json", query),
            "exporting users",
        )
        users = [each for each in page.get("users") or [] if _is_customer(each)]
        found = [_contact(each) for each in users]
        after = page.get("after_cursor")
        if page.get("end_of_stream") is True:
            end = _ExportCursor(after_cursor=after) if after else start
            return ContactsPage(
                contacts=found,
                synchronization_checkpoint=None if end is None else cursors.encode(end),
            )
        if not after:
            raise ZendeskError("Zendesk's user export goes on without an after_cursor.")
        return ContactsPage(
            contacts=found, next_offset=cursors.encode(_ExportCursor(after_cursor=after))
        )

    @bridge.interactions(path="/interaction_update")
    async def tickets(request: InteractionRequest) -> list[Interaction]:
        account = account_of(request.auth)
        requesters = await _requesters(api, account, request.data)
        answers = await asyncio.gather(
            *(
                api.get(
                    account,
                    f"/api/v2/users/{requester}/tickets/requested",
                    [
                        ("sort_by", "updated_at"),
                        ("sort_order", "desc"),
                        ("per_page", str(TICKETS_PER_CONTACT)),
                    ],
                    may_be_missing=True,
                )
                for requester in requesters
            )
        )
        found: list[Interaction] = []
        for answer in answers:
            if answer.status_code == 404:  # the user was deleted since it was synced
                continue
            listed = json_object(answer, "listing a user's tickets").get("tickets") or []
            found.extend(
                interaction
                for interaction in (_interaction(account, each) for each in listed)
                if interaction is not None
            )
        return sorted(found, key=lambda each: each.date or _NEVER, reverse=True)

    @bridge.agents
    async def agents(request: AgentSyncRequest) -> list[Agent]:
        account = account_of(request.auth)
        found: list[Agent] = []
        query = [("role[]", "agent"), ("role[]", "admin"), ("page[size]", str(AGENTS_PER_PAGE))]
        after: str | None = None
        for _ in range(MOST_AGENT_PAGES):
            page = json_object(
                await api.get(account, "/api/v2/users", [*query, *_after(after)]),
                "listing agents",
            )
            found.extend(_agent(each) for each in page.get("users") or [] if _is_agent(each))
            meta = page.get("meta") or {}
            after = meta.get("after_cursor")
            if not (meta.get("has_more") and after):
                return found
        raise ZendeskError(f"Zendesk's agent list goes on past {MOST_AGENT_PAGES} pages.")

    @bridge.action(
        "create_ticket",
        display="create a ticket",
        description="create a new ticket in Zendesk",
        inputs=[
            ActionInput(key="subject", name="Ticket subject", mandatory=True),
            ActionInput(key="description", name="Ticket description", mandatory=True),
        ],
    )
    async def create_ticket(request: ActionRequest) -> ActionOutcome:
        account = account_of(request.auth)
        ticket: dict[str, Any] = {
            "subject": str(request.data["subject"]).strip(),
            "comment": {"body": str(request.data["description"]).strip()},
        }
        contact = request.meta.contact_external_id
        if contact is not None:
            if not contact.isdecimal():
                raise ActionRefused(f'"{contact}" is not the id of a Zendesk user.')
            ticket["requester_id"] = int(contact)
        answer = await api.post(account, "/api/v2/tickets", {"ticket": ticket})
        if answer.status_code in (400, 422):
            raise ActionRefused(f"Zendesk refused the ticket: {refusal_message(answer)}")
        created = json_object(answer, "creating a ticket").get("ticket") or {}
        if created.get("id") is None:
            raise ZendeskError("Zendesk's answer to a new ticket has no ticket id.")
        return ActionOutcome(
            message=f"Ticket #{created['id']} created.", external_id=str(created["id"])
        )

    return bridge


async def _requesters(api: ZendeskApi, account: Account, contact: InteractionContact) -> list[int]:
    """The Zendesk users whose tickets are the contact's: the contact itself when it came
    from this integration, else the users with one of its emails."""
    if contact.contact_external_id is not None:
        external_id = contact.contact_external_id
        return [int(external_id)] if external_id.isdecimal() else []
    emails = {each.strip().lower() for each in contact.contact_emails if each.strip()}
    answers = await asyncio.gather(
        *(api.get(account, "/api/v2/users/search", [("query", f"email:{each}")]) for each in emails)
    )
    found = {
        int(user["id"])
        for answer in answers
        for user in json_object(answer, "searching users").get("users") or []
        # The search also matches partly; only the same address is the same person.
        if str(user.get("email") or "").lower() in emails
    }
    return sorted(found)


def _after(cursor: str | None) -> list[tuple[str, str]]:
    return [] if cursor is None else [("page[after]", cursor)]


def _is_customer(user: dict[str, Any]) -> bool:
    # Deleted users stay in the export, inactive.
    return user.get("role") == "end-user" and user.get("active") is not False


def _is_agent(user: dict[str, Any]) -> bool:
    if user.get("active") is False:
        return False
    if not user.get("email"):
        log.warning("Left out Zendesk agent %s: it has no email.", user.get("id"))
        return False
    return True


def _contact(user: dict[str, Any]) -> Contact:
    photo = user.get("photo") or {}
    return Contact(
        id=str(user["id"]),
        name=user.get("name") or user.get("email") or f"Zendesk user {user['id']}",
        emails=[user["email"]] if user.get("email") else [],
        phones=[user["phone"]] if user.get("phone") else [],
        photo_url=photo.get("content_url"),
    )


def _agent(user: dict[str, Any]) -> Agent:
    return Agent(id=str(user["id"]), name=user.get("name") or user["email"], email=user["email"])


def _interaction(account: Account, ticket: dict[str, Any]) -> Interaction | None:
    status = _STATUSES.get(ticket.get("status") or "")
    if status is None:
        log.warning(
            "Left out Zendesk ticket %s: unknown status %r.", ticket.get("id"), ticket.get("status")
        )
        return None
    ticket_id = int(ticket["id"])
    return Interaction(
        id=str(ticket_id),
        type="ticket",
        subject=ticket.get("subject") or ticket.get("raw_subject") or f"Ticket #{ticket_id}",
        priority=_PRIORITIES.get(ticket.get("priority"), "none"),
        status=status,
        description=ticket.get("description"),
        date=ticket.get("created_at"),
        url=account.ticket_url(ticket_id),
    )


bridge = create_bridge(
    os.environ.get("ZENDESK_API_URL") or ZENDESK_API_URL,
    secret=os.environ.get("ZENDESK_BRIDGE_SECRET"),
)
