"""order store: products, variants, customers, payment methods, orders

Revision ID: 0002_order_store
Revises: 0001_core
Create Date: 2026-11-24 21:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002_order_store"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exact decimals: numeric on PostgreSQL, decimal text on SQLite (see order_tables.Money).
MONEY = sa.String(64).with_variant(sa.Numeric(), "postgresql")


def _store_id(table: str) -> list[Any]:
    return [
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=f"fk_{table}_store_id_stores", ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "shop_products",
        *_store_id("shop_products"),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "product_id", name="pk_shop_products"),
    )
    op.create_table(
        "shop_variants",
        *_store_id("shop_variants"),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "product_id", "item_id", name="pk_shop_variants"),
    )
    op.create_index("ix_shop_variants_store_item", "shop_variants", ["store_id", "item_id"])
    op.create_table(
        "shop_customers",
        *_store_id("shop_customers"),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("first_name_key", sa.String(length=200), nullable=False),
        sa.Column("last_name_key", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("zip", sa.String(length=32), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "user_id", name="pk_shop_customers"),
    )
    op.create_index("ix_shop_customers_store_email", "shop_customers", ["store_id", "email_key"])
    op.create_index(
        "ix_shop_customers_store_name_zip", "shop_customers", ["store_id", "last_name_key", "zip"]
    )
    op.create_table(
        "shop_payment_methods",
        *_store_id("shop_payment_methods"),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("method_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=True),
        sa.Column("last_four", sa.String(length=8), nullable=True),
        sa.Column("balance", MONEY, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "user_id", "method_id", name="pk_shop_payment_methods"),
    )
    op.create_table(
        "shop_orders",
        *_store_id("shop_orders"),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("fulfillments", sa.JSON(), nullable=False),
        sa.Column("payment_history", sa.JSON(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=64), nullable=True),
        sa.Column("exchange_items", sa.JSON(), nullable=True),
        sa.Column("exchange_new_items", sa.JSON(), nullable=True),
        sa.Column("exchange_payment_method_id", sa.String(length=128), nullable=True),
        sa.Column("exchange_price_difference", MONEY, nullable=True),
        sa.Column("return_items", sa.JSON(), nullable=True),
        sa.Column("return_payment_method_id", sa.String(length=128), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "order_id", name="pk_shop_orders"),
    )
    op.create_index("ix_shop_orders_store_user", "shop_orders", ["store_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_shop_orders_store_user", table_name="shop_orders")
    op.drop_table("shop_orders")
    op.drop_table("shop_payment_methods")
    op.drop_index("ix_shop_customers_store_name_zip", table_name="shop_customers")
    op.drop_index("ix_shop_customers_store_email", table_name="shop_customers")
    op.drop_table("shop_customers")
    op.drop_index("ix_shop_variants_store_item", table_name="shop_variants")
    op.drop_table("shop_variants")
    op.drop_table("shop_products")
