"""Every route of the app, walked: each one that is not public refuses a missing, forged,
expired or logged-out token (401); admin routes refuse an agent (403); agent routes refuse a
shopper's widget token; sockets refuse the same tokens. A route added later is walked too."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, WebSocketRoute
from starlette.types import Message

from bot.api import create_app
from bot.api.deps import CurrentAgentDep, agent_from_token
from bot.domain import Unauthorized
from bot.domain.credentials import sign_token
from bot.settings import Settings
from bot.wiring import Parley
from tests.asgi import asgi_client

pytestmark = pytest.mark.integration

Access = Literal["public", "shopper", "agent", "admin"]

PUBLIC = {
    "GET /openapi.json",
    "GET /docs",
    "GET /docs/oauth2-redirect",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "POST /api/v1/widget/sessions",  # the store's public key is in the body
    "GET /demo",
    "GET /console",  # the pages are sign-in forms; what they show comes from the API
    "GET /admin",
    "MOUNT /widget",  # the widget's static files
}
SHOPPER_PREFIX = "/api/v1/widget/"
ADMIN_PREFIXES = (
    "/api/v1/store/",
    "/api/v1/orders/",
    "/api/v1/documents",
    "/api/v1/jobs",
    "/api/v1/ask",
    "/api/v1/agents",
    "/api/v1/keys",
    "/api/v1/analytics",
)
"""What a merchant manages: documents, policy, orders, agents, keys, analytics. Every other
route of the API belongs to agents (and admins): conversations, the agent socket, `/auth/me`."""


def access(key: str) -> Access:
    """Who a route is for, from `METHOD path`."""
    if key in PUBLIC:
        return "public"
    path = key.split(" ", 1)[1]
    if path.startswith(SHOPPER_PREFIX):
        return "shopper"
    if path.startswith(ADMIN_PREFIXES):
        return "admin"
    return "agent"


@dataclass(frozen=True)
class Tokens:
    """A token of each kind a caller may hold."""

    agent: str
    admin: str
    shopper: str
    conversation: str
    expired: str
    revoked: str
    forged: str

    def refused_everywhere(self) -> dict[str, str | None]:
        return {
            "no token": None,
            "a forged token": self.forged,
            "an expired token": self.expired,
            "a logged-out token": self.revoked,
        }


async def tokens_of(app: FastAPI, parley: Parley) -> Tokens:
    """Log in as an agent and an admin (one of them logged out again), open a shopper session."""
    store = await parley.stores.create(f"s{uuid.uuid4().hex[:8]}")
    async with asgi_client(app) as http:  # its own cookie jar: the walk sends no cookie

        async def log_in(role: str) -> dict[str, Any]:
            email = f"{role}-{uuid.uuid4().hex[:8]}@{store.store}.test"
            await parley.stores.add_agent(store.store, email, "s3cret-pass", role)
            body = {"email": email, "password": "s3cret-pass"}
            response = await http.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        agent, admin, revoked = await log_in("agent"), await log_in("admin"), await log_in("agent")
        logout = await http.post(
            "/api/v1/auth/logout", headers={"authorization": f"Bearer {revoked['token']}"}
        )
        assert logout.status_code == 204
        opened = await http.post(
            "/api/v1/widget/sessions", json={"key": store.public_key, "locale": "en"}
        )
        assert opened.status_code == 200, opened.text
    claims = {"kind": "agent", "sub": str(agent["agent"]["id"]), "store": store.store, "jti": "x"}
    return Tokens(
        agent=agent["token"],
        admin=admin["token"],
        shopper=opened.json()["token"],
        conversation=opened.json()["conversation_id"],
        expired=sign_token(claims, parley.secret, -5),
        revoked=revoked["token"],
        forged=sign_token(claims, "not the server's secret", 3600),
    )


async def walk(app: FastAPI, parley: Parley, tokens: Tokens) -> tuple[list[str], list[str]]:
    """Every route's answers to every kind of token: (problems, routes walked)."""
    problems: list[str] = []
    walked: list[str] = []
    async with asgi_client(app) as http:
        for route in iter_route_contexts(app.routes):
            original = route.original_route
            if isinstance(original, Mount):
                keys = [f"MOUNT {original.path}"]
            elif isinstance(original, WebSocketRoute) or route.methods is None:
                keys = [f"WS {route.path}"]
            else:
                keys = [f"{method} {route.path}" for method in sorted(route.methods - {"HEAD"})]
            for key in keys:
                walked.append(key)
                if access(key) == "public":
                    continue
                if key.startswith("MOUNT "):
                    problems.append(f"{key}: a mount that is not public is not walked")
                elif key.startswith("WS "):
                    problems += await _walk_socket(app, parley, key, tokens)
                else:
                    problems += await _walk_http(http, key, tokens)
    return problems, walked


def _url(path: str, tokens: Tokens) -> str:
    # Every path parameter gets a real conversation id: ids of other things simply 404.
    return re.sub(r"\{[^}]+\}", tokens.conversation, path)


async def _walk_http(http: httpx.AsyncClient, key: str, tokens: Tokens) -> list[str]:
    method, path = key.split(" ", 1)
    url = _url(path, tokens)
    problems: list[str] = []

    async def expect(who: str, token: str | None, wanted: int | None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await http.request(method, url, headers=headers)
        status = response.status_code
        if wanted is None:
            if status in (401, 403):
                problems.append(f"{key} with {who}: refused ({status}), should be let in")
            return
        if status != wanted:
            problems.append(f"{key} with {who}: {status}, expected {wanted}")
        elif "error" not in response.json():
            problems.append(f"{key} with {who}: {status} without an error body")

    for who, token in tokens.refused_everywhere().items():
        await expect(who, token, 401)
    kind = access(key)
    if kind == "shopper":
        await expect("an agent token", tokens.agent, 401)
        await expect("an admin token", tokens.admin, 401)
        await expect("the shopper's token", tokens.shopper, None)
    else:
        await expect("a shopper token", tokens.shopper, 401)
        await expect("an agent token", tokens.agent, 403 if kind == "admin" else None)
        await expect("an admin token", tokens.admin, None)
    return problems


async def _walk_socket(app: FastAPI, parley: Parley, key: str, tokens: Tokens) -> list[str]:
    path = key.split(" ", 1)[1]
    kind = access(key)
    refused = dict(tokens.refused_everywhere())
    allowed: dict[str, str] = {}
    if kind == "shopper":
        refused["an agent token"] = tokens.agent
        allowed["the shopper's token"] = tokens.shopper
    else:
        refused["a shopper token"] = tokens.shopper
        allowed["an admin token"] = tokens.admin
        if kind == "admin":
            refused["an agent token"] = tokens.agent
        else:
            allowed["an agent token"] = tokens.agent
    problems = []
    for who, token in refused.items():
        outcome = await socket_outcome(app, parley, _url(path, tokens), token)
        if outcome != "refused":
            problems.append(f"{key} with {who}: {outcome}, expected refused")
    for who, allowed_token in allowed.items():
        outcome = await socket_outcome(app, parley, _url(path, tokens), allowed_token)
        if outcome != "accepted":
            problems.append(f"{key} with {who}: {outcome}, expected accepted")
    return problems


async def socket_outcome(app: FastAPI, parley: Parley, path: str, token: str | None) -> str:
    """Open a WebSocket on the app with `?token=`: `accepted` (and still open half a second
    later), `refused` (closed before or right after accepting), or `crashed`."""
    incoming: asyncio.Queue[Message] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    sent: asyncio.Queue[Message] = asyncio.Queue()
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": f"token={token}".encode() if token else b"",
        "headers": [(b"host", b"testserver")],
        "subprotocols": [],
        "state": {"parley": parley},
        "extensions": {"websocket.http.response": {}},
    }
    task = asyncio.create_task(app(scope, incoming.get, sent.put))

    async def next_sent(within_s: float) -> Message | None:
        getter = asyncio.ensure_future(sent.get())
        done, _ = await asyncio.wait(
            {getter, task}, timeout=within_s, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        return None

    try:
        first = await next_sent(5.0)
        if first is None:
            return "crashed" if task.done() and task.exception() else "no answer"
        if first["type"] in ("websocket.close", "websocket.http.response.start"):
            return "refused"
        while (later := await next_sent(0.5)) is not None:
            if later["type"] == "websocket.close":
                return "refused"
        if task.done() and task.exception():
            return "crashed"
        return "accepted"
    finally:
        await incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait({task}, timeout=2.0)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # seen: a crash was already reported as the outcome


async def test_every_route_refuses_callers_without_the_right_session(
    settings: Settings, parley: Parley
) -> None:
    app = create_app(settings, parley)
    tokens = await tokens_of(app, parley)
    problems, walked = await walk(app, parley, tokens)
    assert problems == []
    guarded = [key for key in walked if access(key) != "public"]
    assert {"GET /api/v1/auth/me", "PUT /api/v1/store/policy", "POST /api/v1/ask"} <= set(guarded)
    assert len(guarded) >= 13, guarded


async def test_the_walk_catches_a_route_or_socket_that_forgets_its_check(
    settings: Settings, parley: Parley
) -> None:
    app = create_app(settings, parley)

    @app.get("/api/v1/conversations/{conversation_id}/peek")
    async def peek(conversation_id: str) -> dict[str, str]:
        return {"conversation": conversation_id}  # no session asked for

    @app.get("/api/v1/analytics/export")
    async def export(agent: CurrentAgentDep) -> dict[str, str]:
        return {"store": agent.store_id}  # any agent, though merchants' data

    @app.websocket("/api/v1/agent/ws-checked")
    async def checked(socket: WebSocket) -> None:
        try:
            await agent_from_token(socket.state.parley, socket.query_params.get("token"))
        except Unauthorized:
            await socket.close(code=4401)
            return
        await socket.accept()
        await socket.receive()

    @app.websocket("/api/v1/agent/ws-open")
    async def open_socket(socket: WebSocket) -> None:
        await socket.accept()
        await socket.receive()

    tokens = await tokens_of(app, parley)
    problems, walked = await walk(app, parley, tokens)
    assert "WS /api/v1/agent/ws-checked" in walked
    assert not [p for p in problems if "ws-checked" in p]
    assert {
        "GET /api/v1/conversations/{conversation_id}/peek with no token: 200, expected 401",
        "GET /api/v1/analytics/export with an agent token: 200, expected 403",
        "WS /api/v1/agent/ws-open with a logged-out token: accepted, expected refused",
    } <= set(problems)
    assert all(
        "peek" in problem or "export" in problem or "ws-open" in problem for problem in problems
    ), problems
