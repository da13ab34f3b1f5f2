"""An httpx client bound to an app in-process, with the app's lifespan (and its state) running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


@asynccontextmanager
async def asgi_client(
    app: FastAPI, *, address: str = "127.0.0.1", base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the lifespan, hand its state to every request as a server would, yield a client
    whose requests come from `address`."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
