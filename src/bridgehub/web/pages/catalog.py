"""The catalog: integrations as cards for everyone signed in; for the admin, adding or
replacing a configuration by pasting or uploading it."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from bridgehub.activations.models import ActivationStatus
from bridgehub.activations.service import activation_service
from bridgehub.db.session import DbSession
from bridgehub.integrations.configuration import SECRET_MASK, InvalidConfiguration
from bridgehub.integrations.files import kind_of
from bridgehub.integrations.models import Integration
from bridgehub.integrations.service import action_service, integration_service
from bridgehub.kit.errors import HubError
from bridgehub.runtime import HubRuntime
from bridgehub.syncs.models import SyncKind
from bridgehub.syncs.service import offers
from bridgehub.web import nav
from bridgehub.web.auth import SignedIn, SignedInAdmin, account_of
from bridgehub.web.json_lines import JsonLines
from bridgehub.web.service import Operator
from bridgehub.web.templating import Flash, render, see_other

router = APIRouter()
nav.register("Catalog", "catalog", position=20, audience="everyone")
nav.register("Catalog management", "catalog_management", position=10, audience="admin")

MANAGE_PATH = "/admin/catalog"
MAX_UPLOAD_BYTES = 1_000_000

_AUTHENTICATION_LABELS = {"none": "No sign-in", "custom": "Form", "oauth2": "OAuth 2.0"}
STATUS_BADGES = {
    ActivationStatus.ACTIVE: ("Active", "success"),
    # Also an authorization someone gave up on: it waits for nothing until it is continued.
    ActivationStatus.PENDING_AUTHORIZATION: ("Authorization not finished", "warning"),
    ActivationStatus.NEEDS_REAUTHORIZATION: ("Needs reauthorization", "danger"),
    ActivationStatus.DISABLED: ("Disabled", "neutral"),
}
NOT_CONNECTED = ("Not connected", "neutral")
# A client secret pasted in is the admin's to send, never the hub's to show back.
_CLIENT_SECRET = re.compile(r'("client_secret"\s*:\s*)"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str


@dataclass(frozen=True)
class Card:
    name: str
    display_name: str
    description: str
    logo_url: str
    authentication_label: str
    features: list[str]
    actions: list[str]
    status: Badge | None
    """For an account: whether it uses the integration."""

    @property
    def connected(self) -> bool:
        return self.status is not None and self.status != Badge(*NOT_CONNECTED)


@router.get("/catalog", name="catalog")
async def catalog(request: Request, operator: SignedIn, session: DbSession) -> Response:
    integrations = await integration_service.list(session)
    actions: dict[str, list[str]] = defaultdict(list)
    for action in await action_service.list(session):
        actions[action.integration.name].append(action.configuration["display"])
    statuses = await _statuses(session, operator)
    cards = [
        card_of(integration, actions[integration.name], statuses) for integration in integrations
    ]
    return render(request, "catalog/index.html", {"cards": cards})


@dataclass
class Listing:
    """A pasted configuration, line by line, each line with the problems found on it."""

    lines: list[tuple[int, str, list[str]]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str, problems: list[tuple[int, str]]) -> Listing:
        by_line: dict[int, list[str]] = defaultdict(list)
        for line, message in problems:
            by_line[line].append(message)
        # Split on "\n" alone, as JSON counts lines; a string may hold other line breaks.
        lines = text.removesuffix("\n").split("\n")
        numbered = enumerate((line.removesuffix("\r") for line in lines), start=1)
        return cls([(number, line, by_line.get(number, [])) for number, line in numbered])


@router.get(MANAGE_PATH, name="catalog_management")
async def manage(request: Request, _: SignedInAdmin) -> Response:
    return _manage_page(request, text="")


@router.post(MANAGE_PATH)
async def save_configuration(
    request: Request,
    _: SignedInAdmin,
    session: DbSession,
    runtime: HubRuntime,
    configuration: Annotated[str, Form()] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    text = configuration
    if upload is not None and upload.filename:
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return _manage_page(request, "", error="The file is larger than 1 MB.")
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _manage_page(request, "", error=f"{upload.filename} is not UTF-8 text.")
    if not text.strip():
        return _manage_page(request, "", error="Paste a configuration or choose a file.")
    shown, secret_hidden = _CLIENT_SECRET.subn(rf'\1"{SECRET_MASK}"', text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        listing = Listing.of(shown, [(error.lineno, f"not valid JSON: {error.msg}")])
        return _manage_page(request, shown, listing=listing, error="This is not valid JSON.")
    kind = kind_of(document)
    try:
        if kind == "integration":
            saved, outcome = await integration_service.save(session, runtime.vault, document)
            name = saved.name
        else:
            action, outcome = await action_service.save(session, document)
            name = f"{action.integration.name}/{action.name}"
    except InvalidConfiguration as error:
        await session.rollback()
        lines = JsonLines(shown)
        listing = Listing.of(
            shown,
            [
                (lines.line_of(problem.path), f"{problem.path or 'document'}: {problem.message}")
                for problem in error.problems
            ],
        )
        note = " The client secret is hidden here: paste it again." if secret_hidden else ""
        return _manage_page(request, shown, listing=listing, error=error.message + note)
    except HubError as error:
        await session.rollback()
        return _manage_page(request, shown, error=error.message)
    flash = Flash("success", f'{kind.capitalize()} "{name}" {outcome}.')
    return see_other(request, request.app.url_path_for("catalog_management"), flash)


def _manage_page(
    request: Request, text: str, *, listing: Listing | None = None, error: str | None = None
) -> Response:
    context = {"text": text, "listing": listing, "error": error}
    return render(request, "catalog/manage.html", context, status_code=422 if error else 200)


async def _statuses(session: DbSession, operator: Operator) -> dict[int, Badge] | None:
    if operator.is_admin:
        return None
    activations = await activation_service.list(session, account_of(operator))
    return {
        activation.integration_id: Badge(*STATUS_BADGES[activation.status])
        for activation in activations
    }


def card_of(
    integration: Integration, actions: list[str], statuses: dict[int, Badge] | None
) -> Card:
    document: dict[str, Any] = integration.configuration
    provided = {
        "contacts": offers(integration, SyncKind.CONTACTS),
        "interactions": bool(document.get("interaction_retrieval_endpoint")),
        "agents": offers(integration, SyncKind.AGENTS),
    }
    features = [feature for feature, offered in provided.items() if offered]
    if actions:
        features.append("actions")
    status = None
    if statuses is not None:
        status = statuses.get(integration.id, Badge(*NOT_CONNECTED))
    return Card(
        name=integration.name,
        display_name=document["display_name"],
        description=document["description"],
        logo_url=document["logo_url"],
        authentication_label=_AUTHENTICATION_LABELS[document["authentication_type"]],
        features=features,
        actions=actions,
        status=status,
    )
