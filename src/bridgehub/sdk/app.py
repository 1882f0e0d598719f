"""`Bridge`: a bridge as a small ASGI application, one decorated function per endpoint."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bridgehub.bridge.protocol import (
    HUB_NOTES,
    ActionOutcome,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthValidationRequest,
    BridgeRequest,
    ContactSyncRequest,
    Interaction,
    InteractionRequest,
    describe,
)
from bridgehub.integrations.configuration import (
    ActionInput,
    AuthenticationType,
    OAuth2Configuration,
)
from bridgehub.sdk.configuration import (
    ActionDeclaration,
    AuthField,
    DeclarationError,
    IntegrationDeclaration,
)
from bridgehub.sdk.errors import ActionRefused, BridgeException
from bridgehub.sdk.messages import ContactsPage

log = logging.getLogger("bridgehub.sdk")

AuthValues = Mapping[str, Any] | None
"""What auth validation answers: values for the `source="auth_validation"` fields, or None."""

AuthValidationHandler = Callable[[AuthValidationRequest], AuthValues | Awaitable[AuthValues]]
ContactsHandler = Callable[[ContactSyncRequest], ContactsPage | Awaitable[ContactsPage]]
InteractionsHandler = Callable[
    [InteractionRequest], Sequence[Interaction] | Awaitable[Sequence[Interaction]]
]
AgentsHandler = Callable[[AgentSyncRequest], Sequence[Agent] | Awaitable[Sequence[Agent]]]
ActionHandler = Callable[[ActionRequest], ActionOutcome | Awaitable[ActionOutcome | None] | None]

AuthValidationH = TypeVar("AuthValidationH", bound=AuthValidationHandler)
ContactsH = TypeVar("ContactsH", bound=ContactsHandler)
InteractionsH = TypeVar("InteractionsH", bound=InteractionsHandler)
AgentsH = TypeVar("AgentsH", bound=AgentsHandler)
ActionH = TypeVar("ActionH", bound=ActionHandler)
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]
Handler = TypeVar("Handler")

Message = TypeVar("Message", bound=BridgeRequest)

_INTERACTIONS_KEY = "interaction_retrieval_endpoint"
_DECLARATION_CHECK_URL = "https://bridge.example"
"""Declarations are checked when made, before any real base URL is known."""


class Bridge:
    """A bridge for one integration: its declarations, its handlers, and an ASGI app.

    ::

        bridge = Bridge(
            name="acme-desk",
            display_name="Acme Desk",
            description="Tickets from Acme Desk beside every call.",
            logo_url="https://desk.example/logo.png",
            icon_url="https://desk.example/icon.png",
            authentication_type="custom",
            authentication_fields=[AuthField("api_key", "API key")],
            interaction_types=["ticket"],
        )

        @bridge.contacts
        def contacts(request: ContactSyncRequest) -> ContactsPage: ...

    Serve it with any ASGI server (`uvicorn module:bridge`); generate its catalog
    documents with `configurations(base_url)` or `bridgehub bridge-config module:bridge`.

    Handlers may be plain functions (run in a worker thread, so blocking I/O is fine) or
    coroutines. Each gets the request as the hub's own protocol model, `auth` included,
    and answers with the protocol's models; raising a `BridgeException` answers its
    status (401, 400, 503), anything else is logged and answers 500. Requests that break
    the protocol are answered 400 before any handler runs.
    """

    def __init__(
        self,
        *,
        name: str,
        display_name: str,
        description: str,
        logo_url: str,
        icon_url: str,
        authentication_type: AuthenticationType = "none",
        authentication_fields: Sequence[AuthField] = (),
        interaction_types: Sequence[str] = (),
        oauth2: OAuth2Configuration | None = None,
        lifespan: Lifespan | None = None,
    ) -> None:
        """The keyword arguments are the configuration reference's keys. `oauth2` is the
        OAuth 2.0 client of an `oauth2` integration (it may instead be given when the
        configuration is generated); `lifespan` runs around serving, as in Starlette.

        Raises `DeclarationError`, listing every problem, when the declarations would make
        a configuration the hub refuses.
        """
        self._declaration = IntegrationDeclaration(
            name=name,
            display_name=display_name,
            description=description,
            logo_url=logo_url,
            icon_url=icon_url,
            authentication_type=authentication_type,
            authentication_fields=tuple(authentication_fields),
            interaction_types=tuple(interaction_types),
            oauth2=oauth2,
        )
        self._declaration.integration_document(_DECLARATION_CHECK_URL, (), None)
        self._endpoints: dict[str, _Endpoint[Any]] = {}
        self._app = Starlette(lifespan=lifespan)

    @property
    def name(self) -> str:
        return self._declaration.name

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The paths served, relative to where the bridge is served."""
        return tuple(self._endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    # Handlers ----------------------------------------------------------------------------

    @overload
    def auth_validation(self, handler: AuthValidationH, /) -> AuthValidationH: ...
    @overload
    def auth_validation(self, /, *, path: str) -> Callable[[AuthValidationH], AuthValidationH]: ...
    def auth_validation(
        self, handler: AuthValidationH | None = None, /, *, path: str = "/auth_validation"
    ) -> AuthValidationH | Callable[[AuthValidationH], AuthValidationH]:
        """Register the auth validation handler, served at `/auth_validation` (or `path`:
        `@bridge.auth_validation(path="/validate")`, like every endpoint decorator).

        It raises `CredentialsRejected` when `request.auth` does not open the service, and
        answers None, or the values of the `source="auth_validation"` fields for the hub
        to keep and send back in every later request.
        """
        return self._register(
            handler,
            lambda registered: _Endpoint(
                path,
                "auth_validation_endpoint",
                AuthValidationRequest,
                registered,
                _auth_values_answer,
            ),
        )

    @overload
    def contacts(self, handler: ContactsH, /) -> ContactsH: ...
    @overload
    def contacts(self, /, *, path: str) -> Callable[[ContactsH], ContactsH]: ...
    def contacts(
        self, handler: ContactsH | None = None, /, *, path: str = "/contact_sync"
    ) -> ContactsH | Callable[[ContactsH], ContactsH]:
        """Register the contact synchronization handler, served at `/contact_sync`.

        `request.meta.synchronization_checkpoint` is absent on a first, full sync, and
        `request.meta.offset` on a run's first page; both are strings this bridge gave
        (see `StateCodec`). It answers a `ContactsPage`, with the ids of contacts deleted
        since the checkpoint in `deleted_contacts`, or raises `CheckpointExpired` for a
        checkpoint it can no longer use.
        """
        return self._register(
            handler,
            lambda registered: _Endpoint(
                path,
                "contact_synchronization_endpoint",
                ContactSyncRequest,
                registered,
                _contacts_answer,
            ),
        )

    @overload
    def interactions(self, handler: InteractionsH, /) -> InteractionsH: ...
    @overload
    def interactions(self, /, *, path: str) -> Callable[[InteractionsH], InteractionsH]: ...
    def interactions(
        self, handler: InteractionsH | None = None, /, *, path: str = "/interactions"
    ) -> InteractionsH | Callable[[InteractionsH], InteractionsH]:
        """Register the interaction retrieval handler, served at `/interactions`.

        `request.data` is the contact (`contact_external_id` only when it came from this
        integration's contact sync); it answers the contact's interactions of the types
        in `request.meta.interaction_types`. Others are left out of the answer, since the
        hub would drop them.
        """
        return self._register(
            handler,
            lambda registered: _Endpoint(
                path,
                _INTERACTIONS_KEY,
                InteractionRequest,
                registered,
                _interactions_answer,
            ),
        )

    @overload
    def agents(self, handler: AgentsH, /) -> AgentsH: ...
    @overload
    def agents(self, /, *, path: str) -> Callable[[AgentsH], AgentsH]: ...
    def agents(
        self, handler: AgentsH | None = None, /, *, path: str = "/agent_sync"
    ) -> AgentsH | Callable[[AgentsH], AgentsH]:
        """Register the agent synchronization handler, served at `/agent_sync`; it answers
        every agent of the service."""
        return self._register(
            handler,
            lambda registered: _Endpoint(
                path,
                "agent_synchronization_endpoint",
                AgentSyncRequest,
                registered,
                _agents_answer,
            ),
        )

    def action(
        self, name: str, *, display: str, description: str, inputs: Sequence[ActionInput] = ()
    ) -> Callable[[ActionH], ActionH]:
        """Register an action handler, served at `/actions/{name}`.

        `display` ("create a ticket") and `description` ("create a new ticket in Acme
        Desk") are lower-case, to read after "Then ...". A request without a value for a
        mandatory input (absent, null or blank), or with a value outside an input's
        `choices`, is refused with 400 before the handler runs. The handler raises
        `ActionRefused` for data the service cannot take, and answers an `ActionOutcome`
        (201) or None (204).
        """
        declared = ActionDeclaration(name, display, description, tuple(inputs))
        self._declaration.action_document(declared, _DECLARATION_CHECK_URL)

        def register(handler: ActionH) -> ActionH:
            self._add(
                _Endpoint(
                    declared.path,
                    None,
                    ActionRequest,
                    handler,
                    _action_answer,
                    check=lambda request: _check_inputs(declared, request),
                )
            )
            self._declaration.actions[name] = declared
            return handler

        return register

    # Configuration -----------------------------------------------------------------------

    def integration_configuration(
        self, base_url: str, *, oauth2: OAuth2Configuration | None = None
    ) -> dict[str, Any]:
        """The integration configuration of this bridge served at `base_url`: one endpoint
        key per registered handler. `oauth2` replaces the declared OAuth 2.0 client."""
        has_interactions = any(
            endpoint.configuration_key == _INTERACTIONS_KEY for endpoint in self._endpoints.values()
        )
        if has_interactions != bool(self._declaration.interaction_types):
            raise DeclarationError(
                f'The bridge "{self.name}" must declare interaction_types exactly when it '
                "has an interactions handler."
            )
        endpoints = [
            (endpoint.configuration_key, endpoint.path)
            for endpoint in self._endpoints.values()
            if endpoint.configuration_key is not None
        ]
        return self._declaration.integration_document(base_url, endpoints, oauth2)

    def action_configurations(self, base_url: str) -> list[dict[str, Any]]:
        """The configuration of each registered action, in the order they were registered."""
        return [
            self._declaration.action_document(action, base_url)
            for action in self._declaration.actions.values()
        ]

    def configurations(
        self, base_url: str, *, oauth2: OAuth2Configuration | None = None
    ) -> list[dict[str, Any]]:
        """The integration configuration, then every action configuration."""
        return [
            self.integration_configuration(base_url, oauth2=oauth2),
            *self.action_configurations(base_url),
        ]

    # Serving -----------------------------------------------------------------------------

    def _register(
        self, handler: Handler | None, endpoint: Callable[[Handler], _Endpoint[Any]]
    ) -> Handler | Callable[[Handler], Handler]:
        """Serve `handler` as `endpoint` describes, or answer the decorator that will."""

        def register(registered: Handler) -> Handler:
            self._add(endpoint(registered))
            return registered

        return register if handler is None else register(handler)

    def _add(self, endpoint: _Endpoint[Any]) -> None:
        if not endpoint.path.startswith("/"):
            raise ValueError(f'An endpoint path must start with "/"; found "{endpoint.path}".')
        if endpoint.path in self._endpoints:
            raise ValueError(f'The bridge "{self.name}" already serves {endpoint.path}.')
        self._endpoints[endpoint.path] = endpoint
        self._app.router.routes.append(Route(endpoint.path, endpoint.serve, methods=["POST"]))


@dataclass(frozen=True)
class _Endpoint(Generic[Message]):
    path: str
    configuration_key: str | None
    """The integration configuration's key for this endpoint; None for actions."""
    request_model: type[Message]
    handler: Callable[[Message], Any]
    answer: Callable[[Message, Any], Response]
    """Turns what the handler returned into the answer; raises TypeError for a bug."""
    check: Callable[[Message], None] = field(default=lambda _: None)
    """Runs before the handler; raises a `BridgeException` to refuse the request."""

    async def serve(self, http: Request) -> Response:
        content = await http.body()
        try:
            request = self.request_model.model_validate_json(content)
        except ValidationError as error:
            return _message(400, f"The request breaks the bridge protocol: {describe(error)}")
        try:
            self.check(request)
            return self.answer(request, await _run(self.handler, request))
        except BridgeException as refusal:
            if refusal.answers(request):
                return _message(refusal.status_code, refusal.message, refusal.headers())
            return self._failed(f"raised {type(refusal).__name__}, which cannot answer it")
        except Exception:
            return self._failed("failed")

    def _failed(self, why: str) -> Response:
        # Never the request: it holds the credentials.
        log.exception("The handler of %s %s.", self.path, why)
        return _message(500, "The bridge failed while answering; its log says why.")


async def _run(handler: Callable[[Message], Any], request: Message) -> Any:
    if inspect.iscoroutinefunction(handler):
        return await handler(request)
    # A plain function may block (a database driver, a blocking HTTP client): off the loop.
    answer = await run_in_threadpool(handler, request)
    return await answer if inspect.isawaitable(answer) else answer


def _message(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"message": message}, status, headers=headers)


def _json(content: bytes, status: int = 200) -> Response:
    return Response(content, status, media_type="application/json")


def _check_inputs(action: ActionDeclaration, request: ActionRequest) -> None:
    missing = [key for key in action.mandatory_inputs if _blank(request.data.get(key))]
    if missing:
        raise ActionRefused(f"Mandatory input missing: {', '.join(missing)}.")
    refusals = [
        refusal
        for each in action.inputs
        if not _blank(value := request.data.get(each.key))
        and (refusal := each.refusal(value)) is not None
    ]
    if refusals:
        raise ActionRefused(f"{'; '.join(refusals)}.")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Answers -------------------------------------------------------------------------------


def _auth_values_answer(request: AuthValidationRequest, answer: Any) -> Response:
    if answer is None:
        return Response(status_code=204)
    if not isinstance(answer, Mapping):
        raise TypeError(f"auth validation must answer a mapping or None; got {_kind(answer)}")
    return JSONResponse(dict(answer))


def _contacts_answer(request: ContactSyncRequest, answer: Any) -> Response:
    if not isinstance(answer, ContactsPage):
        raise TypeError(f"contact synchronization must answer a ContactsPage; got {_kind(answer)}")
    # Defaults left out: no `next_offset: null`, no empty `deleted_contacts`.
    return _json(answer.model_dump_json(exclude_defaults=True).encode())


_INTERACTIONS = TypeAdapter(list[Interaction])


def _interactions_answer(request: InteractionRequest, answer: Any) -> Response:
    interactions = _instances(answer, Interaction, "interaction retrieval")
    requested = set(request.meta.interaction_types)
    wanted = [each for each in interactions if each.type in requested]
    if len(wanted) < len(interactions):
        unrequested = sorted({each.type for each in interactions} - requested)
        log.warning(
            "Left out %d interactions of types the hub did not ask for: %s.",
            len(interactions) - len(wanted),
            ", ".join(unrequested),
        )
    return _json(_INTERACTIONS.dump_json(wanted, exclude_none=True))


class _AgentsAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    agents: Sequence[Agent]


def _agents_answer(request: AgentSyncRequest, answer: Any) -> Response:
    agents = _instances(answer, Agent, "agent synchronization")
    return _json(_AgentsAnswer(agents=agents).model_dump_json(exclude_none=True).encode())


def _action_answer(request: ActionRequest, answer: Any) -> Response:
    if answer is None:
        return Response(status_code=204)
    if not isinstance(answer, ActionOutcome):
        raise TypeError(f"an action must answer an ActionOutcome or None; got {_kind(answer)}")
    return _json(answer.model_dump_json(exclude_none=True, exclude=set(HUB_NOTES)).encode(), 201)


Item = TypeVar("Item", bound=BaseModel)


def _instances(answer: Any, model: type[Item], endpoint: str) -> list[Item]:
    if isinstance(answer, str | bytes | Mapping) or not isinstance(answer, Sequence):
        raise TypeError(
            f"{endpoint} must answer a sequence of {model.__name__}; got {_kind(answer)}"
        )
    for index, item in enumerate(answer):
        if not isinstance(item, model):
            raise TypeError(
                f"{endpoint} must answer a sequence of {model.__name__}; "
                f"item {index} is {_kind(item)}"
            )
    return list(answer)


def _kind(value: Any) -> str:
    return type(value).__name__
