"""Import and export a store's products, customers and orders as τ²-bench retail JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from bot.domain.orders import InvalidCatalog, catalog_from_tau2, catalog_to_tau2
from bot.tools.store import OrderStore

FORMATS = ("tau2",)


def check_format(fmt: str) -> None:
    """Only the τ² retail format exists so far."""
    if fmt not in FORMATS:
        raise InvalidCatalog(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")


async def import_document(orders: OrderStore, store_id: str, document: Any) -> dict[str, int]:
    """Replace the store's orders with a τ² document; the counts of what was imported."""
    if not isinstance(document, dict):
        raise InvalidCatalog("a τ² retail database is a JSON object")
    catalog = catalog_from_tau2(document)
    await orders.import_catalog(store_id, catalog)
    return {
        "products": len(catalog.products),
        "users": len(catalog.users),
        "orders": len(catalog.orders),
    }


async def import_file(orders: OrderStore, store_id: str, path: Path) -> dict[str, int]:
    """Import a τ² retail JSON file (see `import_document`)."""
    try:
        document = json.loads(await anyio.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidCatalog(f"cannot read {path}: {error}") from error
    return await import_document(orders, store_id, document)


async def export_text(orders: OrderStore, store_id: str) -> str:
    """The store as τ² retail JSON text, laid out as `db.json` is (4-space indent)."""
    catalog = await orders.export_catalog(store_id)
    return json.dumps(catalog_to_tau2(catalog), indent=4)
