"""`POST /api/v1/orders/import`: replace a store's products, customers and orders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from bot.api.deps import MerchantStoreDep, ParleyDep
from bot.tools.tau2_files import check_format, import_document

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])


@router.post("/import")
async def import_orders(
    parley: ParleyDep,
    store_id: MerchantStoreDep,
    document: dict[str, Any] = Body(description="A τ²-bench retail database."),  # noqa: B008
    format: str = "tau2",
) -> dict[str, Any]:
    """Import a database in the given format (`tau2`); returns what was imported."""
    check_format(format)
    counts = await import_document(parley.orders, store_id, document)
    await parley.tools.audit.record(
        store_id, "merchant", "import_orders", f"store:{store_id}", None, {"imported": counts}
    )
    return {"store": store_id, "imported": counts}
