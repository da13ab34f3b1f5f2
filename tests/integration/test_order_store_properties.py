"""Property tests: whatever three shoppers call, in any order, with any ids (their own, each
other's, made up), nobody reads or changes another customer's orders, and no order is ever
refunded more than was paid for it."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import ParleyError
from bot.domain.orders import catalog_from_tau2, catalog_to_tau2
from bot.domain.policy import Verification, tau2_policy
from bot.storage import StoreRepository, connect, migrate
from bot.storage.orders import SqlOrderStore
from bot.tools import ToolContext, call_tool, confirm
from bot.tools.schemas import ConfirmArgs
from bot.wiring import tool_services
from tests.conftest import EVAL_DIR

pytestmark = pytest.mark.integration

SHOPPERS = ("ethan_lopez_6291", "emma_santos_9753", "aarav_nguyen_7344")
STORE = "acme"


def _small_catalog() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVAL_DIR.resolve() / "tau2_retail" / "db.json").read_text())
    return {
        "products": data["products"],
        "users": {key: data["users"][key] for key in SHOPPERS},
        "orders": {k: o for k, o in data["orders"].items() if o["user_id"] in SHOPPERS},
    }


CATALOG = _small_catalog() if (EVAL_DIR / "tau2_retail").is_dir() else {"orders": {}, "users": {}}
ORDER_IDS = [*CATALOG["orders"], "#W0000000"]
METHOD_IDS = [m for u in CATALOG["users"].values() for m in u["payment_methods"]] + ["paypal_0"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("properties") / "template.db"

    async def build() -> None:
        database = await connect(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(database)
            await StoreRepository(database).create(STORE)
            await SqlOrderStore(database).import_catalog(STORE, catalog_from_tau2(CATALOG))
        finally:
            await database.close()

    asyncio.run(build())
    yield path


step = st.fixed_dictionaries(
    {
        "shopper": st.integers(0, len(SHOPPERS) - 1),
        "tool": st.sampled_from(
            [
                "get_order_details",
                "get_user_details",
                "cancel_pending_order",
                "modify_pending_order_items",
                "modify_pending_order_payment",
                "modify_pending_order_address",
                "return_delivered_order_items",
                "exchange_delivered_order_items",
                "modify_user_address",
                "confirm",
            ]
        ),
        "order": st.integers(0, len(ORDER_IDS) - 1),
        "user": st.integers(0, len(SHOPPERS) - 1),
        "items": st.lists(st.integers(0, 5), max_size=3),
        "variants": st.lists(st.integers(0, 30), max_size=3),
        "method": st.integers(0, len(METHOD_IDS) - 1),
        "action": st.integers(0, 5),
        # Mostly the shopper's own orders and methods, so that writes do happen.
        "own": st.booleans(),
        "confirm_now": st.booleans(),
    }
)


def _arguments(draw: dict[str, Any]) -> dict[str, Any]:
    me = SHOPPERS[draw["shopper"]]
    order_id = ORDER_IDS[draw["order"] % len(ORDER_IDS)]
    method = METHOD_IDS[draw["method"]]
    if draw["own"]:
        mine = CATALOG["users"][me]["orders"]
        order_id = mine[draw["order"] % len(mine)]
        methods = list(CATALOG["users"][me]["payment_methods"])
        method = methods[draw["method"] % len(methods)]
    order = CATALOG["orders"].get(order_id, {"items": []})
    items = [order["items"][i]["item_id"] for i in draw["items"] if i < len(order["items"])]
    new_items = []
    for i, v in zip(draw["items"], draw["variants"], strict=False):
        if i < len(order["items"]):
            variants = list(CATALOG["products"][order["items"][i]["product_id"]]["variants"])
            new_items.append(variants[v % len(variants)])
    address = {
        "address1": "1 Main St",
        "address2": "",
        "city": "Springfield",
        "state": "IL",
        "country": "USA",
        "zip": "62701",
    }
    return {
        "get_order_details": {"order_id": order_id},
        "get_user_details": {"user_id": SHOPPERS[draw["user"]]},
        "cancel_pending_order": {"order_id": order_id, "reason": "no longer needed"},
        "modify_pending_order_items": {
            "order_id": order_id,
            "item_ids": items,
            "new_item_ids": new_items,
            "payment_method_id": method,
        },
        "modify_pending_order_payment": {"order_id": order_id, "payment_method_id": method},
        "modify_pending_order_address": {"order_id": order_id, **address},
        "return_delivered_order_items": {
            "order_id": order_id,
            "item_ids": items,
            "payment_method_id": method,
        },
        "exchange_delivered_order_items": {
            "order_id": order_id,
            "item_ids": items,
            "new_item_ids": new_items,
            "payment_method_id": method,
        },
        "modify_user_address": {"user_id": SHOPPERS[draw["user"]], **address},
    }[draw["tool"]]


def _owners(document: dict[str, Any]) -> dict[str, str]:
    return {key: order["user_id"] for key, order in document["orders"].items()}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[set[str], set[str]]:
    orders = {k for k in after["orders"] if after["orders"][k] != before["orders"][k]}
    users = {k for k in after["users"] if after["users"][k] != before["users"][k]}
    return orders, users


def _refunds_within_payments(document: dict[str, Any]) -> None:
    for order_id, order in document["orders"].items():
        paid = sum(
            Decimal(str(t["amount"]))
            for t in order["payment_history"]
            if t["transaction_type"] == "payment"
        )
        refunded = sum(
            Decimal(str(t["amount"]))
            for t in order["payment_history"]
            if t["transaction_type"] == "refund"
        )
        assert refunded <= paid, f"{order_id} refunded {refunded} of {paid}"


async def _run(template: Path, workdir: Path, steps: list[dict[str, Any]]) -> None:
    copy = workdir / "run.db"
    shutil.copyfile(template, copy)
    database = await connect(f"sqlite+aiosqlite:///{copy}")
    try:
        orders = SqlOrderStore(database)
        services = tool_services(database, orders)
        contexts = [
            ToolContext(
                services=services,
                store_id=STORE,
                policy=tau2_policy(),
                customer_id=s,
                verified_by={Verification.EMAIL.value},
            )
            for s in SHOPPERS
        ]
        proposed: list[str] = []
        state = catalog_to_tau2(await orders.export_catalog(STORE))
        owners = _owners(state)
        for draw in steps:
            ctx = contexts[draw["shopper"]]
            me = SHOPPERS[draw["shopper"]]
            try:
                if draw["tool"] == "confirm":
                    if not proposed:
                        continue
                    action_id = proposed[draw["action"] % len(proposed)]
                    await confirm(ctx, ConfirmArgs(action_id=action_id))
                else:
                    result = await call_tool(ctx, draw["tool"], _arguments(draw))
                    if isinstance(result, dict) and "action_id" in result:
                        proposed.append(result["action_id"])
                        if draw["confirm_now"]:
                            await confirm(ctx, ConfirmArgs(action_id=result["action_id"]))
                    elif isinstance(result, dict):
                        # A read shows only the shopper's own records.
                        assert result.get("user_id") == me, (draw, result.get("user_id"))
            except ParleyError:
                pass  # refused with a typed error: allowed, as long as nothing leaked
            after = catalog_to_tau2(await orders.export_catalog(STORE))
            changed_orders, changed_users = _changed(state, after)
            assert {owners[o] for o in changed_orders} <= {me}, (draw, changed_orders)
            assert changed_users <= {me}, (draw, changed_users)
            _refunds_within_payments(after)
            state = after
    finally:
        await database.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_no_shopper_touches_another_customers_orders_and_refunds_stay_within_payments(
    template: Path, tmp_path: Path, steps: list[dict[str, Any]]
) -> None:
    asyncio.run(_run(template, tmp_path, steps))


own_write = st.fixed_dictionaries(
    {
        "shopper": st.integers(0, len(SHOPPERS) - 1),
        "tool": st.sampled_from(
            ["cancel_pending_order", "modify_pending_order_payment", "modify_pending_order_items"]
        ),
        "order": st.integers(0, 20),
        "user": st.just(0),
        "items": st.lists(st.integers(0, 5), min_size=1, max_size=3),
        "variants": st.lists(st.integers(0, 30), min_size=1, max_size=3),
        "method": st.integers(0, 5),
        "action": st.just(0),
        "own": st.just(True),
        "confirm_now": st.just(True),
    }
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(own_write, min_size=2, max_size=6))
def test_confirmed_money_moves_on_own_orders_never_refund_more_than_was_paid(
    template: Path, tmp_path: Path, steps: list[dict[str, Any]]
) -> None:
    asyncio.run(_run(template, tmp_path, steps))
