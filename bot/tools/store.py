"""The order-store protocol: what the tools need from a shop's order system.

The built-in implementation is `bot.storage.SqlOrderStore`; a shop with its own order system
implements these two small protocols instead.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.domain.orders import Catalog, Customer, Order, Product, Variant


class OrderSession(Protocol):
    """One unit of work on one store's orders: everything saved in it commits together or not
    at all. Lookups raise the typed not-found errors of `bot.domain.orders`."""

    store_id: str

    async def product(self, product_id: str) -> Product:
        """A product with all its variants."""

    async def item(self, item_id: str) -> Variant:
        """The first variant with this item id, products in catalogue order."""

    async def product_types(self) -> dict[str, str]:
        """Every product name mapped to its id."""

    async def customer(self, user_id: str, *, for_update: bool = False) -> Customer:
        """A customer account (locked against concurrent writers when `for_update`)."""

    async def customer_by_email(self, email: str) -> str:
        """The id of the first customer with this email, ignoring case."""

    async def customer_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> str:
        """The id of the first customer with this name (ignoring case) and default zip."""

    async def order(self, order_id: str, *, for_update: bool = False) -> Order:
        """An order (locked against concurrent writers when `for_update`)."""

    async def save_order(self, order: Order) -> None:
        """Write back an order read in this session; `ConcurrentChange` if it changed since."""

    async def save_customer(self, customer: Customer) -> None:
        """Write back a customer read in this session; `ConcurrentChange` if it changed since."""

    async def audit(
        self,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """Record a write in the audit log, in the same transaction."""


class OrderStore(Protocol):
    """A store's products, customers and orders."""

    def session(self, store_id: str) -> AbstractAsyncContextManager[OrderSession]:
        """A unit of work on one store."""

    async def import_catalog(self, store_id: str, catalog: Catalog) -> None:
        """Replace the store's products, customers and orders with these."""

    async def export_catalog(self, store_id: str) -> Catalog:
        """The store's products, customers and orders, in their original order."""
