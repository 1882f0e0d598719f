"""Mounting the UI on the hub: its pages under /ui, its static files, its error pages."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from bridgehub.web import pages
from bridgehub.web.auth import HOME, verify_csrf
from bridgehub.web.errors import install_error_pages
from bridgehub.web.templating import STATIC, STATIC_PREFIX


def install_ui(app: FastAPI) -> None:
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(_pages_router())
    install_error_pages(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(HOME, status_code=303)


def _pages_router() -> APIRouter:
    """Every page module's router under /ui, behind the CSRF check: a page cannot opt out."""
    router = APIRouter(prefix="/ui", dependencies=[Depends(verify_csrf)], include_in_schema=False)
    for module in pkgutil.iter_modules(pages.__path__):
        page = importlib.import_module(f"{pages.__name__}.{module.name}")
        router.include_router(page.router)
    return router
