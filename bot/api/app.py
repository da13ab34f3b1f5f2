"""The FastAPI application factory with a typed lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI

from bot import __version__
from bot.api import ask, auth, console, health, live, pages, transcripts, widget
from bot.api.conversations import router as conversations_router
from bot.api.documents import router as documents_router
from bot.api.errors import install_error_handlers
from bot.api.middleware import RequestContext
from bot.api.orders import router as orders_router
from bot.api.policy import router as policy_router
from bot.api.staff_pages import StaffPageSecurity
from bot.domain.errors import ParleyError
from bot.settings import Settings
from bot.wiring import Parley, open_parley

log = logging.getLogger(__name__)
GIL_SWITCH_S = 0.0005
"""How long a thread holding the GIL keeps it once another thread asks for it, in a serving
process (Python's default is 5 ms). The bot's turns embed and search in worker threads that
run Python between their native calls; the event loop gives the GIL up around every socket read
and write and waited up to the whole interval to get it back: under a flood of shoppers, py-spy
found half of a message's insert spent in that wait after the socket write to PostgreSQL."""


class State(TypedDict):
    """What the lifespan hands to every request as `request.state`."""

    parley: Parley


async def _warm_up(parley: Parley) -> None:
    try:
        await parley.knowledge.warm_up()
    except Exception:  # the first upload or question will report what is wrong
        log.exception("the encoders could not be loaded")
    try:
        kept = await parley.warm_model()
        if kept:
            log.info("the local model read its answer prompt's fixed part (%d tokens)", kept)
    except ParleyError as error:  # a bad LLM setting: every turn will report it too
        log.error("the agent could not be prepared: %s", error.message)


def create_app(settings: Settings | None = None, parley: Parley | None = None) -> FastAPI:
    """Build the app; it opens its own `Parley` unless one is handed in (tests, CLI)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        # The process serves sockets on its event loop beside the turns' threads.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        if parley is not None:
            yield {"parley": parley}
            return
        opened = await open_parley(settings)
        await opened.knowledge.start_worker()  # and resume jobs a stopped process left
        # Load the models in the background so the first shopper does not wait for them.
        warm_up = asyncio.create_task(_warm_up(opened))
        try:
            yield {"parley": opened}
        finally:
            warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warm_up
            await opened.close()

    app = FastAPI(
        title="Parley",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContext)
    app.add_middleware(StaffPageSecurity)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(policy_router)
    app.include_router(orders_router)
    app.include_router(documents_router)
    app.include_router(widget.router)
    app.include_router(ask.router)
    app.include_router(conversations_router)
    app.include_router(console.router)
    app.include_router(transcripts.router)
    app.include_router(live.router)
    app.include_router(pages.router)
    pages.mount_assets(app)
    return app
