"""Offering a newly queued thread to one available agent of its store, and the queue's oldest
threads to an agent who has room again (`bot.domain.assignment` decides who may take what);
every agent still sees the queue and may take any thread by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.assignment import AgentLoad, choose_agent
from bot.domain.conversation import OwnerState
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


async def offer_to_agent(
    conversations: ConversationRepository,
    stores: StoreRepository,
    store_id: str,
    agent_id: int,
    *,
    present_within_s: float,
) -> list[Conversation]:
    """Offer an agent who has room again (a thread released, resolved or handed back, a higher
    capacity, translation turned on) the oldest queued threads nobody was offered that
    `choose_agent` lets them take, one per free place (threads offered to them and not taken
    yet count as taken); the threads offered. Nothing if their console is not open."""
    present = await stores.present(store_id, utcnow() - timedelta(seconds=present_within_s))
    agent = next((found for found in present if found.id == agent_id), None)
    if agent is None:
        return []
    queued = await conversations.in_state(store_id, OwnerState.QUEUED)
    load = AgentLoad(
        agent_id=agent.id,
        languages=tuple(agent.languages),
        capacity=agent.capacity,
        holding=(await conversations.holding(store_id)).get(agent.id, 0)
        + sum(1 for thread in queued if thread.offered_agent_id == agent.id),
        translation=agent.translation,
    )
    offered: list[Conversation] = []
    for thread in queued:  # the longest waiting first
        if not load.has_room:
            break
        if thread.offered_agent_id is not None or choose_agent(thread.language, [load]) is None:
            continue
        if await conversations.offer(store_id, thread.id, agent.id):
            offered.append(thread)
            load = replace(load, holding=load.holding + 1)
    return offered
