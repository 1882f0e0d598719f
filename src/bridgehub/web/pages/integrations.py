"""One integration for the signed-in account: what it offers, and connecting it (a form
generated from its authentication fields, or a trip through its OAuth 2.0 provider),
reconnecting, choosing what it brings, syncing now, checking and disconnecting it.

Credentials go through the activations service, which asks the bridge before anything is
kept; the bridge's verdict is shown in words beside the form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from bridgehub.accounts.auth import Account
from bridgehub.activations import forms
from bridgehub.activations.models import Activation
from bridgehub.activations.schemas import ActivationCreate, ActivationUpdate, SyncInterval
from bridgehub.activations.service import activation_service
from bridgehub.activations.verification import BridgeFailed, CredentialsRefused
from bridgehub.automations.service import automation_service
from bridgehub.db.session import DbSession
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.models import Integration
from bridgehub.integrations.service import action_service, integration_service
from bridgehub.kit.errors import Conflict, HubError, InvalidInput
from bridgehub.runtime import HubRuntime, Runtime
from bridgehub.syncs.models import SyncKind, SyncRun
from bridgehub.syncs.service import offers, sync_service
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.oauth_return import remember
from bridgehub.web.pages.activity import SYNC_TONES, UNFINISHED_RUNS, run_fields
from bridgehub.web.pages.catalog import STATUS_BADGES, Badge, Card, card_of
from bridgehub.web.templating import Flash, render, see_other

router = APIRouter()

PAGE = "/integrations/{name}"
RECENT_RUNS = 5
_INTERVAL = TypeAdapter(SyncInterval)
_INTERVAL_LIMITS = _INTERVAL.json_schema()
_DEFAULT_INTERVAL = ActivationCreate.model_fields["sync_interval_minutes"].default


InputType = Literal["password", "email", "text"]


@dataclass(frozen=True)
class AuthInput:
    """One field of the connect form, as a person sees it."""

    name: str
    label: str
    hint: str | None
    required: bool
    secret: bool
    """Shown as a password input and never filled in again."""
    input_type: InputType
    prefix: str
    suffix: str
    """The `format` around what the person types: `https://[acme].zendesk.com`."""
    value: str
    error: str | None


@dataclass(frozen=True)
class Verdict:
    """What the bridge (or the hub) said about the credentials, in words."""

    tone: Literal["success", "error"]
    title: str
    message: str


@dataclass
class CredentialsForm:
    inputs: list[AuthInput]
    verdict: Verdict | None = None


@dataclass
class SettingsForm:
    interaction_types: list[tuple[str, bool]]
    """Every type the integration offers, and whether it is chosen."""
    sync_interval: str
    interval_error: str | None = None
    error: str | None = None
    fewest_minutes: ClassVar[int] = _INTERVAL_LIMITS["minimum"]
    most_minutes: ClassVar[int] = _INTERVAL_LIMITS["maximum"]
    """The bounds of the sync interval, as activations take it."""


@dataclass
class Forms:
    """The page's forms as last submitted (with their errors), or fresh."""

    credentials: CredentialsForm | None = None
    settings: SettingsForm | None = None
    errors_status: int = 200


@dataclass(frozen=True)
class Subject:
    """The integration a page is about, and the account's activation of it."""

    integration: Integration
    configuration: IntegrationConfiguration
    activation: Activation | None
    account: Account = field(repr=False)

    @property
    def display_name(self) -> str:
        return self.configuration.display_name

    @property
    def page_url(self) -> str:
        return f"/ui/integrations/{self.integration.name}"

    def connected(self) -> Activation:
        if self.activation is None:
            raise Conflict(f"{self.display_name} is not connected to this account.")
        return self.activation


async def _signed_in_subject(name: str, operator: SignedInAccount, session: DbSession) -> Subject:
    return await _subject(session, account_of(operator), name)


IntegrationSubject = Annotated[Subject, Depends(_signed_in_subject)]
"""The integration named in the path, as the signed-in account sees it."""


@router.get(PAGE, name="integration")
async def integration_page(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    return await _page(request, session, runtime, subject, Forms())


@router.post(f"{PAGE}/connect")
async def connect(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    if subject.activation is not None:
        return see_other(
            request,
            subject.page_url,
            Flash("info", f"{subject.display_name} is already connected."),
        )
    form = await request.form()
    submitted = _typed(subject.configuration, form)
    settings = _settings_form(subject.configuration, form)
    if settings.interval_error:
        credentials = CredentialsForm(_auth_inputs(subject.configuration, submitted, {}))
        return await _page(request, session, runtime, subject, Forms(credentials, settings, 422))
    data = ActivationCreate(
        integration=subject.integration.name,
        auth=submitted,
        interaction_types=_chosen(settings),
        sync_interval_minutes=int(settings.sync_interval),
    )
    try:
        _, authorize_url = await activation_service.create(session, runtime, subject.account, data)
    except HubError as error:
        subject = await _after_failure(session, subject)
        forms_shown = _refused(subject, submitted, settings, error, keeping=False)
        return await _page(request, session, runtime, subject, forms_shown)
    if authorize_url is not None:
        return _to_provider(request, subject, authorize_url)
    return see_other(
        request,
        subject.page_url,
        Flash("success", _accepted(subject, "the credentials")),
    )


@router.post(f"{PAGE}/credentials")
async def change_credentials(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    activation = subject.connected()
    form = await request.form()
    # An empty field keeps its stored value: secrets are never shown to be typed again.
    submitted = {key: value for key, value in _typed(subject.configuration, form).items() if value}
    if not submitted:
        credentials = CredentialsForm(
            _auth_inputs(subject.configuration, {}, {}, keeping=True),
            Verdict("error", "Nothing to check", "Type the values to change."),
        )
        return await _page(request, session, runtime, subject, Forms(credentials, None, 422))
    try:
        await activation_service.update(
            session, runtime, subject.account, activation.id, ActivationUpdate(auth=submitted)
        )
    except HubError as error:
        subject = await _after_failure(session, subject)
        forms_shown = _refused(subject, submitted, None, error, keeping=True)
        return await _page(request, session, runtime, subject, forms_shown)
    return see_other(
        request, subject.page_url, Flash("success", _accepted(subject, "the new credentials"))
    )


@router.post(f"{PAGE}/reconnect")
async def reconnect(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    _, authorize_url = await activation_service.reconnect(
        session, runtime, subject.account, subject.connected().id
    )
    return _to_provider(request, subject, authorize_url)


@router.post(f"{PAGE}/settings")
async def change_settings(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    activation = subject.connected()
    settings = _settings_form(subject.configuration, await request.form())
    if not settings.interval_error:
        update = ActivationUpdate(
            interaction_types=_chosen(settings), sync_interval_minutes=int(settings.sync_interval)
        )
        try:
            await activation_service.update(
                session, runtime, subject.account, activation.id, update
            )
        except HubError as error:
            subject = await _after_failure(session, subject)
            settings.error = error.message
        else:
            return see_other(request, subject.page_url, Flash("success", "Settings saved."))
    return await _page(request, session, runtime, subject, Forms(None, settings, 422))


@router.post(f"{PAGE}/check")
async def check(
    request: Request, subject: IntegrationSubject, session: DbSession, runtime: HubRuntime
) -> Response:
    try:
        await activation_service.check(session, runtime, subject.account, subject.connected().id)
    except CredentialsRefused as error:
        flash = Flash("error", f"{error.message} Reconnect to give new ones.")
    except HubError as error:
        flash = Flash("error", error.message)
    else:
        flash = Flash("success", f"{subject.display_name} accepts the stored credentials.")
    return see_other(request, subject.page_url, flash)


@router.post(f"{PAGE}/sync")
async def sync_now(request: Request, subject: IntegrationSubject, session: DbSession) -> Response:
    activation = subject.connected()
    form = await request.form()
    what = form.get("what")
    if what not in tuple(SyncKind):
        raise InvalidInput("Choose what to synchronize: contacts or agents.", [])
    kind = SyncKind(str(what))
    full = kind == SyncKind.CONTACTS and form.get("full") == "true"
    try:
        run = await sync_service.request(session, activation, kind, trigger="manual", full=full)
    except Conflict as error:
        return see_other(request, subject.page_url, Flash("error", error.message))
    return see_other(
        request,
        subject.page_url,
        Flash("success", f"The {kind} sync is {run.status}; its progress is listed below."),
    )


@router.get(f"{PAGE}/disconnect", name="integration_disconnect")
async def confirm_disconnect(
    request: Request, subject: IntegrationSubject, session: DbSession
) -> Response:
    subject.connected()
    automations = [
        await automation_service.summary(session, automation)
        for automation in await automation_service.list(session, subject.account)
        if automation.action.split("/", 1)[0] == subject.integration.name
    ]
    context = {
        "subject": subject,
        "card": await _card(session, subject),
        "automations": automations,
    }
    return render(request, "integrations/disconnect.html", context)


@router.post(f"{PAGE}/disconnect")
async def disconnect(request: Request, subject: IntegrationSubject, session: DbSession) -> Response:
    await activation_service.delete(session, subject.account, subject.connected().id)
    message = (
        f"{subject.display_name} is disconnected: its credentials and the contacts and "
        "agents synced from it are gone."
    )
    return see_other(request, request.app.url_path_for("catalog"), Flash("success", message))


# The page ---------------------------------------------------------------------------


async def _page(
    request: Request,
    session: DbSession,
    runtime: Runtime,
    subject: Subject,
    shown: Forms,
) -> Response:
    activation = subject.activation
    configuration = subject.configuration
    keeping = activation is not None
    credentials = shown.credentials or CredentialsForm(
        _auth_inputs(
            configuration, _stored_public(runtime, configuration, activation), {}, keeping=keeping
        )
    )
    settings = shown.settings or _fresh_settings(configuration, activation)
    runs: Sequence[SyncRun] = []
    stored: list[tuple[str, str]] = []
    if activation is not None:
        runs = (await sync_service.list(session, subject.account, activation.id))[:RECENT_RUNS]
        labels = dict(_labels(configuration))
        stored = [
            (labels[key], value)
            for key, value in activation_service.answer_auth(activation, runtime).items()
            if key in labels
        ]
    context = {
        "subject": subject,
        "card": await _card(session, subject),
        "activation": activation,
        "credentials": credentials,
        "settings": settings,
        "runs": runs,
        "unfinished_runs": UNFINISHED_RUNS,
        "sync_tones": SYNC_TONES,
        "run_fields": run_fields,
        "stored": stored,
        "syncs": [kind for kind in SyncKind if offers(subject.integration, kind)],
        "can_check": configuration.auth_validation_endpoint is not None,
        "has_typed_fields": bool(credentials.inputs),
    }
    response = render(request, "integrations/show.html", context, status_code=shown.errors_status)
    _allow_provider_redirect(response, configuration)
    return response


async def _subject(session: DbSession, account: Account, name: str) -> Subject:
    integration = await integration_service.get(session, name)
    activation = next(
        (
            activation
            for activation in await activation_service.list(session, account)
            if activation.integration_id == integration.id
        ),
        None,
    )
    return Subject(integration, integration_service.parse(integration), activation, account)


async def _after_failure(session: DbSession, subject: Subject) -> Subject:
    """Drop whatever the failed attempt left in the session, and read the subject again."""
    name = subject.integration.name  # read before the rollback expires it
    await session.rollback()
    return await _subject(session, subject.account, name)


async def _card(session: DbSession, subject: Subject) -> Card:
    actions = [
        action.configuration["display"]
        for action in await action_service.list_for(session, subject.integration.name)
    ]
    statuses = {}
    if subject.activation is not None:
        statuses[subject.integration.id] = Badge(*STATUS_BADGES[subject.activation.status])
    return card_of(subject.integration, actions, statuses)


# The forms --------------------------------------------------------------------------


def _labels(configuration: IntegrationConfiguration) -> list[tuple[str, str]]:
    return [
        (name, auth_field.display) for name, auth_field in configuration.authentication_fields()
    ]


def _auth_inputs(
    configuration: IntegrationConfiguration,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    keeping: bool = False,
) -> list[AuthInput]:
    """The form's fields; with `keeping`, for changing stored credentials (an empty field
    keeps its value)."""
    inputs = []
    for name, auth_field in forms.typed_fields(configuration).items():
        prefix, suffix = forms.format_parts(auth_field, name)
        secret = not forms.is_public(name, auth_field)
        email = forms.asks_for_email(name, auth_field)
        input_type: InputType = "password" if secret else "email" if email else "text"
        value = "" if secret else forms.unformat(auth_field, name, values.get(name, ""))
        hint = auth_field.help
        if keeping and secret:
            hint = " ".join(filter(None, [hint, "Leave empty to keep the saved value."]))
        inputs.append(
            AuthInput(
                name=name,
                label=auth_field.display,
                hint=hint,
                required=auth_field.mandatory and not keeping,
                secret=secret,
                input_type=input_type,
                prefix=prefix,
                suffix=suffix,
                value=value,
                error=errors.get(name),
            )
        )
    return inputs


def _stored_public(
    runtime: Runtime, configuration: IntegrationConfiguration, activation: Activation | None
) -> dict[str, str]:
    if activation is None:
        return {}
    public = {name for name, f in configuration.authentication_fields() if forms.is_public(name, f)}
    answer = activation_service.answer_auth(activation, runtime)
    return {name: value for name, value in answer.items() if name in public}


def _typed(configuration: IntegrationConfiguration, form: FormData) -> dict[str, str]:
    values = {}
    for name in forms.typed_fields(configuration):
        value = form.get(f"auth-{name}")
        if isinstance(value, str):
            values[name] = value
    return values


def _settings_form(configuration: IntegrationConfiguration, form: FormData) -> SettingsForm:
    chosen = set(form.getlist("interaction_types"))
    raw = form.get("sync_interval_minutes")
    interval = raw.strip() if isinstance(raw, str) else ""
    error = None
    try:
        _INTERVAL.validate_python(int(interval))
    except (ValueError, ValidationError):
        error = (
            "Give a whole number of minutes from "
            f"{SettingsForm.fewest_minutes} to {SettingsForm.most_minutes}."
        )
    offered = forms.offered_interaction_types(configuration)
    return SettingsForm([(kind, kind in chosen) for kind in offered], interval, error)


def _fresh_settings(
    configuration: IntegrationConfiguration, activation: Activation | None
) -> SettingsForm:
    offered = forms.offered_interaction_types(configuration)
    if activation is None:
        return SettingsForm([(kind, True) for kind in offered], str(_DEFAULT_INTERVAL))
    chosen = set(activation.interaction_types)
    return SettingsForm(
        [(kind, kind in chosen) for kind in offered], str(activation.sync_interval_minutes)
    )


def _chosen(settings: SettingsForm) -> list[str]:
    return [kind for kind, checked in settings.interaction_types if checked]


def _refused(
    subject: Subject,
    submitted: Mapping[str, str],
    settings: SettingsForm | None,
    error: HubError,
    *,
    keeping: bool,
) -> Forms:
    """The forms shown again with what went wrong: the bridge's verdict, or the fields at fault."""
    field_errors: dict[str, str] = {}
    if isinstance(error, CredentialsRefused):
        verdict = Verdict(
            "error",
            "Wrong credentials",
            f"{error.message} Check them and try again; nothing was saved.",
        )
    elif isinstance(error, BridgeFailed):
        verdict = Verdict(
            "error",
            "The credentials could not be checked",
            f"{error.message} Nothing was saved; try again later.",
        )
    else:
        if isinstance(error, InvalidInput):
            for problem in error.problems:
                name = problem.path.removeprefix("auth.")
                if name != problem.path:
                    field_errors[name] = problem.message
        verdict = Verdict("error", "Not connected", error.message)
    inputs = _auth_inputs(subject.configuration, submitted, field_errors, keeping=keeping)
    return Forms(CredentialsForm(inputs, verdict), settings, error.status_code)


def _accepted(subject: Subject, what: str) -> str:
    if subject.configuration.auth_validation_endpoint is None:
        return f"{subject.display_name} is connected."
    return f"{subject.display_name} is connected: its bridge accepted {what}."


# OAuth 2.0 --------------------------------------------------------------------------


def _to_provider(request: Request, subject: Subject, authorize_url: str) -> Response:
    """Off to the provider; its answer comes back to this integration's page."""
    response = see_other(request, authorize_url)
    remember(request, response, authorize_url, subject.integration.name)
    return response


def _allow_provider_redirect(response: Response, configuration: IntegrationConfiguration) -> None:
    """Browsers hold a form's redirect to the rules of the page that sent it: a page whose
    forms lead to an OAuth 2.0 provider lets them go there (and only there)."""
    if configuration.oauth2_configuration is None:
        return
    parts = urlsplit(str(configuration.oauth2_configuration.authorize_url))
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
