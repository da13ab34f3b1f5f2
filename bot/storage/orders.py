"""The built-in order store on SQLite or PostgreSQL: every query names its store.

Writes are guarded twice: rows are locked (`SELECT … FOR UPDATE`) where the database can, and
each save checks the row's version, so of two writes racing on one order exactly one applies
and the other gets `ConcurrentChange` (or the typed error of the state it then finds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import NotFound
from bot.domain.orders import (
    ORDER_OPTIONAL_FIELDS,
    Catalog,
    ConcurrentChange,
    Customer,
    ItemNotFound,
    Order,
    OrderNotFound,
    Product,
    ProductNotFound,
    UserNotFound,
    Variant,
)
from bot.storage.database import Database
from bot.storage.order_tables import (
    CustomerRow,
    OrderRow,
    PaymentMethodRow,
    ProductRow,
    VariantRow,
)
from bot.storage.tables import AuditRow, StoreRow, utcnow

_TABLES = (VariantRow, ProductRow, PaymentMethodRow, CustomerRow, OrderRow)
_DATETIME = TypeAdapter(datetime)
_OPTIONAL = frozenset({*ORDER_OPTIONAL_FIELDS, "delivered_at"})
_MONEY = frozenset({"price", "amount", "balance", "exchange_price_difference"})


def _as_tau2(value: Any, key: str | None = None) -> Any:
    """Stored values in the τ² JSON shape: money (decimal text or `Decimal`) as floats."""
    if isinstance(value, dict):
        return {k: _as_tau2(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_tau2(v) for v in value]
    if key in _MONEY and isinstance(value, str | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return _DATETIME.dump_python(value, mode="json")
    return value


class SqlOrderStore:
    """The default `OrderStore`: products, customers and orders in Parley's own database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def session(self, store_id: str) -> AsyncIterator[SqlOrderSession]:
        """A transaction on one store's orders; committed at the end, rolled back on error."""
        async with self.database.session() as session:
            yield SqlOrderSession(session, store_id, lock=self.database.dialect == "postgresql")

    async def import_catalog(self, store_id: str, catalog: Catalog) -> None:
        """Replace the store's products, customers and orders, all in one transaction."""
        async with self.database.session() as session:
            if await session.get(StoreRow, store_id) is None:
                raise NotFound(f"store {store_id!r} not found")
            for table in _TABLES:
                await session.execute(sa.delete(table).where(table.store_id == store_id))
            products: list[dict[str, Any]] = []
            variants: list[dict[str, Any]] = []
            for position, product in enumerate(catalog.products.values()):
                products.append(
                    {
                        "store_id": store_id,
                        "product_id": product.product_id,
                        "name": product.name,
                        "position": position,
                    }
                )
                variants.extend(
                    _variant_values(store_id, product.product_id, variant, len(variants))
                    for variant in product.variants.values()
                )
            customers: list[dict[str, Any]] = []
            methods: list[dict[str, Any]] = []
            for position, customer in enumerate(catalog.users.values()):
                customers.append(_customer_values(store_id, customer, position))
                methods.extend(_method_values(store_id, customer))
            orders = [
                _order_values(store_id, order) | {"position": position, "version": 1}
                for position, order in enumerate(catalog.orders.values())
            ]
            for table, rows in (
                (ProductRow, products),
                (VariantRow, variants),
                (CustomerRow, customers),
                (PaymentMethodRow, methods),
                (OrderRow, orders),
            ):
                if rows:
                    await session.execute(sa.insert(table), rows)

    async def export_catalog(self, store_id: str) -> Catalog:
        """Everything the store holds, in the order it was imported."""
        products, users, orders = await self._export_rows(store_id)
        return Catalog.model_validate({"products": products, "users": users, "orders": orders})

    async def export_document(self, store_id: str) -> dict[str, Any]:
        """The store as a τ² JSON document, straight from the rows: the same document as
        `catalog_to_tau2(await export_catalog(...))`, without building every record (the τ²
        replay exports the whole store after each task)."""
        products, users, orders = await self._export_rows(store_id)
        return {
            "products": _as_tau2(products),
            "users": _as_tau2(users),
            "orders": {
                key: _as_tau2(
                    {k: v for k, v in order.items() if v is not None or k not in _OPTIONAL}
                )
                for key, order in orders.items()
            },
        }

    async def _export_rows(
        self, store_id: str
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        def rows(table: Any, *order_by: Any) -> Any:
            # Plain rows (no ORM identity map): exporting a whole store is a bulk read.
            return sa.select(table.__table__).where(table.store_id == store_id).order_by(*order_by)

        async with self.database.session() as session:
            products: dict[str, dict[str, Any]] = {}
            for product in await session.execute(rows(ProductRow, ProductRow.position)):
                products[product.product_id] = {
                    "name": product.name,
                    "product_id": product.product_id,
                    "variants": {},
                }
            for variant in await session.execute(rows(VariantRow, VariantRow.position)):
                products[variant.product_id]["variants"][variant.item_id] = _variant(variant)
            methods: dict[str, dict[str, Any]] = {}
            for method in await session.execute(
                rows(PaymentMethodRow, PaymentMethodRow.user_id, PaymentMethodRow.position)
            ):
                methods.setdefault(method.user_id, {})[method.method_id] = _method(method)
            users = {
                row.user_id: _customer(row, methods.get(row.user_id, {}))
                for row in await session.execute(rows(CustomerRow, CustomerRow.position))
            }
            orders = {
                row.order_id: _order(row)
                for row in await session.execute(rows(OrderRow, OrderRow.position))
            }
        return products, users, orders


class SqlOrderSession:
    """Reads and writes of one store inside one database transaction."""

    def __init__(self, session: AsyncSession, store_id: str, *, lock: bool) -> None:
        self.session = session
        self.store_id = store_id
        self._lock = lock
        self._versions: dict[tuple[str, str], int] = {}

    async def product(self, product_id: str) -> Product:
        """A product with all its variants."""
        row = await self.session.scalar(
            sa.select(ProductRow).where(
                ProductRow.store_id == self.store_id, ProductRow.product_id == product_id
            )
        )
        if row is None:
            raise ProductNotFound()
        variants = await self.session.scalars(
            sa.select(VariantRow)
            .where(VariantRow.store_id == self.store_id, VariantRow.product_id == product_id)
            .order_by(VariantRow.position)
        )
        return Product.model_validate(
            {
                "name": row.name,
                "product_id": row.product_id,
                "variants": {v.item_id: _variant(v) for v in variants},
            }
        )

    async def item(self, item_id: str) -> Variant:
        """The first variant with this item id, products in catalogue order."""
        row = await self.session.scalar(
            sa.select(VariantRow)
            .join(
                ProductRow,
                sa.and_(
                    ProductRow.store_id == VariantRow.store_id,
                    ProductRow.product_id == VariantRow.product_id,
                ),
            )
            .where(VariantRow.store_id == self.store_id, VariantRow.item_id == item_id)
            .order_by(ProductRow.position)
            .limit(1)
        )
        if row is None:
            raise ItemNotFound("Item not found")
        return Variant.model_validate(_variant(row))

    async def product_types(self) -> dict[str, str]:
        """Every product name mapped to its id."""
        rows = await self.session.execute(
            sa.select(ProductRow.name, ProductRow.product_id)
            .where(ProductRow.store_id == self.store_id)
            .order_by(ProductRow.position)
        )
        return {name: product_id for name, product_id in rows}

    async def customer(self, user_id: str, *, for_update: bool = False) -> Customer:
        """A customer account with its payment methods."""
        query = sa.select(CustomerRow).where(
            CustomerRow.store_id == self.store_id, CustomerRow.user_id == user_id
        )
        if for_update and self._lock:
            query = query.with_for_update()
        row = await self.session.scalar(query)
        if row is None:
            raise UserNotFound()
        methods = await self.session.scalars(
            sa.select(PaymentMethodRow)
            .where(PaymentMethodRow.store_id == self.store_id, PaymentMethodRow.user_id == user_id)
            .order_by(PaymentMethodRow.position)
        )
        self._versions[("customer", user_id)] = row.version
        return Customer.model_validate(_customer(row, {m.method_id: _method(m) for m in methods}))

    async def customer_by_email(self, email: str) -> str:
        """The first customer whose email equals `email`, both lower-cased."""
        user_id = await self.session.scalar(
            sa.select(CustomerRow.user_id)
            .where(CustomerRow.store_id == self.store_id, CustomerRow.email_key == email.lower())
            .order_by(CustomerRow.position)
            .limit(1)
        )
        if user_id is None:
            raise UserNotFound()
        return user_id

    async def customer_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> str:
        """The first customer with this name (ignoring case) whose default zip is `zip_code`."""
        user_id = await self.session.scalar(
            sa.select(CustomerRow.user_id)
            .where(
                CustomerRow.store_id == self.store_id,
                CustomerRow.last_name_key == last_name.lower(),
                CustomerRow.first_name_key == first_name.lower(),
                CustomerRow.zip == zip_code,
            )
            .order_by(CustomerRow.position)
            .limit(1)
        )
        if user_id is None:
            raise UserNotFound()
        return user_id

    async def order(self, order_id: str, *, for_update: bool = False) -> Order:
        """An order with all its fields."""
        query = sa.select(OrderRow).where(
            OrderRow.store_id == self.store_id, OrderRow.order_id == order_id
        )
        if for_update and self._lock:
            query = query.with_for_update()
        row = await self.session.scalar(query)
        if row is None:
            raise OrderNotFound()
        self._versions[("order", order_id)] = row.version
        return Order.model_validate(_order(row))

    async def save_order(self, order: Order) -> None:
        """Write the order back if nobody changed it since it was read in this session."""
        version = self._versions.get(("order", order.order_id))
        if version is None:
            raise OrderNotFound()
        result = await self.session.execute(
            sa.update(OrderRow)
            .where(
                OrderRow.store_id == self.store_id,
                OrderRow.order_id == order.order_id,
                OrderRow.version == version,
            )
            .values(
                {
                    **_order_values(self.store_id, order),
                    "version": version + 1,
                    "updated_at": utcnow(),
                }
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrentChange()
        self._versions[("order", order.order_id)] = version + 1

    async def save_customer(self, customer: Customer) -> None:
        """Write the account and its payment methods back if nobody changed them since."""
        version = self._versions.get(("customer", customer.user_id))
        if version is None:
            raise UserNotFound()
        values = _customer_values(self.store_id, customer, 0)
        values.pop("position")
        result = await self.session.execute(
            sa.update(CustomerRow)
            .where(
                CustomerRow.store_id == self.store_id,
                CustomerRow.user_id == customer.user_id,
                CustomerRow.version == version,
            )
            .values({**values, "version": version + 1})
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrentChange(
                "This account was changed by another action at the same time; "
                "nothing was applied, please check it again."
            )
        self._versions[("customer", customer.user_id)] = version + 1
        await self.session.execute(
            sa.delete(PaymentMethodRow).where(
                PaymentMethodRow.store_id == self.store_id,
                PaymentMethodRow.user_id == customer.user_id,
            )
        )
        methods = _method_values(self.store_id, customer)
        if methods:
            await self.session.execute(sa.insert(PaymentMethodRow), methods)

    async def audit(
        self,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """One audit entry, committed with the write it describes."""
        self.session.add(
            AuditRow(
                store_id=self.store_id,
                actor=actor,
                action=action,
                target=target,
                before=before,
                after=after,
            )
        )
        await self.session.flush()


def _variant(row: VariantRow | sa.Row[Any]) -> dict[str, Any]:
    return {
        "item_id": row.item_id,
        "options": row.options,
        "available": row.available,
        "price": row.price,
    }


def _variant_values(store_id: str, product_id: str, variant: Variant, position: int) -> Any:
    return {
        "store_id": store_id,
        "product_id": product_id,
        "item_id": variant.item_id,
        "options": variant.options,
        "available": variant.available,
        "price": variant.price,
        "position": position,
    }


def _method(row: PaymentMethodRow | sa.Row[Any]) -> dict[str, Any]:
    if row.source == "credit_card":
        return {
            "source": row.source,
            "id": row.method_id,
            "brand": row.brand,
            "last_four": row.last_four,
        }
    if row.source == "gift_card":
        return {"source": row.source, "id": row.method_id, "balance": row.balance}
    return {"source": row.source, "id": row.method_id}


def _method_values(store_id: str, customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "store_id": store_id,
            "user_id": customer.user_id,
            "method_id": key,
            "source": method.source,
            "brand": getattr(method, "brand", None),
            "last_four": getattr(method, "last_four", None),
            "balance": getattr(method, "balance", None),
            "position": position,
        }
        for position, (key, method) in enumerate(customer.payment_methods.items())
    ]


def _customer(row: CustomerRow | sa.Row[Any], methods: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": row.user_id,
        "name": {"first_name": row.first_name, "last_name": row.last_name},
        "address": row.address,
        "email": row.email,
        "payment_methods": methods,
        "orders": row.order_ids,
    }


def _customer_values(store_id: str, customer: Customer, position: int) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "user_id": customer.user_id,
        "first_name": customer.name.first_name,
        "last_name": customer.name.last_name,
        "first_name_key": customer.name.first_name.lower(),
        "last_name_key": customer.name.last_name.lower(),
        "email": customer.email,
        "email_key": customer.email.lower(),
        "zip": customer.address.zip,
        "address": customer.address.model_dump(),
        "order_ids": list(customer.orders),
        "position": position,
    }


def _order(row: OrderRow | sa.Row[Any]) -> dict[str, Any]:
    return {
        "order_id": row.order_id,
        "user_id": row.user_id,
        "address": row.address,
        "items": row.items,
        "status": row.status,
        "fulfillments": row.fulfillments,
        "payment_history": row.payment_history,
        "cancel_reason": row.cancel_reason,
        "exchange_items": row.exchange_items,
        "exchange_new_items": row.exchange_new_items,
        "exchange_payment_method_id": row.exchange_payment_method_id,
        "exchange_price_difference": row.exchange_price_difference,
        "return_items": row.return_items,
        "return_payment_method_id": row.return_payment_method_id,
        "delivered_at": (
            row.delivered_at.replace(tzinfo=UTC)
            if row.delivered_at is not None and row.delivered_at.tzinfo is None
            else row.delivered_at
        ),  # SQLite hands back naive datetimes; everything stored is UTC
    }


def _order_values(store_id: str, order: Order) -> dict[str, Any]:
    # Money inside the JSON lists is kept as exact decimal text, never as a float.
    items = [item.model_dump() | {"price": str(item.price)} for item in order.items]
    payments = [
        entry.model_dump() | {"amount": str(entry.amount)} for entry in order.payment_history
    ]
    return {
        "store_id": store_id,
        "order_id": order.order_id,
        "user_id": order.user_id,
        "status": order.status,
        "address": order.address.model_dump(),
        "items": items,
        "fulfillments": [fulfillment.model_dump() for fulfillment in order.fulfillments],
        "payment_history": payments,
        "cancel_reason": order.cancel_reason,
        "exchange_items": order.exchange_items,
        "exchange_new_items": order.exchange_new_items,
        "exchange_payment_method_id": order.exchange_payment_method_id,
        "exchange_price_difference": order.exchange_price_difference,
        "return_items": order.return_items,
        "return_payment_method_id": order.return_payment_method_id,
        "delivered_at": order.delivered_at,
    }
