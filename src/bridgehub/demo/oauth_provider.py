"""A local OAuth 2.0 authorization server standing in for a SaaS provider.

The demo and the tests run the authorization-code flow against it for real over HTTP:
a consent page (or immediate approval), PKCE, refresh tokens with or without rotation, a
`/userinfo` resource, and hooks to revoke or expire what it issued. The protocol is Authlib's;
Authlib has no ASGI integration, so the few methods it leaves to a web framework are written
here against Starlette.

Serve `OAuthProvider(config).app` on 127.0.0.1: Authlib refuses plain HTTP elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Payload,
    RefreshTokenGrant,
    TokenMixin,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.applications import Starlette
from starlette.datastructures import Headers, ImmutableMultiDict, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bridgehub.kit.pages import standalone_page

_CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
_CONSENT_COOKIE = "demo_oauth_provider_browser"
_CONSENT_TTL_SECONDS = 600


@dataclass(frozen=True)
class DemoUser:
    """The one person who is always signed in at the provider."""

    email: str = "demo@example.com"
    name: str = "Demo User"


@dataclass(frozen=True)
class OAuthClient(ClientMixin):
    """A registered client. Without a secret it is public and must use PKCE; with one it
    authenticates by HTTP Basic or by form fields, as SaaS providers accept."""

    client_id: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    client_secret: str | None = None
    name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 §3.1.2.3: the client may leave redirect_uri out only when it has just one.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All the client's scopes when it asks for none; None (invalid_scope) when it asks
        for one it may not have, so a misconfigured client fails loudly."""
        if not scope:
            return " ".join(self.scopes)
        requested = scope.split()
        return " ".join(requested) if set(requested) <= set(self.scopes) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and hmac.compare_digest(
            self.client_secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in (_CONFIDENTIAL_AUTH_METHODS if self.client_secret else ("none",))

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class ProviderConfig:
    """How the provider behaves; the defaults suit the demo's person clicking through."""

    clients: Sequence[OAuthClient]
    user: DemoUser = DemoUser()
    # Approve every valid authorization request at once, without a consent page.
    auto_approve: bool = False
    access_token_ttl_seconds: int = 3600
    # Each refresh answers a new refresh token and revokes the old one; without rotation the
    # answer has no refresh token and the client keeps using its own.
    rotate_refresh_tokens: bool = True
    # Added to every token answer, like Salesforce's `instance_url`.
    token_extras: Mapping[str, Any] = field(default_factory=dict)
    code_ttl_seconds: float = 60.0

    def __post_init__(self) -> None:
        # Authlib leaves `expires_in` out of the answer when it is 0.
        if self.access_token_ttl_seconds < 1:
            raise ValueError("access_token_ttl_seconds must be at least 1")


class OAuthProvider:
    """The provider: serve `app`; the other methods inspect and adjust it from tests.

    Endpoints are `GET`/`POST /authorize`, `POST /token` and `GET /userinfo`.
    """

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        # Taken around every use of the store: the provider serves from its own event loop
        # thread while tests call in from theirs, and a token exchange must happen whole.
        self._lock = threading.Lock()
        self._store = _Store({client.client_id: client for client in config.clients})
        self._server = _Server(self._store, config)
        self._resources = ResourceProtector()
        self._resources.register_token_validator(_AccessTokenValidator(self._store))
        self._consent_forms = _ConsentForms()
        self.app = Starlette(
            routes=[
                Route("/authorize", self._authorization_request, methods=["GET"]),
                Route("/authorize", self._consent_decision, methods=["POST"], name="consent"),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo, methods=["GET"]),
            ]
        )

    def register_client(self, client: OAuthClient) -> None:
        """Add a client, or replace the one with its client_id."""
        with self._lock:
            self._store.clients[client.client_id] = client

    def revoke_all_refresh_tokens(self) -> None:
        with self._lock:
            self._store.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._store.access_tokens.clear()

    def is_valid_access_token(self, token: str) -> bool:
        with self._lock:
            issued = self._store.access_tokens.get(token)
            return issued is not None and not issued.is_expired()

    @property
    def token_requests(self) -> dict[str, int]:
        """Requests received at `/token` by `grant_type`, answered with a token or not."""
        with self._lock:
            return dict(self._store.token_requests)

    async def _authorization_request(self, request: Request) -> Response:
        received = await _receive(request)
        with self._lock:
            try:
                grant = self._server.get_consent_grant(received, end_user=self.config.user)
            except OAuth2Error as error:
                return self._refusal(error)
            if self.config.auto_approve:
                return self._server.authorization_response(grant, self.config.user)
        browser = request.cookies.get(_CONSENT_COOKIE) or secrets.token_urlsafe(32)
        page = _consent_page(
            client=grant.request.client,
            scope=grant.request.scope,
            user=self.config.user,
            action=str(request.url_for("consent")),
            authorization_request=request.url.query,
            consent_token=self._consent_forms.issue(browser, request.url.query),
        )
        page.set_cookie(
            _CONSENT_COOKIE, browser, max_age=_CONSENT_TTL_SECONDS, httponly=True, samesite="strict"
        )
        return page

    async def _consent_decision(self, request: Request) -> Response:
        received = await _receive(request)
        authorization_request = received.form.get("authorization_request", "")
        if not self._consent_forms.verify(
            request.cookies.get(_CONSENT_COOKIE, ""),
            authorization_request,
            received.form.get("consent_token", ""),
        ):
            return standalone_page(
                400,
                "Consent form refused",
                "<p>This consent form has expired or was not shown in this browser. "
                "Start again from the application.</p>",
            )
        # The form carries the original request; it is validated again, as the client's
        # registration may have changed since the page was shown.
        original = replace(received, query=QueryParams(authorization_request), form=_NO_FORM)
        user = self.config.user if received.form.get("decision") == "allow" else None
        with self._lock:
            try:
                grant = self._server.get_consent_grant(original, end_user=self.config.user)
            except OAuth2Error as error:
                return self._refusal(error)
            return self._server.authorization_response(grant, user)

    async def _token(self, request: Request) -> Response:
        received = await _receive(request)
        with self._lock:
            if grant_type := received.form.get("grant_type"):
                self._store.token_requests[grant_type] += 1
            response: Response = self._server.create_token_response(received)
            return response

    async def _userinfo(self, request: Request) -> Response:
        with self._lock:
            try:
                token: _Token = self._resources.validate_request(None, request)
            except OAuth2Error as error:
                return self._server.error_response(error)
        return JSONResponse({"email": token.user.email, "name": token.user.name})

    def _refusal(self, error: OAuth2Error) -> Response:
        # RFC 6749 §4.1.2.1: without a known client and a redirect URI registered for it, the
        # error is told to the person, never redirected to an address nobody vouched for.
        if error.redirect_uri:
            return self._server.error_response(error)
        description = escape(error.description or error.error)
        return standalone_page(400, "Authorization request refused", f"<p>{description}</p>")


@dataclass(frozen=True)
class _AuthorizationCode(AuthorizationCodeMixin):
    value: str
    client_id: str
    redirect_uri: str | None
    scope: str
    user: DemoUser
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.monotonic() >= self.expires_at


@dataclass(frozen=True)
class _Token(TokenMixin):
    """An access or a refresh token. Revoking one forgets it, so a token found is never
    revoked."""

    value: str
    client_id: str
    user: DemoUser
    scope: str
    expires_at: float = math.inf

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    def is_revoked(self) -> bool:
        return False


@dataclass
class _Store:
    """All the provider knows; its users hold the provider's lock."""

    clients: dict[str, OAuthClient]
    codes: dict[str, _AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, _Token] = field(default_factory=dict)
    refresh_tokens: dict[str, _Token] = field(default_factory=dict)
    token_requests: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Received:
    """An HTTP request with its body already read: Authlib's server is synchronous."""

    method: str
    url: str
    headers: Headers
    query: ImmutableMultiDict[str, str]
    form: ImmutableMultiDict[str, str]


_NO_FORM: ImmutableMultiDict[str, str] = ImmutableMultiDict()


async def _receive(request: Request) -> _Received:
    form = _NO_FORM
    # Starlette's own form parsing needs python-multipart; OAuth only ever posts URL-encoded
    # forms, which the standard library reads.
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", "replace")
        form = ImmutableMultiDict(parse_qsl(body, keep_blank_values=True))
    return _Received(request.method, str(request.url), request.headers, request.query_params, form)


class _Payload(OAuth2Payload):
    """A request's parameters, from its query and its form together, as Authlib reads them."""

    def __init__(self, received: _Received) -> None:
        items = [*received.query.multi_items(), *received.form.multi_items()]
        self._data = dict(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in items:
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):
    def __init__(self, received: _Received) -> None:
        super().__init__(received.method, received.url, headers=received.headers)
        self.payload = _Payload(received)
        self._form = received.form

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        return self._form


class _Server(AuthorizationServer):
    """Authlib's authorization server, wired to Starlette and to the provider's store."""

    def __init__(self, store: _Store, config: ProviderConfig) -> None:
        super().__init__()
        self.store = store
        self.config = config
        bearer = BearerTokenGenerator(
            access_token_generator=_opaque_token,
            refresh_token_generator=_opaque_token,
            expires_generator=config.access_token_ttl_seconds,
        )
        self.register_token_generator(
            "default", lambda **arguments: {**config.token_extras, **bearer(**arguments)}
        )
        self.register_grant(_AuthorizationCodeGrant, [CodeChallenge(required=True)])
        self.register_grant(_RefreshTokenGrant)

    def authorization_response(
        self, grant: _AuthorizationCodeGrant, user: DemoUser | None
    ) -> Response:
        """Redirect to the client with a code, or with access_denied when `user` is None."""
        response: Response = self.create_authorization_response(
            grant.request, grant_user=user, grant=grant
        )
        return response

    def error_response(self, error: OAuth2Error) -> Response:
        response: Response = self.handle_error_response(None, error)
        return response

    def query_client(self, client_id: str) -> OAuthClient | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        issued = partial(
            _Token,
            client_id=request.client.client_id,
            user=request.user,
            scope=token.get("scope", ""),
        )
        access_token = token["access_token"]
        expires_at = time.monotonic() + token["expires_in"]
        self.store.access_tokens[access_token] = issued(access_token, expires_at=expires_at)
        if refresh_token := token.get("refresh_token"):
            self.store.refresh_tokens[refresh_token] = issued(refresh_token)

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """Nothing here listens for Authlib's signals."""

    def create_oauth2_request(self, request: _Received) -> OAuth2Request:
        return _OAuth2Request(request)

    def handle_response(
        self, status: int, body: dict[str, Any] | str, headers: list[tuple[str, str]]
    ) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else body
        return Response(content, status, headers=dict(headers))


def _opaque_token(**_: object) -> str:
    return secrets.token_urlsafe(32)


# Public clients authenticate with "none" and prove themselves with PKCE instead.
_TOKEN_AUTH_METHODS = [*_CONFIDENTIAL_AUTH_METHODS, "none"]


class _AuthorizationCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _TOKEN_AUTH_METHODS
    server: _Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.server.store.codes[code] = _AuthorizationCode(
            value=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
            expires_at=time.monotonic() + self.server.config.code_ttl_seconds,
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> _AuthorizationCode | None:
        found = self.server.store.codes.get(code)
        if found is None or found.client_id != client.client_id or found.is_expired():
            return None
        return found

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        del self.server.store.codes[authorization_code.value]

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> DemoUser:
        return authorization_code.user


class _RefreshTokenGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _TOKEN_AUTH_METHODS
    server: _Server

    # Authlib reads this class setting per request; here it comes from the configuration.
    @property
    def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:
        return self.server.config.rotate_refresh_tokens

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        return self.server.store.refresh_tokens.get(refresh_token)

    def authenticate_user(self, refresh_token: _Token) -> DemoUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        if self.server.config.rotate_refresh_tokens:
            del self.server.store.refresh_tokens[refresh_token.value]


class _AccessTokenValidator(BearerTokenValidator):
    def __init__(self, store: _Store) -> None:
        super().__init__()
        self._store = store

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self._store.access_tokens.get(token_string)


class _ConsentForms:
    """Ties each consent form to the request it shows and to the browser it was shown to.

    The provider has no login, so anyone can fetch a valid form: a signature alone would not
    stop a forged approval. The browser's cookie, SameSite so that no cross-site POST carries
    it, does; the signature keeps the request's parameters from changing on the way back.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def issue(self, browser: str, authorization_request: str) -> str:
        issued_at = str(int(time.time()))
        return f"{issued_at}.{self._sign(browser, issued_at, authorization_request)}"

    def verify(self, browser: str, authorization_request: str, consent_token: str) -> bool:
        issued_at, _, signature = consent_token.partition(".")
        if not issued_at.isdigit() or time.time() - int(issued_at) > _CONSENT_TTL_SECONDS:
            return False
        expected = self._sign(browser, issued_at, authorization_request)
        return hmac.compare_digest(signature, expected)

    def _sign(self, browser: str, issued_at: str, authorization_request: str) -> str:
        message = f"{browser}\n{issued_at}\n{authorization_request}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def _consent_page(
    *,
    client: OAuthClient,
    scope: str,
    user: DemoUser,
    action: str,
    authorization_request: str,
    consent_token: str,
) -> HTMLResponse:
    name = escape(client.display_name)
    scopes = scope.split()
    asks = (
        "<ul>" + "".join(f"<li>{escape(each)}</li>" for each in scopes) + "</ul>"
        if scopes
        else "<p>No particular permission.</p>"
    )
    return standalone_page(
        200,
        f"Allow {client.display_name} to use your account?",
        f"<p>You are signed in as {escape(user.name)} ({escape(user.email)}).</p>"
        f"<h2>{name} asks for</h2>{asks}"
        f'<form method="post" action="{escape(action)}">'
        f"{_hidden('authorization_request', authorization_request)}"
        f"{_hidden('consent_token', consent_token)}"
        '<button type="submit" name="decision" value="allow">Allow</button> '
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form>",
    )


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'
