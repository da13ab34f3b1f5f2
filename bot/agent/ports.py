"""What the turn pipeline needs from the rest of Parley, as small protocols.

The knowledge index, the embedding router, the conversation repository, the store's policy and
the order tools each sit behind one of these, so the decision tree runs in unit tests on
in-memory stand-ins (and the scripted chat model) with no database and no index.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bot.agent.intents import IntentRoute
from bot.domain.conversation import HandoffReason, OwnerState, Role
from bot.domain.policy import StorePolicy, Verification
from bot.storage.conversations import Conversation, Message
from knowledge import SearchResult

Emit = Callable[[str], Awaitable[None]]
"""Sends a piece of the reply to the shopper while the turn is still running."""
Vector = NDArray[np.float32]


class Retriever(Protocol):
    """Finds a store's passages for a question (the knowledge index)."""

    async def search(
        self, store_id: str, query: str, *, k: int = 5, language: str | None = None
    ) -> SearchResult:
        """The best passages of this store for a question in `language`, with a calibrated
        confidence."""
        ...

    async def search_vector(
        self,
        store_id: str,
        query: str,
        vector: Vector,
        *,
        k: int = 5,
        language: str | None = None,
    ) -> SearchResult:
        """The same, with the query's embedding already computed."""
        ...

    async def remember_question(self, store_id: str, vector: Vector, language: str) -> bool:
        """Keep a shopper's question among the store's reference questions."""
        ...


class Router(Protocol):
    """Routes a message to an intent (the embedding router)."""

    def route(self, text: str, language: str | None = None) -> IntentRoute:
        """The message's intent with its score."""
        ...

    def route_vector(self, text: str, vector: Vector, language: str | None = None) -> IntentRoute:
        """The same, with the message's embedding already computed."""
        ...


class ConversationLog(Protocol):
    """A store's conversations and their messages (the conversation repository)."""

    async def get(self, store_id: str, conversation_id: str) -> Conversation:
        """The thread's header: owner state, language, verified customer."""
        ...

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
        """Store a message; `False` with the stored one when `client_id` was seen before."""
        ...

    async def messages_after(
        self, store_id: str, conversation_id: str, after: int = 0, limit: int = 500
    ) -> list[Message]:
        """The thread's messages after sequence number `after`, oldest first."""
        ...

    async def change_owner(
        self,
        store_id: str,
        conversation_id: str,
        target: OwnerState,
        reason: str | None = None,
    ) -> Conversation:
        """Move the thread to another owner state (the domain decides if it may)."""
        ...

    async def set_language(self, store_id: str, conversation_id: str, language: str) -> None:
        """The language the thread now runs in."""
        ...

    async def take_handback_note(self, store_id: str, conversation_id: str) -> str | None:
        """The note an agent left when handing the thread back, read once (then cleared)."""
        ...


class StorePolicies(Protocol):
    """Each store's policy document (the store repository)."""

    async def policy(self, store_id: str) -> dict[str, Any]:
        """The store's policy document as stored."""
        ...


class Desk(Protocol):
    """The order tools for one conversation: calls by name under the store's policy, the
    shopper's verification, and the hand-off to a person."""

    @property
    def customer_id(self) -> str | None:
        """The verified customer; `None` until the shopper proved who they are."""
        ...

    @property
    def verified_by(self) -> set[str]:
        """How the shopper proved who they are (`Verification` values), as the tools that
        check a write against the store's policy see it."""
        ...

    def prove(self, method: Verification) -> None:
        """A further proof the flows checked (an order number, a one-time code): it counts
        for writes from now on."""
        ...

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call a tool; raises the typed error the shopper can be told."""
        ...

    async def verify(self, customer_id: str) -> None:
        """Bind the conversation to this customer."""
        ...

    async def hand_off(self, reason: HandoffReason) -> bool:
        """Queue the conversation for a person with `reason`."""
        ...


class Desks(Protocol):
    """Opens the order tools for one conversation."""

    def open(
        self,
        store_id: str,
        policy: StorePolicy,
        conversation_id: str,
        customer_id: str | None,
        verified_by: Collection[str] = (),
    ) -> Desk:
        """The tools of this conversation under `policy`, for `customer_id` if verified (in
        the `verified_by` ways)."""
        ...
