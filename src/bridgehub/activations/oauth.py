"""The client side of OAuth 2.0 (Authlib): authorization URLs, code exchange, refresh.

The token endpoint comes from the catalog, so its requests pass the same network guard
as bridge calls.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token

from bridgehub.bridge import BridgeUnavailable, GuardedTransport, NetworkPolicy, TargetRefused
from bridgehub.integrations.configuration import OAuth2Configuration
from bridgehub.kit.messages import network_failure
from bridgehub.kit.redaction import known_secrets

with warnings.catch_warnings():
    # Authlib nudges towards an httpx2 flavour; httpx is what the hub uses. Its warning
    # module installs an "always" filter on import, so it is imported before ours.
    import authlib.deprecate  # noqa: F401

    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

_TIMEOUT = httpx.Timeout(15.0)


class OAuthFailure(Exception):
    """The provider would not issue a token; `permanent` when asking again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str | None


@dataclass(frozen=True)
class OAuthClient:
    """One integration's OAuth 2.0 client, as the catalog configures it."""

    configuration: OAuth2Configuration
    client_secret: str | None
    redirect_uri: str
    policy: NetworkPolicy

    def authorization_request(self) -> AuthorizationRequest:
        verifier = generate_token(64) if self.configuration.pkce else None
        client = self._client()
        url, state = client.create_authorization_url(
            self.configuration.authorize_url, code_verifier=verifier
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    async def exchange(self, code: str, code_verifier: str | None) -> dict[str, Any]:
        known_secrets.register(code)
        return await self._token_request(
            lambda client, url: client.fetch_token(url, code=code, code_verifier=code_verifier)
        )

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        return await self._token_request(
            lambda client, url: client.refresh_token(url, refresh_token=refresh_token)
        )

    async def _token_request(self, request: Any) -> dict[str, Any]:
        url = self.configuration.token_url
        if url is None:
            raise OAuthFailure("the integration has no token_url", permanent=True)
        try:
            async with self._client() as client:
                token: dict[str, Any] = dict(await request(client, url))
        except TargetRefused as error:
            raise OAuthFailure(str(error), permanent=True) from error
        except OAuthError as error:
            raise OAuthFailure(_describe(error), permanent=True) from error
        except httpx.InvalidURL as error:  # stored before registration read URLs as the client does
            raise OAuthFailure(
                f"the token_url cannot be called ({error})", permanent=True
            ) from error
        except (httpx.HTTPError, ValueError, BridgeUnavailable) as error:
            raise OAuthFailure(
                f"the token endpoint could not be reached or answered nonsense ({_why(error)})",
                permanent=False,
            ) from error
        known_secrets.register(token.get("access_token"), token.get("refresh_token"))
        return token

    def _client(self) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self.configuration.client_id,
            client_secret=self.client_secret,
            scope=" ".join(self.configuration.scopes) or None,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256" if self.configuration.pkce else None,
            timeout=_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            # The token endpoint comes from the catalog: it gets the bridges' network guard.
            transport=GuardedTransport(self.policy),
        )
        for hook in ("access_token_response", "refresh_token_response"):
            client.register_compliance_hook(hook, _refuse_transient_answers)
        return client


def _refuse_transient_answers(response: httpx.Response) -> httpx.Response:
    # Authlib reads every answer as a token or an OAuth error; a provider that is down
    # or throttling is neither, and asking again later may work.
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise httpx.HTTPStatusError(
            f"token endpoint answered {response.status_code}",
            request=response.request,
            response=response,
        )
    return response


def _describe(error: OAuthError) -> str:
    description = f": {error.description}" if error.description else ""
    return f"the provider refused ({error.error}{description})"


def client_secret(configuration: OAuth2Configuration, stored_secret: str | None) -> str | None:
    """The client secret: opened from the catalog, or read from the named environment variable."""
    if configuration.client_secret_env is None:
        return stored_secret
    value = os.environ.get(configuration.client_secret_env)
    if not value:
        raise OAuthFailure(
            f"the environment variable {configuration.client_secret_env} "
            "holding the client secret is not set",
            permanent=True,
        )
    known_secrets.register(value)
    return value


def token_lifetime(token: Mapping[str, Any]) -> float | None:
    expires_in = token.get("expires_in")
    try:
        return float(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        return None


def _why(error: Exception) -> str:
    """Why a token request failed, without repeating what the endpoint answered (which may
    carry a token)."""
    if isinstance(error, BridgeUnavailable):
        return "unavailable"
    if isinstance(error, httpx.HTTPError):
        return network_failure(error, its_words=False)
    return "an answer that is not a JSON object"
