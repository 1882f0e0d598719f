"""The demo helpdesk bridge: a real bridge for two integrations of one made-up vendor, served
on loopback by `make demo` and by the hub's tests.

- `demo-helpdesk` (authentication_type `custom`) under `/helpdesk`: a helpdesk account's
  subdomain, email and API token; its interactions are tickets; its action `create_ticket`.
- `demo-crm` (authentication_type `oauth2`) under `/crm`: an access token issued by the
  local OAuth 2.0 provider (`oauth_provider.py`); its interactions are deals and calls; its
  action `log_call`.

Both serve the contacts, agents and interactions of one `HelpdeskDatabase`. Requests are
read and answers built with the hub's own protocol models, so the two sides cannot drift.
`configurations()` gives the catalog documents pointing at a running bridge, and the
`HelpdeskBridge` object steers and inspects it from Python, never over HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from bridgehub.bridge.protocol import (
    ActionOutcome,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthValidationRequest,
    BridgeRequest,
    Contact,
    ContactSyncRequest,
    Interaction,
    InteractionContact,
    InteractionRequest,
    describe,
)
from bridgehub.demo.helpdesk_data import (
    PRIORITIES,
    AgentRecord,
    ChangeCursor,
    ContactRecord,
    HelpdeskDatabase,
    InteractionDetails,
    InteractionRecord,
    InteractionType,
    UnknownContact,
)
from bridgehub.demo.oauth_provider import DemoUser, OAuthClient

HELPDESK = "demo-helpdesk"
CRM = "demo-crm"
CRM_SCOPES = ("contacts.read", "deals.read", "calls.write")
CRM_INSTANCE_URL = "https://demo.crm.example"
"""What the provider should add to its token answers as `instance_url` (like Salesforce):
the CRM links its deals and calls under it."""


# What each integration is --------------------------------------------------------------


class _Refused(ValueError):
    """The helpdesk cannot take this request's data; the message says why."""


@dataclass(frozen=True)
class _Input:
    key: str
    name: str
    mandatory: bool


@dataclass(frozen=True)
class _Action:
    name: str
    display: str
    description: str
    inputs: tuple[_Input, ...]
    details: Callable[[Mapping[str, Any]], InteractionDetails]
    """The record to create from the data of a request that has every mandatory input;
    raises `_Refused` for data the helpdesk cannot take."""
    confirmation: str
    """The answer's message, with `{id}` for the record created."""

    @property
    def endpoint(self) -> str:
        return f"actions/{self.name}"


@dataclass(frozen=True)
class _Integration:
    name: str
    display_name: str
    description: str
    logo_url: str
    icon_url: str
    prefix: str
    interaction_types: tuple[InteractionType, ...]
    action: _Action

    def path(self, endpoint: str) -> str:
        return f"{self.prefix}/{endpoint}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _new_ticket(data: Mapping[str, Any]) -> InteractionDetails:
    wanted = "normal" if _blank(data.get("priority")) else str(data["priority"]).strip()
    priority = next((each for each in PRIORITIES if each == wanted), None)
    if priority is None:
        allowed = ", ".join(PRIORITIES)
        raise _Refused(f'priority must be one of {allowed}; found "{wanted}".')
    subject, description = str(data["subject"]).strip(), str(data["description"]).strip()
    return InteractionDetails("ticket", subject, description, priority, "new")


def _logged_call(data: Mapping[str, Any]) -> InteractionDetails:
    subject = "Logged call"
    if not _blank(duration := data.get("duration_seconds")):
        seconds = str(duration).strip()
        if not seconds.isdecimal():
            raise _Refused(f'duration_seconds must be a whole number; found "{seconds}".')
        subject += f" ({int(seconds)} s)"
    return InteractionDetails("call", subject, str(data["summary"]).strip(), "none", "closed")


_HELPDESK = _Integration(
    name=HELPDESK,
    display_name="Demo Helpdesk",
    description="Tickets of the demo helpdesk, shown beside every call from a customer.",
    logo_url="https://helpdesk.example/logo.png",
    icon_url="https://helpdesk.example/icon.png",
    prefix="/helpdesk",
    interaction_types=("ticket",),
    action=_Action(
        name="create_ticket",
        display="create a ticket",
        description="create a new ticket in the demo helpdesk",
        inputs=(
            _Input("subject", "Ticket subject", mandatory=True),
            _Input("description", "Ticket description", mandatory=True),
            _Input("priority", "Priority (none, low, normal, high or urgent)", mandatory=False),
        ),
        details=_new_ticket,
        confirmation="Ticket #{id} created.",
    ),
)
_CRM = _Integration(
    name=CRM,
    display_name="Demo CRM",
    description="Deals and calls of the demo CRM, signed in to with OAuth 2.0.",
    logo_url="https://crm.example/logo.png",
    icon_url="https://crm.example/icon.png",
    prefix="/crm",
    interaction_types=("deal", "call"),
    action=_Action(
        name="log_call",
        display="log a call",
        description="log a call on the contact in the demo CRM",
        inputs=(
            _Input("summary", "Call summary", mandatory=True),
            _Input("duration_seconds", "Duration in seconds", mandatory=False),
        ),
        details=_logged_call,
        confirmation="Call #{id} logged.",
    ),
)
_INTEGRATIONS = (_HELPDESK, _CRM)

# The configuration key of each endpoint every integration serves, and its path.
_ENDPOINTS = {
    "auth_validation_endpoint": "auth_validation",
    "contact_synchronization_endpoint": "contact_sync",
    "interaction_retrieval_endpoint": "interactions",
    "agent_synchronization_endpoint": "agent_sync",
}


# The catalog documents -----------------------------------------------------------------


def configurations(
    base_url: str, provider_url: str, client_id: str, client_secret: str
) -> list[dict[str, Any]]:
    """The integration and action configurations of a bridge served at `base_url`, the CRM
    signing in at the OAuth 2.0 provider served at `provider_url` as this client (see
    `crm_oauth_client`)."""
    base_url, provider_url = base_url.rstrip("/"), provider_url.rstrip("/")
    helpdesk_fields = [
        {"subdomain": _field("Subdomain", format="https://{{subdomain}}.helpdesk.example")},
        {"email": _field("Agent email")},
        {"api_token": _field("API token", help="Find it under Admin > Channels > API.")},
        {"helpdesk_account_id": _field("Helpdesk account", source="auth_validation")},
    ]
    crm_fields = [
        {"instance_url": _field("Instance URL", kind="oauth", mandatory=False)},
        {"crm_user": _field("CRM user", source="auth_validation")},
    ]
    oauth2 = {
        "authorize_url": f"{provider_url}/authorize",
        "token_url": f"{provider_url}/token",
        "client_id": client_id,
        "client_secret": client_secret,
        "scopes": list(CRM_SCOPES),
        "pkce": True,
    }
    return [
        _integration_document(_HELPDESK, base_url, "custom", helpdesk_fields),
        _integration_document(_CRM, base_url, "oauth2", crm_fields, oauth2_configuration=oauth2),
        *(_action_document(integration, base_url) for integration in _INTEGRATIONS),
    ]


def crm_oauth_client(client_id: str, client_secret: str, redirect_uri: str) -> OAuthClient:
    """The client to register at the OAuth 2.0 provider for `demo-crm`: the scopes match
    the configuration's. `redirect_uri` is the hub's `/oauth/callback`."""
    return OAuthClient(
        client_id, (redirect_uri,), CRM_SCOPES, client_secret=client_secret, name="bridgehub"
    )


def _field(
    display: str,
    *,
    source: str = "input",
    kind: str = "input",
    mandatory: bool | None = None,
    **extra: str,
) -> dict[str, Any]:
    # What a person types is required; what the bridge or the provider fills in is not.
    if mandatory is None:
        mandatory = source == "input" and kind == "input"
    spec = {"source": source, "display": display, "mandatory": mandatory, "type": kind}
    return {**spec, "store": True, **extra}


def _integration_document(
    integration: _Integration,
    base_url: str,
    authentication_type: str,
    fields: list[dict[str, Any]],
    **more: Any,
) -> dict[str, Any]:
    endpoints = {key: base_url + integration.path(endpoint) for key, endpoint in _ENDPOINTS.items()}
    return {
        "name": integration.name,
        "display_name": integration.display_name,
        "description": integration.description,
        "logo_url": integration.logo_url,
        "icon_url": integration.icon_url,
        "authentication_type": authentication_type,
        "authentication_configuration": fields,
        **endpoints,
        "interaction_types": list(integration.interaction_types),
        **more,
    }


def _action_document(integration: _Integration, base_url: str) -> dict[str, Any]:
    action = integration.action
    return {
        "provider": integration.name,
        "name": action.name,
        "display": action.display,
        "description": action.description,
        "endpoint": base_url + integration.path(action.endpoint),
        "inputs": [asdict(each) for each in action.inputs],
    }


# The bridge ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as it reached the bridge, credentials included."""

    headers: Mapping[str, str]
    """Lower-case names."""
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True)
class _Caller:
    """Whom a request's credentials open the helpdesk to, through which integration."""

    integration: _Integration
    validated: dict[str, str]
    """What auth validation answers: the values of the `auth_validation` fields."""
    records_url: str | None
    """Where the caller sees records in the vendor's web application."""


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | str | None


Message = TypeVar("Message", bound=BridgeRequest)


@dataclass(frozen=True)
class _Endpoint(Generic[Message]):
    request: type[Message]
    answer: Callable[[_Caller, Message], Response]


class HelpdeskBridge:
    """The bridge: serve `app`; the methods steer and inspect it from tests and the demo.

    Endpoints are named by their paths, e.g. `/helpdesk/contact_sync` or
    `/crm/actions/log_call` (all of them: `endpoints`).
    """

    def __init__(
        self,
        database: HelpdeskDatabase,
        *,
        token_is_valid: Callable[[str], bool],
        crm_user: str = DemoUser().email,
        page_size: int = 25,
    ) -> None:
        """`token_is_valid` tells the CRM whether an access token is one the provider issued
        and still honours (`OAuthProvider.is_valid_access_token`); `crm_user` is whom its
        tokens belong to: the provider's one person."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.database = database
        self._token_is_valid = token_is_valid
        self._crm_user = crm_user
        self._page_size = page_size
        # Guards what follows: requests are answered in worker threads while tests and the
        # demo steer from theirs.
        self._lock = threading.Lock()
        self._received: defaultdict[str, list[ReceivedRequest]] = defaultdict(list)
        self._failures: defaultdict[str, deque[_Failure]] = defaultdict(deque)
        self._created: list[InteractionRecord] = []
        self._malformed: set[int] = set()
        self.app = FastAPI(title="Demo helpdesk bridge", openapi_url=None)
        authenticators = {HELPDESK: self._helpdesk_caller, CRM: self._crm_caller}
        paths: list[str] = []
        for integration in _INTEGRATIONS:
            for endpoint, served in self._endpoints(integration).items():
                paths.append(path := integration.path(endpoint))
                handler = self._handler(path, authenticators[integration.name], served)
                self.app.add_api_route(path, handler, methods=["POST"])
        self.endpoints = tuple(paths)

    # Steering and inspection ------------------------------------------------------------

    def fail_next(
        self, endpoint: str, count: int, status: int, *, retry_after: int | str | None = None
    ) -> None:
        """Answer the next `count` requests to `endpoint` with `status` (and a `Retry-After`
        header when given) instead of serving them; they are still recorded."""
        self._check(endpoint)
        with self._lock:
            self._failures[endpoint].extend([_Failure(status, retry_after)] * count)

    def received(self, endpoint: str) -> list[ReceivedRequest]:
        """Every request `endpoint` received, in order, failed on purpose or not."""
        self._check(endpoint)
        with self._lock:
            return list(self._received[endpoint])

    def created(self) -> list[InteractionRecord]:
        """What actions created, in order."""
        with self._lock:
            return list(self._created)

    def malform_contact(self, contact_id: int) -> None:
        """From now on, send this contact without the name the protocol requires, so that
        the hub's rejection of a single contact can be seen."""
        with self._lock:
            self._malformed.add(contact_id)

    def _check(self, endpoint: str) -> None:
        if endpoint not in self.endpoints:
            raise ValueError(f"no endpoint {endpoint}; there are {', '.join(self.endpoints)}")

    # Serving ----------------------------------------------------------------------------

    def _endpoints(self, integration: _Integration) -> dict[str, _Endpoint[Any]]:
        return {
            "auth_validation": _Endpoint(AuthValidationRequest, self._auth_validation),
            "contact_sync": _Endpoint(ContactSyncRequest, self._contact_sync),
            "interactions": _Endpoint(InteractionRequest, self._interactions),
            "agent_sync": _Endpoint(AgentSyncRequest, self._agent_sync),
            integration.action.endpoint: _Endpoint(ActionRequest, self._act),
        }

    def _handler(
        self,
        path: str,
        authenticate: Callable[[Mapping[str, Any]], _Caller | None],
        endpoint: _Endpoint[Any],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            content = await request.body()
            failure = self._arrived(path, request, content)
            if failure is not None:
                return failure
            # The database is synchronous; its lock must not stall the event loop.
            return await run_in_threadpool(self._answer, content, authenticate, endpoint)

        return handle

    def _arrived(self, path: str, request: Request, content: bytes) -> Response | None:
        """Record a request; the failure planned for it, if any."""
        with self._lock:
            self._received[path].append(ReceivedRequest(dict(request.headers), content))
            planned = self._failures[path]
            failure = planned.popleft() if planned else None
        if failure is None:
            return None
        headers = None if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
        message = f"Failing on purpose with {failure.status}."
        return JSONResponse({"message": message}, failure.status, headers=headers)

    def _answer(
        self,
        content: bytes,
        authenticate: Callable[[Mapping[str, Any]], _Caller | None],
        endpoint: _Endpoint[Message],
    ) -> Response:
        try:
            request = endpoint.request.model_validate_json(content)
        except ValidationError as error:
            return _refusal(f"The request breaks the bridge protocol: {describe(error)}")
        caller = authenticate(request.auth)
        if caller is None:
            return JSONResponse({"message": "These credentials are not valid."}, 401)
        return endpoint.answer(caller, request)

    def _helpdesk_caller(self, auth: Mapping[str, Any]) -> _Caller | None:
        url, email, api_token = auth.get("subdomain"), auth.get("email"), auth.get("api_token")
        if not (isinstance(url, str) and isinstance(email, str) and isinstance(api_token, str)):
            return None
        account = self.database.find_account(url, email, api_token)
        if account is None:
            return None
        return _Caller(_HELPDESK, {"helpdesk_account_id": str(account.id)}, account.url)

    def _crm_caller(self, auth: Mapping[str, Any]) -> _Caller | None:
        token, instance_url = auth.get("access_token"), auth.get("instance_url")
        if not isinstance(token, str) or not self._token_is_valid(token):
            return None
        records_url = instance_url if isinstance(instance_url, str) else None
        return _Caller(_CRM, {"crm_user": self._crm_user}, records_url)

    # The endpoints ----------------------------------------------------------------------

    def _auth_validation(self, caller: _Caller, request: AuthValidationRequest) -> Response:
        return JSONResponse(caller.validated)

    def _contact_sync(self, caller: _Caller, request: ContactSyncRequest) -> Response:
        # Both values are cursors over the contacts sorted by last change: the offset is where
        # this run has got to, the checkpoint where the last complete run ended.
        try:
            start = _decode_cursor(request.meta.offset or request.meta.synchronization_checkpoint)
        except ValueError:
            return _refusal("meta.offset or meta.synchronization_checkpoint is not one we gave.")
        found = self.database.contacts(after=start, limit=self._page_size + 1)
        page = found[: self._page_size]
        body: dict[str, Any] = {"contacts": [self._contact_answer(each) for each in page]}
        if len(found) > len(page):
            body["next_offset"] = _encode_cursor(page[-1].cursor)
        elif (end := page[-1].cursor if page else start) is not None:
            body["synchronization_checkpoint"] = _encode_cursor(end)
        return JSONResponse(body)

    def _contact_answer(self, contact: ContactRecord) -> dict[str, Any]:
        details = contact.details
        answer = Contact(
            id=str(contact.id),
            name=details.name,
            company=details.company,
            title=details.title,
            emails=details.emails,
            phones=details.phones,
            photo_url=details.photo_url,
            address=details.address,
            websites=details.websites,
            twitter=details.twitter,
        ).model_dump(mode="json", exclude_none=True)
        with self._lock:
            if contact.id in self._malformed:
                del answer["name"]
        return answer

    def _interactions(self, caller: _Caller, request: InteractionRequest) -> Response:
        offered = caller.integration.interaction_types
        types = [each for each in request.meta.interaction_types if each in offered]
        records = self.database.interactions(self._contact_ids(request.data), types)
        return JSONResponse([_interaction_answer(each, caller.records_url) for each in records])

    def _contact_ids(self, contact: InteractionContact) -> list[int]:
        external_id = contact.contact_external_id
        if external_id is not None:
            # One of our own contacts: that one, or nobody once it is deleted.
            try:
                return [_contact_id(external_id)]
            except UnknownContact:
                return []
        found = self.database.contacts_with(
            emails=contact.contact_emails, phones=contact.contact_phones
        )
        return [each.id for each in found]

    def _agent_sync(self, caller: _Caller, request: AgentSyncRequest) -> Response:
        return JSONResponse({"agents": [_agent_answer(each) for each in self.database.agents()]})

    def _act(self, caller: _Caller, request: ActionRequest) -> Response:
        action = caller.integration.action
        missing = [
            each.key
            for each in action.inputs
            if each.mandatory and _blank(request.data.get(each.key))
        ]
        if missing:
            return _refusal(f"Mandatory input missing: {', '.join(missing)}.")
        external_id = request.meta.contact_external_id
        try:
            details = action.details(request.data)
            contact_id = None if external_id is None else _contact_id(external_id)
            record = self.database.add_interaction(details, contact_id=contact_id)
        except _Refused as refusal:
            return _refusal(str(refusal))
        except UnknownContact:
            return _refusal(f'No contact has the id "{external_id}".')
        with self._lock:
            self._created.append(record)
        outcome = ActionOutcome(
            message=action.confirmation.format(id=record.id), external_id=str(record.id)
        )
        return JSONResponse(outcome.model_dump(exclude_none=True), 201)


def _contact_id(external_id: str) -> int:
    """Our id of a contact the hub knows by `external_id`."""
    if not external_id.isdecimal():
        raise UnknownContact(external_id)
    return int(external_id)


def _interaction_answer(record: InteractionRecord, records_url: str | None) -> dict[str, Any]:
    details = record.details
    return Interaction(
        id=str(record.id),
        type=details.type,
        subject=details.subject,
        priority=details.priority,
        status=details.status,
        description=details.description,
        date=record.date,
        url=None if records_url is None else f"{records_url}/{details.type}s/{record.id}",
    ).model_dump(mode="json", exclude_none=True)


def _agent_answer(agent: AgentRecord) -> dict[str, Any]:
    answer = Agent(id=str(agent.id), name=agent.name, email=agent.email).model_dump(mode="json")
    # Numeric on the wire, as helpdesks send them and the protocol allows: the hub coerces.
    return {**answer, "id": agent.id}


def _refusal(message: str) -> Response:
    return JSONResponse({"message": message}, 400)


def _encode_cursor(cursor: ChangeCursor) -> str:
    text = f"{cursor.changed_at.isoformat()}|{cursor.contact_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(value: str | None) -> ChangeCursor | None:
    """The cursor an offset or a checkpoint stands for. Raises ValueError (which bad base64
    and bad UTF-8 are too) when it is none we gave."""
    if value is None:
        return None
    changed_at, contact_id = base64.urlsafe_b64decode(value).decode().split("|")
    return ChangeCursor(datetime.fromisoformat(changed_at), int(contact_id))
