"""The local OAuth 2.0 provider's consent page (`bridgehub.demo.oauth_provider`), driven as a
browser would: its form read, one of its buttons pressed."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx


class ConsentForm(HTMLParser):
    """The consent page's form, as a browser reads it."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.decisions: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input":
            self.fields[attributes["name"]] = attributes["value"]
        elif tag == "button":
            self.decisions.append(attributes["value"])

    async def submit(self, browser: httpx.AsyncClient, decision: str) -> httpx.Response:
        return await browser.post(self.action, data={**self.fields, "decision": decision})


async def consent_form(browser: httpx.AsyncClient, authorization_url: str) -> ConsentForm:
    page = await browser.get(authorization_url)
    assert page.status_code == 200, page.text
    assert page.headers["x-frame-options"] == "DENY"
    return ConsentForm(page.text)


async def click_allow(consent_url: str) -> str:
    """Open the provider's consent page, press Allow; answers where it sends the browser."""
    async with httpx.AsyncClient() as browser:
        form = await consent_form(browser, consent_url)
        answer = await form.submit(browser, "allow")
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["location"]
    return location
