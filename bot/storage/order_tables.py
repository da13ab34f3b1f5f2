"""Tables of the built-in order store. Every row carries `store_id`; keys are per store.

`position` keeps the order records had in the imported file, because τ² lookups return the
first match in file order and an export must give the same document back.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from bot.storage.tables import Base, utcnow


class Money(TypeDecorator[Decimal]):
    """An exact decimal: `numeric` on PostgreSQL, its text on SQLite (which has no decimal)."""

    impl = sa.String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(asdecimal=True))
        return dialect.type_descriptor(sa.String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def _store_fk() -> Mapped[str]:
    return mapped_column(
        sa.String(64), sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )


class ProductRow(Base):
    """A product type of a store's catalogue."""

    __tablename__ = "shop_products"

    store_id: Mapped[str] = _store_fk()
    product_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int]


class VariantRow(Base):
    """A sellable variant of a product with its current price."""

    __tablename__ = "shop_variants"
    __table_args__ = (sa.Index("ix_shop_variants_store_item", "store_id", "item_id"),)

    store_id: Mapped[str] = _store_fk()
    product_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    available: Mapped[bool]
    price: Mapped[Decimal] = mapped_column(Money())
    position: Mapped[int]


class CustomerRow(Base):
    """A shopper's account; the `*_key` columns serve the identity lookups."""

    __tablename__ = "shop_customers"
    __table_args__ = (
        sa.Index("ix_shop_customers_store_email", "store_id", "email_key"),
        sa.Index("ix_shop_customers_store_name_zip", "store_id", "last_name_key", "zip"),
    )

    store_id: Mapped[str] = _store_fk()
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(200))
    last_name: Mapped[str] = mapped_column(sa.String(200))
    first_name_key: Mapped[str] = mapped_column(sa.String(200))
    last_name_key: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320))
    email_key: Mapped[str] = mapped_column(sa.String(320))
    zip: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    order_ids: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)


class PaymentMethodRow(Base):
    """A payment method on file; only gift cards have a balance."""

    __tablename__ = "shop_payment_methods"

    store_id: Mapped[str] = _store_fk()
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    method_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32))
    brand: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    last_four: Mapped[str | None] = mapped_column(sa.String(8), default=None)
    balance: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    position: Mapped[int]


class OrderRow(Base):
    """An order; items, shipments and payments are JSON lists with money as decimal text."""

    __tablename__ = "shop_orders"
    __table_args__ = (sa.Index("ix_shop_orders_store_user", "store_id", "user_id"),)

    store_id: Mapped[str] = _store_fk()
    order_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    items: Mapped[list[Any]] = mapped_column(default=list)
    fulfillments: Mapped[list[Any]] = mapped_column(default=list)
    payment_history: Mapped[list[Any]] = mapped_column(default=list)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    exchange_items: Mapped[list[Any] | None] = mapped_column(sa.JSON, default=None)
    exchange_new_items: Mapped[list[Any] | None] = mapped_column(sa.JSON, default=None)
    exchange_payment_method_id: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    exchange_price_difference: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    return_items: Mapped[list[Any] | None] = mapped_column(sa.JSON, default=None)
    return_payment_method_id: Mapped[str | None] = mapped_column(sa.String(128), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    position: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
