"""Who is calling a tool, for which store and conversation, under which policy.

Identity is enforced here: order data is shown only once the shopper is verified, and only
their own. Verification binds the conversation to that customer for good. Writes need more:
one of the ways of verifying the store's policy accepts for writes (`require_write`); until
then a proposal shows no card number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.conversation import HandoffReason, OwnerState
from bot.domain.credentials import identity_matches
from bot.domain.errors import InvalidTransition, NotVerified, Unauthorized
from bot.domain.orders import NotYourOrder
from bot.domain.policy import StorePolicy, Verification
from bot.storage.conversations import ConversationRepository
from bot.storage.order_actions import AlreadyVerified, CustomerBinding, PendingActionRepository
from bot.storage.order_audit import AuditLog
from bot.storage.order_cases import CaseRepository
from bot.storage.order_handoffs import HandoffNotes
from bot.storage.stores import StoreRepository
from bot.storage.tables import utcnow
from bot.tools.retail import MoneyRules
from bot.tools.store import OrderStore


@dataclass
class ToolServices:
    """The repositories the tools use; one set per process, built by `bot.wiring`."""

    orders: OrderStore
    actions: PendingActionRepository
    cases: CaseRepository
    bindings: CustomerBinding
    conversations: ConversationRepository
    stores: StoreRepository
    audit: AuditLog
    handoffs: HandoffNotes

    async def policy(self, store_id: str) -> StorePolicy:
        """The store's policy (defaults where the merchant set nothing)."""
        return StorePolicy.model_validate(await self.stores.policy(store_id))

    async def context(
        self,
        store_id: str,
        *,
        conversation_id: str | None = None,
        customer_id: str | None = None,
    ) -> ToolContext:
        """A context for one conversation under the store's current policy; a conversation
        already verified keeps its customer."""
        if conversation_id is not None and customer_id is None:
            customer_id = await self.bindings.bound(store_id, conversation_id)
        return ToolContext(
            services=self,
            store_id=store_id,
            policy=await self.policy(store_id),
            conversation_id=conversation_id,
            customer_id=customer_id,
        )


@dataclass
class ToolContext:
    """One shopper conversation as the tools see it."""

    services: ToolServices
    store_id: str
    policy: StorePolicy
    conversation_id: str | None = None
    customer_id: str | None = None
    """The verified customer; `None` until the shopper proved who they are."""
    verified_by: set[str] = field(default_factory=set)
    """How the shopper proved who they are (`Verification` values): every way so far, since
    an email and later one of its order numbers together prove more than either."""
    tau2_compat: bool = False
    """Reproduce the τ² reference's float arithmetic and quirks (replay only)."""
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def rules(self) -> MoneyRules:
        """How money is computed in this context."""
        return MoneyRules(tau2_compat=self.tau2_compat)

    @property
    def actor(self) -> str:
        """Who the audit log names for this context's writes."""
        return f"shopper:{self.customer_id}" if self.customer_id else "shopper:unverified"

    async def verify(self, customer_id: str, method: Verification | None = None) -> None:
        """Bind the conversation to this customer (by email, name + zip, or signed identity).

        `method` is checked against the store's policy; `None` when the caller already did
        (the lookup tools check before they search)."""
        if method is not None:
            self.policy.check_verification(method)
        if self.customer_id not in (None, customer_id):
            raise AlreadyVerified(
                "This conversation is already verified for another customer; "
                "I can help only that customer here."
            )
        if self.conversation_id is not None:
            await self.services.bindings.bind(self.store_id, self.conversation_id, customer_id)
        self.customer_id = customer_id
        if method is not None:
            self.verified_by.add(method.value)

    def prove(self, method: Verification) -> None:
        """Record a further proof by the verified shopper: an order number of the account
        given before the bot showed any (`EMAIL_ORDER`), or the one-time code (`CODE`).
        The caller checked the proof; this only lets it count for writes."""
        self.verified()
        self.verified_by.add(method.value)

    @property
    def may_write(self) -> bool:
        """True when the shopper verified in a way the store accepts for writes."""
        return self.customer_id is not None and self.policy.allows_write(self.verified_by)

    def require_write(self) -> str:
        """The verified customer, if they may have the bot change their orders or account;
        else `NotVerified` or `StrongerVerificationNeeded` (an email alone, by default)."""
        customer_id = self.verified()
        self.policy.check_write(self.verified_by)
        return customer_id

    async def verify_signed(self, user_id: str, signature: str, identity_secret: str) -> None:
        """Verify with the storefront's signed identity (HMAC-SHA256 of the user id)."""
        if not identity_matches(user_id, signature, identity_secret):
            raise Unauthorized("the signed identity does not match")
        await self.verify(user_id, Verification.SIGNED)

    def verified(self) -> str:
        """The verified customer, or `NotVerified` with what the shopper can do about it."""
        if self.customer_id is None:
            raise NotVerified(
                "Before I can look at orders or account details I need to verify who you are: "
                "please give me your email address, or your first and last name and zip code."
            )
        return self.customer_id

    async def hand_off(self, reason: HandoffReason, summary: str | None = None) -> bool:
        """Queue the conversation for a person with `reason` (and the bot's `summary` for
        them), audited; `False` if there is no conversation. A thread already queued or with
        a person stays where it is, and gets the summary."""
        if self.conversation_id is None:
            return False
        conversations = self.services.conversations
        thread = await conversations.get(self.store_id, self.conversation_id)
        if thread.state not in (OwnerState.QUEUED, OwnerState.HUMAN):
            # A person may take the thread meanwhile: then it is with a human either way.
            with contextlib.suppress(InvalidTransition):
                await conversations.change_owner(
                    self.store_id, self.conversation_id, OwnerState.QUEUED, reason.value
                )
                await self.services.audit.record(
                    self.store_id,
                    self.actor,
                    "hand_off",
                    f"conversation:{self.conversation_id}",
                    {"state": thread.state.value},
                    {"state": OwnerState.QUEUED.value, "reason": reason.value, "summary": summary},
                )
        if summary:
            await self.services.handoffs.add(self.store_id, self.conversation_id, summary)
        return True

    def require_owner(self, user_id: str) -> None:
        """Raise unless the verified shopper is this customer."""
        if self.verified() != user_id:
            raise NotYourOrder()
