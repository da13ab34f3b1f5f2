"""Products, customers and orders as the order tools see them, in the τ²-bench retail shape.

Money is `Decimal` everywhere; `to_tau2` turns a record back into the JSON the τ² schema uses
(floats), so an import followed by an export gives the same document.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from bot.domain.errors import Conflict, Forbidden, NotFound, ParleyError, PolicyViolation

Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An exact amount; in JSON (the τ² shape) it is written as a float, as the reference stores it."""


class OrderStatus(StrEnum):
    """The statuses an order moves through (τ² spelling)."""

    PENDING = "pending"
    PENDING_ITEM_MODIFIED = "pending (item modified)"
    PROCESSED = "processed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXCHANGE_REQUESTED = "exchange requested"
    RETURN_REQUESTED = "return requested"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Address(_Record):
    """A postal address; `address2` may be empty."""

    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str

    def one_line(self) -> str:
        """The address as a shopper would read it."""
        parts = [self.address1, self.address2, self.city, self.state, self.zip, self.country]
        return ", ".join(part for part in parts if part)


class Variant(_Record):
    """One sellable variant of a product (a size, a colour) with its current price."""

    item_id: str
    options: dict[str, str]
    available: bool
    price: Money


class Product(_Record):
    """A product type with all its variants, available or not."""

    name: str
    product_id: str
    variants: dict[str, Variant]


class CreditCard(_Record):
    """A card on file; only brand and last four digits are known."""

    source: Literal["credit_card"]
    id: str
    brand: str
    last_four: str


class GiftCard(_Record):
    """A store gift card with a balance that payments draw on and refunds credit."""

    source: Literal["gift_card"]
    id: str
    balance: Money


class PayPal(_Record):
    """A PayPal account on file."""

    source: Literal["paypal"]
    id: str


PaymentMethod = Annotated[CreditCard | GiftCard | PayPal, Field(discriminator="source")]


class PersonName(_Record):
    """A customer's name as stored."""

    first_name: str
    last_name: str


class Customer(_Record):
    """A shopper's account: profile, default address, payment methods, order ids."""

    user_id: str
    name: PersonName
    address: Address
    email: str
    payment_methods: dict[str, PaymentMethod]
    orders: list[str]


class OrderItem(_Record):
    """An item of an order; `price` is what was paid for it."""

    name: str
    product_id: str
    item_id: str
    price: Money
    options: dict[str, str]


class Fulfillment(_Record):
    """A shipment: its tracking numbers and the items in it."""

    tracking_id: list[str]
    item_ids: list[str]


class Transaction(_Record):
    """One entry of an order's payment history."""

    transaction_type: Literal["payment", "refund"]
    amount: Money
    payment_method_id: str


class Order(_Record):
    """An order with its items, shipments, payments and the outcome of any request on it."""

    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    status: str
    fulfillments: list[Fulfillment]
    payment_history: list[Transaction]
    cancel_reason: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: Money | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None
    delivered_at: datetime | None = None
    """Parley's own field (not in τ²): when the order arrived, for the return window."""

    def paid_with(self) -> str:
        """The payment method of the order's first payment: refunds and price differences of a
        return or an exchange go back to it."""
        return self.payment_history[0].payment_method_id

    def tracking_ids(self) -> list[str]:
        """Every tracking number of the order's shipments, in shipment order."""
        return [tracking for shipment in self.fulfillments for tracking in shipment.tracking_id]

    def product_ids(self) -> list[str]:
        """The products the order's items are variants of, each once, in item order."""
        return list(dict.fromkeys(item.product_id for item in self.items))

    def paid(self) -> Decimal:
        """Everything charged for this order."""
        return sum(
            (t.amount for t in self.payment_history if t.transaction_type == "payment"),
            Decimal(0),
        )

    def refunded(self) -> Decimal:
        """Everything paid back for this order."""
        return sum(
            (t.amount for t in self.payment_history if t.transaction_type == "refund"),
            Decimal(0),
        )


class Catalog(BaseModel):
    """A whole order store: products, customers and orders keyed by id, in file order."""

    products: dict[str, Product]
    users: dict[str, Customer]
    orders: dict[str, Order]


ORDER_OPTIONAL_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)


def to_tau2(record: BaseModel, *, omit_unset: bool = False) -> dict[str, Any]:
    """A record in the τ² JSON shape: money as floats, Parley's own unset fields left out.

    Tools show an order with all seven optional τ² fields (null when unset), as the reference
    does; a file export leaves unset ones out (`omit_unset`), as `db.json` does.
    """
    if isinstance(record, Order):
        if omit_unset:
            return record.model_dump(mode="json", exclude_none=True)
        if record.delivered_at is None:
            return record.model_dump(mode="json", exclude={"delivered_at"})
    return record.model_dump(mode="json")


def catalog_from_tau2(document: dict[str, Any]) -> Catalog:
    """Parse a τ² retail database (`{"products", "users", "orders"}`); raise `InvalidCatalog`."""
    unknown = set(document) - {"products", "users", "orders"}
    if unknown:
        raise InvalidCatalog(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    try:
        return Catalog.model_validate(
            {key: document.get(key, {}) for key in ("products", "users", "orders")}
        )
    except ValueError as error:
        raise InvalidCatalog(f"not a τ² retail database: {str(error).splitlines()[0]}") from error


def catalog_to_tau2(catalog: Catalog) -> dict[str, Any]:
    """The τ² JSON document of a whole store."""
    return {
        "products": {key: to_tau2(value) for key, value in catalog.products.items()},
        "users": {key: to_tau2(value) for key, value in catalog.users.items()},
        "orders": {key: to_tau2(value, omit_unset=True) for key, value in catalog.orders.items()},
    }


# Errors. Messages of the τ² checks are exactly the reference's, because an agent relays them
# and the τ² replay compares them.


class InvalidCatalog(ParleyError):
    """An import file is not a database of the expected format."""

    code = "invalid_catalog"
    status = 422


class OrderNotFound(NotFound):
    """No order with this id in the store."""

    code = "order_not_found"

    def __init__(self, message: str = "Order not found") -> None:
        super().__init__(message)


class UserNotFound(NotFound):
    """No customer matches."""

    code = "user_not_found"

    def __init__(self, message: str = "User not found") -> None:
        super().__init__(message)


class ProductNotFound(NotFound):
    """No product with this id."""

    code = "product_not_found"

    def __init__(self, message: str = "Product not found") -> None:
        super().__init__(message)


class ItemNotFound(NotFound):
    """No product has a variant with this item id, or the item is not in the order."""

    code = "item_not_found"


class VariantNotFound(NotFound):
    """The new item is not a variant of the same product, or is not available."""

    code = "variant_not_found"


class PaymentMethodNotFound(NotFound):
    """The payment method is not on file for the order's customer."""

    code = "payment_method_not_found"

    def __init__(self, message: str = "Payment method not found") -> None:
        super().__init__(message)


class WrongStatus(Conflict):
    """The order's status does not allow this action."""

    code = "wrong_status"


class InvalidRequest(ParleyError):
    """The arguments do not fit together (counts, reasons, same item twice)."""

    code = "invalid_request"
    status = 422


class InsufficientBalance(PolicyViolation):
    """A gift card does not hold enough to pay."""

    code = "insufficient_balance"


class NotYourOrder(Forbidden):
    """The order or account belongs to another customer than the verified one."""

    code = "not_your_order"

    def __init__(
        self, message: str = "I can only help with orders and details of the verified customer."
    ) -> None:
        super().__init__(message)


class ConcurrentChange(Conflict):
    """Another action changed the same order or account first; nothing was applied."""

    code = "concurrent_change"

    def __init__(
        self,
        message: str = "This order was changed by another action at the same time; "
        "nothing was applied, please check it again.",
    ) -> None:
        super().__init__(message)


class CaseState(StrEnum):
    """Where a dispute or chargeback case stands."""

    OPEN = "open"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_MERCHANT = "awaiting_merchant"
    RESOLVED = "resolved"
    LOST = "lost"
    WON = "won"


_CASE_MOVES: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset(
        {CaseState.AWAITING_CUSTOMER, CaseState.AWAITING_MERCHANT, CaseState.RESOLVED}
    ),
    CaseState.AWAITING_CUSTOMER: frozenset(
        {CaseState.AWAITING_MERCHANT, CaseState.RESOLVED, CaseState.LOST, CaseState.WON}
    ),
    CaseState.AWAITING_MERCHANT: frozenset(
        {CaseState.AWAITING_CUSTOMER, CaseState.RESOLVED, CaseState.LOST, CaseState.WON}
    ),
    CaseState.RESOLVED: frozenset(),
    CaseState.LOST: frozenset(),
    CaseState.WON: frozenset(),
}


def move_case(current: CaseState, target: CaseState) -> CaseState:
    """`target` if a case may move there from `current`; resolved, lost and won are final."""
    if target not in _CASE_MOVES[current]:
        raise Conflict(f"a case that is {current.value} cannot become {target.value}")
    return target


class Case(BaseModel):
    """A dispute or chargeback opened for an order, with its evidence pack."""

    id: str
    store_id: str
    kind: str
    state: CaseState
    order_id: str | None
    customer_id: str | None
    conversation_id: str | None
    reason: str | None
    amount: Decimal | None
    evidence: dict[str, Any]
    created_at: datetime
