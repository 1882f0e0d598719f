"""Who is signed in to the web UI, and the CSRF check every unsafe request passes.

Pages state who may see them in their signature, like API endpoints do:
`operator: SignedIn` (anyone signed in), `SignedInAccount`, `SignedInAdmin`. A request
without a session is sent to the sign-in page, which brings the person back afterwards.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request

from bridgehub.accounts.auth import Account, Admin
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import Forbidden
from bridgehub.web.service import Operator, session_service

SESSION_COOKIE = "bridgehub_session"
SIGN_IN_COOKIE = "bridgehub_sign_in"
"""Before a session exists, the sign-in form's CSRF token (so no other site can sign a
browser in to an account of its choosing)."""
CSRF_FIELD = "csrf_token"
HOME = "/ui/"
SIGN_IN = "/ui/sign-in"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


class SignInRequired(Exception):
    """The page needs a signed-in person; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    code = "csrf_refused"


def local_path(candidate: str | None) -> str:
    """`candidate` when it is a path on this site, else the UI's home: where to go after
    signing in, never another site (`//evil.example`, `https://...`, `/\\evil.example`)."""
    if not candidate or _UNSAFE_CHARACTERS.search(candidate):
        return HOME
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not candidate.startswith("/") or candidate.startswith("//"):
        return HOME
    return candidate


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN}?{urlencode({'next': local_path(next_path)})}"


async def _operator(request: Request, session: DbSession) -> Operator | None:
    token = request.cookies.get(SESSION_COOKIE)
    operator = None
    if token:
        operator = await session_service.find(session, request.app.state.runtime.settings, token)
    # Kept for rendering: the layout shows who is signed in and what they may open.
    request.state.operator = operator
    return operator


MaybeSignedIn = Annotated[Operator | None, Depends(_operator)]


async def _signed_in(request: Request, operator: MaybeSignedIn) -> Operator:
    if operator is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path if request.method in _SAFE_METHODS else HOME)
    return operator


SignedIn = Annotated[Operator, Depends(_signed_in)]


async def _signed_in_admin(operator: SignedIn) -> Operator:
    if not isinstance(operator.caller, Admin):
        raise Forbidden("This page is for the hub's admin: sign in with the admin key.")
    return operator


async def _signed_in_account(operator: SignedIn) -> Operator:
    if not isinstance(operator.caller, Account):
        raise Forbidden("This page acts for one account: sign in with that account's key.")
    return operator


SignedInAdmin = Annotated[Operator, Depends(_signed_in_admin)]
SignedInAccount = Annotated[Operator, Depends(_signed_in_account)]


def account_of(operator: Operator) -> Account:
    """The account of an operator that `SignedInAccount` let in."""
    assert isinstance(operator.caller, Account)
    return operator.caller


async def verify_csrf(request: Request, operator: MaybeSignedIn) -> None:
    """Every POST (PUT, DELETE, ...) under /ui carries the token of the session it came from
    in the form field `csrf_token`; the UI's router runs this for every route."""
    if request.method in _SAFE_METHODS:
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = operator.csrf_token if operator else request.cookies.get(SIGN_IN_COOKIE)
    if not (
        isinstance(sent, str) and expected and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused(
            "This form was not sent from a page of this hub, or your session changed since "
            "it was shown. Go back, reload the page and try again."
        )
