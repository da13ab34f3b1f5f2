"""Agent and admin login for the console and admin pages."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from bot.api.deps import AGENT_COOKIE, CurrentAgentDep, ParleyDep
from bot.domain.credentials import sign_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
SESSION_TTL_S = 12 * 3600


class Login(BaseModel):
    """Credentials of an agent or admin."""

    email: str
    password: str


class AgentOut(BaseModel):
    """Who is logged in."""

    id: int
    store: str
    email: str
    role: str
    languages: list[str]


class LoginOut(BaseModel):
    """A bearer token (also set as an HTTP-only cookie) and who it belongs to."""

    token: str
    agent: AgentOut


@router.post("/login")
async def login(body: Login, response: Response, parley: ParleyDep) -> LoginOut:
    """Exchange email and password for a session token."""
    agent = await parley.stores.authenticate(body.email, body.password)
    token = sign_token(
        {"kind": "agent", "sub": str(agent.id), "store": agent.store_id},
        parley.secret,
        SESSION_TTL_S,
    )
    response.set_cookie(
        AGENT_COOKIE, token, max_age=SESSION_TTL_S, httponly=True, samesite="strict", path="/"
    )
    return LoginOut(
        token=token,
        agent=AgentOut(
            id=agent.id,
            store=agent.store_id,
            email=agent.email,
            role=agent.role,
            languages=agent.languages,
        ),
    )


@router.post("/logout", status_code=204)
async def logout(response: Response) -> None:
    """Forget the console cookie."""
    response.delete_cookie(AGENT_COOKIE, path="/")


@router.get("/me")
async def me(agent: CurrentAgentDep) -> AgentOut:
    """The agent the token belongs to."""
    return AgentOut(
        id=agent.id,
        store=agent.store_id,
        email=agent.email,
        role=agent.role,
        languages=agent.languages,
    )
