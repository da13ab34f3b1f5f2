"""The agent side of the hand-over over HTTP: the queue, take/release/resolve, replies.

Every call acts on the logged-in agent's store; a thread of another store is 404. Of two agents
taking one thread at once exactly one wins (a conditional UPDATE); the other gets 409
`already_taken`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bot.api.deps import CurrentAgentDep, ParleyDep
from bot.domain.conversation import OwnerState
from bot.domain.errors import Forbidden
from bot.storage.conversations import Conversation

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


class ConversationOut(BaseModel):
    """A thread as the queue lists it."""

    id: str
    state: OwnerState
    reason: str
    language: str | None
    agent_id: int | None
    last_seq: int
    state_since: datetime | None
    position: int | None = None
    contact_email: str | None = None


class ConversationsOut(BaseModel):
    """The store's threads, the longest waiting first."""

    conversations: list[ConversationOut]


class ChangedOut(BaseModel):
    """The thread after a take, release or resolve."""

    conversation: ConversationOut


class AgentReply(BaseModel):
    """An agent's message to the shopper."""

    text: str = Field(min_length=1, max_length=4000)
    client_id: str | None = Field(default=None, max_length=64)


class MessageOut(BaseModel):
    """The stored message as its socket frame."""

    message: dict[str, Any]


class MessagesOut(BaseModel):
    """Message frames after a sequence number."""

    messages: list[dict[str, Any]]


def conversation_out(conversation: Conversation, position: int | None = None) -> ConversationOut:
    """The thread as the queue lists it."""
    return ConversationOut(
        id=conversation.id,
        state=conversation.state,
        reason=conversation.handoff_reason or "",
        language=conversation.language,
        agent_id=conversation.assigned_agent_id,
        last_seq=conversation.last_seq,
        state_since=conversation.state_since,
        position=position,
        contact_email=conversation.contact_email,
    )


@router.get("")
async def list_conversations(
    agent: CurrentAgentDep,
    parley: ParleyDep,
    state: OwnerState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ConversationsOut:
    """The store's threads (in `state`), the longest waiting first; queued ones numbered."""
    found = await parley.conversations.in_state(agent.store_id, state, limit=limit)
    position = 0
    listed = []
    for conversation in found:
        if conversation.state is OwnerState.QUEUED:
            position += 1
            listed.append(conversation_out(conversation, position))
        else:
            listed.append(conversation_out(conversation))
    return ConversationsOut(conversations=listed)


@router.post("/{conversation_id}/take")
async def take(conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep) -> ChangedOut:
    """Take the thread over from the queue (or from the bot); 409 if another agent was faster."""
    changed = await parley.live.change_owner(
        agent.store_id,
        conversation_id,
        OwnerState.HUMAN,
        None,
        actor=f"agent:{agent.id}",
        agent_id=agent.id,
    )
    return ChangedOut(conversation=conversation_out(changed))


async def require_holder_or_admin(parley: Any, agent: Any, conversation_id: str) -> None:
    """Only the agent who holds a thread (or an admin) may hand it back or resolve it."""
    thread = await parley.conversations.get(agent.store_id, conversation_id)
    if (
        thread.state is OwnerState.HUMAN
        and thread.assigned_agent_id != agent.id
        and agent.role != "admin"
    ):
        raise Forbidden("another agent holds this conversation")


@router.post("/{conversation_id}/release")
async def release(conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep) -> ChangedOut:
    """Hand the thread back to the bot."""
    await require_holder_or_admin(parley, agent, conversation_id)
    changed = await parley.live.change_owner(
        agent.store_id, conversation_id, OwnerState.BOT, "released", actor=f"agent:{agent.id}"
    )
    return ChangedOut(conversation=conversation_out(changed))


@router.post("/{conversation_id}/resolve")
async def resolve(conversation_id: str, agent: CurrentAgentDep, parley: ParleyDep) -> ChangedOut:
    """Close the thread; it reopens to the bot when the shopper writes again."""
    await require_holder_or_admin(parley, agent, conversation_id)
    changed = await parley.live.change_owner(
        agent.store_id, conversation_id, OwnerState.RESOLVED, "resolved", actor=f"agent:{agent.id}"
    )
    return ChangedOut(conversation=conversation_out(changed))


@router.post("/{conversation_id}/messages", status_code=201)
async def reply(
    conversation_id: str, body: AgentReply, agent: CurrentAgentDep, parley: ParleyDep
) -> MessageOut:
    """Write to the shopper in a thread this agent holds (stored, then sent live)."""
    message, _ = await parley.live.agent_message(
        agent.store_id, conversation_id, agent.id, body.text, body.client_id
    )
    return MessageOut(message={**message.frame(), "conversation_id": conversation_id})


@router.get("/{conversation_id}/messages")
async def messages(
    conversation_id: str,
    agent: CurrentAgentDep,
    parley: ParleyDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> MessagesOut:
    """The thread's messages with `seq > after`."""
    found = await parley.conversations.messages_after(agent.store_id, conversation_id, after)
    return MessagesOut(messages=[message.frame() for message in found])
