"""The HTML pages: `/demo` storefront with the widget, `/console`, `/admin`, and widget assets.

Every page is sent with a Content-Security-Policy that allows scripts and styles from Parley's
own origin only: no inline script runs, so an injected `<script>` or `onclick=` does nothing.
"""

from __future__ import annotations

import os
import re
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

router = APIRouter(include_in_schema=False)
_WIDGET = files("widget")

_SAME_ORIGIN = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_POLICY = f"{_SAME_ORIGIN}; frame-src 'self'; frame-ancestors 'none'"
"""The storefront demo, the console and the admin pages: nothing framed them but themselves."""

CHAT_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
"""The chat iframe: any store's page may frame it; it talks only to Parley ('self' covers the
same-origin WebSocket)."""

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
_LOADER_TAG = 'data-key="pk_demo_storefront"'


def _page(name: str, *, locale: str | None = None) -> HTMLResponse:
    html = _WIDGET.joinpath(name).read_text(encoding="utf-8")
    if locale is not None:
        html = html.replace(_LOADER_TAG, f'{_LOADER_TAG} data-locale="{locale}"', 1)
    headers = {"Content-Security-Policy": PAGE_POLICY, **_SECURITY_HEADERS}
    return HTMLResponse(html, headers=headers)


@router.get("/demo")
async def demo(
    lang: Annotated[str | None, Query(description="Open the widget in this language")] = None,
) -> HTMLResponse:
    """A storefront page of the demo store with the chat widget on it (`?lang=ar` sets the
    loader's `data-locale`, as a store serving an Arabic page would)."""
    return _page("demo.html", locale=lang if lang and _LOCALE.match(lang) else None)


@router.get("/console")
async def console() -> HTMLResponse:
    """The support agents' console."""
    return _page("console.html")


@router.get("/admin")
async def admin() -> HTMLResponse:
    """The merchant's admin pages."""
    return _page("admin.html")


class WidgetAssets(StaticFiles):
    """`widget/static` with the chat iframe's policy on its HTML and `nosniff` on everything."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, with the security headers."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_SECURITY_HEADERS)
        if str(full_path).endswith(".html"):
            response.headers["Content-Security-Policy"] = CHAT_POLICY
        return response


def mount_assets(app: FastAPI) -> None:
    """Serve `widget/static` (loader script, iframe app, styles) at `/widget`."""
    app.mount("/widget", WidgetAssets(directory=str(_WIDGET.joinpath("static"))), name="widget")
