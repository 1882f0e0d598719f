"""Rendering pages and answering forms: `render` for a page, `see_other` to redirect after
a form, with flash messages that show on the next page."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bridgehub.web import nav
from bridgehub.web.auth import SIGN_IN_COOKIE
from bridgehub.web.service import Operator
from bridgehub.web.wording import scrubbed

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_PREFIX = "/ui/static"
FLASH_COOKIE = "bridgehub_flash"

# Scripts and styles come from the hub alone; logos may come from wherever the catalog
# says (only http(s), see `image_url`); forms post only back to the hub.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: http:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show account data; a shared computer's back button must not bring it back.
    "Cache-Control": "no-store",
}

FlashLevel = Literal["success", "info", "error"]
_FLASH_LEVELS: tuple[FlashLevel, ...] = ("success", "info", "error")


@dataclass(frozen=True)
class Flash:
    level: FlashLevel
    message: str


def image_url(url: object) -> str | None:
    """`url` when it is an absolute http(s) URL an <img> may load, else None: a catalog
    document is someone else's text, and `javascript:` or `data:` must never reach a page."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None


def utc_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@cache
def static_url(name: str) -> str:
    """The URL of a file in static/, versioned by its content so browsers never keep an
    old copy."""
    version = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{name}?v={version}"


environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["static_url"] = static_url
environment.filters["image_url"] = image_url
environment.filters["utc_time"] = utc_time
environment.filters["scrubbed"] = scrubbed


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page `template` (under templates/) with `context`, inside the layout: who is
    signed in, their menus, the form token and any flash messages."""
    operator: Operator | None = getattr(request.state, "operator", None)
    new_sign_in_token = None
    if operator is not None:
        csrf_token = operator.csrf_token
    else:
        csrf_token = request.cookies.get(SIGN_IN_COOKIE) or ""
        if not csrf_token:
            csrf_token = new_sign_in_token = secrets.token_urlsafe(32)
    flashes = _read_flashes(request)
    html = environment.get_template(template).render(
        request=request,
        operator=operator,
        main_menu=_menu(request, nav.main_menu(operator) if operator else []),
        admin_menu=_menu(request, nav.admin_menu(operator) if operator else []),
        csrf_token=csrf_token,
        flashes=flashes,
        **(context or {}),
    )
    response = HTMLResponse(html, status_code, headers=_PAGE_HEADERS)
    if new_sign_in_token:
        set_cookie(request, response, SIGN_IN_COOKIE, new_sign_in_token)
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/ui")
    return response


def see_other(request: Request, url: str, *flashes: Flash) -> RedirectResponse:
    """Redirect after a form (303, so the browser GETs `url`), with messages for that page."""
    response = RedirectResponse(url, status_code=303)
    if flashes:
        value = json.dumps([[flash.level, flash.message] for flash in flashes])
        set_cookie(
            request, response, FLASH_COOKIE, base64.urlsafe_b64encode(value.encode()).decode()
        )
    return response


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    path: str = "/ui",
    max_age: int | None = None,
) -> None:
    """A UI cookie: for /ui only (unless `path` says otherwise), out of scripts' reach, not
    sent by other sites' forms, and only over HTTPS when the hub is served over HTTPS."""
    public_url: str = request.app.state.runtime.settings.public_url
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=urlsplit(public_url).scheme == "https",
    )


def _read_flashes(request: Request) -> list[Flash]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    if not isinstance(items, list):
        return []
    return [
        Flash(item[0], item[1])
        for item in items
        if isinstance(item, list)
        and len(item) == 2
        and item[0] in _FLASH_LEVELS
        and isinstance(item[1], str)
    ]


@dataclass(frozen=True)
class MenuLink:
    label: str
    href: str
    current: bool


def _menu(request: Request, entries: list[nav.NavEntry]) -> list[MenuLink]:
    links = []
    for entry in entries:
        href = request.app.url_path_for(entry.route_name)
        current = request.url.path == href or request.url.path.startswith(href.rstrip("/") + "/")
        links.append(MenuLink(entry.label, href, current))
    return links
