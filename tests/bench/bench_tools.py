"""Order-tool latency on the full τ²-bench retail database, SQLite and PostgreSQL.

    .venv/bin/python -m tests.bench.bench_tools --out bench-results/tools.json \
        [--eval-dir ../shared/eval] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Each tool is called as a verified shopper would call it, with ids drawn from the database;
a write is timed twice: the call that checks it and proposes it (`<tool>`), and the
confirmation that runs it in one transaction (`<tool>:confirm`). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from bot.domain.errors import ParleyError
from bot.domain.orders import catalog_from_tau2
from bot.domain.policy import Verification, tau2_policy
from bot.storage import Database, StoreRepository, connect, migrate
from bot.storage.orders import SqlOrderStore
from bot.tools import ToolContext, call_tool, confirm
from bot.tools.schemas import ConfirmArgs
from bot.wiring import tool_services

STORE = "bench"
ADDRESS = {
    "address1": "1 Main St",
    "address2": "",
    "city": "Springfield",
    "state": "IL",
    "country": "USA",
    "zip": "62701",
}


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the samples, in milliseconds."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


class Timings:
    """Latencies and error counts per tool."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.messages: dict[str, str] = {}

    async def time(self, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        try:
            return await call()
        except ParleyError as error:
            self.errors[name] = self.errors.get(name, 0) + 1
            self.messages.setdefault(name, error.message)
            return None
        finally:
            self.samples.setdefault(name, []).append(time.perf_counter() - started)

    def figures(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "calls": len(samples),
                "errors": self.errors.get(name, 0),
                "p50_ms": round(percentile(samples, 50), 2),
                "p99_ms": round(percentile(samples, 99), 2),
                "mean_ms": round(statistics.fmean(samples) * 1000, 2),
                **({"first_error": self.messages[name]} if name in self.messages else {}),
            }
            for name, samples in sorted(self.samples.items())
        }


def _other_variant(document: dict[str, Any], item: dict[str, Any]) -> str | None:
    variants = document["products"][item["product_id"]]["variants"].values()
    choices = [v["item_id"] for v in variants if v["available"] and v["item_id"] != item["item_id"]]
    return choices[0] if choices else None


def _plans(
    document: dict[str, Any], rng: random.Random, writes: int
) -> list[tuple[str, str, dict[str, Any]]]:
    """(customer, tool, arguments) for every call, each write on its own order."""
    users, orders = document["users"], document["orders"]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for order in orders.values():
        by_status.setdefault(order["status"], []).append(order)
    pending = rng.sample(by_status["pending"], len(by_status["pending"]))
    delivered = rng.sample(by_status["delivered"], len(by_status["delivered"]))
    plans: list[tuple[str, str, dict[str, Any]]] = []

    def not_gift(order: dict[str, Any]) -> list[str]:
        methods = users[order["user_id"]]["payment_methods"].values()
        return [m["id"] for m in methods if m["source"] != "gift_card"]

    for _ in range(writes):
        order = pending.pop()
        plans.append(
            (
                order["user_id"],
                "cancel_pending_order",
                {"order_id": order["order_id"], "reason": "no longer needed"},
            )
        )
        order = pending.pop()
        plans.append(
            (
                order["user_id"],
                "modify_pending_order_address",
                {"order_id": order["order_id"], **ADDRESS},
            )
        )
        order = pending.pop()
        new = _other_variant(document, order["items"][0])
        methods = not_gift(order)
        if new and methods:
            plans.append(
                (
                    order["user_id"],
                    "modify_pending_order_items",
                    {
                        "order_id": order["order_id"],
                        "item_ids": [order["items"][0]["item_id"]],
                        "new_item_ids": [new],
                        "payment_method_id": methods[0],
                    },
                )
            )
        order = pending.pop()
        others = [
            m for m in not_gift(order) if m != order["payment_history"][0]["payment_method_id"]
        ]
        if others:
            plans.append(
                (
                    order["user_id"],
                    "modify_pending_order_payment",
                    {"order_id": order["order_id"], "payment_method_id": others[0]},
                )
            )
        order = delivered.pop()
        original = order["payment_history"][0]["payment_method_id"]
        plans.append(
            (
                order["user_id"],
                "return_delivered_order_items",
                {
                    "order_id": order["order_id"],
                    "item_ids": [order["items"][0]["item_id"]],
                    "payment_method_id": original,
                },
            )
        )
        order = delivered.pop()
        new = _other_variant(document, order["items"][0])
        original = order["payment_history"][0]["payment_method_id"]
        if new:
            plans.append(
                (
                    order["user_id"],
                    "exchange_delivered_order_items",
                    {
                        "order_id": order["order_id"],
                        "item_ids": [order["items"][0]["item_id"]],
                        "new_item_ids": [new],
                        "payment_method_id": original,
                    },
                )
            )
        user = rng.choice(list(users.values()))
        plans.append(
            (user["user_id"], "modify_user_address", {"user_id": user["user_id"], **ADDRESS})
        )
    return plans


def _reads(
    document: dict[str, Any], rng: random.Random, reads: int
) -> list[tuple[str | None, str, dict[str, Any]]]:
    users, orders, products = document["users"], document["orders"], document["products"]
    calls: list[tuple[str | None, str, dict[str, Any]]] = []
    order_list, user_list, product_list = (
        list(orders.values()),
        list(users.values()),
        list(products.values()),
    )
    for _ in range(reads):
        user = rng.choice(user_list)
        order = rng.choice(order_list)
        product = rng.choice(product_list)
        calls += [
            (None, "find_user_id_by_email", {"email": user["email"]}),
            (
                None,
                "find_user_id_by_name_zip",
                {
                    "first_name": user["name"]["first_name"],
                    "last_name": user["name"]["last_name"],
                    "zip": user["address"]["zip"],
                },
            ),
            (user["user_id"], "get_user_details", {"user_id": user["user_id"]}),
            (order["user_id"], "get_order_details", {"order_id": order["order_id"]}),
            (None, "get_product_details", {"product_id": product["product_id"]}),
            (None, "get_item_details", {"item_id": rng.choice(list(product["variants"]))}),
            (None, "list_all_product_types", {}),
            (
                None,
                "calculate",
                {"expression": f"{rng.randint(1, 999)}.{rng.randint(0, 99)} * 3 - 1"},
            ),
        ]
    rng.shuffle(calls)
    return calls


async def bench_database(
    url: str, document: dict[str, Any], reads: int, writes: int
) -> dict[str, Any]:
    """Import the database into a fresh store at `url` and time every tool."""
    database: Database = await connect(url)
    try:
        await migrate(database)
        await StoreRepository(database).create(STORE)
        orders = SqlOrderStore(database)
        started = time.perf_counter()
        await orders.import_catalog(STORE, catalog_from_tau2(document))
        import_s = time.perf_counter() - started
        services = tool_services(database, orders)
        timings = Timings()
        rng = random.Random(20261124)

        def context(customer: str | None) -> ToolContext:
            return ToolContext(
                services=services,
                store_id=STORE,
                policy=tau2_policy(),
                customer_id=customer,
                verified_by={Verification.EMAIL.value},
            )

        for customer, name, arguments in _reads(document, rng, reads):
            await timings.time(name, partial(call_tool, context(customer), name, arguments))
        for customer, name, arguments in _plans(document, rng, writes):
            ctx = context(customer)
            proposed = await timings.time(name, partial(call_tool, ctx, name, arguments))
            if proposed:
                action = ConfirmArgs(action_id=proposed["action_id"])
                await timings.time(f"{name}:confirm", partial(confirm, ctx, action))
        started = time.perf_counter()
        await orders.export_catalog(STORE)
        export_s = time.perf_counter() - started
        return {
            "import_s": round(import_s, 3),
            "export_s": round(export_s, 3),
            "tools": timings.figures(),
        }
    finally:
        await database.close()


async def _with_postgres(admin_url: str, work: Callable[[str], Awaitable[Any]]) -> Any:
    import asyncpg

    name = f"parley_bench_{uuid.uuid4().hex[:10]}"
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        base = plain.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return await work(f"{base}/{name}")
    finally:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _print(engine: str, result: dict[str, Any]) -> None:
    print(f"\n{engine}: import {result['import_s']} s, export {result['export_s']} s")
    print(f"  {'tool':44} {'calls':>5} {'err':>4} {'p50 ms':>8} {'p99 ms':>8}")
    for name, row in result["tools"].items():
        print(
            f"  {name:44} {row['calls']:5d} {row['errors']:4d} "
            f"{row['p50_ms']:8.2f} {row['p99_ms']:8.2f}  {row.get('first_error', '')}"
        )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/tools.json"))
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reads", type=int, default=100, help="rounds of the 8 read calls")
    parser.add_argument("--writes", type=int, default=30, help="rounds of the 7 write tools")
    args = parser.parse_args(argv)
    db_path = args.eval_dir / "tau2_retail" / "db.json"
    if not db_path.is_file():
        print(f"bench_tools: {db_path} not found (use --eval-dir)", file=sys.stderr)
        return 2
    document = json.loads(db_path.read_text())
    results: dict[str, Any] = {
        "database": str(db_path),
        "reads_per_tool": args.reads,
        "writes_per_tool": args.writes,
        "note": "p99 of a few dozen writes is close to their maximum",
    }
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        results["sqlite"] = await bench_database(
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", document, args.reads, args.writes
        )
    _print("SQLite", results["sqlite"])
    results["postgresql"] = await _with_postgres(
        args.postgres,
        lambda url: bench_database(url, document, args.reads, args.writes),
    )
    _print("PostgreSQL", results["postgresql"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
