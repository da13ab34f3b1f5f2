"""Helpers of the live chat tests: the real app served by uvicorn on a loopback port, and
shoppers and agents talking to it over real WebSockets (`websockets` client) and HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from bot.api import create_app
from bot.wiring import Parley

Frame = dict[str, Any]

HTTP_TIMEOUT_S = 30.0
"""A test's HTTP calls wait this long: a loaded machine (CI, two cores) answers slowly, not
wrongly; what a call must not take is measured in `make bench`."""


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(parley: Parley, port: int | None = None) -> AsyncIterator[Server]:
    """The app over `parley`, served by uvicorn on 127.0.0.1 until the block ends."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(parley.settings, parley),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=parley.settings.live.compression,
        log_config=None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    running = Server(server, task, port)
    try:
        yield running
    finally:
        await running.stop()


class Server:
    """A running uvicorn server."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], port: int) -> None:
        self.server = server
        self.task = task
        self.port = port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Shut down as on SIGTERM: sockets are closed with 1012."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def widget_session(server: Server, public_key: str, locale: str = "en") -> dict[str, Any]:
    """`POST /api/v1/widget/sessions`, as the widget opens."""
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        response = await http.post(
            "/api/v1/widget/sessions", json={"key": public_key, "locale": locale}
        )
        response.raise_for_status()
        opened: dict[str, Any] = response.json()
        return opened


async def agent_token(server: Server, email: str, password: str) -> str:
    """`POST /api/v1/auth/login`."""
    async with httpx.AsyncClient(base_url=server.http, timeout=HTTP_TIMEOUT_S) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


class Peer:
    """One WebSocket client (a widget tab or an agent console) that records every frame."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[Frame] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.connection:
                async with self._arrived:
                    self.frames.append(json.loads(raw))
                    self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def send(self, frame: Frame | str) -> None:
        """Send a frame (or raw text, to test bad input)."""
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, client_id: str | None = None) -> str:
        """Send a shopper message; returns its client id."""
        client_id = client_id or str(uuid.uuid4())
        await self.send({"type": "message", "client_id": client_id, "text": text})
        return client_id

    async def wait_for(
        self, predicate: Callable[[Frame], bool], within: float = 60.0, start: int = 0
    ) -> Frame:
        """The first frame (from index `start`) that matches, waiting up to `within` s."""
        try:
            async with asyncio.timeout(within):
                async with self._arrived:
                    while True:
                        for frame in self.frames[start:]:
                            if predicate(frame):
                                return frame
                        if self._reader.done():
                            raise ConnectionError(f"socket closed; frames: {self.frames[-5:]}")
                        await self._arrived.wait()
        except TimeoutError:
            # Say what did arrive: a missing frame is diagnosed from the ones around it.
            raise AssertionError(
                f"no matching frame within {within} s; last frames: {self.frames[-8:]}"
            ) from None

    def messages(self) -> list[Frame]:
        """Message frames received, in arrival order."""
        return [frame for frame in self.frames if frame["type"] == "message"]

    def seqs(self) -> list[int]:
        """Sequence numbers of the message frames received, in arrival order."""
        return [int(frame["seq"]) for frame in self.messages()]

    async def close(self) -> None:
        """Leave."""
        await self.connection.close()
        with contextlib.suppress(Exception):
            await self._reader


@asynccontextmanager
async def peer(url: str) -> AsyncIterator[Peer]:
    """A connected client for the duration of the block."""
    connection = await connect(url, open_timeout=10)
    client = Peer(connection)
    try:
        yield client
    finally:
        await client.close()


def is_message(role: str, **fields: Any) -> Callable[[Frame], bool]:
    """Matches a message frame of `role` with these fields."""
    return lambda frame: (
        frame["type"] == "message"
        and frame["role"] == role
        and all(frame.get(key) == value for key, value in fields.items())
    )


def of_type(kind: str, **fields: Any) -> Callable[[Frame], bool]:
    """Matches a frame of this type with these fields."""
    return lambda frame: (
        frame["type"] == kind and all(frame.get(key) == value for key, value in fields.items())
    )


async def second_worker(first: Parley) -> Parley:
    """Another API worker on the first's database and Redis, as a second process would be,
    sharing only the loaded embedding models (so the test loads them once)."""
    from bot.jobs import make_queue
    from bot.storage import connect
    from bot.wiring import make_bus

    settings = first.settings
    return Parley(
        settings=settings,
        database=await connect(settings.resolved_database_url),
        bus=make_bus(settings),
        index=first.index,
        jobs=make_queue(None),
        secret=first.secret,
    )


async def close_worker(worker: Parley) -> None:
    """Close what `second_worker` opened (not the shared index)."""
    await worker.live.close()
    await worker.jobs.close()
    await worker.bus.close()
    await worker.logins.close()  # with Redis, its message-rate counters hold a connection
    await worker.database.close()


async def warm_up(parley: Parley, store: str) -> None:
    """One turn through the pipeline outside any test, so the models and language detectors
    that load on first use do not count against the first test's time."""
    pipeline = await parley.agent()
    thread = await parley.conversations.start(store, language="de")
    await pipeline.handle(store, thread.id, "Hallo, wie lange habe ich Zeit für eine Rückgabe?")
