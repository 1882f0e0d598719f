"""Automations: "When [trigger], then [action]" built from drop-downs, each input of the
action mapped to a template over the event's variables; enabled, disabled, edited, removed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.automations import templates
from bridgehub.automations.models import Automation
from bridgehub.automations.schemas import (
    TRIGGERS,
    AutomationCreate,
    AutomationUpdate,
    Conditions,
    Trigger,
)
from bridgehub.automations.service import Rendering, automation_service, occasion
from bridgehub.db.session import DbSession
from bridgehub.executions.service import find_action
from bridgehub.integrations.configuration import ActionConfiguration
from bridgehub.integrations.models import Action
from bridgehub.kit.errors import HubError
from bridgehub.kit.messages import plain_message
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.templating import Flash, render, see_other

router = APIRouter()
nav.register("Automations", "automations", position=50, audience="account")

INPUT_PREFIX = "input."
_CONDITION_FIELDS = ("to", "min_duration_seconds", "caller")
_CALLER_CHOICES = [
    ("", "every caller"),
    ("unknown", "unknown callers (no contact has their number)"),
    ("known", "known callers (a contact has their number)"),
]
_VARIABLE_GROUPS = {
    "contact": "The caller, when a synced contact has their number",
    "call": "The call",
    "agent": "The agent on the call, when the event names one",
    "event": "The event itself",
}
_LOGGED_DESCRIPTION = (
    "What an earlier automation of the same call (its call.id) logged, e.g. the record to update"
)


@dataclass(frozen=True)
class InputField:
    key: str
    name: str
    mandatory: bool
    value: str
    error: str | None
    choices: list[tuple[str, str]] | None
    """What a select offers for an input with fixed choices; None for free text."""

    @property
    def field(self) -> str:
        return INPUT_PREFIX + self.key


@dataclass(frozen=True)
class Listed:
    automation: Automation
    summary: str


@router.get("/automations", name="automations")
async def automations(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    account = account_of(operator)
    listed = [
        Listed(automation, await _summary(session, automation))
        for automation in await automation_service.list(session, account)
    ]
    return render(request, "automations/index.html", {"automations": listed})


@router.get("/automations/new", name="automation_new")
async def new_automation(
    request: Request, operator: SignedInAccount, session: DbSession
) -> Response:
    trigger = request.query_params.get("trigger", "")
    action = request.query_params.get("action", "")
    return await _form_page(
        request, session, account_of(operator), {"trigger": trigger, "action": action}
    )


@router.post("/automations")
async def create_automation(
    request: Request, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    form = await _submitted(request)
    errors: dict[str, str] = {}
    if form.get("preview"):
        return await _form_page(request, session, account, form, preview=True)
    offered = {
        _action_key(action)
        for action in await automation_service.available_actions(session, account)
    }
    if form["action"] not in offered:
        errors["action"] = "Choose an action of an integration your account has connected."
        return await _form_page(request, session, account, form, errors, status_code=422)

    async def create(document: dict[str, Any]) -> Automation:
        data = AutomationCreate.model_validate(document)
        return await automation_service.create(session, account, data)

    problems = await _preview_problems(session, account, form)
    automation, errors = await _save(session, _document(form), create, problems)
    if automation is None:
        return await _form_page(
            request, session, account, form, errors, status_code=422, preview=True
        )
    message = f"Created “{automation.name}”: {await _summary(session, automation)}."
    return see_other(request, request.app.url_path_for("automations"), Flash("success", message))


@router.get("/automations/{automation_id}/edit", name="automation_edit")
async def edit_automation(
    request: Request, automation_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    automation = await automation_service.get(session, account, automation_id)
    form = {
        "name": automation.name,
        "trigger": automation.trigger,
        "action": automation.action,
        "enabled": "on" if automation.enabled else "",
        "replay": "on" if automation.replay else "",
        **{INPUT_PREFIX + key: template for key, template in automation.inputs.items()},
        **{name: str(automation.conditions.get(name, "")) for name in _CONDITION_FIELDS},
    }
    return await _form_page(request, session, account, form, automation=automation)


@router.post("/automations/{automation_id}")
async def update_automation(
    request: Request, automation_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    automation = await automation_service.get(session, account, automation_id)
    form = await _submitted(request) | {"action": automation.action}
    if form.get("preview"):
        return await _form_page(
            request, session, account, form, automation=automation, preview=True
        )

    async def update(document: dict[str, Any]) -> Automation:
        del document["action"]  # an automation keeps its action; another is a new automation
        data = AutomationUpdate.model_validate(document)
        return await automation_service.update(session, account, automation_id, data)

    problems = await _preview_problems(session, account, form)
    saved, errors = await _save(session, _document(form), update, problems)
    if saved is None:
        # Read again: undoing the savepoint expired what the attempt had changed.
        automation = await automation_service.get(session, account, automation_id)
        return await _form_page(
            request,
            session,
            account,
            form,
            errors,
            automation=automation,
            status_code=422,
            preview=True,
        )
    message = f"Saved “{saved.name}”: {await _summary(session, saved)}."
    return see_other(request, request.app.url_path_for("automations"), Flash("success", message))


@router.post("/automations/{automation_id}/enabled")
async def switch_automation(
    request: Request, automation_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    enabled = (await request.form()).get("enabled") == "true"
    automation = await automation_service.update(
        session, account_of(operator), automation_id, AutomationUpdate(enabled=enabled)
    )
    message = f"{'Enabled' if enabled else 'Disabled'} “{automation.name}”."
    return see_other(request, request.app.url_path_for("automations"), Flash("success", message))


@router.post("/automations/{automation_id}/delete")
async def delete_automation(
    request: Request, automation_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    automation = await automation_service.get(session, account, automation_id)
    message = f"Deleted “{automation.name}”."
    await automation_service.delete(session, account, automation_id)
    return see_other(request, request.app.url_path_for("automations"), Flash("success", message))


async def _save(
    session: AsyncSession,
    document: dict[str, Any],
    save: Callable[[dict[str, Any]], Awaitable[Automation]],
    problems: Mapping[str, str],
) -> tuple[Automation | None, dict[str, str]]:
    """Save the form's automation, or answer every problem with it at once: conditions that
    do not parse, or `problems` found beforehand, do not keep the service from judging the
    inputs (in a savepoint, undone)."""
    errors = dict(problems)
    try:
        Conditions.model_validate(document["conditions"])
    except ValidationError as problem:
        errors |= _field_errors(problem)
        document = {**document, "conditions": {}}
    try:
        async with session.begin_nested():  # undone by any exception leaving the block
            saved = await save(document)
            if errors:
                raise _Undone
    except (ValidationError, HubError) as problem:
        return None, errors | _field_errors(problem)
    except _Undone:
        return None, errors
    return saved, {}


class _Undone(Exception):
    """The automation saved, but the form had other problems: the save is undone."""


async def _form_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    form: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    *,
    automation: Automation | None = None,
    status_code: int = 200,
    preview: bool = False,
) -> Response:
    """The automation form: for a new one, the trigger and action first, then (once both are
    chosen) the inputs; for an existing one, all of it with the action fixed. With
    `preview`, what the inputs render to for sample callers."""
    errors = dict(errors or {})
    available = await automation_service.available_actions(session, account)
    chosen = await _chosen_action(session, form.get("action", ""), available, automation)
    trigger = form.get("trigger", "")
    if trigger and trigger not in TRIGGERS:
        errors.setdefault("trigger", f'"{trigger}" is not a trigger; choose one of the list.')
    if form.get("action") and chosen is None:
        errors.setdefault(
            "action", "Choose an action of an integration your account has connected."
        )
    context = {
        "automation": automation,
        "form": form,
        "errors": errors,
        "triggers": [(key, sentence.removeprefix("When ")) for key, sentence in TRIGGERS.items()],
        "actions": [(_action_key(action), _action_words(action)) for action in available],
        "action": chosen,
        "action_words": _action_words(chosen) if chosen else "",
        "inputs": _input_fields(chosen, form, errors, new=automation is None) if chosen else [],
        "previews": (
            await _previews(session, account, chosen, form) if chosen and preview else None
        ),
        "summary": (
            _sentence(trigger, form.get("caller"), chosen)
            if chosen and trigger in TRIGGERS
            else None
        ),
        "callers": _CALLER_CHOICES,
        "variables": _variables(available),
        "other_errors": [
            message
            for field, message in errors.items()
            if field not in ("trigger", "action", *_CONDITION_FIELDS)
            and not field.startswith(INPUT_PREFIX)
        ],
    }
    return render(request, "automations/form.html", context, status_code=status_code)


def _variables(available: Sequence[Action]) -> list[tuple[str, list[str]]]:
    """Each group of variables with its description; what the call logged is offered in
    each integration the account can run actions in."""
    groups = [
        (description, [f"{{{{{group}.{name}}}}}" for name in templates.VARIABLES[group]])
        for group, description in _VARIABLE_GROUPS.items()
    ]
    integrations = sorted({action.integration.name for action in available})
    logged = [f"{{{{call.logged.{name}.external_id}}}}" for name in integrations]
    return [*groups, (_LOGGED_DESCRIPTION, logged)]


async def _chosen_action(
    session: AsyncSession, key: str, available: Sequence[Action], automation: Automation | None
) -> Action | None:
    if automation is not None:  # its own action, even once its integration is disconnected
        return await find_action(session, automation.action)
    return next((action for action in available if _action_key(action) == key), None)


def _input_fields(
    action: Action, form: Mapping[str, str], errors: Mapping[str, str], *, new: bool
) -> list[InputField]:
    """The action's inputs as the form shows them; a new automation starts from each
    input's default."""
    fields = []
    for each in ActionConfiguration.model_validate(action.configuration).inputs:
        field = INPUT_PREFIX + each.key
        value = form.get(field, (each.default or "") if new else "")
        fields.append(
            InputField(
                key=each.key,
                name=each.name,
                mandatory=each.mandatory,
                value=value,
                error=errors.get(field),
                choices=_offered(each.choices, value, each.mandatory) if each.choices else None,
            )
        )
    return fields


def _offered(choices: list[str], value: str, mandatory: bool) -> list[tuple[str, str]]:
    """The options of an input with fixed choices: its choices, "not set" first for an
    optional one, and the current template when it is not a choice (mapped through the
    API), so that saving keeps it."""
    options = [(choice, choice) for choice in choices]
    if value and value not in choices:
        options.insert(0, (value, f"{value} (as mapped)"))
    return options if mandatory else [("", "not set"), *options]


async def _previews(
    session: AsyncSession, account: Account, action: Action, form: Mapping[str, str]
) -> Sequence[Rendering]:
    trigger = form.get("trigger", "")
    if trigger not in TRIGGERS:
        return []
    document = _document(form)
    caller = document["conditions"].get("caller")
    return await automation_service.preview(
        session,
        account,
        action,
        cast(Trigger, trigger),  # one of TRIGGERS, checked above
        caller if caller in ("known", "unknown") else None,
        document["inputs"],
    )


async def _preview_problems(
    session: AsyncSession, account: Account, form: Mapping[str, str]
) -> dict[str, str]:
    """What the action would refuse of the inputs rendered for a sample caller, by field."""
    action = await _chosen_action(
        session,
        form.get("action", ""),
        await automation_service.available_actions(session, account),
        None,
    )
    if action is None:
        return {}
    problems: dict[str, str] = {}
    for rendering in await _previews(session, account, action, form):
        for key, message in rendering.problems.items():
            said = f"For {rendering.caller}: {message}."
            field = INPUT_PREFIX + key
            problems[field] = f"{problems[field]} {said}" if field in problems else said
    return problems


async def _submitted(request: Request) -> dict[str, str]:
    form = await request.form()
    submitted = {key: value for key, value in form.items() if isinstance(value, str)}
    # An unticked box sends nothing; kept as "" so that the form shows it unticked again.
    return {"enabled": "", "replay": ""} | submitted


def _document(form: Mapping[str, str]) -> dict[str, Any]:
    """What the form says, in the shape of the API's automation body: inputs left empty are
    not mapped, conditions left empty do not apply."""
    conditions = {
        name: form[name].strip() for name in _CONDITION_FIELDS if form.get(name, "").strip()
    }
    return {
        "name": form.get("name", "").strip() or None,
        "trigger": form.get("trigger", ""),
        "action": form.get("action", ""),
        "inputs": {
            key.removeprefix(INPUT_PREFIX): value
            for key, value in form.items()
            if key.startswith(INPUT_PREFIX) and value.strip()
        },
        "conditions": conditions,
        "enabled": form.get("enabled") == "on",
        "replay": form.get("replay") == "on",
    }


def _field_errors(problem: ValidationError | HubError) -> dict[str, str]:
    """Each problem under the form field it concerns (`inputs.subject` is `input.subject`)."""
    if isinstance(problem, ValidationError):
        found = [
            (".".join(str(part) for part in error["loc"]), plain_message(error))
            for error in problem.errors()
        ]
    else:
        found = [(detail["path"], detail["message"]) for detail in problem.details]
        if not found:
            found = [("", problem.message)]
    errors: dict[str, str] = {}
    for path, message in found:
        field = path.removeprefix("conditions.")
        if field.startswith("inputs."):
            field = INPUT_PREFIX + field.removeprefix("inputs.")
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    return errors


async def _summary(session: AsyncSession, automation: Automation) -> str:
    action = await find_action(session, automation.action)
    return _sentence(automation.trigger, automation.conditions.get("caller"), action)


def _sentence(trigger: str, caller: str | None, action: Action) -> str:
    """ "When a call is missed from an unknown caller, then create a contact in Demo
    Helpdesk"."""
    return f"{occasion(trigger, caller)}, then {_action_words(action)}"


def _action_words(action: Action) -> str:
    display_name = action.integration.configuration["display_name"]
    return f"{action.configuration['display']} in {display_name}"


def _action_key(action: Action) -> str:
    return f"{action.integration.name}/{action.name}"
