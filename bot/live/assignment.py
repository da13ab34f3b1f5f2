"""Offering a newly queued thread to one available agent of its store (`bot.domain.assignment`
decides whom); every agent still sees the queue and may take any thread by hand."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.assignment import AgentLoad, choose_agent
from bot.storage import ConversationRepository, StoreRepository
from bot.storage.conversations import Conversation
from bot.storage.tables import utcnow


async def offer_thread(
    conversations: ConversationRepository,
    stores: StoreRepository,
    conversation: Conversation,
    *,
    present_within_s: float,
) -> int | None:
    """Offer the queued `conversation` to the agent `choose_agent` picks among those whose
    console was seen within `present_within_s`; the agent's id, or `None` if nobody fits."""
    store_id = conversation.store_id
    present = await stores.present(store_id, utcnow() - timedelta(seconds=present_within_s))
    if not present:
        return None
    holding = await conversations.holding(store_id)
    loads = [
        AgentLoad(
            agent_id=agent.id,
            languages=tuple(agent.languages),
            capacity=agent.capacity,
            holding=holding.get(agent.id, 0),
            translation=agent.translation,
        )
        for agent in present
    ]
    chosen = choose_agent(conversation.language, loads)
    if chosen is None or not await conversations.offer(store_id, conversation.id, chosen.agent_id):
        return None
    return chosen.agent_id
