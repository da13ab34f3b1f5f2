"""Order records in the τ² shape: exact money, optional fields, bad documents."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.orders import (
    InvalidCatalog,
    Order,
    catalog_from_tau2,
    catalog_to_tau2,
    to_tau2,
)


def test_the_tau2_database_survives_parsing_and_writing(eval_dir: Path) -> None:
    text = (eval_dir / "tau2_retail" / "db.json").read_text()
    catalog = catalog_from_tau2(json.loads(text))
    assert json.dumps(catalog_to_tau2(catalog), indent=4) == text


def test_money_is_decimal_inside_and_the_same_float_outside() -> None:
    order = Order.model_validate(
        {
            "order_id": "#W1",
            "user_id": "u",
            "address": {
                "address1": "a",
                "address2": "",
                "city": "c",
                "country": "USA",
                "state": "s",
                "zip": "1",
            },
            "items": [],
            "status": "pending",
            "fulfillments": [],
            "payment_history": [
                {
                    "transaction_type": "refund",
                    "amount": 0.04999999999999716,
                    "payment_method_id": "x",
                }
            ],
        }
    )
    assert order.payment_history[0].amount == Decimal("0.04999999999999716")
    shown = to_tau2(order)
    assert shown["payment_history"][0]["amount"] == 0.04999999999999716
    assert shown["return_items"] is None and "delivered_at" not in shown
    assert "return_items" not in to_tau2(order, omit_unset=True)


def test_documents_of_another_shape_are_refused() -> None:
    with pytest.raises(InvalidCatalog, match="customers"):
        catalog_from_tau2({"customers": {}})
    with pytest.raises(InvalidCatalog):
        catalog_from_tau2({"orders": {"#W1": {"order_id": "#W1"}}})
