"""In-memory stand-ins for what the turn pipeline talks to (`bot.agent.ports`): conversations,
store policies, the order tools on the demo store's orders, a keyword router and a word-overlap
index. They keep the state a shopper would notice (owner state, stored replies, orders) so the
decision tree's unit tests assert on behaviour, with no database and no vector index."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.agent.intents import Intent, IntentRoute
from bot.agent.ports import Vector
from bot.demo.seed import demo_files
from bot.domain.conversation import HandoffReason, OwnerState, Role, transition
from bot.domain.errors import NotFound, NotVerified
from bot.domain.orders import (
    Catalog,
    NotYourOrder,
    OrderNotFound,
    UserNotFound,
    WrongStatus,
    catalog_from_tau2,
    to_tau2,
)
from bot.domain.policy import StorePolicy, Verification
from bot.storage.conversations import Conversation, Message
from knowledge import Passage, SearchResult


class MemoryConversations:
    """Conversations and messages kept in dicts, with the repository's idempotent append."""

    def __init__(self) -> None:
        self.threads: dict[tuple[str, str], Conversation] = {}
        self.messages: dict[tuple[str, str], list[Message]] = {}

    def start(self, store_id: str, conversation_id: str, **header: Any) -> None:
        """A new thread owned by the bot (or as `header` says)."""
        fields: dict[str, Any] = {
            "session": None,
            "state": OwnerState.BOT,
            "language": None,
            "customer_id": None,
            "handoff_reason": None,
            "last_seq": 0,
        } | header
        self.threads[store_id, conversation_id] = Conversation(
            id=conversation_id, store_id=store_id, **fields
        )
        self.messages[store_id, conversation_id] = []

    async def get(self, store_id: str, conversation_id: str) -> Conversation:
        """The thread's header."""
        try:
            return self.threads[store_id, conversation_id]
        except KeyError:
            raise NotFound(f"conversation {conversation_id!r} not found") from None

    async def append(
        self,
        store_id: str,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        language: str | None = None,
        client_id: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, bool]:
        """Store a message once per `client_id`."""
        thread = await self.get(store_id, conversation_id)
        stored = self.messages[store_id, conversation_id]
        for message in stored:
            if client_id is not None and message.client_id == client_id:
                return message, False
        message = Message(
            seq=thread.last_seq + 1,
            role=role,
            text=text,
            language=language,
            client_id=client_id,
            citations=citations or [],
            created_at=datetime.now(UTC),
            meta=meta or {},
        )
        stored.append(message)
        self.threads[store_id, conversation_id] = replace(thread, last_seq=message.seq)
        return message, True

    async def messages_after(
        self, store_id: str, conversation_id: str, after: int = 0, limit: int = 500
    ) -> list[Message]:
        """Messages after `after`, oldest first."""
        await self.get(store_id, conversation_id)
        later = [m for m in self.messages[store_id, conversation_id] if m.seq > after]
        return later[:limit]

    async def change_owner(
        self, store_id: str, conversation_id: str, target: OwnerState, reason: str | None = None
    ) -> Conversation:
        """Move the thread as the domain allows."""
        thread = await self.get(store_id, conversation_id)
        state = transition(thread.state, target)
        changed = replace(thread, state=state)
        if target is OwnerState.QUEUED:
            changed = replace(changed, handoff_reason=reason)
        self.threads[store_id, conversation_id] = changed
        return changed

    async def set_language(self, store_id: str, conversation_id: str, language: str) -> None:
        """The thread's language."""
        thread = await self.get(store_id, conversation_id)
        self.threads[store_id, conversation_id] = replace(thread, language=language)

    async def take_handback_note(self, store_id: str, conversation_id: str) -> str | None:
        """The agent's hand-back note, once."""
        thread = await self.get(store_id, conversation_id)
        self.threads[store_id, conversation_id] = replace(thread, handback_note=None)
        return thread.handback_note

    def replies(self, store_id: str, conversation_id: str) -> list[Message]:
        """What the bot (or the system) said in the thread."""
        return [m for m in self.messages[store_id, conversation_id] if m.role is not Role.SHOPPER]


@dataclass
class MemoryPolicies:
    """Each store's policy document."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def policy(self, store_id: str) -> dict[str, Any]:
        """The store's policy document."""
        return dict(self.documents.get(store_id, {}))


def demo_catalog() -> Catalog:
    """The demo store's products, customers and orders."""
    text = (demo_files() / "orders.json").read_text(encoding="utf-8")
    return catalog_from_tau2(json.loads(text))


class MemoryDesk:
    """The order tools the flows call, on a catalogue in memory: reads only for the verified
    customer, writes proposed first and carried out on `confirm_action`."""

    def __init__(
        self,
        shop: MemoryOrders,
        store_id: str,
        conversation_id: str,
        customer_id: str | None,
        policy: StorePolicy,
        verified_by: Collection[str] = (),
    ) -> None:
        self.shop = shop
        self.store_id = store_id
        self.conversation_id = conversation_id
        self._customer_id = customer_id
        self.policy = policy
        self._verified_by = set(verified_by)

    @property
    def customer_id(self) -> str | None:
        """The verified customer."""
        return self._customer_id

    @property
    def verified_by(self) -> set[str]:
        """How the shopper proved who they are."""
        return self._verified_by

    def prove(self, method: Verification) -> None:
        """A further proof of the verified shopper."""
        if self._customer_id is None:
            raise NotVerified("verify first")
        self._verified_by.add(method.value)

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run one tool."""
        self.shop.calls.append((name, arguments))
        catalog = self.shop.catalog
        if name == "find_user_id_by_email":
            for user_id, user in catalog.users.items():
                if user.email.lower() == arguments["email"].lower():
                    self._verified_by.add(Verification.EMAIL.value)
                    return user_id
            raise UserNotFound()
        if name == "get_user_details":
            self._owner(arguments["user_id"])
            return to_tau2(catalog.users[arguments["user_id"]])
        if name == "get_order_details":
            return to_tau2(self._order(arguments["order_id"]))
        if name == "get_product_details":
            return to_tau2(catalog.products[arguments["product_id"]])
        if name == "cancel_pending_order":
            order = self._order(arguments["order_id"])
            if order.status != "pending":
                raise WrongStatus("Non-pending order cannot be cancelled")
            details = {
                "kind": "cancel",
                "order_id": order.order_id,
                "reason": arguments["reason"],
                "refunds": [{"amount": str(order.paid()), "method": {"type": "credit_card"}}],
            }
            return self.shop.pending(name, arguments, details)
        if name == "modify_pending_order_address":
            order = self._order(arguments["order_id"])
            if order.status != "pending":
                raise WrongStatus("Non-pending order cannot be modified")
            fields = ("address1", "address2", "city", "state", "country", "zip")
            details = {
                "kind": "order_address",
                "order_id": order.order_id,
                "address": ", ".join(str(arguments[f]) for f in fields if arguments.get(f)),
            }
            return self.shop.pending(name, arguments, details)
        if name == "open_dispute":
            self._order(arguments["order_id"])
            self.shop.disputes.append(arguments)
            return {"case_id": f"case-{len(self.shop.disputes)}", "routed_to_human": False}
        if name == "confirm_action":
            if self._customer_id is None:
                raise NotVerified("verify first")
            self.policy.check_write(self._verified_by)  # as the real tools do, before claiming
            tool, proposed = self.shop.actions.pop(arguments["action_id"])
            order = self._order(proposed["order_id"])
            if tool == "cancel_pending_order":
                order.status = "cancelled"
                order.cancel_reason = proposed["reason"]
            return to_tau2(order)
        raise AssertionError(f"the flows are not expected to call {name}")

    async def verify(self, customer_id: str) -> None:
        """Bind the conversation to the customer."""
        self._customer_id = customer_id
        conversations = self.shop.conversations
        thread = await conversations.get(self.store_id, self.conversation_id)
        conversations.threads[self.store_id, self.conversation_id] = replace(
            thread, customer_id=customer_id
        )

    async def hand_off(self, reason: HandoffReason) -> bool:
        """Queue the conversation for a person."""
        await self.shop.conversations.change_owner(
            self.store_id, self.conversation_id, OwnerState.QUEUED, reason.value
        )
        return True

    def _owner(self, user_id: str) -> None:
        if self._customer_id is None:
            raise NotVerified("verify first")
        if self._customer_id != user_id:
            raise NotYourOrder()

    def _order(self, order_id: str) -> Any:
        order = self.shop.catalog.orders.get(order_id)
        if order is None:
            raise OrderNotFound()
        self._owner(order.user_id)
        return order


@dataclass
class MemoryOrders:
    """Opens `MemoryDesk`s on one catalogue, remembering every tool call and pending action."""

    conversations: MemoryConversations
    catalog: Catalog = field(default_factory=demo_catalog)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    actions: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    disputes: list[dict[str, Any]] = field(default_factory=list)

    def open(
        self,
        store_id: str,
        policy: StorePolicy,
        conversation_id: str,
        customer_id: str | None,
        verified_by: Collection[str] = (),
    ) -> MemoryDesk:
        """The tools of one conversation."""
        return MemoryDesk(self, store_id, conversation_id, customer_id, policy, verified_by)

    def pending(
        self, tool: str, arguments: dict[str, Any], details: dict[str, Any]
    ) -> dict[str, Any]:
        """A proposed write waiting for the shopper's yes."""
        action_id = f"act-{len(self.actions) + 1}"
        self.actions[action_id] = (tool, arguments)
        return {"action_id": action_id, "summary": tool, "details": details}

    def tool_names(self) -> list[str]:
        """The tools called so far, in order."""
        return [name for name, _ in self.calls]


@dataclass
class KeywordRouter:
    """Routes by the first keyword found in the message; `other` when none is."""

    keywords: dict[str, Intent]

    def route(self, text: str, language: str | None = None) -> IntentRoute:
        """The intent of the first keyword the text holds."""
        lowered = text.lower()
        for keyword, intent in self.keywords.items():
            if keyword in lowered:
                return IntentRoute(intent, 0.9, Intent.OTHER, 0.2, "embedding")
        return IntentRoute(Intent.OTHER, 0.5, Intent.FAQ, 0.4, "embedding")

    def route_vector(self, text: str, vector: Vector, language: str | None = None) -> IntentRoute:
        """The same; the vector is not needed."""
        return self.route(text, language)


@dataclass
class WordIndex:
    """Passages found by the share of the question's words they contain."""

    passages: list[Passage]
    remembered: list[str] = field(default_factory=list)

    async def search(
        self, store_id: str, query: str, *, k: int = 5, language: str | None = None
    ) -> SearchResult:
        """Passages sharing words with the query, best first; confidence is the best share."""
        words = set(re.findall(r"\w+", query.lower()))
        scored = []
        for passage in self.passages:
            share = len(words & set(re.findall(r"\w+", passage.text.lower()))) / max(len(words), 1)
            if share > 0:
                scored.append(replace(passage, score=share))
        scored.sort(key=lambda passage: passage.score, reverse=True)
        return SearchResult(scored[:k], scored[0].score if scored else 0.0)

    async def search_vector(
        self,
        store_id: str,
        query: str,
        vector: Vector,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """The same as `search`."""
        return await self.search(store_id, query, k=k, language=language)

    async def remember_question(self, store_id: str, vector: Vector, language: str) -> bool:
        """Nothing to keep in memory."""
        self.remembered.append(store_id)
        return True
