"""Request dependencies: the process's `Parley` and who is calling (merchant, agent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.domain.credentials import read_token
from bot.domain.errors import Forbidden, Unauthorized
from bot.storage import Agent
from bot.wiring import Parley

AGENT_COOKIE = "parley_agent"


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


async def current_agent(request: Request, parley: ParleyDep) -> Agent:
    """The logged-in agent or admin, from a bearer token or the console cookie."""
    token = _bearer(request) or request.cookies.get(AGENT_COOKIE)
    return await agent_of_token(token, parley)


async def agent_of_token(token: str | None, parley: Parley) -> Agent:
    """The agent or admin a login token belongs to (HTTP calls and the agent socket)."""
    if not token or token.startswith(("sk_", "pk_")):
        raise Unauthorized("log in first (POST /api/v1/auth/login)")
    claims = read_token(token, parley.secret)
    if claims.get("kind") != "agent":
        raise Unauthorized("not an agent token")
    return await parley.stores.agent(int(claims["sub"]))


CurrentAgentDep = Annotated[Agent, Depends(current_agent)]


async def merchant_store(request: Request, parley: ParleyDep) -> str:
    """The store a merchant call acts on: `Authorization: Bearer sk_…` or an admin's login."""
    token = _bearer(request)
    if token and token.startswith("sk_"):
        return await parley.stores.store_for_key(token, "secret")
    agent = await current_agent(request, parley)
    if agent.role != "admin":
        raise Forbidden("this needs a store admin or the store's secret key")
    return agent.store_id


MerchantStoreDep = Annotated[str, Depends(merchant_store)]
