"""Zendesk's REST API (v2) as the Zendesk bridge uses it: which account a request's `auth`
opens, how to authenticate, and which of Zendesk's answers mean what to the hub.

Every call authenticates with an agent's email and API token (HTTP Basic,
`{email}/token:{api_token}`), and Zendesk's refusals become the SDK's exceptions:
401 and 403 `CredentialsRejected`, 429 and 5xx `TemporarilyUnavailable` (with Zendesk's
`Retry-After`), so the hub asks a person to reconnect or tries again later.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bridgehub.sdk import CredentialsRejected, TemporarilyUnavailable, retry_after_seconds

ZENDESK_API_URL = "https://{subdomain}.zendesk.com"
"""Where an account's API lives; `{subdomain}` is the account's."""

_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ZENDESK_HOST = re.compile(rf"(?P<subdomain>{_SUBDOMAIN.pattern})\.zendesk\.com")

Query = Sequence[tuple[str, str]]


class ZendeskError(RuntimeError):
    """Zendesk answered something the bridge cannot use: a bug on either side, answered
    500 by the SDK (which the hub retries) and logged."""


@dataclass(frozen=True)
class Account:
    """A Zendesk account and the agent whose credentials open it."""

    subdomain: str
    email: str
    api_token: str

    @property
    def web_url(self) -> str:
        """The account's agent interface, where links to its records point."""
        return f"https://{self.subdomain}.zendesk.com"

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.web_url}/agent/tickets/{ticket_id}"


def account_of(auth: Mapping[str, Any]) -> Account:
    """The account a request's `auth` names (`account`, `email`, `token`, as the
    integration configuration calls them); CredentialsRejected when they cannot be it."""
    address, email, token = auth.get("account"), auth.get("email"), auth.get("token")
    if not (isinstance(email, str) and email.strip() and isinstance(token, str) and token):
        raise CredentialsRejected("An agent's email and API token are needed.")
    subdomain = _subdomain(address) if isinstance(address, str) else None
    if subdomain is None:
        raise CredentialsRejected(
            "The account must be a Zendesk address such as https://acme.zendesk.com."
        )
    return Account(subdomain, email.strip(), token)


def _subdomain(address: str) -> str | None:
    """`acme` for `https://acme.zendesk.com` (or `acme.zendesk.com`); None for anything
    else, so that credentials are only ever sent to Zendesk."""
    address = address.strip().lower()
    parts = urlsplit(address if "://" in address else f"https://{address}")
    found = _ZENDESK_HOST.fullmatch(parts.netloc)
    if parts.scheme != "https" or found is None or parts.path not in ("", "/") or parts.query:
        return None
    return found["subdomain"]


class ZendeskApi:
    """Calls Zendesk's API for any account, over one connection pool opened by
    `lifespan` (the bridge's own)."""

    def __init__(self, api_url: str = ZENDESK_API_URL) -> None:
        """`api_url` is where an account's API lives, `{subdomain}` standing for the
        account's: Zendesk's own unless a test or a development setup points it elsewhere."""
        if api_url.count("{subdomain}") != 1 or urlsplit(api_url).scheme not in ("http", "https"):
            raise ValueError(
                "The Zendesk API URL must be http(s) and contain {subdomain} once; "
                f"found {api_url!r}."
            )
        self.api_url = api_url.rstrip("/")
        self._http: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        # Redirects are never followed: they would carry the credentials elsewhere.
        async with httpx.AsyncClient(
            timeout=_TIMEOUT, follow_redirects=False, headers={"Accept": "application/json"}
        ) as http:
            self._http = http
            try:
                yield
            finally:
                self._http = None

    async def get(
        self, account: Account, path: str, query: Query = (), *, may_be_missing: bool = False
    ) -> httpx.Response:
        """GET `path`; Zendesk's 404 for a missing record is answered to the caller when
        `may_be_missing` (a record deleted since), and any other 404 means the account
        is not there."""
        return await self._send(account, "GET", path, query=query, may_be_missing=may_be_missing)

    async def post(self, account: Account, path: str, body: Any) -> httpx.Response:
        return await self._send(account, "POST", path, body=body)

    async def _send(
        self,
        account: Account,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        may_be_missing: bool = False,
    ) -> httpx.Response:
        if self._http is None:
            raise RuntimeError("The Zendesk bridge is not running: serve it with its lifespan.")
        url = self.api_url.format(subdomain=account.subdomain) + path
        auth = httpx.BasicAuth(f"{account.email}/token", account.api_token)
        try:
            response = await self._http.request(
                method, url, params=list(query), json=body, auth=auth
            )
        except httpx.TimeoutException:
            raise TemporarilyUnavailable("Zendesk did not answer in time.") from None
        except httpx.TransportError:
            raise TemporarilyUnavailable("Zendesk could not be reached.") from None
        _refuse_unusable(response, account, may_be_missing=may_be_missing)
        return response


def _refuse_unusable(response: httpx.Response, account: Account, *, may_be_missing: bool) -> None:
    """Raise what Zendesk's refusals that no caller handles mean to the hub."""
    status = response.status_code
    # Zendesk's API never redirects: an account that is not (or no longer) there does,
    # or answers 404 without naming a missing record.
    missing_record = may_be_missing and _error_code(response) == "RecordNotFound"
    if response.is_redirect or (status == 404 and not missing_record):
        raise CredentialsRejected(f"No Zendesk account answers at {account.web_url}.")
    if status == 401:
        raise CredentialsRejected("Zendesk does not accept this email and API token.")
    if status == 403:
        raise CredentialsRejected(
            "Zendesk refuses this agent access; connect with an agent or admin who may "
            "see users and tickets."
        )
    if status == 429 or status >= 500:
        reason = (
            "Zendesk's rate limit is reached." if status == 429 else f"Zendesk answered {status}."
        )
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise TemporarilyUnavailable(reason, retry_after=retry_after)


def _error_code(response: httpx.Response) -> str | None:
    """The `error` of Zendesk's JSON error body, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["error"]) if isinstance(body, dict) and "error" in body else None


def json_object(response: httpx.Response, doing: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; ZendeskError for any other answer."""
    if not response.is_success:
        raise ZendeskError(f"Zendesk answered {response.status_code} when {doing}.")
    try:
        found = response.json()
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ZendeskError(f"Zendesk's answer when {doing} is not a JSON object.")
    return found


def refusal_message(response: httpx.Response) -> str:
    """What Zendesk says is wrong in a 4xx answer: the description of each detail of its
    `{"error", "description", "details": {"field": [{"description"}]}}` body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"Zendesk answered {response.status_code}."
    details = body.get("details")
    said = [
        str(each["description"])
        for problems in (details.values() if isinstance(details, dict) else ())
        if isinstance(problems, list)
        for each in problems
        if isinstance(each, dict) and each.get("description")
    ]
    if not said:
        said = [str(body.get("description") or body.get("error") or response.status_code)]
    return "; ".join(said)
