"""Minimal standalone HTML pages, for the few answers a person's browser gets outside the UI
(the OAuth 2.0 callback, the demo provider's consent page)."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

# The pages carry no scripts, styles or frames of their own; nothing else may load either.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def standalone_page(status_code: int, title: str, main_html: str) -> HTMLResponse:
    """A page titled `title` (escaped here) around `main_html` (escaped by the caller)."""
    heading = escape(title)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title></head>"
        f"<body><main><h1>{heading}</h1>{main_html}</main></body></html>"
    )
    return HTMLResponse(html, status_code, headers=_HEADERS)
