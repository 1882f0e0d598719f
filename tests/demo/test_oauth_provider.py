"""The local OAuth 2.0 provider, served for real on 127.0.0.1 and driven by Authlib's client."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from starlette.types import ASGIApp

from bridgehub.demo.oauth_provider import OAuthClient, OAuthProvider, ProviderConfig
from tests.demo.consent import ConsentForm, consent_form

CALLBACK = "http://127.0.0.1:8000/oauth/callback"
SCOPES = ("contacts.read", "tickets.write")
PUBLIC = OAuthClient("public-app", (CALLBACK,), SCOPES, name="Acme Contact Center")
CONFIDENTIAL = OAuthClient("confidential-app", (CALLBACK,), SCOPES, client_secret="s3cret")
CONFIG = ProviderConfig(
    clients=(PUBLIC, CONFIDENTIAL),
    auto_approve=True,
    token_extras={"instance_url": "https://acme.example"},
)


@dataclass(frozen=True)
class Running:
    provider: OAuthProvider
    url: str

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/userinfo"


Start = Callable[..., Running]


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 from a thread; answers its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="oauth-provider", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the provider did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def start() -> Iterator[Start]:
    """Start a provider configured as CONFIG with the given changes."""
    with ExitStack() as stack:

        def start_provider(**changes: Any) -> Running:
            provider = OAuthProvider(replace(CONFIG, **changes))
            return Running(provider, stack.enter_context(serving(provider.app)))

        yield start_provider


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The person's browser: keeps cookies and shows redirects instead of following them."""
    async with httpx.AsyncClient() as client:
        yield client


def oauth_client(client: OAuthClient, **options: Any) -> AsyncOAuth2Client:
    settings = {"redirect_uri": CALLBACK, "scope": " ".join(SCOPES), **options}
    return AsyncOAuth2Client(client.client_id, client.client_secret, **settings)


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


async def approved_redirect(browser: httpx.AsyncClient, authorization_url: str) -> str:
    """Where an auto-approving provider sends the browser back to."""
    response = await browser.get(authorization_url)
    assert response.status_code == 302, response.text
    location: str = response.headers["location"]
    return location


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def signed_in(running: Running, browser: httpx.AsyncClient, **options: Any) -> dict[str, Any]:
    """A confidential client's token, through the whole code flow."""
    async with oauth_client(CONFIDENTIAL, **options) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
        redirect = await approved_redirect(browser, url)
        token: dict[str, Any] = await client.fetch_token(
            running.token_url, authorization_response=redirect
        )
        return token


async def test_public_client_completes_the_code_flow_with_s256_pkce_through_the_consent_page(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(auto_approve=False)
    verifier = new_verifier()
    async with oauth_client(PUBLIC, code_challenge_method="S256") as client:
        url, state = client.create_authorization_url(running.authorize_url, code_verifier=verifier)
        page = await browser.get(url)
        assert page.status_code == 200
        for shown in ("Acme Contact Center", "contacts.read", "tickets.write", "demo@example.com"):
            assert shown in page.text
        form = ConsentForm(page.text)
        assert form.decisions == ["allow", "deny"]

        redirect = await form.submit(browser, "allow")

        assert redirect.status_code == 302
        location = redirect.headers["location"]
        assert location.startswith(CALLBACK)
        assert query_of(location)["state"] == state
        token = await client.fetch_token(
            running.token_url, authorization_response=location, code_verifier=verifier
        )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "contacts.read tickets.write"
    assert token["expires_in"] == 3600
    assert token["instance_url"] == "https://acme.example"
    assert token["refresh_token"]
    assert running.provider.is_valid_access_token(token["access_token"])
    userinfo = await browser.get(
        running.userinfo_url, headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert userinfo.json() == {"email": "demo@example.com", "name": "Demo User"}


async def test_denying_consent_redirects_with_access_denied_and_the_state(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(auto_approve=False)
    async with oauth_client(CONFIDENTIAL) as client:
        url, state = client.create_authorization_url(running.authorize_url)
    form = await consent_form(browser, url)

    redirect = await form.submit(browser, "deny")

    assert redirect.status_code == 302
    answer = query_of(redirect.headers["location"])
    assert (answer["error"], answer["state"]) == ("access_denied", state)


async def test_consent_form_is_refused_when_altered_or_posted_from_another_browser(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(auto_approve=False)
    async with oauth_client(CONFIDENTIAL) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
    form = await consent_form(browser, url)
    altered = form.fields["authorization_request"].replace("contacts.read", "admin")

    tampered = await browser.post(
        form.action, data={**form.fields, "authorization_request": altered, "decision": "allow"}
    )
    async with httpx.AsyncClient() as elsewhere:
        forged = await form.submit(elsewhere, "allow")

    assert tampered.status_code == forged.status_code == 400
    assert "location" not in tampered.headers
    assert "location" not in forged.headers


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_confidential_client_completes_the_code_flow_with_its_secret(
    start: Start, browser: httpx.AsyncClient, auth_method: str
) -> None:
    running = start()

    token = await signed_in(running, browser, token_endpoint_auth_method=auth_method)

    assert running.provider.is_valid_access_token(token["access_token"])


async def test_plain_pkce_is_accepted(start: Start, browser: httpx.AsyncClient) -> None:
    running = start()
    verifier = new_verifier()
    async with oauth_client(PUBLIC) as client:
        url, _ = client.create_authorization_url(
            running.authorize_url, code_challenge=verifier, code_challenge_method="plain"
        )
        redirect = await approved_redirect(browser, url)
        token = await client.fetch_token(
            running.token_url, authorization_response=redirect, code_verifier=verifier
        )
    assert running.provider.is_valid_access_token(token["access_token"])


async def test_public_client_must_prove_its_pkce_verifier(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    async with oauth_client(PUBLIC, code_challenge_method="S256") as client:
        url, _ = client.create_authorization_url(
            running.authorize_url, code_verifier=new_verifier()
        )
        redirect = await approved_redirect(browser, url)
        with pytest.raises(OAuthError) as wrong:
            await client.fetch_token(
                running.token_url, authorization_response=redirect, code_verifier=new_verifier()
            )
        with pytest.raises(OAuthError) as missing:
            await client.fetch_token(running.token_url, authorization_response=redirect)
    assert wrong.value.error == "invalid_grant"
    assert missing.value.error == "invalid_request"


async def test_a_code_is_used_once(start: Start, browser: httpx.AsyncClient) -> None:
    running = start()
    async with oauth_client(CONFIDENTIAL) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
        redirect = await approved_redirect(browser, url)
        await client.fetch_token(running.token_url, authorization_response=redirect)
        with pytest.raises(OAuthError) as second:
            await client.fetch_token(running.token_url, authorization_response=redirect)
    assert second.value.error == "invalid_grant"


async def test_a_code_expires(start: Start, browser: httpx.AsyncClient) -> None:
    running = start(code_ttl_seconds=0.1)
    async with oauth_client(CONFIDENTIAL) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
        redirect = await approved_redirect(browser, url)
        await asyncio.sleep(0.2)
        with pytest.raises(OAuthError) as late:
            await client.fetch_token(running.token_url, authorization_response=redirect)
    assert late.value.error == "invalid_grant"


async def test_an_unregistered_redirect_uri_is_never_redirected_to(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    async with oauth_client(CONFIDENTIAL, redirect_uri="https://evil.example/callback") as client:
        url, _ = client.create_authorization_url(running.authorize_url)

    response = await browser.get(url)

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "https://evil.example/callback" in response.text


async def test_the_code_exchange_must_repeat_the_redirect_uri(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    async with oauth_client(CONFIDENTIAL) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
        redirect = await approved_redirect(browser, url)
        with pytest.raises(OAuthError) as refused:
            await client.fetch_token(
                running.token_url,
                authorization_response=redirect,
                redirect_uri="http://127.0.0.1:8000/elsewhere",
            )
    assert refused.value.error == "invalid_grant"


async def test_a_scope_the_client_may_not_have_is_refused_back_to_the_client(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    async with oauth_client(CONFIDENTIAL, scope="contacts.read admin") as client:
        url, state = client.create_authorization_url(running.authorize_url)

    redirect = await approved_redirect(browser, url)

    assert query_of(redirect)["error"] == "invalid_scope"
    assert query_of(redirect)["state"] == state


async def test_a_wrong_secret_is_refused(start: Start, browser: httpx.AsyncClient) -> None:
    running = start()
    async with oauth_client(replace(CONFIDENTIAL, client_secret="wrong")) as client:
        url, _ = client.create_authorization_url(running.authorize_url)
        redirect = await approved_redirect(browser, url)
        with pytest.raises(OAuthError) as refused:
            await client.fetch_token(running.token_url, authorization_response=redirect)
    assert refused.value.error == "invalid_client"


async def test_rotation_replaces_the_refresh_token_and_refuses_the_old_one(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(rotate_refresh_tokens=True)
    token = await signed_in(running, browser)
    async with oauth_client(CONFIDENTIAL, token=token) as client:
        refreshed = await client.refresh_token(running.token_url)
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert refreshed["instance_url"] == "https://acme.example"
        assert running.provider.is_valid_access_token(refreshed["access_token"])
        with pytest.raises(OAuthError) as old:
            await client.refresh_token(running.token_url, refresh_token=token["refresh_token"])
        await client.refresh_token(running.token_url, refresh_token=refreshed["refresh_token"])
    assert old.value.error == "invalid_grant"


async def test_without_rotation_the_answer_has_no_refresh_token_and_the_old_one_lasts(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(rotate_refresh_tokens=False)
    token = await signed_in(running, browser)
    answers: list[dict[str, Any]] = []

    def keep_answer(response: httpx.Response) -> httpx.Response:
        answers.append(response.json())
        return response

    async with oauth_client(CONFIDENTIAL, token=token) as client:
        client.register_compliance_hook("refresh_token_response", keep_answer)
        first = await client.refresh_token(running.token_url)
        second = await client.refresh_token(running.token_url)
    assert [("refresh_token" in answer) for answer in answers] == [False, False]
    assert first["refresh_token"] == second["refresh_token"] == token["refresh_token"]
    assert first["access_token"] != second["access_token"]


async def test_after_revoking_all_refresh_tokens_a_refresh_is_invalid_grant(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    token = await signed_in(running, browser)
    running.provider.revoke_all_refresh_tokens()
    async with oauth_client(CONFIDENTIAL, token=token) as client:
        with pytest.raises(OAuthError) as refused:
            await client.refresh_token(running.token_url)
    assert refused.value.error == "invalid_grant"


async def test_concurrent_refreshes_of_a_rotated_token_succeed_once_and_are_all_counted(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(rotate_refresh_tokens=True)
    token = await signed_in(running, browser)
    async with oauth_client(CONFIDENTIAL, token=token) as client:
        outcomes = await asyncio.gather(
            *(
                client.refresh_token(running.token_url, refresh_token=token["refresh_token"])
                for _ in range(5)
            ),
            return_exceptions=True,
        )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failures) == 4
    assert all(isinstance(failure, OAuthError) for failure in failures)
    assert running.provider.token_requests == {"authorization_code": 1, "refresh_token": 5}


async def test_access_tokens_expire_after_their_lifetime(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(access_token_ttl_seconds=1)
    token = await signed_in(running, browser)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert token["expires_in"] == 1
    assert (await browser.get(running.userinfo_url, headers=bearer)).status_code == 200

    await asyncio.sleep(1.05)

    assert not running.provider.is_valid_access_token(token["access_token"])
    expired = await browser.get(running.userinfo_url, headers=bearer)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


async def test_expire_access_tokens_invalidates_them_at_once(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()
    token = await signed_in(running, browser)

    running.provider.expire_access_tokens()

    assert not running.provider.is_valid_access_token(token["access_token"])
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await browser.get(running.userinfo_url, headers=bearer)).status_code == 401


async def test_userinfo_without_a_token_is_unauthorized(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start()

    response = await browser.get(running.userinfo_url)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("bearer ")


async def test_a_client_registered_while_running_can_sign_in(
    start: Start, browser: httpx.AsyncClient
) -> None:
    running = start(clients=())
    running.provider.register_client(CONFIDENTIAL)

    token = await signed_in(running, browser)

    assert running.provider.is_valid_access_token(token["access_token"])


def test_an_access_token_lifetime_under_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="access_token_ttl_seconds"):
        ProviderConfig(clients=(), access_token_ttl_seconds=0)
