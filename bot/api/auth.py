"""Agent and admin login for the console and admin pages: throttled, expiring, revocable."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from bot.api.deps import AGENT_COOKIE, CurrentAgentDep, ParleyDep, agent_token, session_claims
from bot.domain.credentials import sign_token
from bot.domain.errors import Unauthorized
from bot.logins import LoginThrottle
from bot.storage import Agent
from bot.wiring import Parley

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        """The public view of an agent."""
        return cls(
            id=agent.id,
            store=agent.store_id,
            email=agent.email,
            role=agent.role,
            languages=agent.languages,
        )


class LoginOut(BaseModel):
    """A bearer token (also set as an HTTP-only cookie) and who it belongs to."""

    token: str
    expires_in: int
    """Seconds the token is valid for, unless logged out first."""
    agent: AgentOut


def login_throttle(parley: Parley) -> LoginThrottle:
    """The throttle on the shared login state, with the configured limits."""
    auth = parley.settings.auth
    return LoginThrottle(
        parley.logins,
        max_per_email=auth.login_max_per_email,
        max_per_address=auth.login_max_per_address,
        window_s=auth.login_window_s,
    )


@router.post(
    "/login",
    responses={401: {"description": "wrong email or password"}, 429: {"description": "throttled"}},
)
async def login(body: Login, request: Request, response: Response, parley: ParleyDep) -> LoginOut:
    """Exchange email and password for a session token; 429 with `Retry-After` after too many
    failed attempts for the email or from the client's address."""
    throttle = login_throttle(parley)
    # uvicorn puts X-Forwarded-For here only from a proxy it trusts (`FORWARDED_ALLOW_IPS`);
    # reading the header ourselves would let any caller pick a fresh address per guess.
    address = request.client.host if request.client else "unknown"
    await throttle.attempt(body.email, address)
    agent = await parley.stores.authenticate(body.email, body.password)
    await throttle.succeeded(body.email, address)
    ttl_s = parley.settings.auth.session_ttl_s
    token = sign_token(
        {
            "kind": "agent",
            "sub": str(agent.id),
            "store": agent.store_id,
            "jti": secrets.token_urlsafe(16),  # what a logout revokes
        },
        parley.secret,
        ttl_s,
    )
    response.set_cookie(
        AGENT_COOKIE,
        token,
        max_age=ttl_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",  # never sent in clear once served over TLS
        path="/",
    )
    return LoginOut(token=token, expires_in=ttl_s, agent=AgentOut.of(agent))


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, parley: ParleyDep) -> None:
    """End the session: its token is refused from now on, by every worker, and the console
    cookie is forgotten. Logging out without a live session is not an error."""
    try:
        claims = await session_claims(parley, agent_token(request))
    except Unauthorized:
        claims = None
    if claims is not None:
        left_s = int(claims["exp"]) - int(time.time())
        await parley.logins.revoke(str(claims["store"]), str(claims["jti"]), left_s + 1)
    response.delete_cookie(AGENT_COOKIE, path="/")


@router.get("/me")
async def me(agent: CurrentAgentDep) -> AgentOut:
    """The agent the token belongs to."""
    return AgentOut.of(agent)
