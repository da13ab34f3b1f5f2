"""Agent and admin sign-in as a helpdesk ships it: argon2 (old scrypt logins upgraded on the
way in), throttled failures, sessions that expire and end at logout on every worker, and a
Content-Security-Policy on the staff pages. Runs embedded (SQLite, in-process state) and
scaled out (PostgreSQL, Redis)."""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.api import create_app
from bot.api.deps import agent_from_token
from bot.api.staff_pages import STAFF_PAGE_POLICY
from bot.domain import Unauthorized
from bot.domain.credentials import sign_token
from bot.settings import Settings
from bot.storage.tables import AgentRow
from bot.wiring import Parley, open_parley
from tests.asgi import asgi_client
from tests.conftest import REDIS_URL, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"


@dataclass
class Deployment:
    """One deployment's settings; each `worker()` is another API process on the same services."""

    settings: Settings
    stack: AsyncExitStack
    workers: list[Parley] = field(default_factory=list)

    async def worker(self) -> Parley:
        opened = await open_parley(self.settings)
        self.stack.push_async_callback(opened.close)
        self.workers.append(opened)
        return opened

    async def client(
        self, parley: Parley, address: str, base_url: str = "http://testserver"
    ) -> httpx.AsyncClient:
        app = create_app(self.settings, parley)
        client = asgi_client(app, address=address, base_url=base_url)
        return await self.stack.enter_async_context(client)


@pytest.fixture(params=["embedded", "postgres+redis"])
async def deployment(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Deployment]:
    settings = Settings(data_dir=data_dir, llm="none", log_json=False)
    pg_name = None
    if request.param == "postgres+redis":
        pg_name, url = await _create_pg_database()
        settings = Settings(
            data_dir=data_dir, llm="none", log_json=False, database_url=url, redis_url=REDIS_URL
        )
    async with AsyncExitStack() as stack:
        yield Deployment(settings, stack)
    if pg_name:
        await _drop_pg_database(pg_name)


@pytest.fixture
async def scaled(data_dir: Path) -> AsyncIterator[Deployment]:
    """PostgreSQL and Redis, for what only matters with several workers."""
    pg_name, url = await _create_pg_database()
    settings = Settings(
        data_dir=data_dir, llm="none", log_json=False, database_url=url, redis_url=REDIS_URL
    )
    async with AsyncExitStack() as stack:
        yield Deployment(settings, stack)
    await _drop_pg_database(pg_name)


def an_address() -> str:
    """A client address of this test alone: counters on the shared Redis outlive a test run."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def an_email() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}@acme.test"


async def an_agent(parley: Parley, role: str = "agent") -> str:
    if not await parley.stores.exists("acme"):
        await parley.stores.create("acme")
    email = an_email()
    await parley.stores.add_agent("acme", email, PASSWORD, role, ["en"])
    return email


async def log_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def stored_hash(parley: Parley, email: str) -> str:
    async with parley.database.session() as session:
        query = sa.select(AgentRow.password_hash).where(AgentRow.email == email)
        value = await session.scalar(query)
    assert value is not None
    return value


async def test_an_agent_stored_with_scrypt_signs_in_and_is_upgraded_to_argon2(
    deployment: Deployment,
) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    salt = secrets.token_bytes(16)  # a row as Parley wrote it before argon2
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"
    async with parley.database.session() as session:
        await session.execute(
            sa.update(AgentRow).where(AgentRow.email == email).values(password_hash=legacy)
        )

    assert (await log_in(http, email, "wrong-pass")).status_code == 401
    assert await stored_hash(parley, email) == legacy  # a wrong password upgrades nothing

    first = await log_in(http, email)
    assert first.status_code == 200, first.text
    upgraded = await stored_hash(parley, email)
    assert upgraded.startswith("$argon2id$")

    again = await log_in(http, email)
    assert again.status_code == 200
    assert await stored_hash(parley, email) == upgraded  # upgraded once, not on every login
    me = await http.get("/api/v1/auth/me", headers=bearer(again.json()["token"]))
    assert me.json()["email"] == email


async def test_a_new_agent_is_stored_with_argon2(deployment: Deployment) -> None:
    parley = await deployment.worker()
    email = await an_agent(parley)
    assert (await stored_hash(parley, email)).startswith("$argon2id$")


async def test_failed_logins_are_throttled_with_429_and_retry_after(
    deployment: Deployment,
) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    for _ in range(5):
        wrong = await log_in(http, email, "wrong-pass")
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "unauthorized"

    refused = await log_in(http, email)  # even the right password waits out the window
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "try again" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 900

    other = await deployment.client(parley, an_address())
    assert (await log_in(other, email)).status_code == 429  # per email, from anywhere
    colleague = await an_agent(parley)
    assert (await log_in(other, colleague)).status_code == 200


async def test_a_good_login_starts_the_email_afresh(deployment: Deployment) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    for _ in range(4):
        assert (await log_in(http, email, "wrong-pass")).status_code == 401
    assert (await log_in(http, email)).status_code == 200
    for _ in range(5):
        assert (await log_in(http, email, "wrong-pass")).status_code == 401
    assert (await log_in(http, email, "wrong-pass")).status_code == 429


async def test_guessing_many_emails_from_one_address_is_throttled(deployment: Deployment) -> None:
    parley = await deployment.worker()
    parley.settings.auth.login_max_per_address = 3
    address = an_address()
    http = await deployment.client(parley, address)
    for _ in range(3):
        assert (await log_in(http, an_email(), "guess-guess")).status_code == 401
    refused = await log_in(http, an_email(), "guess-guess")
    assert refused.status_code == 429 and "retry-after" in refused.headers
    email = await an_agent(parley)
    assert (await log_in(http, email)).status_code == 429
    elsewhere = await deployment.client(parley, an_address())
    assert (await log_in(elsewhere, email)).status_code == 200


async def test_failures_on_two_workers_add_up(scaled: Deployment) -> None:
    one, other = await scaled.worker(), await scaled.worker()
    email = await an_agent(one)
    address = an_address()
    first, second = await scaled.client(one, address), await scaled.client(other, address)
    for http in (first, second, first, second, first):
        assert (await log_in(http, email, "wrong-pass")).status_code == 401
    assert (await log_in(second, email)).status_code == 429


async def test_logout_ends_the_session_on_every_worker(scaled: Deployment) -> None:
    one, other = await scaled.worker(), await scaled.worker()
    email = await an_agent(one)
    first, second = await scaled.client(one, an_address()), await scaled.client(other, an_address())
    token = (await log_in(first, email)).json()["token"]
    assert (await second.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200

    assert (await first.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    for http in (first, second):
        refused = await http.get("/api/v1/auth/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["error"] == {
            "code": "unauthorized",
            "message": "this session was logged out; log in again",
        }
    fresh = (await log_in(second, email)).json()["token"]
    assert (await first.get("/api/v1/auth/me", headers=bearer(fresh))).status_code == 200


async def test_the_console_cookie_is_a_session_that_logout_ends(deployment: Deployment) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    login = await log_in(http, email)
    cookie = login.cookies["parley_agent"]
    assert "Max-Age=43200" in login.headers["set-cookie"]
    assert "HttpOnly" in login.headers["set-cookie"]
    assert "Secure" not in login.headers["set-cookie"]  # plain http on this machine
    assert (await http.get("/api/v1/auth/me")).json()["email"] == email  # the cookie alone

    logout = await http.post("/api/v1/auth/logout")
    assert logout.status_code == 204
    assert "parley_agent" not in http.cookies
    replayed = await http.get("/api/v1/auth/me", headers={"cookie": f"parley_agent={cookie}"})
    assert replayed.status_code == 401
    assert (await http.post("/api/v1/auth/logout")).status_code == 204  # twice is harmless

    tls = await deployment.client(parley, an_address(), base_url="https://testserver")
    assert "Secure" in (await log_in(tls, email)).headers["set-cookie"]


async def test_sessions_last_the_configured_time_and_expired_ones_are_refused(
    deployment: Deployment,
) -> None:
    deployment.settings.auth.session_ttl_s = 600
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    login = await log_in(http, email)
    assert login.json()["expires_in"] == 600
    assert "Max-Age=600" in login.headers["set-cookie"]
    http.cookies.clear()

    agent_id = str(login.json()["agent"]["id"])
    claims = {"kind": "agent", "sub": agent_id, "store": "acme", "jti": uuid.uuid4().hex}
    expired = sign_token(claims, parley.secret, -1)
    refused = await http.get("/api/v1/auth/me", headers=bearer(expired))
    assert refused.status_code == 401
    assert refused.json()["error"] == {"code": "unauthorized", "message": "token expired"}

    without_id = sign_token({k: v for k, v in claims.items() if k != "jti"}, parley.secret, 600)
    assert (await http.get("/api/v1/auth/me", headers=bearer(without_id))).status_code == 401


async def test_agent_from_token_is_the_one_check_for_routes_and_sockets(
    deployment: Deployment,
) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    email = await an_agent(parley)
    token = (await log_in(http, email)).json()["token"]
    agent = await agent_from_token(parley, token)
    assert agent.email == email and agent.store_id == "acme" and agent.role == "agent"

    shopper = sign_token({"kind": "widget", "sub": "s1", "store": "acme"}, parley.secret, 60)
    for bad in (None, "", "not-a-token", token + "x", shopper):
        with pytest.raises(Unauthorized):
            await agent_from_token(parley, bad)

    await http.post("/api/v1/auth/logout", headers=bearer(token))
    with pytest.raises(Unauthorized, match="logged out"):
        await agent_from_token(parley, token)

    second = (await log_in(http, email)).json()["token"]
    async with parley.database.session() as session:
        await session.execute(sa.delete(AgentRow).where(AgentRow.email == email))
    with pytest.raises(Unauthorized, match="no longer exists"):
        await agent_from_token(parley, second)


async def test_the_staff_pages_send_a_content_security_policy(deployment: Deployment) -> None:
    parley = await deployment.worker()
    http = await deployment.client(parley, an_address())
    for page in ("/console", "/admin"):
        response = await http.get(page)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert policy == STAFF_PAGE_POLICY
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    api = await http.get("/api/v1/auth/me")
    assert "content-security-policy" not in api.headers
