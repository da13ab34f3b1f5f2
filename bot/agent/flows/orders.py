"""The order flows: verify the shopper, find the order, then its status, a dispute, a
cancellation, a return, an exchange or change of items, or a change of address or payment.
Rules are the tools' and the policy's (in code); this module only decides which tool to ask and
what to tell the shopper."""

from __future__ import annotations

from collections.abc import Callable

from bot.agent.extract import find_email, find_name_zip, find_order_ids
from bot.agent.flows.changes import (
    change_address,
    change_payment,
    holds_address,
    refund_refused,
    requested_change,
)
from bot.agent.flows.exchange import exchange_or_modify
from bot.agent.flows.identity import code_accepted
from bot.agent.flows.items import Embed, item_choices, named_items
from bot.agent.flows.proposal import confirm, propose
from bot.agent.flows.status import open_dispute, order_status
from bot.agent.intents import Intent
from bot.agent.models.calls import ChatModel, falling_back
from bot.agent.models.translation import in_english
from bot.agent.phrases import mentions
from bot.agent.replies import refusal, say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.conversation import HandoffReason
from bot.domain.errors import ParleyError
from bot.domain.orders import Order, OrderStatus, WrongStatus
from bot.domain.policy import AboveRefundLimit, Verification

WRITES = frozenset({Intent.CANCEL, Intent.RETURN, Intent.EXCHANGE, Intent.MODIFY_ORDER})


class Orders:
    """Runs an order intent to its next step: a question for the shopper, a proposal to
    confirm, an answer, or a person."""

    def __init__(self, model: ChatModel, embed: Callable[[], Embed | None] = lambda: None) -> None:
        """`embed` gives the multilingual query embedder (or None) that matches the items a
        shopper names in their language to the catalogue's."""
        self.model = model
        self.embed = embed

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
        change = requested_change(turn.text) if intent in WRITES else None
        if change == "refund_elsewhere":
            return await refund_refused(turn, intent)
        if order_id is None:
            if change == "address":
                # No order named: the account's default address.
                customer = await turn.customer(_customer(turn))
                return await change_address(turn, intent, memory, None, customer)
            memory.awaiting = "order"
            reply, memory.orders_shown = await _ask_order(turn)
            return turn.result(reply, intent, Outcome.NEEDS_INFO), memory
        memory.order_id = order_id
        try:
            order = await turn.order(order_id)
            if (
                order_ids
                and Verification.EMAIL.value in turn.verified_by
                and not turn.memory.orders_shown
            ):
                # The account's email and, unprompted, the number of one of its orders.
                turn.desk.prove(Verification.EMAIL_ORDER)
            return await self._act(turn, intent, memory, order_id, order)
        except AboveRefundLimit:
            # Above what the store lets the bot approve: a person decides, the shopper is told.
            return await turn.hand_off(HandoffReason.ABOVE_LIMIT, intent), Memory()
        except ParleyError as error:
            reply = refusal(turn.language, error)
            return turn.result(reply, intent, Outcome.DECLINED), Memory(order_id=order_id)

    async def code_entered(self, turn: Turn, entered: str) -> Decision:
        """The one-time code typed back: on a match the waiting action is carried out."""
        waiting = turn.memory
        intent = Intent(waiting.intent or Intent.OTHER.value)
        if not code_accepted(turn, entered) or waiting.action_id is None:
            return turn.result(say(turn.language, "ask_code"), intent, Outcome.NEEDS_INFO), waiting
        return await confirm(turn, True)

    async def _act(
        self, turn: Turn, intent: Intent, memory: Memory, order_id: str, order: Order
    ) -> Decision:
        # `order_id` as the shopper wrote it (and the tools accepted it) goes into the calls.
        if intent is Intent.ORDER_STATUS:
            return order_status(turn, order), memory
        if intent is Intent.DISPUTE:
            return await open_dispute(turn, order_id), Memory(order_id=order_id)
        change = requested_change(turn.text) if intent in WRITES else None
        if change is None and turn.memory.awaiting == "address":
            change = "address"
        revising = turn.memory.awaiting == "confirm" and turn.memory.order_id == order_id
        if (
            change is None
            and (intent in (Intent.MODIFY_ORDER, Intent.EXCHANGE) or revising)
            and holds_address(turn.text)
        ):
            # A street, postcode and city in a request to change an order, or in a "yes, but"
            # to any proposal for it: the shipping address, in whatever words, never an item
            # change and never the proposal shown before.
            change = "address"
        if change in ("address", "payment"):
            if order.status != OrderStatus.PENDING:
                raise WrongStatus(
                    f"Order {order.order_id} is {order.status}",
                    details={
                        "action": "modify",
                        "order_id": order.order_id,
                        "status": order.status,
                    },
                )
            customer = await turn.customer(_customer(turn))
            if change == "address":
                return await change_address(turn, intent, memory, order, customer)
            return await change_payment(turn, intent, memory, order, customer)
        if intent is Intent.CANCEL:
            reason = "ordered by mistake" if mentions("mistake", turn.text) else "no longer needed"
            arguments = {"order_id": order_id, "reason": reason}
            return await propose(turn, intent, memory, "cancel_pending_order", arguments)
        if intent is Intent.RETURN:
            items = await named_items(turn.text, order, self.embed(), self._in_english)
            if not items and order.status != OrderStatus.DELIVERED:
                # Not returnable at all: the tool refuses it with the reason.
                items = [item.item_id for item in order.items]
            if not items:
                memory.awaiting = "items"
                labels = item_choices(order.items)
                reply = say(turn.language, "ask_items", order_id=order.order_id, items=labels)
                return turn.result(reply, intent, Outcome.NEEDS_INFO), memory
            returned: dict[str, object] = {
                "order_id": order_id,
                "item_ids": items,
                "payment_method_id": order.paid_with(),
            }
            return await propose(turn, intent, memory, "return_delivered_order_items", returned)
        return await exchange_or_modify(turn, intent, memory, order, self.model)

    async def _in_english(self, words: str) -> str | None:
        """The chat model's English rendering of the shopper's words, to find the items they
        name; None without a model, or when it fails or is slow."""
        llm = self.model.llm
        if llm is None:
            return None
        rendering: str | None = None
        async with falling_back("render the request in English", self.model.timeout_s) as call:
            rendering = await in_english(llm, words)
        return None if call.failed else rendering


def _customer(turn: Turn) -> str:
    customer_id = turn.desk.customer_id
    assert customer_id is not None
    return customer_id


async def _verify(turn: Turn) -> str | None:
    """Verify the shopper from this message; the reply to send when that is not possible."""
    email = find_email(turn.text)
    name_zip = find_name_zip(turn.text)
    try:
        if email:
            user_id = await turn.tool("find_user_id_by_email", {"email": email})
            method = Verification.EMAIL
        elif name_zip:
            user_id = await turn.tool(
                "find_user_id_by_name_zip",
                {
                    "first_name": name_zip.first_name,
                    "last_name": name_zip.last_name,
                    "zip": name_zip.zip_code,
                },
            )
            method = Verification.NAME_ZIP
        else:
            return say(turn.language, "ask_identity")
    except ParleyError as error:
        refused = refusal(turn.language, error)
        return f"{refused} {say(turn.language, 'ask_identity')}"
    await turn.desk.verify(str(user_id))
    turn.verified_by.add(method.value)  # the lookup tool recorded it already; a desk may not
    return None


async def _ask_order(turn: Turn) -> tuple[str, bool]:
    """Ask which order, listing the shopper's latest ones; and whether any were listed (an
    order number the bot showed proves nothing about who writes)."""
    orders = (await turn.customer(_customer(turn))).orders
    if not orders:
        return say(turn.language, "ask_order"), False
    return say(turn.language, "ask_order_from", orders=", ".join(orders[-5:])), True
