"""The order flows: verify the shopper, find the order, then its status, a dispute, a
cancellation, a return, or an exchange or change of items. Rules are the tools' (in code);
this module only decides which tool to ask and what to tell the shopper."""

from __future__ import annotations

from bot.agent.extract import find_email, find_name_zip, find_order_ids
from bot.agent.flows.exchange import exchange_or_modify
from bot.agent.flows.proposal import propose
from bot.agent.flows.status import open_dispute, order_status
from bot.agent.intents import Intent
from bot.agent.models.calls import ChatModel
from bot.agent.phrases import mentions
from bot.agent.replies import refusal, say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.conversation import HandoffReason
from bot.domain.errors import ParleyError
from bot.domain.orders import Order
from bot.domain.policy import AboveRefundLimit


class Orders:
    """Runs an order intent to its next step: a question for the shopper, a proposal to
    confirm, an answer, or a person."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    async def run(self, turn: Turn, intent: Intent) -> Decision:
        """The next step of `intent` for the order this message (or the last turn) names."""
        order_ids = find_order_ids(turn.text)
        order_id = order_ids[0] if order_ids else turn.memory.order_id
        memory = Memory(intent=intent.value, order_id=order_id)
        if turn.desk.customer_id is None:
            verified = await _verify(turn)
            if verified is not None:
                memory.awaiting = "identity"
                return turn.result(verified, intent, Outcome.NEEDS_INFO), memory
        if order_id is None:
            memory.awaiting = "order"
            return turn.result(await _ask_order(turn), intent, Outcome.NEEDS_INFO), memory
        memory.order_id = order_id
        try:
            order = await turn.order(order_id)
            return await self._act(turn, intent, memory, order_id, order)
        except AboveRefundLimit:
            # Above what the store lets the bot approve: a person decides, the shopper is told.
            return await turn.hand_off(HandoffReason.ABOVE_LIMIT, intent), Memory()
        except ParleyError as error:
            reply = refusal(turn.language, error)
            return turn.result(reply, intent, Outcome.DECLINED), Memory(order_id=order_id)

    async def _act(
        self, turn: Turn, intent: Intent, memory: Memory, order_id: str, order: Order
    ) -> Decision:
        # `order_id` as the shopper wrote it (and the tools accepted it) goes into the calls.
        if intent is Intent.ORDER_STATUS:
            return order_status(turn, order), memory
        if intent is Intent.DISPUTE:
            return await open_dispute(turn, order_id), Memory(order_id=order_id)
        if intent is Intent.CANCEL:
            reason = "ordered by mistake" if mentions("mistake", turn.text) else "no longer needed"
            arguments = {"order_id": order_id, "reason": reason}
            return await propose(turn, intent, memory, "cancel_pending_order", arguments)
        if intent is Intent.RETURN:
            return await propose(
                turn,
                intent,
                memory,
                "return_delivered_order_items",
                {
                    "order_id": order_id,
                    "item_ids": named_items(turn.text, order),
                    "payment_method_id": order.paid_with(),
                },
            )
        return await exchange_or_modify(turn, intent, memory, order, self.model)


async def _verify(turn: Turn) -> str | None:
    """Verify the shopper from this message; the reply to send when that is not possible."""
    email = find_email(turn.text)
    name_zip = find_name_zip(turn.text)
    try:
        if email:
            user_id = await turn.tool("find_user_id_by_email", {"email": email})
        elif name_zip:
            user_id = await turn.tool(
                "find_user_id_by_name_zip",
                {
                    "first_name": name_zip.first_name,
                    "last_name": name_zip.last_name,
                    "zip": name_zip.zip_code,
                },
            )
        else:
            return say(turn.language, "ask_identity")
    except ParleyError as error:
        refused = refusal(turn.language, error)
        return f"{refused} {say(turn.language, 'ask_identity')}"
    await turn.desk.verify(str(user_id))
    return None


async def _ask_order(turn: Turn) -> str:
    """Ask which order, listing the shopper's latest ones."""
    customer_id = turn.desk.customer_id
    assert customer_id is not None
    orders = (await turn.customer(customer_id)).orders
    if not orders:
        return say(turn.language, "ask_order")
    return say(turn.language, "ask_order_from", orders=", ".join(orders[-5:]))


def named_items(text: str, order: Order) -> list[str]:
    """The order's items the shopper named, or all of them when none is named."""
    lowered = text.lower()
    named = [item.item_id for item in order.items if item.name.lower() in lowered]
    return named or [item.item_id for item in order.items]
