"""The working state of one turn: what the bot remembers from the last one, the shopper's message,
and every tool and hand-off call the turn makes (each recorded for the turn's report).

Order tools answer in the τ² JSON shape; the turn reads them here, once, into the typed
records of `bot.domain.orders`, so the flows never index into raw dicts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from bot.agent.intents import Intent, IntentRoute
from bot.agent.ports import Desk, Emit, Vector
from bot.agent.replies import say
from bot.agent.turn import Citation, Outcome, ToolCall, TurnResult
from bot.domain.conversation import HandoffReason, OwnerState
from bot.domain.errors import ParleyError
from bot.domain.orders import Customer, Order, Product
from bot.domain.policy import StorePolicy, Verification
from bot.tools.context import ToolContext, ToolServices
from bot.tools.registry import call_tool


@dataclass
class Memory:
    """What the bot carries from one turn to the next, kept in its last message's metadata."""

    intent: str | None = None
    awaiting: str | None = None
    """`identity`, `order`, `confirm` or `exchange`: what the last reply asked the shopper for."""
    order_id: str | None = None
    action_id: str | None = None
    summary: str | None = None
    """The proposed action's summary, repeated when the shopper confirms it."""
    failed: int = 0
    """Questions in a row the knowledge base could not answer."""
    request: str | None = None
    """The shopper's earlier words about an exchange, read again with their next answer."""
    proposed_to: str | None = None
    """The verified customer the pending action was proposed to; only they can confirm it."""
    for_someone_else: bool = False
    """The shopper said they write for another person: no account's data, no writes."""
    verified_by: list[str] = field(default_factory=list)
    """How this conversation's shopper proved who they are (`Verification` values)."""
    orders_shown: bool = False
    """The bot listed the shopper's order numbers: naming one later proves nothing."""
    code: dict[str, Any] | None = None
    """A one-time code sent to the account's email: its hash, expiry and customer."""

    def as_json(self) -> dict[str, Any]:
        """For the message's metadata."""
        return {
            "intent": self.intent,
            "awaiting": self.awaiting,
            "order_id": self.order_id,
            "action_id": self.action_id,
            "summary": self.summary,
            "failed": self.failed,
            "request": self.request,
            "proposed_to": self.proposed_to,
            "for_someone_else": self.for_someone_else,
            "verified_by": self.verified_by,
            "orders_shown": self.orders_shown,
            "code": self.code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Memory:
        """Back from the message's metadata."""
        data = data or {}
        return cls(
            intent=data.get("intent"),
            awaiting=data.get("awaiting"),
            order_id=data.get("order_id"),
            action_id=data.get("action_id"),
            summary=data.get("summary"),
            failed=int(data.get("failed") or 0),
            request=data.get("request"),
            proposed_to=data.get("proposed_to"),
            for_someone_else=bool(data.get("for_someone_else")),
            verified_by=list(data.get("verified_by") or []),
            orders_shown=bool(data.get("orders_shown")),
            code=data.get("code"),
        )


Decision = tuple[TurnResult, Memory]
"""A finished turn and what the bot remembers for the next one."""


@dataclass
class Turn:
    """The working state of one turn."""

    store_id: str
    conversation_id: str
    text: str
    language: str
    memory: Memory
    desk: Desk
    route: IntentRoute | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    vector: Vector | None = None
    """The message's query embedding, computed once for the router and the retriever."""
    emit: Emit | None = None
    """Where guarded pieces of a model's answer go while it is written (streaming turns)."""
    policy: StorePolicy = field(default_factory=StorePolicy)
    """The store's policy: which ways of verifying let the bot write."""
    verified_by: set[str] = field(default_factory=set)
    """How the shopper proved who they are so far (`Verification` values): the desk's own
    set, which the tools check a write against (the pipeline hands it over)."""
    handback_note: str | None = None
    """What the agent who handed the thread back to the bot wrote for it (this turn only)."""
    instruction: str = ""
    """What followed the shopper's question and was cut from it as aimed at the bot
    (`question_before_attack`): no flow and no model reads it; the reply check looks in it
    for words the shopper asked to be written."""

    def result(
        self, reply: str, intent: Intent | str, outcome: Outcome, **extra: Any
    ) -> TurnResult:
        """Finish the turn with this reply."""
        return TurnResult(
            session=self.conversation_id,
            reply=reply,
            language=self.language,
            intent=str(intent),
            outcome=outcome,
            tool_calls=self.tool_calls,
            **extra,
        )

    async def tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call an order tool, recording the call and whether it failed."""
        try:
            result = await self.desk.call(name, arguments)
        except ParleyError as error:
            self.tool_calls.append(ToolCall(name, arguments, f"error: {error.message}"))
            raise
        self.tool_calls.append(ToolCall(name, arguments, "ok"))
        return result

    def mark_proposed(self) -> None:
        """The last call only proposed a write (it waits for a yes): reported `proposed`."""
        last = self.tool_calls[-1]
        self.tool_calls[-1] = ToolCall(last.name, last.arguments, "proposed")

    async def order(self, order_id: str) -> Order:
        """The verified shopper's order."""
        return Order.model_validate(await self.tool("get_order_details", {"order_id": order_id}))

    async def product(self, product_id: str) -> Product:
        """A product with all its variants."""
        details = await self.tool("get_product_details", {"product_id": product_id})
        return Product.model_validate(details)

    async def customer(self, user_id: str) -> Customer:
        """The verified shopper's account."""
        return Customer.model_validate(await self.tool("get_user_details", {"user_id": user_id}))

    async def hand_off(
        self, reason: HandoffReason, intent: Intent | str = Intent.HUMAN
    ) -> TurnResult:
        """Queue the thread for a person and tell the shopper so."""
        await self.desk.hand_off(reason)
        return self.result(
            say(self.language, "handoff"),
            intent,
            Outcome.HANDOFF,
            handoff={"state": OwnerState.QUEUED.value, "reason": reason.value},
        )


class ToolDesk:
    """A conversation's order tools as the registry runs them, under the store's policy."""

    def __init__(self, context: ToolContext) -> None:
        self.context = context

    @property
    def customer_id(self) -> str | None:
        """The verified customer, once the shopper proved who they are."""
        return self.context.customer_id

    @property
    def verified_by(self) -> set[str]:
        """How the shopper proved who they are, as the write tools check it."""
        return self.context.verified_by

    def prove(self, method: Verification) -> None:
        """A further proof the flows checked; it counts for writes from now on."""
        self.context.prove(method)

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call a tool by name; raises the typed error an agent can relay."""
        return await call_tool(self.context, name, arguments)

    async def verify(self, customer_id: str) -> None:
        """Bind the conversation to this customer (checked by the lookup tool already)."""
        await self.context.verify(customer_id)

    async def hand_off(self, reason: HandoffReason) -> bool:
        """Queue the conversation for a person, audited."""
        return await self.context.hand_off(reason)


class ToolDesks:
    """Opens `ToolDesk`s on a process's tool services."""

    def __init__(self, services: ToolServices) -> None:
        self.services = services

    def open(
        self,
        store_id: str,
        policy: StorePolicy,
        conversation_id: str,
        customer_id: str | None,
        verified_by: Collection[str] = (),
    ) -> ToolDesk:
        """The registry's tools for one conversation."""
        return ToolDesk(
            ToolContext(
                services=self.services,
                store_id=store_id,
                policy=policy,
                conversation_id=conversation_id,
                customer_id=customer_id,
                verified_by=set(verified_by),
            )
        )


def result_from_json(data: dict[str, Any]) -> TurnResult:
    """A stored turn back as the `TurnResult` it was (a repeated message gets it again)."""
    return TurnResult(
        session=data["session"],
        reply=data["reply"],
        language=data["language"],
        intent=data["intent"],
        outcome=Outcome(data["outcome"]),
        citations=[
            Citation(c["document"], c["section"], c["score"], c["language"], c.get("quote", ""))
            for c in data.get("citations", [])
        ],
        tool_calls=[
            ToolCall(c["name"], c["arguments"], c["status"]) for c in data.get("tool_calls", [])
        ],
        handoff=data.get("handoff"),
        confidence=data.get("confidence", 0.0),
    )
