"""The HTML pages: `/demo` storefront with the widget, `/console`, `/admin`, and widget assets."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
_WIDGET = files("widget")


def _page(name: str) -> HTMLResponse:
    return HTMLResponse(_WIDGET.joinpath(name).read_text(encoding="utf-8"))


@router.get("/demo")
async def demo() -> HTMLResponse:
    """A storefront page of the demo store with the chat widget on it."""
    return _page("demo.html")


@router.get("/console")
async def console() -> HTMLResponse:
    """The support agents' console."""
    return _page("console.html")


@router.get("/admin")
async def admin() -> HTMLResponse:
    """The merchant's admin pages."""
    return _page("admin.html")


def mount_assets(app: FastAPI) -> None:
    """Serve `widget/static` (loader script, iframe app, styles) at `/widget`."""
    app.mount("/widget", StaticFiles(directory=str(_WIDGET.joinpath("static"))), name="widget")
