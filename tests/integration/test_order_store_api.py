"""The merchant HTTP side of the order tools: store policy and order import."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bot.tools import call_tool
from bot.wiring import Parley

pytestmark = pytest.mark.integration


async def test_policy_is_read_and_changed_per_store_by_its_merchant(
    client: httpx.AsyncClient, parley: Parley
) -> None:
    acme = await parley.stores.create("acme")
    globex = await parley.stores.create("globex")
    as_acme = {"authorization": f"Bearer {acme.secret_key}"}
    as_globex = {"authorization": f"Bearer {globex.secret_key}"}

    assert (await client.get("/api/v1/store/policy")).status_code == 401
    defaults = (await client.get("/api/v1/store/policy", headers=as_acme)).json()
    assert defaults["return_window_days"] == 30 and defaults["dispute_routing"] == "always"

    changed = await client.put(
        "/api/v1/store/policy",
        headers=as_acme,
        json={"return_window_days": 14, "auto_approve_refund_limit": "75.50", "theme": "dark"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["return_window_days"] == 14
    assert changed.json()["theme"] == "dark"  # other teams' keys are kept
    bad = await client.put("/api/v1/store/policy", headers=as_acme, json={"return_window_days": -1})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_policy"

    # The tools of that store now enforce it; the other store keeps its defaults.
    services = parley.tools
    assert (await services.policy("acme")).return_window_days == 14
    assert str((await services.policy("acme")).auto_approve_refund_limit) == "75.50"
    other = (await client.get("/api/v1/store/policy", headers=as_globex)).json()
    assert other["return_window_days"] == 30
    entries = await services.audit.entries("acme", target="store:acme")
    assert [e.action for e in entries] == ["set_policy"]


async def test_orders_are_imported_over_http(
    client: httpx.AsyncClient, parley: Parley, eval_dir: Path
) -> None:
    acme = await parley.stores.create("acme")
    document = json.loads((eval_dir / "tau2_retail" / "db.json").read_text())
    response = await client.post(
        "/api/v1/orders/import",
        headers={"authorization": f"Bearer {acme.secret_key}"},
        json=document,
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == {"products": 50, "users": 500, "orders": 1000}
    ctx = await parley.tools.context("acme")
    assert await call_tool(ctx, "find_user_id_by_email", {"email": "noah.brown7922@example.com"})
    bad = await client.post(
        "/api/v1/orders/import",
        headers={"authorization": f"Bearer {acme.secret_key}"},
        json={"customers": {}},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_catalog"
