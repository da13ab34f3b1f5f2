"""Exchanging a delivered order's items or changing a pending order's: the model maps the
shopper's words onto item ids (`swaps`), code checks them and proposes; the shopper confirms as
for a return. Without a chat model, a person finishes what the bot collected."""

from __future__ import annotations

from typing import Any

from bot.agent.flows.items import named_exactly, request_clause
from bot.agent.flows.proposal import propose
from bot.agent.flows.swaps import choose_swap
from bot.agent.intents import Intent
from bot.agent.models.calls import ChatModel
from bot.agent.replies import say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.conversation import HandoffReason
from bot.domain.orders import Order, OrderStatus, Product, WrongStatus, to_tau2


async def exchange_or_modify(
    turn: Turn, intent: Intent, memory: Memory, order: Order, model: ChatModel
) -> Decision:
    """Propose the swap the shopper asked for, ask which variant they want, or hand off."""
    asked_before = turn.memory.awaiting == "exchange"
    if model.llm is None:
        # Choosing the new variant needs a conversation about options; without a model a
        # person finishes it once the bot has collected what it can.
        if asked_before:
            return await turn.hand_off(HandoffReason.UNSUPPORTED, intent), Memory()
        memory.awaiting = "exchange"
        reply = say(turn.language, "exchange_help")
        return turn.result(reply, intent, Outcome.NEEDS_INFO), memory
    tool = swap_tool(order)
    products = {product_id: await turn.product(product_id) for product_id in order.product_ids()}
    revising = turn.memory.awaiting == "confirm"  # a proposal the shopper wants changed
    earlier = turn.memory.request if asked_before or revising else None
    request = "\n".join(part for part in (earlier, turn.text) if part)
    # The model picks from the order and the products as the tools show them (τ² JSON); when
    # the shopper named some of the order's items, it sees only those, so it cannot add any.
    attempt = await choose_swap(
        model.llm,
        tool,
        to_tau2(named_part(order, request)),
        {product_id: to_tau2(product) for product_id, product in products.items()},
        request,
        timeout_s=model.timeout_s,
    )
    if attempt.choice is not None:
        arguments: dict[str, Any] = {
            "order_id": order.order_id,
            "item_ids": attempt.choice.item_ids,
            "new_item_ids": attempt.choice.new_item_ids,
            "payment_method_id": order.paid_with(),
        }
        memory.request = request[-500:]  # what a revision of this proposal builds on
        return await propose(turn, intent, memory, tool, arguments)
    if asked_before:
        # Asked once already and still no choice that fits: a person takes it from here.
        return await turn.hand_off(HandoffReason.UNSUPPORTED, intent), Memory()
    memory.awaiting = "exchange"
    memory.request = request[-500:]
    options = variant_list(order, products)
    reply = say(turn.language, "exchange_help")
    if options:
        reply = f"{reply} {options}"
    return turn.result(reply, intent, Outcome.NEEDS_INFO), memory


def named_part(order: Order, request: str) -> Order:
    """The order with only the items the request names as the catalogue does (product name or
    an option only that item has); the whole order when it names none of them."""
    named = set(named_exactly(request_clause(request), order) or named_exactly(request, order))
    if not named:
        return order
    return order.model_copy(update={"items": [i for i in order.items if i.item_id in named]})


def swap_tool(order: Order) -> str:
    """Delivered orders are exchanged, pending ones changed; nothing else can swap items."""
    if order.status == OrderStatus.DELIVERED:
        return "exchange_delivered_order_items"
    if order.status == OrderStatus.PENDING:
        return "modify_pending_order_items"
    raise WrongStatus(
        f"order {order.order_id} is {order.status}: only delivered orders can be exchanged "
        "and only pending orders changed"
    )


def variant_list(order: Order, products: dict[str, Product]) -> str:
    """The other available variants of the order's products, for the shopper to choose from."""
    owned = {item.item_id for item in order.items}
    listed = [
        f"{product.name} ({', '.join(str(v) for v in variant.options.values())})"
        for product in products.values()
        for variant in product.variants.values()
        if variant.available and variant.item_id not in owned
    ]
    return " · ".join(listed)
