"""The τ²-bench retail write semantics on domain records: checks in the reference's order,
its exact error messages, and the changes each action makes. No I/O here.

`MoneyRules` decides the arithmetic: exact decimals by default; with `tau2_compat` the
reference's binary-float arithmetic and its quirks, so a τ² replay matches byte for byte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.orders import (
    Address,
    Customer,
    GiftCard,
    InsufficientBalance,
    InvalidRequest,
    ItemNotFound,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethodNotFound,
    Product,
    ProductNotFound,
    Transaction,
    UserNotFound,
    VariantNotFound,
    WrongStatus,
)

CANCEL_REASONS = ("no longer needed", "ordered by mistake")
CENT = Decimal("0.01")


def _from_float(value: float) -> Decimal:
    # The shortest text of a double converts back to the very same double.
    return Decimal(repr(float(value)))


@dataclass(frozen=True)
class MoneyRules:
    """Exact decimal money, or (`tau2_compat`) the τ² reference's float arithmetic."""

    tau2_compat: bool = False

    def difference(self, pairs: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
        """Sum of `new - old` over the pairs, left to right from 0 (unrounded)."""
        if self.tau2_compat:
            total: float = 0
            for new, old in pairs:
                total += float(new) - float(old)
            return _from_float(total)
        return sum((new - old for new, old in pairs), Decimal(0))

    def rounded(self, value: Decimal) -> Decimal:
        """Rounded to cents (Python's `round(x, 2)` on the double in compat mode)."""
        if self.tau2_compat:
            return _from_float(round(float(value), 2))
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

    def add(self, balance: Decimal, delta: Decimal) -> Decimal:
        """A gift-card balance after adding `delta`, rounded to cents."""
        if self.tau2_compat:
            return _from_float(round(float(balance) + float(delta), 2))
        return (balance + delta).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Change:
    """What a write does: the new order and/or account, and the money it moves."""

    order: Order | None = None
    customer: Customer | None = None
    refund: Decimal = Decimal(0)
    """Money that goes back to the shopper now or once the request completes."""
    charge: Decimal = Decimal(0)
    """Money the shopper pays now or once the request completes."""


def _owner(owner: Customer | None) -> Customer:
    if owner is None:
        raise UserNotFound()
    return owner


def _method(owner: Customer | None, method_id: str) -> object:
    method = _owner(owner).payment_methods.get(method_id)
    if method is None:
        raise PaymentMethodNotFound()
    return method


def _status(order: Order, action: str) -> dict[str, str]:
    """What a shopper is told when the order's status forbids `action`."""
    return {"action": action, "order_id": order.order_id, "status": order.status}


def _first_item(order: Order, item_id: str) -> OrderItem:
    return next(item for item in order.items if item.item_id == item_id)


def _counts_fit(order: Order, item_ids: Sequence[str]) -> str | None:
    """The first id asked for more often than the order holds it, if any."""
    held = Counter(item.item_id for item in order.items)
    wanted = Counter(item_ids)
    for item_id in item_ids:
        if wanted[item_id] > held[item_id]:
            return item_id
    return None


def _items_value(order: Order, item_ids: Sequence[str]) -> Decimal:
    """What was paid for these items (duplicates take the next matching item)."""
    remaining = list(order.items)
    total = Decimal(0)
    for item_id in item_ids:
        item = next(i for i in remaining if i.item_id == item_id)
        remaining.remove(item)
        total += item.price
    return total


def _new_variants(
    order: Order,
    products: Mapping[str, Product],
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    *,
    reject_same: bool,
) -> list[tuple[OrderItem, str, Product]]:
    pairs = []
    for old_id, new_id in zip(item_ids, new_item_ids, strict=True):
        if reject_same and old_id == new_id:
            raise InvalidRequest("The new item id should be different from the old item id")
        old = _first_item(order, old_id)
        product = products.get(old.product_id)
        if product is None:
            raise ProductNotFound()
        variant = product.variants.get(new_id)
        if variant is None:
            raise VariantNotFound("Variant not found")
        if not variant.available:
            raise VariantNotFound(f"New item {new_id} not found or available")
        pairs.append((old, new_id, product))
    return pairs


def cancel_pending_order(
    order: Order, owner: Customer | None, reason: str, rules: MoneyRules
) -> Change:
    """Cancel a pending order and refund what was paid."""
    if order.status != OrderStatus.PENDING:
        raise WrongStatus("Non-pending order cannot be cancelled", details=_status(order, "cancel"))
    if reason not in CANCEL_REASONS:
        raise InvalidRequest("Invalid reason")
    customer = _owner(owner).model_copy(deep=True)
    if rules.tau2_compat:
        # Quirk kept for the replay: every history entry is refunded, refunds included.
        owed = [(entry.payment_method_id, entry.amount) for entry in order.payment_history]
    else:
        net: dict[str, Decimal] = {}
        for entry in order.payment_history:
            sign = 1 if entry.transaction_type == "payment" else -1
            net[entry.payment_method_id] = net.get(entry.payment_method_id, Decimal(0)) + (
                sign * entry.amount
            )
        owed = [(method_id, amount) for method_id, amount in net.items() if amount > 0]
    refunds = []
    for method_id, amount in owed:
        method = customer.payment_methods.get(method_id)
        if method is None:
            raise PaymentMethodNotFound()
        if isinstance(method, GiftCard):
            method.balance = rules.add(method.balance, amount)
        refunds.append(
            Transaction(transaction_type="refund", amount=amount, payment_method_id=method_id)
        )
    changed = order.model_copy(deep=True)
    changed.status = OrderStatus.CANCELLED
    changed.cancel_reason = reason
    changed.payment_history.extend(refunds)
    touched_gift_card = any(isinstance(customer.payment_methods[m], GiftCard) for m, _ in owed)
    return Change(
        order=changed,
        customer=customer if touched_gift_card else None,
        refund=sum((amount for _, amount in owed), Decimal(0)),
    )


def exchange_delivered_order_items(
    order: Order,
    owner: Customer | None,
    products: Mapping[str, Product],
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
    rules: MoneyRules,
) -> Change:
    """Request an exchange of delivered items for other variants of the same products."""
    if order.status != OrderStatus.DELIVERED:
        raise WrongStatus(
            "Non-delivered order cannot be exchanged", details=_status(order, "exchange")
        )
    missing = _counts_fit(order, item_ids)
    if missing is not None:
        raise ItemNotFound(f"Number of {missing} not found.")
    if len(item_ids) != len(new_item_ids):
        raise InvalidRequest("The number of items to be exchanged should match.")
    pairs = _new_variants(order, products, item_ids, new_item_ids, reject_same=False)
    difference = rules.rounded(
        rules.difference([(p.variants[new].price, old.price) for old, new, p in pairs])
    )
    method = _method(owner, payment_method_id)
    if isinstance(method, GiftCard) and method.balance < difference:
        raise InsufficientBalance("Insufficient gift card balance to pay for the price difference")
    changed = order.model_copy(deep=True)
    changed.status = OrderStatus.EXCHANGE_REQUESTED
    changed.exchange_items = sorted(item_ids)
    changed.exchange_new_items = sorted(new_item_ids)
    changed.exchange_payment_method_id = payment_method_id
    changed.exchange_price_difference = difference
    return Change(
        order=changed,
        refund=max(-difference, Decimal(0)),
        charge=max(difference, Decimal(0)),
    )


def modify_pending_order_address(order: Order, address: Address) -> Change:
    """Change where a pending order ships to."""
    if "pending" not in order.status:
        raise WrongStatus("Non-pending order cannot be modified", details=_status(order, "modify"))
    changed = order.model_copy(deep=True)
    changed.address = address
    return Change(order=changed)


def modify_pending_order_items(
    order: Order,
    owner: Customer | None,
    products: Mapping[str, Product],
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
    rules: MoneyRules,
) -> Change:
    """Swap items of a pending order for other variants; pay or refund the difference."""
    if order.status != OrderStatus.PENDING:
        raise WrongStatus("Non-pending order cannot be modified", details=_status(order, "modify"))
    missing = _counts_fit(order, item_ids)
    if missing is not None:
        raise ItemNotFound(f"{missing} not found")
    if len(item_ids) != len(new_item_ids):
        raise InvalidRequest("The number of items to be exchanged should match")
    pairs = _new_variants(order, products, item_ids, new_item_ids, reject_same=True)
    difference = rules.difference([(p.variants[new].price, old.price) for old, new, p in pairs])
    method = _method(owner, payment_method_id)
    if isinstance(method, GiftCard) and method.balance < difference:
        raise InsufficientBalance("Insufficient gift card balance to pay for the new item")

    changed = order.model_copy(deep=True)
    changed.payment_history.append(
        Transaction(
            transaction_type="payment" if difference > 0 else "refund",
            amount=abs(difference),
            payment_method_id=payment_method_id,
        )
    )
    customer = None
    if isinstance(method, GiftCard):
        customer = _owner(owner).model_copy(deep=True)
        card = customer.payment_methods[payment_method_id]
        assert isinstance(card, GiftCard)
        card.balance = rules.add(card.balance, -difference)
    last_variant = pairs[-1][2].variants[pairs[-1][1]] if pairs else None
    for old, new_id, product in pairs:
        item = _first_item(changed, old.item_id)
        # Quirk kept for the replay: the reference prices every item as the last new one.
        variant = last_variant if rules.tau2_compat and last_variant else product.variants[new_id]
        item.item_id = new_id
        item.price = variant.price
        item.options = dict(variant.options)
    changed.status = OrderStatus.PENDING_ITEM_MODIFIED
    return Change(
        order=changed,
        customer=customer,
        refund=max(-difference, Decimal(0)),
        charge=max(difference, Decimal(0)),
    )


def modify_pending_order_payment(
    order: Order, owner: Customer | None, payment_method_id: str, rules: MoneyRules
) -> Change:
    """Pay a pending order with another method: charge the new one, refund the old one."""
    if "pending" not in order.status:
        raise WrongStatus("Non-pending order cannot be modified", details=_status(order, "modify"))
    method = _method(owner, payment_method_id)
    history = order.payment_history
    if len(history) != 1 or history[0].transaction_type != "payment":
        raise InvalidRequest("There should be exactly one payment for a pending order")
    paid = history[0]
    if paid.payment_method_id == payment_method_id:
        raise InvalidRequest("The new payment method should be different from the current one")
    if isinstance(method, GiftCard) and method.balance < paid.amount:
        raise InsufficientBalance("Insufficient gift card balance to pay for the order")
    changed = order.model_copy(deep=True)
    changed.payment_history.extend(
        [
            Transaction(
                transaction_type="payment", amount=paid.amount, payment_method_id=payment_method_id
            ),
            Transaction(
                transaction_type="refund",
                amount=paid.amount,
                payment_method_id=paid.payment_method_id,
            ),
        ]
    )
    customer = _owner(owner).model_copy(deep=True)
    touched = False
    new = customer.payment_methods[payment_method_id]
    if isinstance(new, GiftCard):
        new.balance = rules.add(new.balance, -paid.amount)
        touched = True
    old = customer.payment_methods.get(paid.payment_method_id)
    if old is None:
        raise PaymentMethodNotFound()
    if isinstance(old, GiftCard):
        old.balance = rules.add(old.balance, paid.amount)
        touched = True
    return Change(order=changed, customer=customer if touched else None, refund=paid.amount)


def modify_user_address(customer: Customer, address: Address) -> Change:
    """Change a customer's default address (their orders keep their own)."""
    changed = customer.model_copy(deep=True)
    changed.address = address
    return Change(customer=changed)


def return_delivered_order_items(
    order: Order, owner: Customer | None, item_ids: Sequence[str], payment_method_id: str
) -> Change:
    """Request a return of delivered items, refunded to the original method or a gift card."""
    if order.status != OrderStatus.DELIVERED:
        raise WrongStatus(
            "Non-delivered order cannot be returned", details=_status(order, "return")
        )
    method = _method(owner, payment_method_id)
    original = order.payment_history[0].payment_method_id if order.payment_history else None
    if not isinstance(method, GiftCard) and payment_method_id != original:
        raise InvalidRequest("Payment method should be the original payment method")
    if _counts_fit(order, item_ids) is not None:
        raise ItemNotFound("Some item not found")
    changed = order.model_copy(deep=True)
    changed.status = OrderStatus.RETURN_REQUESTED
    changed.return_items = sorted(item_ids)
    changed.return_payment_method_id = payment_method_id
    return Change(order=changed, refund=_items_value(order, item_ids))
