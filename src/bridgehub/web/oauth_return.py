"""The page OAuth 2.0 providers send people back to, and bringing a person back to the UI
after an authorization the UI started.

The provider sends every browser to the hub's `/oauth/callback`, whoever started the
flow. When the UI starts one it leaves a cookie for that callback, named after the
flow's state (so flows started at once in one browser do not mix) and holding the
integration's name: the callback then answers with that integration's page and a flash
instead of its standalone page. Flows started through the API carry no such cookie and
keep their page.
"""

from __future__ import annotations

import html
import re
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from bridgehub.accounts.auth import digest
from bridgehub.activations import authorization
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import HubError
from bridgehub.kit.pages import standalone_page
from bridgehub.runtime import HubRuntime
from bridgehub.web.templating import Flash, see_other, set_cookie

CALLBACK_PATH = "/oauth/callback"
_COOKIE_PREFIX = "bridgehub_ui_oauth_"
_INTEGRATION_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")

router = APIRouter(tags=["activations"])

# What the callback's page may answer besides 200, each a page saying what failed.
_FAILURES = {
    400: "The authorization failed, is unknown or was already used.",
    409: "The integration can no longer be connected this way.",
    502: "The provider or the bridge failed.",
}


@router.get(
    CALLBACK_PATH,
    summary="Where OAuth 2.0 providers send people back",
    response_class=HTMLResponse,
    include_in_schema=True,
    responses={
        status_code: {"description": description, "content": {"text/html": {}}}
        for status_code, description in _FAILURES.items()
    },
)
async def oauth_callback(
    request: Request,
    session: DbSession,
    runtime: HubRuntime,
    state: Annotated[str, Query()] = "",
    code: Annotated[str | None, Query()] = None,
    error: Annotated[str | None, Query()] = None,
) -> Response:
    try:
        activation = await authorization.complete(session, runtime, state, code, error)
    except HubError as failure:  # a person reads this page: say what happened in words
        return back_to_ui(request, state, Flash("error", failure.message)) or _page(
            "Not connected", failure.message, failure.status_code
        )
    name = activation.integration.configuration.get("display_name", activation.integration.name)
    return back_to_ui(request, state, Flash("success", f"{name} is connected.")) or _page(
        "Connected", f"{name} is connected. You can close this window.", status.HTTP_200_OK
    )


def _page(title: str, message: str, status_code: int) -> HTMLResponse:
    return standalone_page(status_code, title, f'<p role="status">{html.escape(message)}</p>')


def remember(request: Request, response: Response, authorize_url: str, integration: str) -> None:
    """Mark the flow `authorize_url` starts as the UI's, returning to `integration`'s page."""
    state = parse_qs(urlsplit(authorize_url).query).get("state", [""])[0]
    max_age: int = request.app.state.runtime.settings.oauth_state_ttl_seconds
    set_cookie(request, response, _cookie(state), integration, path=CALLBACK_PATH, max_age=max_age)


def back_to_ui(request: Request, state: str, flash: Flash) -> Response | None:
    """The redirect to the integration's page with `flash` when the UI started the flow
    with `state`, else None."""
    name = _cookie(state)
    integration = request.cookies.get(name, "")
    if not _INTEGRATION_NAME.match(integration):
        return None
    response = see_other(request, f"/ui/integrations/{integration}", flash)
    response.delete_cookie(name, path=CALLBACK_PATH)
    return response


def _cookie(state: str) -> str:
    # A digest: the cookie name never carries the state itself.
    return _COOKIE_PREFIX + digest(state)[:32]
