"""Write tools: each one is planned (every check, nothing saved), proposed to the shopper as a
pending action with a summary, and performed only after that shopper confirms it.

Planning runs twice, when proposing and again inside the performing transaction, so a change
made in between (a race, a second tab) is caught by the same typed checks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from bot.domain.orders import (
    Customer,
    GiftCard,
    Order,
    Product,
    ProductNotFound,
    UserNotFound,
    to_tau2,
)
from bot.tools import retail
from bot.tools.context import ToolContext
from bot.tools.retail import Change
from bot.tools.schemas import (
    CancelArgs,
    ExchangeArgs,
    ModifyItemsArgs,
    OrderAddressArgs,
    OrderPaymentArgs,
    ReturnArgs,
    ToolArgs,
    UserAddressArgs,
)
from bot.tools.store import OrderSession

A = TypeVar("A", bound=ToolArgs)


@dataclass
class Plan:
    """A checked write: what it changes, the records as they were, and its summary.

    `summary` is English, for the audit log, the console and a chat model; `details` holds the
    same facts as data (`kind`, order id, items, money and payment methods, reason) so a fixed
    reply can say them in the shopper's language."""

    change: Change
    summary: str
    order_before: Order | None = None
    customer_before: Customer | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteTool(Generic[A]):
    """A write tool: its argument schema and its planner."""

    name: str
    args: type[A]
    plan: Callable[[ToolContext, OrderSession, A, bool], Awaitable[Plan]]
    description: str


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _method_label(ctx: ToolContext, customer: Customer | None, method_id: str) -> str:
    method = customer.payment_methods.get(method_id) if customer else None
    if isinstance(method, GiftCard):
        return f"gift card {method_id}"
    if method is not None and method.source == "credit_card":
        if not ctx.may_write:
            return "the card on file"  # its number only once the shopper may change things
        return f"{method.brand} card ending {method.last_four}"
    if method is not None:
        return f"PayPal ({method_id})"
    return method_id


async def _owned_order(
    ctx: ToolContext, session: OrderSession, order_id: str, lock: bool
) -> tuple[Order, Customer | None]:
    ctx.verified()
    order = await session.order(order_id, for_update=lock)
    ctx.require_owner(order.user_id)
    try:
        owner: Customer | None = await session.customer(order.user_id, for_update=lock)
    except UserNotFound:
        owner = None
    return order, owner


async def _products(session: OrderSession, order: Order) -> dict[str, Product]:
    products: dict[str, Product] = {}
    for item in order.items:
        if item.product_id not in products:
            try:
                products[item.product_id] = await session.product(item.product_id)
            except ProductNotFound:
                continue
    return products


def _method_details(ctx: ToolContext, customer: Customer | None, method_id: str) -> dict[str, str]:
    """A payment method as data: `type` (`credit_card`, `gift_card`, `paypal`) and its id.

    A card's brand and last four digits only for a shopper verified strongly enough to write:
    someone who merely knows the account's email sees "the payment method on file"."""
    method = customer.payment_methods.get(method_id) if customer else None
    if isinstance(method, GiftCard):
        return {"type": "gift_card", "id": method_id}
    if method is not None and method.source == "credit_card" and not ctx.may_write:
        return {"type": "other", "id": method_id}
    if method is not None and method.source == "credit_card":
        return {
            "type": "credit_card",
            "id": method_id,
            "brand": method.brand,
            "last_four": method.last_four,
        }
    if method is not None:
        return {"type": "paypal", "id": method_id}
    return {"type": "other", "id": method_id}


def _named(name: str, options: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "options": list(options.values())}


def _label(named: dict[str, Any]) -> str:
    """An item as the catalogue names it: product name and option values."""
    options = ", ".join(named["options"])
    return f"{named['name']} ({options})" if options else str(named["name"])


def _item_details(order: Order, item_ids: list[str]) -> list[dict[str, Any]]:
    """The order's items as data: id, product name and option values (as the catalogue has
    them), so a reply names them as the shop does, never by id alone."""
    items = {item.item_id: item for item in order.items}
    return [
        {
            "item_id": i,
            **(_named(items[i].name, items[i].options) if i in items else _named("", {})),
        }
        for i in item_ids
    ]


def _variant_details(products: dict[str, Product], item_ids: list[str]) -> list[dict[str, Any]]:
    """Variants of the catalogue as data, like `_item_details`."""
    found: list[dict[str, Any]] = []
    for item_id in item_ids:
        product = next((p for p in products.values() if item_id in p.variants), None)
        named = (
            _named(product.name, product.variants[item_id].options)
            if product is not None
            else _named("", {})
        )
        found.append({"item_id": item_id, **named})
    return found


def _swap_details(
    ctx: ToolContext,
    kind: str,
    order: Order,
    owner: Customer | None,
    products: dict[str, Product],
    args: ExchangeArgs,
    change: Change,
) -> dict[str, Any]:
    """An exchange or item change as data: which items become which, and who pays what."""
    return {
        "kind": kind,
        "order_id": order.order_id,
        "items": _item_details(order, args.item_ids),
        "new_item_ids": list(args.new_item_ids),
        "new_items": _variant_details(products, args.new_item_ids),
        "charge": _money(change.charge),
        "refund": _money(change.refund),
        "method": _method_details(ctx, owner, args.payment_method_id),
    }


def _item_names(order: Order, item_ids: list[str]) -> str:
    labels = [
        f"{_label(item) or 'item'} ({item['item_id']})" for item in _item_details(order, item_ids)
    ]
    return ", ".join(labels) or "no items"


def _variant_names(products: dict[str, Product], item_ids: list[str]) -> str:
    labels = [
        f"{_label(item) or 'item'} ({item['item_id']})"
        for item in _variant_details(products, item_ids)
    ]
    return ", ".join(labels) or "no items"


async def plan_cancel(ctx: ToolContext, s: OrderSession, args: CancelArgs, lock: bool) -> Plan:
    """Cancel a pending order; refund what was paid."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    change = retail.cancel_pending_order(order, owner, args.reason, ctx.rules)
    ctx.policy.check_refund(change.refund)
    paid_back = (change.order.payment_history if change.order else [])[len(order.payment_history) :]
    refunds = ", ".join(
        f"{_money(t.amount)} to {_method_label(ctx, owner, t.payment_method_id)}" for t in paid_back
    )
    summary = (
        f"Cancel order {order.order_id} ({args.reason}). Refund: {refunds or 'nothing was paid'}."
    )
    details = {
        "kind": "cancel",
        "order_id": order.order_id,
        "reason": args.reason,
        "refunds": [
            {"amount": _money(t.amount), "method": _method_details(ctx, owner, t.payment_method_id)}
            for t in paid_back
        ],
    }
    return Plan(change, summary, order, owner, details)


async def plan_exchange(ctx: ToolContext, s: OrderSession, args: ExchangeArgs, lock: bool) -> Plan:
    """Exchange delivered items for other variants of the same products."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    ctx.policy.check_return_window(order.delivered_at, ctx.clock())
    products = await _products(s, order)
    change = retail.exchange_delivered_order_items(
        order,
        owner,
        products,
        args.item_ids,
        args.new_item_ids,
        args.payment_method_id,
        ctx.rules,
    )
    ctx.policy.check_refund(change.refund)
    difference = change.order.exchange_price_difference if change.order else None
    money = (
        f"You pay {_money(change.charge)}"
        if change.charge
        else f"You get {_money(change.refund)} back"
        if change.refund
        else "No price difference"
    )
    summary = (
        f"Exchange {_item_names(order, args.item_ids)} of order {order.order_id} for "
        f"{_variant_names(products, args.new_item_ids)}. {money} "
        f"(difference {_money(difference or Decimal(0))}) with "
        f"{_method_label(ctx, owner, args.payment_method_id)}. Send the old items back once you "
        "receive the instructions by email."
    )
    details = _swap_details(ctx, "exchange", order, owner, products, args, change)
    return Plan(change, summary, order, owner, details)


async def plan_order_address(
    ctx: ToolContext, s: OrderSession, args: OrderAddressArgs, lock: bool
) -> Plan:
    """Ship a pending order to another address."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    change = retail.modify_pending_order_address(order, args.address())
    summary = f"Ship order {order.order_id} to {args.address().one_line()}."
    details = {
        "kind": "order_address",
        "order_id": order.order_id,
        "address": args.address().one_line(),
    }
    return Plan(change, summary, order, owner, details)


async def plan_modify_items(
    ctx: ToolContext, s: OrderSession, args: ModifyItemsArgs, lock: bool
) -> Plan:
    """Swap items of a pending order (possible once per order)."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    products = await _products(s, order)
    change = retail.modify_pending_order_items(
        order,
        owner,
        products,
        args.item_ids,
        args.new_item_ids,
        args.payment_method_id,
        ctx.rules,
    )
    ctx.policy.check_refund(change.refund)
    money = (
        f"You pay {_money(change.charge)}"
        if change.charge
        else f"You get {_money(change.refund)} back"
        if change.refund
        else "No price difference"
    )
    summary = (
        f"Change {_item_names(order, args.item_ids)} of order {order.order_id} to "
        f"{_variant_names(products, args.new_item_ids)}. {money} with "
        f"{_method_label(ctx, owner, args.payment_method_id)}. The order's items can be changed "
        "only once."
    )
    details = _swap_details(ctx, "modify_items", order, owner, products, args, change)
    return Plan(change, summary, order, owner, details)


async def plan_order_payment(
    ctx: ToolContext, s: OrderSession, args: OrderPaymentArgs, lock: bool
) -> Plan:
    """Pay a pending order with another method."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    change = retail.modify_pending_order_payment(order, owner, args.payment_method_id, ctx.rules)
    paid = order.payment_history[0]
    summary = (
        f"Pay order {order.order_id} ({_money(paid.amount)}) with "
        f"{_method_label(ctx, owner, args.payment_method_id)} instead of "
        f"{_method_label(ctx, owner, paid.payment_method_id)}, which is refunded."
    )
    details = {
        "kind": "order_payment",
        "order_id": order.order_id,
        "amount": _money(paid.amount),
        "method": _method_details(ctx, owner, args.payment_method_id),
        "old_method": _method_details(ctx, owner, paid.payment_method_id),
    }
    return Plan(change, summary, order, owner, details)


async def plan_user_address(
    ctx: ToolContext, s: OrderSession, args: UserAddressArgs, lock: bool
) -> Plan:
    """Change the verified customer's default address."""
    ctx.require_owner(args.user_id)
    customer = await s.customer(args.user_id, for_update=lock)
    change = retail.modify_user_address(customer, args.address())
    summary = (
        f"Make {args.address().one_line()} your default address "
        "(existing orders keep their addresses)."
    )
    details = {"kind": "user_address", "address": args.address().one_line()}
    return Plan(change, summary, None, customer, details)


async def plan_return(ctx: ToolContext, s: OrderSession, args: ReturnArgs, lock: bool) -> Plan:
    """Return delivered items for a refund."""
    order, owner = await _owned_order(ctx, s, args.order_id, lock)
    ctx.policy.check_return_window(order.delivered_at, ctx.clock())
    change = retail.return_delivered_order_items(
        order, owner, args.item_ids, args.payment_method_id
    )
    ctx.policy.check_refund(change.refund)
    summary = (
        f"Return {_item_names(order, args.item_ids)} of order {order.order_id}. "
        f"Refund {_money(change.refund)} to {_method_label(ctx, owner, args.payment_method_id)} "
        "once the items are back."
    )
    details = {
        "kind": "return",
        "order_id": order.order_id,
        "items": _item_details(order, args.item_ids),
        "refund": _money(change.refund),
        "method": _method_details(ctx, owner, args.payment_method_id),
    }
    return Plan(change, summary, order, owner, details)


WRITE_TOOLS: dict[str, WriteTool[Any]] = {
    tool.name: tool
    for tool in (
        WriteTool(
            "cancel_pending_order",
            CancelArgs,
            plan_cancel,
            "Cancel a pending order. The reason is 'no longer needed' or 'ordered by mistake'. "
            "Refunds go back to the original payment methods.",
        ),
        WriteTool(
            "exchange_delivered_order_items",
            ExchangeArgs,
            plan_exchange,
            "Exchange items of a delivered order for other available variants of the same "
            "products; the price difference is paid or refunded with the given method. Once "
            "per order: collect every item first.",
        ),
        WriteTool(
            "modify_pending_order_address",
            OrderAddressArgs,
            plan_order_address,
            "Change the shipping address of a pending order.",
        ),
        WriteTool(
            "modify_pending_order_items",
            ModifyItemsArgs,
            plan_modify_items,
            "Change items of a pending order to other available variants of the same products. "
            "Once per order: collect every item first.",
        ),
        WriteTool(
            "modify_pending_order_payment",
            OrderPaymentArgs,
            plan_order_payment,
            "Pay a pending order with another of the customer's payment methods.",
        ),
        WriteTool(
            "modify_user_address",
            UserAddressArgs,
            plan_user_address,
            "Change the customer's default address.",
        ),
        WriteTool(
            "return_delivered_order_items",
            ReturnArgs,
            plan_return,
            "Return items of a delivered order; the refund goes to the original payment method "
            "or a gift card. Once per order: collect every item first.",
        ),
    )
}


async def propose(ctx: ToolContext, name: str, args: ToolArgs) -> dict[str, Any]:
    """Check a write and store it as a pending action; nothing changes until it is confirmed."""
    tool = WRITE_TOOLS[name]
    customer_id = ctx.verified()
    async with ctx.services.orders.session(ctx.store_id) as session:
        plan = await tool.plan(ctx, session, args, False)
    action = await ctx.services.actions.create(
        ctx.store_id,
        customer_id,
        name,
        args.model_dump(mode="json"),
        plan.summary,
        timedelta(minutes=ctx.policy.confirmation_ttl_minutes),
        conversation_id=ctx.conversation_id,
        now=ctx.clock(),
    )
    return {
        "action_id": action.id,
        "summary": action.summary,
        "details": plan.details,
        "needs_confirmation": True,
        "expires_at": action.expires_at.isoformat(),
    }


async def perform(ctx: ToolContext, name: str, args: ToolArgs) -> dict[str, Any]:
    """Run a confirmed write in one transaction: re-check, save, audit; all or nothing.

    Returns the changed record as τ² does: the order, or the account for an address change.
    The audit entry holds every changed record (`order`, `customer`) before and after."""
    tool = WRITE_TOOLS[name]
    ctx.require_write()
    async with ctx.services.orders.session(ctx.store_id) as session:
        plan = await tool.plan(ctx, session, args, True)
        change = plan.change
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if change.customer is not None:
            await session.save_customer(change.customer)
            before["customer"] = to_tau2(plan.customer_before) if plan.customer_before else None
            after["customer"] = to_tau2(change.customer)
        if change.order is not None:
            await session.save_order(change.order)
            before["order"] = to_tau2(plan.order_before) if plan.order_before else None
            after["order"] = to_tau2(change.order)
            target = f"order:{change.order.order_id}"
        else:
            assert change.customer is not None
            target = f"customer:{change.customer.user_id}"
        await session.audit(ctx.actor, name, target, before, after)
    result: dict[str, Any] = after.get("order") or after["customer"]
    return result
