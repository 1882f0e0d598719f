"""Error pages for the UI: a person's browser gets a page, while the JSON API keeps its
error envelope. The app's own handlers stay in charge of everything outside /ui."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from bridgehub.db.outage import DATABASE_ERRORS, outage
from bridgehub.kit.errors import HubError
from bridgehub.web.auth import SignInRequired, sign_in_url
from bridgehub.web.templating import render, see_other

log = structlog.get_logger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page_request(request: Request) -> bool:
    return request.url.path == "/ui" or request.url.path.startswith("/ui/")


def install_error_pages(app: FastAPI) -> None:
    """Answer errors under /ui with pages; call after the app's own handlers are installed."""

    def for_pages(kind: type[Exception], page: Handler) -> None:
        api_handler = app.exception_handlers[kind]

        async def handle(request: Request, error: Exception) -> Response:
            if is_page_request(request):
                return await page(request, error)
            answer = api_handler(request, error)
            return await answer if inspect.isawaitable(answer) else answer

        app.add_exception_handler(kind, handle)

    for_pages(HubError, _hub_error)
    for_pages(HTTPException, _http_error)
    for_pages(RequestValidationError, _invalid_request)
    for_pages(Exception, _unexpected)
    for kind in DATABASE_ERRORS:
        for_pages(kind, _database_error)

    async def sign_in_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        return see_other(request, sign_in_url(error.next_path))

    app.add_exception_handler(SignInRequired, sign_in_required)


def error_page(request: Request, status_code: int, message: str) -> Response:
    title = HTTPStatus(status_code).phrase
    context = {"status_code": status_code, "title": title, "message": message}
    return render(request, "error.html", context, status_code=status_code)


async def _hub_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HubError)
    return error_page(request, error.status_code, error.message)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        message = "There is no page at this address. It may have moved, or the link is wrong."
    elif error.status_code == 405:
        message = "This page cannot be opened that way. Go back and use its links and buttons."
    else:
        message = str(error.detail)
    return error_page(request, error.status_code, message)


async def _invalid_request(request: Request, error: Exception) -> Response:
    return error_page(request, 400, "The address or form was not understood; go back and retry.")


async def _database_error(request: Request, error: Exception) -> Response:
    lost = outage(error)
    if lost is None:
        return await _unexpected(request, error)
    return await _hub_error(request, lost)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path, error_type=type(error).__name__)
    return error_page(request, 500, "Something went wrong on our side; it has been logged.")
