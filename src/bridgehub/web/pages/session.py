"""Signing in and out, and the UI's home."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from bridgehub.db.session import DbSession
from bridgehub.kit.errors import NotFound
from bridgehub.runtime import HubRuntime
from bridgehub.web import nav
from bridgehub.web.auth import (
    SESSION_COOKIE,
    SIGN_IN,
    SIGN_IN_COOKIE,
    MaybeSignedIn,
    SignedIn,
    local_path,
)
from bridgehub.web.service import session_service
from bridgehub.web.templating import Flash, render, see_other, set_cookie

router = APIRouter()


@router.get("/", name="home")
async def home(request: Request, operator: SignedIn) -> Response:
    route = nav.home_route(operator)
    if route is None:
        raise NotFound("No page of the UI is open to you.")
    return see_other(request, request.app.url_path_for(route))


@router.get("/sign-in", name="sign_in")
async def sign_in_page(request: Request, operator: MaybeSignedIn, next: str = "") -> Response:
    if operator is not None:
        return see_other(request, local_path(next))
    return render(request, "session/sign_in.html", {"next": local_path(next), "error": None})


@router.post("/sign-in")
async def sign_in(
    request: Request,
    session: DbSession,
    runtime: HubRuntime,
    key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    destination = local_path(next)
    if not key.strip():
        return _sign_in_refused(request, destination, "Enter your API key.")
    signed_in = await session_service.sign_in(session, runtime.settings, key.strip())
    if signed_in is None:
        return _sign_in_refused(
            request, destination, "This key is not valid: it may be mistyped or revoked."
        )
    token, operator = signed_in
    who = operator.account_name or "the admin"
    response = see_other(request, destination, Flash("success", f"Signed in as {who}."))
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(SIGN_IN_COOKIE, path="/ui")
    return response


@router.post("/sign-out", name="sign_out")
async def sign_out(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await session_service.sign_out(session, token)
    response = see_other(request, SIGN_IN, Flash("info", "You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


def _sign_in_refused(request: Request, destination: str, error: str) -> Response:
    # The key typed is never sent back: the field stays empty.
    context = {"next": destination, "error": error}
    return render(request, "session/sign_in.html", context, status_code=401)
