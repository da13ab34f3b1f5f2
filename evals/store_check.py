"""Whole-store comparison for the conversation suite: export a store before and after a case,
and find every difference the case did not declare.

A store is seen as its τ² export (products, users, orders) plus the dispute cases opened in it,
flattened to JSON paths (`orders.#W3000013.status`, `disputes.#W3000013.chargeback`). A case
declares what may change: `store_changes` (a path and the value it must end with), the statuses
of `orders_after` (with the fields that status change writes), and, when a turn expects
`open_dispute`, dispute cases. Everything else must end exactly as it started.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.domain.orders import catalog_to_tau2
from bot.storage.tables import CaseRow
from bot.wiring import Parley

Flat = dict[str, Any]

# The order fields each status change writes besides the status itself (bot/tools/writes.py):
# declaring "cancelled" in `orders_after` declares its refund and reason, not an address change.
_WRITTEN_WITH: dict[str, tuple[str, ...]] = {
    "cancelled": ("cancel_reason", "payment_history"),
    "return requested": ("return_items", "return_payment_method_id"),
    "exchange requested": (
        "exchange_items",
        "exchange_new_items",
        "exchange_payment_method_id",
        "exchange_price_difference",
    ),
    "pending (item modified)": ("items", "payment_history"),
}
_REFUNDS_TO_GIFT_CARDS = frozenset({"cancelled", "pending (item modified)", "exchange requested"})


async def snapshot(parley: Parley, store: str) -> Flat:
    """The store's orders, customers, products and dispute cases as flat JSON paths."""
    catalog = await parley.orders.export_catalog(store)
    flat = flatten(catalog_to_tau2(catalog))
    flat.update(await dispute_paths(parley, store))
    return flat


async def dispute_paths(parley: Parley, store: str) -> Flat:
    """`disputes.<order>.<kind>` → how many such cases the store holds (cheap: one query)."""
    async with parley.database.session() as session:
        rows = await session.execute(
            sa.select(CaseRow.order_id, CaseRow.kind).where(CaseRow.store_id == store)
        )
        opened = Counter(f"disputes.{order_id}.{kind}" for order_id, kind in rows)
    return dict(opened)


def flatten(document: Any, prefix: str = "") -> Flat:
    """Objects become dotted paths; lists and scalars are compared whole."""
    if not isinstance(document, Mapping) or not document:
        return {prefix: document} if prefix else {}
    flat: Flat = {}
    for key, value in document.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


@dataclass(frozen=True)
class Declared:
    """What a case (or a store's cases together) may change."""

    exact: dict[str, Any] = field(default_factory=dict)
    """Paths that must end with exactly this value."""
    loose: frozenset[str] = frozenset()
    """Paths (and everything under them) that may change to anything."""


def declared(
    before: Flat,
    store_changes: Mapping[str, Any],
    orders_after: Mapping[str, str],
    opens_disputes: bool,
) -> Declared:
    """The changes a case declares, read against the store it starts with."""
    exact = dict(store_changes)
    loose: set[str] = set()
    for order_id, status in orders_after.items():
        start = before.get(f"orders.{order_id}.status")
        exact.setdefault(f"orders.{order_id}.status", status)
        if start == status:
            continue
        loose.update(f"orders.{order_id}.{name}" for name in _WRITTEN_WITH.get(status, ()))
        user = before.get(f"orders.{order_id}.user_id")
        if status in _REFUNDS_TO_GIFT_CARDS and user is not None:
            prefix = f"users.{user}.payment_methods."
            loose.update(
                path for path in before if path.startswith(prefix) and path.endswith(".balance")
            )
    if opens_disputes:
        loose.add("disputes")
    return Declared(exact, frozenset(loose))


def merged(declarations: Iterable[Declared]) -> Declared:
    """The union of several cases' declarations (the shared store's cases, over a whole run)."""
    exact: dict[str, Any] = {}
    loose: set[str] = set()
    for item in declarations:
        exact.update(item.exact)
        loose |= item.loose
    return Declared(exact, frozenset(loose))


@dataclass(frozen=True)
class StoreCheck:
    """A store compared before and after: what changed that nobody declared, and which
    declared paths did not end with their value."""

    undeclared: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        """Nothing changed but what was declared, and that ended as declared."""
        return not self.undeclared and not self.wrong

    def describe(self, before: Flat, after: Flat) -> list[dict[str, Any]]:
        """Each problem path with its value before and after, for the report."""
        return [
            {"path": path, "before": before.get(path), "after": after.get(path)}
            for path in (*self.undeclared, *self.wrong)
        ]


def compare(before: Flat, after: Flat, allowed: Declared) -> StoreCheck:
    """Every path that differs and is not declared, and every declared value not reached."""
    changed = sorted(
        path
        for path in before.keys() | after.keys()
        if before.get(path) != after.get(path) or (path in before) != (path in after)
    )
    undeclared = tuple(
        path for path in changed if path not in allowed.exact and not _under(path, allowed.loose)
    )
    wrong = tuple(
        sorted(path for path, value in allowed.exact.items() if not _same(after.get(path), value))
    )
    return StoreCheck(undeclared, wrong)


def _under(path: str, prefixes: frozenset[str]) -> bool:
    return any(path == prefix or path.startswith(prefix + ".") for prefix in prefixes)


def _same(seen: Any, wanted: Any) -> bool:
    """Lists of ids are compared as sets of ids with their counts (the order carries no
    meaning in `return_items`); everything else exactly."""
    if isinstance(seen, list) and isinstance(wanted, list):
        return sorted(map(repr, seen)) == sorted(map(repr, wanted))
    return bool(seen == wanted)
