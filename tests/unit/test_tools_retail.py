"""The τ² retail write semantics on plain records: check order, exact messages, effects, and
where Parley's exact money differs from the reference's quirks."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.orders import (
    Customer,
    InsufficientBalance,
    InvalidRequest,
    ItemNotFound,
    Order,
    PaymentMethodNotFound,
    Product,
    UserNotFound,
    VariantNotFound,
    WrongStatus,
)
from bot.tools import retail
from bot.tools.retail import MoneyRules

EXACT, TAU2 = MoneyRules(), MoneyRules(tau2_compat=True)


def whole(message: str) -> str:
    """A pattern that matches exactly this message."""
    return f"^{re.escape(message)}$"


def product() -> Product:
    return Product.model_validate(
        {
            "name": "Kettle",
            "product_id": "P1",
            "variants": {
                "A": {"item_id": "A", "options": {"c": "red"}, "available": True, "price": 10.10},
                "B": {"item_id": "B", "options": {"c": "blue"}, "available": True, "price": 10.15},
                "C": {"item_id": "C", "options": {"c": "gold"}, "available": True, "price": 30.0},
                "D": {"item_id": "D", "options": {"c": "gray"}, "available": False, "price": 9.0},
            },
        }
    )


def customer(balance: float = 100.0) -> Customer:
    return Customer.model_validate(
        {
            "user_id": "u1",
            "name": {"first_name": "Ada", "last_name": "Lovelace"},
            "address": {
                "address1": "1 Main St",
                "address2": "",
                "city": "X",
                "country": "USA",
                "state": "NY",
                "zip": "10001",
            },
            "email": "ada@example.com",
            "payment_methods": {
                "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": balance},
                "credit_card_1": {
                    "source": "credit_card",
                    "id": "credit_card_1",
                    "brand": "visa",
                    "last_four": "4242",
                },
            },
            "orders": ["#W1"],
        }
    )


PAID_BY_GIFT_CARD = {
    "transaction_type": "payment",
    "amount": 30.35,
    "payment_method_id": "gift_card_1",
}


def order(status: str = "pending", history: list[dict[str, Any]] | None = None) -> Order:
    item = {"name": "Kettle", "product_id": "P1", "options": {"c": "red"}}
    return Order.model_validate(
        {
            "order_id": "#W1",
            "user_id": "u1",
            "address": customer().address.model_dump(),
            "items": [
                {**item, "item_id": "A", "price": 10.10},
                {**item, "item_id": "A", "price": 10.10},
                {**item, "item_id": "B", "price": 10.15, "options": {"c": "blue"}},
            ],
            "status": status,
            "fulfillments": [],
            "payment_history": history
            or [
                {"transaction_type": "payment", "amount": 30.35, "payment_method_id": "gift_card_1"}
            ],
        }
    )


PRODUCTS = {"P1": product()}


def test_modify_items_checks_in_the_reference_order() -> None:
    with pytest.raises(WrongStatus, match=whole("Non-pending order cannot be modified")):
        retail.modify_pending_order_items(
            order("delivered"), customer(), PRODUCTS, ["X"], ["B"], "gift_card_1", EXACT
        )
    with pytest.raises(ItemNotFound, match=whole("X not found")):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["X"], ["B", "C"], "gift_card_1", EXACT
        )
    with pytest.raises(ItemNotFound, match=whole("B not found")):  # B is in the order only once
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["B", "B"], ["C", "C"], "gift_card_1", EXACT
        )
    with pytest.raises(
        InvalidRequest, match=whole("The number of items to be exchanged should match")
    ):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["A"], ["B", "C"], "gift_card_1", EXACT
        )
    with pytest.raises(InvalidRequest, match="should be different from the old item id"):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["A"], ["A"], "gift_card_1", EXACT
        )
    with pytest.raises(VariantNotFound, match=whole("Variant not found")):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["A"], ["Z"], "gift_card_1", EXACT
        )
    with pytest.raises(VariantNotFound, match=whole("New item D not found or available")):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["A"], ["D"], "gift_card_1", EXACT
        )
    with pytest.raises(PaymentMethodNotFound, match=whole("Payment method not found")):
        retail.modify_pending_order_items(
            order(), customer(), PRODUCTS, ["A"], ["C"], "paypal_9", EXACT
        )
    with pytest.raises(UserNotFound):
        retail.modify_pending_order_items(order(), None, PRODUCTS, ["A"], ["C"], "paypal_9", EXACT)
    with pytest.raises(
        InsufficientBalance, match=whole("Insufficient gift card balance to pay for the new item")
    ):
        retail.modify_pending_order_items(
            order(), customer(balance=5), PRODUCTS, ["A"], ["C"], "gift_card_1", EXACT
        )


def test_modify_items_prices_each_item_exactly_by_default_and_like_the_reference_in_compat() -> (
    None
):
    exact = retail.modify_pending_order_items(
        order(), customer(), PRODUCTS, ["A", "B"], ["C", "A"], "gift_card_1", EXACT
    )
    assert exact.order is not None and exact.customer is not None
    assert [(i.item_id, i.price, i.options) for i in exact.order.items] == [
        ("C", Decimal("30.0"), {"c": "gold"}),
        ("A", Decimal("10.10"), {"c": "red"}),
        ("A", Decimal("10.10"), {"c": "red"}),
    ]
    payment = exact.order.payment_history[-1]
    assert (payment.transaction_type, payment.amount) == ("payment", Decimal("19.85"))
    assert exact.customer.payment_methods["gift_card_1"].balance == Decimal("80.15")  # type: ignore[union-attr]
    assert exact.order.status == "pending (item modified)"

    compat = retail.modify_pending_order_items(
        order(), customer(), PRODUCTS, ["A", "B"], ["C", "A"], "gift_card_1", TAU2
    )
    assert compat.order is not None
    # Quirk: every modified item takes the last new variant's price and options.
    assert [(i.item_id, i.price, i.options) for i in compat.order.items] == [
        ("C", Decimal("10.1"), {"c": "red"}),
        ("A", Decimal("10.10"), {"c": "red"}),
        ("A", Decimal("10.1"), {"c": "red"}),
    ]
    # The payment is the unrounded float sum, left to right from 0.
    unrounded = Decimal(repr((30.0 - 10.10) + (10.10 - 10.15)))
    assert compat.order.payment_history[-1].amount == unrounded != Decimal("19.85")


def test_modify_items_pairs_see_the_changes_of_the_pairs_before_them() -> None:
    change = retail.modify_pending_order_items(
        order(), customer(), PRODUCTS, ["A", "B"], ["B", "C"], "gift_card_1", EXACT
    )
    assert change.order is not None
    # A→B turns the first A into B; B→C then finds that item first: the original B stays.
    assert [i.item_id for i in change.order.items] == ["C", "A", "B"]


def test_cancel_refunds_what_was_paid_once_by_default_and_every_entry_in_compat() -> None:
    history = [
        {"transaction_type": "payment", "amount": 30.35, "payment_method_id": "gift_card_1"},
        {"transaction_type": "payment", "amount": 30.35, "payment_method_id": "credit_card_1"},
        {"transaction_type": "refund", "amount": 30.35, "payment_method_id": "gift_card_1"},
    ]
    with pytest.raises(WrongStatus, match=whole("Non-pending order cannot be cancelled")):
        retail.cancel_pending_order(order("processed"), customer(), "no longer needed", EXACT)
    with pytest.raises(InvalidRequest, match=whole("Invalid reason")):
        retail.cancel_pending_order(order(), customer(), "No longer needed", EXACT)

    exact = retail.cancel_pending_order(
        order(history=history), customer(), "ordered by mistake", EXACT
    )
    assert exact.order is not None
    refunds = [(t.payment_method_id, t.amount) for t in exact.order.payment_history[3:]]
    assert refunds == [("credit_card_1", Decimal("30.35"))]
    assert exact.order.refunded() <= exact.order.paid()
    assert exact.customer is None  # the gift card was already refunded

    compat = retail.cancel_pending_order(
        order(history=history), customer(), "ordered by mistake", TAU2
    )
    assert compat.order is not None and compat.customer is not None
    assert len(compat.order.payment_history) == 6  # quirk: refunds are refunded again
    assert compat.customer.payment_methods["gift_card_1"].balance == Decimal("160.7")
    assert compat.order.cancel_reason == "ordered by mistake"


def test_exchange_and_return_checks_and_effects() -> None:
    delivered = order("delivered")
    with pytest.raises(WrongStatus, match=whole("Non-delivered order cannot be exchanged")):
        retail.exchange_delivered_order_items(
            order(), customer(), PRODUCTS, ["A"], ["B"], "gift_card_1", EXACT
        )
    with pytest.raises(ItemNotFound, match=whole("Number of B not found.")):
        retail.exchange_delivered_order_items(
            delivered, customer(), PRODUCTS, ["B", "B"], ["A", "A"], "gift_card_1", EXACT
        )
    with pytest.raises(
        InsufficientBalance,
        match=whole("Insufficient gift card balance to pay for the price difference"),
    ):
        retail.exchange_delivered_order_items(
            delivered, customer(balance=1), PRODUCTS, ["A"], ["C"], "gift_card_1", EXACT
        )
    change = retail.exchange_delivered_order_items(
        delivered, customer(), PRODUCTS, ["B", "A"], ["A", "C"], "credit_card_1", TAU2
    )
    assert change.order is not None
    assert change.order.exchange_items == ["A", "B"]
    assert change.order.exchange_new_items == ["A", "C"]
    assert change.order.exchange_price_difference == Decimal("19.85")
    assert change.order.payment_history == delivered.payment_history  # nothing charged yet

    with pytest.raises(WrongStatus, match=whole("Non-delivered order cannot be returned")):
        retail.return_delivered_order_items(order(), customer(), ["A"], "gift_card_1")
    paid_by_card = order(
        "delivered",
        [{"transaction_type": "payment", "amount": 30.35, "payment_method_id": "credit_card_1"}],
    )
    with pytest.raises(ItemNotFound, match=whole("Some item not found")):
        retail.return_delivered_order_items(paid_by_card, customer(), ["Z"], "credit_card_1")
    returned = retail.return_delivered_order_items(
        paid_by_card, customer(), ["B", "A", "A"], "gift_card_1"
    )
    assert returned.order is not None and returned.order.return_items == ["A", "A", "B"]
    assert returned.refund == Decimal("30.35")
    assert returned.order.status == "return requested"


def test_modify_payment_moves_the_money_between_methods() -> None:
    paid_by_card = order(
        history=[
            {"transaction_type": "payment", "amount": 30.35, "payment_method_id": "credit_card_1"}
        ]
    )
    with pytest.raises(InvalidRequest, match="should be different from the current one"):
        retail.modify_pending_order_payment(paid_by_card, customer(), "credit_card_1", EXACT)
    with pytest.raises(
        InsufficientBalance, match=whole("Insufficient gift card balance to pay for the order")
    ):
        retail.modify_pending_order_payment(paid_by_card, customer(10), "gift_card_1", EXACT)
    change = retail.modify_pending_order_payment(paid_by_card, customer(), "gift_card_1", EXACT)
    assert change.order is not None and change.customer is not None
    assert [(t.transaction_type, t.payment_method_id) for t in change.order.payment_history] == [
        ("payment", "credit_card_1"),
        ("payment", "gift_card_1"),
        ("refund", "credit_card_1"),
    ]
    assert change.customer.payment_methods["gift_card_1"].balance == Decimal("69.65")
    with pytest.raises(InvalidRequest, match="There should be exactly one payment"):
        retail.modify_pending_order_payment(change.order, change.customer, "credit_card_1", EXACT)


def test_money_rules_round_like_python_in_compat_and_exactly_otherwise() -> None:
    assert TAU2.rounded(Decimal("2.675")) == Decimal("2.67")  # the double is 2.67499…
    assert EXACT.rounded(Decimal("2.675")) == Decimal("2.68")
    assert TAU2.difference([(Decimal("0.3"), Decimal("0.1"))]) == Decimal("0.19999999999999998")
    assert EXACT.difference([(Decimal("0.3"), Decimal("0.1"))]) == Decimal("0.2")
