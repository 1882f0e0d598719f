"""The admin's accounts: the list, and creating one (its key is shown once)."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
import pycountry
from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from bridgehub.accounts.auth import Admin
from bridgehub.accounts.schemas import AccountCreate
from bridgehub.accounts.service import account_service
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import Conflict
from bridgehub.kit.messages import plain_message
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAdmin
from bridgehub.web.templating import render

router = APIRouter()
nav.register("Accounts", "accounts", position=20, audience="admin")


def _region_label(region: str) -> str:
    """ "United Kingdom (GB) +44": the country people know, the code the API takes, the
    calling code numbers start with. A few regions (Ascension, Tristan da Cunha, Kosovo)
    have no ISO 3166 country, and show their code alone."""
    country = pycountry.countries.get(alpha_2=region)
    calling_code = f"+{phonenumbers.country_code_for_region(region)}"
    if country is None:
        return f"{region} {calling_code}"
    name = getattr(country, "common_name", country.name)
    return f"{name} ({region}) {calling_code}"


_REGIONS = sorted(
    ((region, _region_label(region)) for region in phonenumbers.SUPPORTED_REGIONS),
    key=lambda option: option[1],
)


@router.get("/admin/accounts", name="accounts")
async def accounts(request: Request, _: SignedInAdmin, session: DbSession) -> Response:
    return await _page(request, session)


@router.post("/admin/accounts")
async def create_account(
    request: Request,
    _: SignedInAdmin,
    session: DbSession,
    name: Annotated[str, Form()] = "",
    default_region: Annotated[str, Form()] = "US",
) -> Response:
    form = {"name": name, "default_region": default_region}
    try:
        data = AccountCreate.model_validate(form)
    except ValidationError as error:
        errors = {str(problem["loc"][0]): plain_message(problem) for problem in error.errors()}
        return await _page(request, session, form=form, errors=errors, status_code=422)
    try:
        account, key = await account_service.create(session, data)
    except Conflict as taken:
        errors = {"name": taken.message}
        return await _page(request, session, form=form, errors=errors, status_code=409)
    # Answered here rather than after a redirect: the key must not travel in a URL or a
    # cookie, and this is the only time it is shown.
    return await _page(request, session, created=(account.name, key))


async def _page(
    request: Request,
    session: DbSession,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "accounts": await account_service.list(session, Admin()),
        "regions": _REGIONS,
        "form": form or {"name": "", "default_region": "US"},
        "errors": errors or {},
        "created": created,
    }
    return render(request, "accounts/index.html", context, status_code=status_code)
