"""`open_dispute`: acknowledge a payment dispute or chargeback threat, offer first what the
store's policy allows, open a case with an evidence pack, and route it as the policy says.
It never promises an outcome."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.conversation import HandoffReason
from bot.domain.errors import PolicyViolation
from bot.domain.orders import CaseState, InvalidRequest, Order, OrderStatus, to_tau2
from bot.domain.policy import DisputeRouting, Remedy
from bot.tools.context import ToolContext
from bot.tools.schemas import DisputeArgs

KINDS = ("dispute", "chargeback")
EXCERPT_MESSAGES = 20


def remedies(ctx: ToolContext, order: Order) -> list[dict[str, str]]:
    """The remedies the policy allows for this order now, in the policy's order."""
    delivered = order.status == OrderStatus.DELIVERED
    in_window = True
    if delivered:
        try:
            ctx.policy.check_return_window(order.delivered_at, ctx.clock())
        except PolicyViolation:
            in_window = False
    offers = []
    for remedy in ctx.policy.dispute_offers:
        if remedy is Remedy.REFUND and order.status == OrderStatus.PENDING:
            offers.append(
                {
                    "remedy": remedy.value,
                    "tool": "cancel_pending_order",
                    "description": "cancel the order; everything paid is refunded",
                }
            )
        elif remedy is Remedy.REFUND and delivered and in_window:
            offers.append(
                {
                    "remedy": remedy.value,
                    "tool": "return_delivered_order_items",
                    "description": "return the items for a refund to the original payment method",
                }
            )
        elif remedy is Remedy.RETURN and delivered and in_window:
            offers.append(
                {
                    "remedy": remedy.value,
                    "tool": "return_delivered_order_items",
                    "description": "send the items back",
                }
            )
        elif remedy is Remedy.REPLACEMENT and delivered and in_window:
            offers.append(
                {
                    "remedy": remedy.value,
                    "tool": "exchange_delivered_order_items",
                    "description": "exchange the items for another variant of the same product",
                }
            )
    return offers


def _amount(text: str | None, order: Order) -> Decimal:
    outstanding = order.paid() - order.refunded()
    if text is None:
        return outstanding
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise InvalidRequest(f"{text!r} is not an amount") from error
    if not amount.is_finite() or amount <= 0 or amount > outstanding:
        raise InvalidRequest(
            f"The disputed amount must be more than 0 and at most {outstanding:.2f}, "
            "what was paid for this order and not refunded."
        )
    return amount


async def open_dispute(ctx: ToolContext, args: DisputeArgs) -> dict[str, Any]:
    """Open a dispute case for one of the verified customer's orders."""
    if args.kind not in KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}")
    ctx.verified()
    async with ctx.services.orders.session(ctx.store_id) as session:
        order = await session.order(args.order_id)
    ctx.require_owner(order.user_id)
    amount = _amount(args.amount, order)
    offers = remedies(ctx, order)
    routing = ctx.policy.dispute_routing
    to_human = routing is DisputeRouting.ALWAYS or (
        routing is DisputeRouting.CHARGEBACK_ONLY and args.kind == "chargeback"
    )
    excerpt: list[dict[str, Any]] = []
    if ctx.conversation_id is not None:
        thread = await ctx.services.conversations.get(ctx.store_id, ctx.conversation_id)
        after = max(thread.last_seq - EXCERPT_MESSAGES, 0)
        messages = await ctx.services.conversations.messages_after(
            ctx.store_id, ctx.conversation_id, after=after
        )
        excerpt = [{"seq": m.seq, "role": m.role.value, "text": m.text} for m in messages]
    record = to_tau2(order)
    evidence = {
        "order": record,
        "payments": record["payment_history"],
        "tracking": record["fulfillments"],
        "conversation": excerpt,
        "offers": offers,
    }
    case = await ctx.services.cases.open(
        ctx.store_id,
        kind=args.kind,
        state=CaseState.AWAITING_MERCHANT if to_human else CaseState.AWAITING_CUSTOMER,
        actor=ctx.actor,
        order_id=order.order_id,
        customer_id=ctx.customer_id,
        conversation_id=ctx.conversation_id,
        reason=args.reason,
        amount=amount,
        evidence=evidence,
    )
    if to_human:
        await ctx.hand_off(
            HandoffReason.DISPUTE,
            f"{args.kind} about order {order.order_id} ({amount:.2f}): {args.reason}; "
            f"case {case.id}",
        )
    offer_text = (
        "; ".join(offer["description"] for offer in offers)
        if offers
        else "nothing I can do myself for an order in this state"
    )
    next_step = (
        "A person from the store will review the case and contact you."
        if to_human
        else "Tell me if you would like one of these options."
    )
    return {
        "case_id": case.id,
        "state": case.state.value,
        "amount": f"{amount:.2f}",
        "offers": offers,
        "routed_to_human": to_human,
        "message": (
            f"I have opened case {case.id} about order {order.order_id} "
            f"({amount:.2f} disputed). What I can offer right now: {offer_text}. {next_step} "
            "I cannot promise how the case will be decided."
        ),
    }
