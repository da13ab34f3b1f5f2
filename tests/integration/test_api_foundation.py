"""The app factory end to end: health, readiness, metrics, errors, logins."""

from __future__ import annotations

import httpx
import pytest

from bot.storage import create_database
from bot.wiring import Parley

pytestmark = pytest.mark.integration


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "index": "ok"}
    metrics = (await client.get("/metrics")).text
    assert 'parley_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics


async def test_readiness_reports_a_broken_database(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    await parley.database.close()
    parley.database = create_database("postgresql+asyncpg://postgres@127.0.0.1:1/gone")
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("database unreachable")


async def test_errors_have_one_shape_and_carry_a_request_id(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here", headers={"x-request-id": "abc-123"})
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    assert missing.headers["x-request-id"] == "abc-123"

    invalid = await client.post("/api/v1/auth/login", json={"email": "a@b.c"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_request"
    assert "password" in invalid.json()["error"]["message"]


async def test_agent_login_me_and_wrong_password(client: httpx.AsyncClient, parley: Parley) -> None:
    await parley.stores.create("acme")
    await parley.stores.add_agent("acme", "sam@acme.test", "s3cret-pass", "admin", ["en", "de"])

    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "sam@acme.test", "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"

    ok = await client.post(
        "/api/v1/auth/login", json={"email": "sam@acme.test", "password": "s3cret-pass"}
    )
    assert ok.status_code == 200
    token = ok.json()["token"]
    me = await client.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}"})
    assert me.json()["store"] == "acme" and me.json()["role"] == "admin"
    forged = await client.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}x"})
    assert forged.status_code == 401


async def test_pages_and_widget_assets_are_served(client: httpx.AsyncClient) -> None:
    demo = await client.get("/demo")
    assert demo.status_code == 200 and "/widget/parley.js" in demo.text
    loader = await client.get("/widget/parley.js")
    assert loader.status_code == 200 and "iframe" in loader.text
    for page in ("/console", "/admin"):
        assert (await client.get(page)).status_code == 200
    assert "paths" in (await client.get("/openapi.json")).json()
