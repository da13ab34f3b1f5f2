"""What the agent console reads and does beyond the queue's take/release/resolve: the open
threads with their first words, an agent's languages and capacity, one thread with everything
the bot did, the shopper's orders and cases, the cited passages, a reply's preview for the
shopper, a suggested reply, and handing a thread back to the bot with a note.

Every call acts on the logged-in agent's store: a thread of another store is 404."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from bot.api.conversations import ChangedOut, conversation_out, require_holder_or_admin
from bot.api.deps import CurrentAgentDep, ParleyDep
from bot.domain.conversation import OwnerState, Role
from bot.domain.errors import NotFound, ParleyError
from bot.domain.orders import to_tau2
from bot.live.suggestions import suggest_reply
from bot.live.translation import (
    Translation,
    reading_language,
    reply_for_shopper,
    translate_for_thread,
)
from bot.storage import Agent, Conversation, ConversationRepository, Message
from bot.storage.order_cases import CaseRepository
from bot.storage.tables import utcnow
from bot.translation import Interpreter

router = APIRouter(prefix="/api/v1", tags=["console"])
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class ThreadSummary(BaseModel):
    """A thread as the console's queue lists it."""

    conversation_id: str
    state: OwnerState
    reason: str
    language: str | None
    agent_id: int | None
    offered_to: int | None
    since: datetime | None
    first_message: str
    last_seq: int


class ThreadsOut(BaseModel):
    """Open threads, the longest waiting first."""

    threads: list[ThreadSummary]


class Preferences(BaseModel):
    """What an agent reads and how many threads they take at once."""

    languages: list[str] = Field(min_length=1, max_length=30)
    capacity: int = Field(ge=1, le=50)
    translation: bool = True
    """Whether threads in languages they do not read may be offered to them."""

    @field_validator("languages")
    @classmethod
    def _codes(cls, languages: list[str]) -> list[str]:
        codes = [language.strip().lower() for language in languages]
        bad = [code for code in codes if not _LANGUAGE.match(code)]
        if bad:
            raise ValueError(f"not ISO 639-1 language codes: {', '.join(bad)}")
        return list(dict.fromkeys(codes))


class Preview(BaseModel):
    """An agent's draft reply."""

    text: str = Field(min_length=1, max_length=4000)


class HandBack(BaseModel):
    """Handing a thread back to the bot, with what the bot should know."""

    note: str = Field(default="", max_length=2000)


async def thread_summary(
    conversations: ConversationRepository, conversation: Conversation
) -> ThreadSummary:
    """A thread as the console's queue shows it (the agent socket's snapshot too)."""
    return ThreadSummary(
        conversation_id=conversation.id,
        state=conversation.state,
        reason=conversation.handoff_reason or "",
        language=conversation.language,
        agent_id=conversation.assigned_agent_id,
        offered_to=conversation.offered_agent_id,
        since=conversation.state_since,
        first_message=await conversations.first_words(conversation.store_id, conversation.id),
        last_seq=conversation.last_seq,
    )


@router.get("/console/threads")
async def threads(
    agent: CurrentAgentDep,
    parley: ParleyDep,
    view: Literal["open", "mine"] = "open",
) -> ThreadsOut:
    """`open`: every queued or held thread of the store; `mine`: those this agent holds or
    was offered."""
    found: list[Conversation] = []
    for state in (OwnerState.QUEUED, OwnerState.HUMAN):
        found += await parley.conversations.in_state(agent.store_id, state)
    if view == "mine":
        found = [c for c in found if agent.id in (c.assigned_agent_id, c.offered_agent_id)]
    return ThreadsOut(threads=[await thread_summary(parley.conversations, c) for c in found])


@router.get("/console/preferences")
async def preferences(agent: CurrentAgentDep) -> Preferences:
    """The languages this agent reads, their capacity and whether they use translation."""
    return Preferences(
        languages=agent.languages, capacity=agent.capacity, translation=agent.translation
    )


@router.put("/console/preferences")
async def set_preferences(
    body: Preferences, agent: CurrentAgentDep, parley: ParleyDep
) -> Preferences:
    """Declare the languages read, how many threads at once, and translation on or off."""
    changed = await parley.stores.set_preferences(
        agent.store_id,
        agent.id,
        languages=body.languages,
        capacity=body.capacity,
        translation=body.translation,
    )
    # More room, another language or translation on: the queue may hold a thread for them now.
    await parley.live.offer_freed(agent.store_id, agent.id)
    return Preferences(
        languages=changed.languages, capacity=changed.capacity, translation=changed.translation
    )


async def message_view(
    interpreter: Interpreter, message: Message, conversation: Conversation, agent: Agent
) -> dict[str, Any]:
    """A message as the console shows it: the frame, what the bot's turn did (intent, outcome,
    confidence, tool calls, hand-off), and a shopper's words in the agent's language."""
    view: dict[str, Any] = {**message.frame(), "conversation_id": conversation.id}
    view["turn"] = message.meta.get("turn")
    view["handback_note"] = message.meta.get("handback_note")
    if message.role is Role.SHOPPER:
        view["translation"] = (
            await read_by_agent(interpreter, conversation, message, agent)
        ).as_json()
    return view


async def read_by_agent(
    interpreter: Interpreter, conversation: Conversation, message: Message, agent: Agent
) -> Translation:
    """A shopper's message in the language this agent reads (stored once translated)."""
    return await translate_for_thread(
        interpreter,
        conversation.store_id,
        conversation.id,
        message.text,
        source=message.language or conversation.language,
        target=reading_language(agent),
        direction="to_agent",
        seq=message.seq,
    )


def _pending_action(messages: list[Message]) -> dict[str, Any] | None:
    """The write the bot's latest reply proposed, while it still waits for the shopper's yes."""
    latest = next((m for m in reversed(messages) if m.role is Role.BOT), None)
    if latest is None:
        return None
    action = latest.meta.get("action")
    waiting = (latest.meta.get("memory") or {}).get("awaiting") == "confirm"
    if not isinstance(action, dict) or not waiting:
        return None
    expires = action.get("expires_at")
    if isinstance(expires, str) and datetime.fromisoformat(expires) < utcnow():
        return None
    return action


@router.get("/conversations/{conversation_id}/thread")
async def thread(conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep) -> dict[str, Any]:
    """The whole thread for the console: header, messages with the bot's turns, the audited
    owner changes (hand-off reasons, takes, hand-backs) and any action awaiting the shopper."""
    conversation = await parley.conversations.get(agent.store_id, conversation_id)
    messages = await parley.conversations.messages_after(agent.store_id, conversation_id, 0)
    changes = await parley.conversations.owner_changes(agent.store_id, conversation_id)
    interpreter = await parley.interpreter()
    return {
        "conversation": conversation_out(conversation).model_dump(mode="json"),
        "handback_note": conversation.handback_note,
        "verified_customer": conversation.customer_id,
        "messages": [await message_view(interpreter, m, conversation, agent) for m in messages],
        "owner_changes": [
            {
                "from": change.from_state.value,
                "to": change.to_state.value,
                "actor": change.actor,
                "reason": change.reason,
                "at": change.at.isoformat(),
            }
            for change in changes
        ],
        "pending_action": _pending_action(messages),
    }


@router.get("/conversations/{conversation_id}/customer")
async def customer(
    conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep
) -> dict[str, Any]:
    """The shopper's verified identity and their orders with status, read-only from the
    store's order store; `verified: false` until the shopper proved who they are."""
    conversation = await parley.conversations.get(agent.store_id, conversation_id)
    if conversation.customer_id is None:
        return {"verified": False, "customer": None, "orders": []}
    async with parley.orders.session(agent.store_id) as session:
        account = await session.customer(conversation.customer_id)
        orders = []
        for order_id in account.orders:
            try:
                order = await session.order(order_id)
            except ParleyError:  # an id the account lists but the store no longer has
                continue
            orders.append(
                {
                    "order_id": order.order_id,
                    "status": order.status,
                    "items": [
                        {"name": item.name, "options": item.options, "price": str(item.price)}
                        for item in order.items
                    ],
                    "paid": str(order.paid()),
                    "refunded": str(order.refunded()),
                    "tracking": [t for f in order.fulfillments for t in f.tracking_id],
                    "address": order.address.one_line(),
                }
            )
    return {
        "verified": True,
        "customer": {
            "user_id": account.user_id,
            "name": f"{account.name.first_name} {account.name.last_name}",
            "email": account.email,
            "address": account.address.one_line(),
        },
        "orders": orders,
    }


@router.get("/conversations/{conversation_id}/cases")
async def cases(conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep) -> dict[str, Any]:
    """Dispute and chargeback cases opened in this thread, with their evidence packs."""
    await parley.conversations.get(agent.store_id, conversation_id)  # same store, or 404
    found = await CaseRepository(parley.database).of_conversation(agent.store_id, conversation_id)
    return {"cases": [to_tau2(case) for case in found]}


@router.get("/conversations/{conversation_id}/messages/{seq}/passages")
async def passages(
    conversation_id: str, seq: int, agent: CurrentAgentDep, parley: ParleyDep
) -> dict[str, Any]:
    """The passages a bot reply cites, found again by searching the question it answered."""
    found = await parley.conversations.messages_after(agent.store_id, conversation_id, seq - 1, 1)
    if not found or found[0].seq != seq or found[0].role is not Role.BOT:
        raise NotFound("no bot reply with this seq")
    reply = found[0]
    question = await parley.conversations.messages_after(
        agent.store_id, conversation_id, int(reply.meta.get("reply_to") or 0) - 1, 1
    )
    if not reply.citations or not question:
        return {"passages": []}
    result = await parley.knowledge.search(agent.store_id, question[0].text, k=20)
    cited = []
    for citation in reply.citations:
        match = next(
            (
                p
                for p in result.passages
                if p.document == citation.get("document") and p.section == citation.get("section")
            ),
            None,
        )
        cited.append({**citation, "text": match.text if match else None})
    return {"passages": cited}


@router.post("/conversations/{conversation_id}/preview")
async def preview(
    conversation_id: str, body: Preview, agent: CurrentAgentDep, parley: ParleyDep
) -> dict[str, Any]:
    """What the shopper would receive of this draft, in their language (`status` says whether
    it was translated; `untranslated` comes with a `reason`). Sending translates it the same
    way, once, and keeps that with the message."""
    conversation = await parley.conversations.get(agent.store_id, conversation_id)
    translation = await reply_for_shopper(
        await parley.interpreter(), agent, conversation, body.text
    )
    return translation.as_json()


@router.post("/conversations/{conversation_id}/suggestion")
async def suggestion(
    conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep
) -> dict[str, Any]:
    """A draft reply, in the agent's language, to the thread's last shopper message: the store's
    documents' answer with its citations and the verified shopper's orders (read-only). Empty
    `text` when neither answers; `untranslated` when a passage is quoted in another language."""
    conversation = await parley.conversations.get(agent.store_id, conversation_id)
    recent = max(conversation.last_seq - 200, 0)  # the question, and orders named around it
    messages = await parley.conversations.messages_after(agent.store_id, conversation_id, recent)
    pipeline = await parley.agent()
    drafted = await suggest_reply(
        answers=pipeline.answers,
        interpreter=await parley.interpreter(),
        orders=parley.orders,
        conversation=conversation,
        messages=messages,
        agent=agent,
    )
    return drafted.as_json()


@router.post("/conversations/{conversation_id}/handback")
async def hand_back(
    conversation_id: str, body: HandBack, agent: CurrentAgentDep, parley: ParleyDep
) -> ChangedOut:
    """Give the thread back to the bot; its next turn reads the note (once), the audit trail
    and the transcript keep it."""
    await require_holder_or_admin(parley, agent, conversation_id)
    changed = await parley.live.hand_back(agent.store_id, conversation_id, agent.id, body.note)
    return ChangedOut(conversation=conversation_out(changed))
