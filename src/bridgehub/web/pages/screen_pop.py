"""The screen pop: who is calling, with their history from every integration, the moment a
call arrives. A softphone opens `/ui/screen-pop?phone=<caller>`; an agent can type one too.

It runs the caller-ID lookup of `GET /v1/lookup`, so a number written differently from the
stored one (`(415) 555-0042` for `+1 415 555 0042`) finds the same contact, and groups the
matches into people as its `people` do: one card per person, each system's record inside.
When several people match, the agent picks the caller: the best is open, the others a click
(or Enter) away.

From a caller's card the agent runs an action for them (create a ticket, log the call), and
for an unknown number one that adds the caller as a contact: a plain form, posted to
`/ui/screen-pop/actions` and carried out as the API's executions are, which brings the agent
back to the screen pop with the execution's outcome, followed live until it is known.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from bridgehub.accounts.auth import Account
from bridgehub.activations.models import ActivationStatus
from bridgehub.activations.service import activation_service
from bridgehub.contacts.people import Identity, group_people
from bridgehub.contacts.phones import LookupKeys, Match
from bridgehub.contacts.service import CallerMatch, contact_service
from bridgehub.db.session import DbSession, release_connection
from bridgehub.executions.models import Execution, ExecutionStatus
from bridgehub.executions.service import execution_service
from bridgehub.integrations.configuration import (
    ActionConfiguration,
    ActionInput,
    action_title,
)
from bridgehub.integrations.service import action_service
from bridgehub.interactions.cache import interaction_cache
from bridgehub.kit.errors import Conflict, InvalidInput, Problem
from bridgehub.runtime import HubRuntime, Runtime
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.pages.activity import EXECUTION_TONES, FINISHED_EXECUTIONS
from bridgehub.web.pages.catalog import Badge
from bridgehub.web.pages.contacts import (
    ContactView,
    History,
    Source,
    contact_history,
    contact_view,
    integration_sources,
)
from bridgehub.web.templating import render, see_other
from bridgehub.web.wording import scrubbed

router = APIRouter()
nav.register("Screen pop", "screen_pop", position=40, audience="account")

MAX_PHONE_LENGTH = 64
SHOWN_HISTORIES = 5
"""The surest people get their interactions on the page at once; any others link to their
best record's contact page (a number shared by a whole switchboard must not ask every
bridge dozens of times per call)."""

_MATCHES = {
    Match.EXACT: (
        Badge("Exact match", "success"),
        "The same number, country code included.",
    ),
    Match.NATIONAL: (
        Badge("Same national number", "info"),
        "The same number, written without its country code on one side.",
    ),
    Match.SUFFIX: (
        Badge("Partial match", "warning"),
        "One number ends with the other: a prefix or country code differs, so check who it is.",
    ),
}


@dataclass(frozen=True)
class Candidate:
    contact: ContactView
    match: Badge
    match_explained: str


@dataclass(frozen=True)
class Person:
    """The records of one person in every system that matched, best first, and their
    interactions. A contact's interactions already come from every connected system (each
    bridge is asked by the contact's id, name and emails), so the person has one history,
    their best record's: one per record would repeat it and ask the bridges again."""

    name: str
    sources: list[Source]
    """The integrations holding the records, each once."""
    candidates: list[Candidate]
    history: History | None
    """None for people beyond `SHOWN_HISTORIES`."""
    actions: list[ActionForm]

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@dataclass(frozen=True)
class Number:
    """The incoming number as the lookup read it."""

    written: str
    e164: str | None
    national_number: str | None


@dataclass(frozen=True)
class Offered:
    """An action of one of the account's active integrations."""

    name: str
    """`provider/name`."""
    integration: str
    title: str
    """What it does, in words: "Create a ticket in Demo Helpdesk"."""
    inputs: list[ActionInput]


@dataclass(frozen=True)
class Submitted:
    """An action's form as the agent sent it, with what was wrong with it."""

    action: str
    contact_id: uuid.UUID | None
    values: dict[str, str]
    errors: dict[str, str]
    """By input key."""
    message: str


@dataclass(frozen=True)
class InputField:
    key: str
    label: str
    required: bool
    value: str
    error: str | None
    choices: Sequence[str] = ()
    """The only values the input takes (offered as a list), none for free text."""


@dataclass(frozen=True)
class ActionForm:
    id: str
    """Unique on the page, for the ids of its fields."""
    action: str
    title: str
    contact_id: uuid.UUID | None
    """The caller's record in the action's integration (or their best one), None for an
    unknown caller."""
    fields: list[InputField]
    error: str | None
    open: bool
    """Shown open: sent back with a problem."""


@dataclass(frozen=True)
class Outcome:
    """An execution the agent ran from the screen pop, as the card shows it."""

    id: uuid.UUID
    title: str
    status: ExecutionStatus
    tone: str
    finished: bool
    message: str
    """The bridge's message when it succeeded, why not otherwise."""
    record: str | None
    """The id of what the action created, in its system."""
    contact_id: str | None
    """The contact it created, stored by the hub."""
    contact_sync_run_id: str | None
    """The sync fetching the contact it named."""
    contact_rejected: str | None


@router.get("/screen-pop", name="screen_pop")
async def screen_pop(
    request: Request,
    operator: SignedInAccount,
    session: DbSession,
    runtime: HubRuntime,
    phone: Annotated[str, Query()] = "",
    execution: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    account = account_of(operator)
    offered = await _offered(session, account)
    outcome = None
    if execution is not None:
        outcome = _outcome(await execution_service.get(session, account, execution), offered)
    return await _screen(request, session, runtime, account, phone, offered, outcome=outcome)


@router.post("/screen-pop/actions")
async def act(
    request: Request, operator: SignedInAccount, session: DbSession, runtime: HubRuntime
) -> Response:
    """Run one of the offered actions for the caller, then show its outcome on the screen
    pop; a form with a problem comes back with it, and nothing is run."""
    account = account_of(operator)
    form = await request.form()
    phone = str(form.get("phone", ""))
    offered = await _offered(session, account)
    action = offered.get(str(form.get("action", "")))
    if action is None:
        problem = Problem("action", "is not an action of your active integrations")
        raise InvalidInput("Choose an action the screen pop offers.", [problem])
    contact_id = _contact_id(str(form.get("contact_id", "")))
    values = {each.key: str(form.get(f"input.{each.key}", "")).strip() for each in action.inputs}
    try:
        created = await execution_service.create(
            session,
            account,
            action=action.name,
            data={key: value for key, value in values.items() if value},
            contact_id=contact_id,
        )
    except (InvalidInput, Conflict) as refusal:
        problems = refusal.problems if isinstance(refusal, InvalidInput) else []
        errors = {
            each.path.removeprefix("data."): each.message
            for each in problems
            if each.path.startswith("data.")
        }
        others = [each.message for each in problems if not each.path.startswith("data.")]
        # Problems with the inputs show beside them; anything else above the form.
        message = "" if errors and not others else " ".join([refusal.message, *others])
        submitted = Submitted(action.name, contact_id, values, errors, message)
        return await _screen(
            request, session, runtime, account, phone, offered, submitted=submitted
        )
    query = urlencode({"phone": phone, "execution": str(created.id)})
    return see_other(request, f"{request.app.url_path_for('screen_pop')}?{query}#outcome")


async def _screen(
    request: Request,
    session: DbSession,
    runtime: Runtime,
    account: Account,
    phone: str,
    offered: Mapping[str, Offered],
    *,
    outcome: Outcome | None = None,
    submitted: Submitted | None = None,
) -> Response:
    """The screen pop for `phone`, with the outcome of an action run from it, or the form
    of one sent back with its problems (answered 422)."""
    phone = phone.strip()
    page = partial(_page, request, phone, outcome=outcome, submitted=submitted)
    if not phone:
        return page()
    if len(phone) > MAX_PHONE_LENGTH:
        return page(error=f"A phone number has at most {MAX_PHONE_LENGTH} characters.")
    found = await contact_service.identify(session, account, phone)
    number = _number(phone, found.number)
    if number.e164 is None and number.national_number is None:
        error = "This is not a phone number that can be looked up: type the caller's number."
        return page(error=error)
    sources = await integration_sources(session)
    # Bridges are asked with the connection given back: a slow one must not hold it.
    await release_connection(session)
    candidates = [
        Candidate(contact_view(each.contact, sources[each.integration]), *_MATCHES[each.match])
        for each in found.callers
    ]
    people = _people(found.callers, candidates)
    if outcome is not None and outcome.status == ExecutionStatus.SUCCEEDED:
        # The action may have added to the caller's interactions: ask their bridges again.
        for person in people[:SHOWN_HISTORIES]:
            interaction_cache(runtime).forget(person[0].contact.id)
    histories = await asyncio.gather(
        *(
            _history(runtime, account, person[0].contact.id, sources)
            for person in people[:SHOWN_HISTORIES]
        )
    )
    actions = list(offered.values())
    persons = [
        Person(
            name=records[0].contact.name,
            sources=list(dict.fromkeys(each.contact.source for each in records)),
            candidates=records,
            history=histories[position] if position < len(histories) else None,
            actions=_forms(f"act-{position + 1}", actions, records, number, submitted),
        )
        for position, records in enumerate(people)
    ]
    unknown = [] if persons else _forms("act-new", actions, [], number, submitted)
    return page(number=number, people=persons, unknown_caller=unknown)


async def _offered(session: DbSession, account: Account) -> dict[str, Offered]:
    """The actions of the account's active integrations, by `provider/name`."""
    active = {
        activation.integration_id: activation.integration.configuration["display_name"]
        for activation in await activation_service.list(session, account)
        if activation.status == ActivationStatus.ACTIVE
    }
    offered = {}
    for action in await action_service.list(session):
        if action.integration_id in active:
            configuration = ActionConfiguration.model_validate(action.configuration)
            name = f"{action.integration.name}/{action.name}"
            title = action_title(configuration.display, active[action.integration_id])
            offered[name] = Offered(name, action.integration.name, title, configuration.inputs)
    return offered


def _contact_id(written: str) -> uuid.UUID | None:
    if not written:
        return None
    try:
        return uuid.UUID(written)
    except ValueError:
        problem = Problem("contact_id", f'"{written}" is not the id of a contact')
        raise InvalidInput("The caller's record is unknown.", [problem]) from None


def _forms(
    prefix: str,
    actions: Sequence[Offered],
    records: Sequence[Candidate],
    number: Number,
    submitted: Submitted | None,
) -> list[ActionForm]:
    """The forms of `actions` for the caller whose records are `records` (none for an
    unknown caller), those of the caller's systems first; the one `submitted` names is
    filled in as it was sent."""
    forms = []
    # The systems that hold the caller first: their actions know who the caller is.
    held = {each.contact.source.name for each in records}
    ordered = sorted(actions, key=lambda action: action.integration not in held)
    for position, action in enumerate(ordered, 1):
        contact = _record_in(records, action.integration)
        contact_id = contact.id if contact else None
        sent = submitted
        if sent is not None and (sent.action, sent.contact_id) != (action.name, contact_id):
            sent = None
        fields = [
            InputField(
                key=each.key,
                label=each.name,
                required=each.mandatory,
                value=sent.values.get(each.key, "")
                if sent
                else each.default or _prefilled(each.key, contact, number),
                error=sent.errors.get(each.key) if sent else None,
                choices=each.choices or (),
            )
            for each in action.inputs
        ]
        error = sent.message or None if sent else None
        forms.append(
            ActionForm(
                f"{prefix}-{position}",
                action.name,
                action.title,
                contact_id,
                fields,
                error,
                bool(sent),
            )
        )
    return forms


def _record_in(records: Sequence[Candidate], integration: str) -> ContactView | None:
    """The caller's record in `integration`, which its bridge knows them by; else their
    best record (the action is still about them, though its system lacks them)."""
    if not records:
        return None
    same = (each.contact for each in records if each.contact.source.name == integration)
    return next(same, records[0].contact)


def _prefilled(key: str, contact: ContactView | None, number: Number) -> str:
    """What an input starts with, going by its key: the call's number, the caller's name and
    email, a subject or summary saying who called; empty for any other."""
    word = key.lower()
    if "phone" in word:
        return number.e164 or number.written
    if "email" in word:
        return contact.emails[0].text if contact and contact.emails else ""
    if word in ("name", "contact_name", "full_name"):
        return contact.name if contact else ""
    if word in ("subject", "summary"):
        return f"Call from {contact.name if contact else number.e164 or number.written}"
    return ""


def _outcome(execution: Execution, offered: Mapping[str, Offered]) -> Outcome:
    response = execution.response or {}
    succeeded = execution.status == ExecutionStatus.SUCCEEDED
    action = offered.get(execution.action)
    return Outcome(
        id=execution.id,
        title=action.title if action else execution.action,
        status=execution.status,
        tone=EXECUTION_TONES[execution.status],
        finished=execution.status in FINISHED_EXECUTIONS,
        message=scrubbed(response.get("message") if succeeded else execution.error),
        record=response.get("external_id"),
        contact_id=response.get("contact_id"),
        contact_sync_run_id=response.get("contact_sync_run_id"),
        contact_rejected=response.get("contact_rejected"),
    )


async def _history(
    runtime: Runtime, account: Account, contact_id: uuid.UUID, sources: Mapping[str, Source]
) -> History:
    # One session each: the histories are fetched at the same time.
    async with runtime.sessionmaker() as session:
        return await contact_history(session, runtime, account, contact_id, sources)


def _people(callers: list[CallerMatch], candidates: list[Candidate]) -> list[list[Candidate]]:
    """`candidates`, made from `callers` in their order, grouped into people: best first."""
    identities = [
        Identity(each.contact.name, each.contact.emails, each.integration) for each in callers
    ]
    return [[candidates[position] for position in group] for group in group_people(identities)]


def _number(written: str, keys: LookupKeys) -> Number:
    return Number(written, keys.e164, keys.national_number)


def _page(
    request: Request,
    phone: str,
    *,
    number: Number | None = None,
    people: list[Person] | None = None,
    unknown_caller: list[ActionForm] | None = None,
    outcome: Outcome | None = None,
    submitted: Submitted | None = None,
    error: str | None = None,
) -> Response:
    context = {
        "phone": phone,
        "number": number,
        "people": people or [],
        "unknown_caller": unknown_caller or [],
        "outcome": outcome,
        "error": error,
    }
    failed = error is not None or submitted is not None
    return render(request, "screen_pop/index.html", context, status_code=422 if failed else 200)
