"""Request dependencies: the process's `Parley` and who is calling (merchant, agent)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Request

from bot.domain.credentials import read_token
from bot.domain.errors import Forbidden, ServiceUnavailable, Unauthorized
from bot.storage import Agent
from bot.wiring import Parley

AGENT_COOKIE = "parley_agent"
log = logging.getLogger(__name__)


async def get_parley(request: Request) -> Parley:
    """The `Parley` opened in the app's lifespan."""
    parley: Parley = request.state.parley
    return parley


ParleyDep = Annotated[Parley, Depends(get_parley)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def agent_token(request: Request) -> str | None:
    """The console token a request carries: a bearer token or the console cookie."""
    token = _bearer(request) or request.cookies.get(AGENT_COOKIE)
    if token and token.startswith(("sk_", "pk_")):
        return None  # a store key is not a login; `merchant_store` handles secret keys
    return token


async def session_claims(parley: Parley, token: str | None) -> dict[str, Any]:
    """The claims of a live agent session token: signed by us, an agent's, not expired, not
    revoked by a logout; else `Unauthorized`."""
    if not token:
        raise Unauthorized("log in first (POST /api/v1/auth/login)")
    claims = read_token(token, parley.secret)
    if claims.get("kind") != "agent":
        raise Unauthorized("not an agent token")
    token_id = claims.get("jti")
    if not isinstance(token_id, str):
        raise Unauthorized("this session can no longer be used; log in again")
    try:
        revoked = await parley.logins.is_revoked(str(claims.get("store")), token_id)
    except ServiceUnavailable as error:
        # An agent mid-conversation keeps working through a Redis restart (the messages are in
        # the database); the token is still signed and unexpired, only a logout may be missed.
        log.warning("session revocation not checked: %s", error.message)
        revoked = False
    if revoked:
        raise Unauthorized("this session was logged out; log in again")
    return claims


async def agent_from_token(parley: Parley, token: str | None) -> Agent:
    """The agent or admin a session token belongs to, or `Unauthorized` (missing, forged,
    expired, revoked, or the login no longer exists). Every agent route and the agent socket
    check a token through this one function."""
    claims = await session_claims(parley, token)
    agent = await parley.stores.agent(int(claims["sub"]))
    if agent.store_id != claims.get("store"):
        raise Unauthorized("this session belongs to another store")
    return agent


async def current_agent(request: Request, parley: ParleyDep) -> Agent:
    """The logged-in agent or admin, from a bearer token or the console cookie."""
    return await agent_from_token(parley, agent_token(request))


CurrentAgentDep = Annotated[Agent, Depends(current_agent)]


async def merchant_store(request: Request, parley: ParleyDep) -> str:
    """The store a merchant call acts on: `Authorization: Bearer sk_…` or an admin's login."""
    token = _bearer(request)
    if token and token.startswith("sk_"):
        return await parley.stores.store_for_key(token, "secret")
    agent = await agent_from_token(parley, agent_token(request))
    if agent.role != "admin":
        raise Forbidden("this needs a store admin or the store's secret key")
    return agent.store_id


MerchantStoreDep = Annotated[str, Depends(merchant_store)]
