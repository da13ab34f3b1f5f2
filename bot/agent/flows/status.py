"""Telling the shopper where an order stands, and opening a case for a charge they dispute."""

from __future__ import annotations

from bot.agent.intents import Intent
from bot.agent.phrases import mentions
from bot.agent.replies import say, status_name
from bot.agent.state import Turn
from bot.agent.turn import Outcome, TurnResult
from bot.domain.conversation import HandoffReason, OwnerState
from bot.domain.orders import Order


def order_status(turn: Turn, order: Order) -> TurnResult:
    """The order's status, its items and any tracking numbers, in the shopper's language."""
    # Product names only: their options ("1000ml, glass, clear") are the catalogue's
    # English and would outweigh a short reply in the shopper's language.
    items = ", ".join(item.name for item in order.items)
    reply = say(
        turn.language,
        "order_status",
        order_id=order.order_id,
        status=status_name(turn.language, order.status),
        items=items,
    )
    tracking = order.tracking_ids()
    if tracking:
        reply = f"{reply} {say(turn.language, 'tracking', tracking=', '.join(tracking))}"
    return turn.result(reply, Intent.ORDER_STATUS, Outcome.ANSWERED, confidence=1.0)


async def open_dispute(turn: Turn, order_id: str) -> TurnResult:
    """Open a dispute (a chargeback when the shopper names their bank or card company) and
    tell the shopper its case number; the policy may route it to a person."""
    kind = "chargeback" if mentions("chargeback", turn.text) else "dispute"
    case = await turn.tool(
        "open_dispute",
        {"order_id": order_id, "reason": turn.text[:500], "kind": kind},
    )
    reply = say(turn.language, "dispute", case_id=case["case_id"])
    if case.get("routed_to_human"):
        return turn.result(
            reply,
            Intent.DISPUTE,
            Outcome.HANDOFF,
            handoff={"state": OwnerState.QUEUED.value, "reason": HandoffReason.DISPUTE.value},
        )
    return turn.result(reply, Intent.DISPUTE, Outcome.ANSWERED)
