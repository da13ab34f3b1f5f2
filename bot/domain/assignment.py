"""Which agent a newly queued thread is offered to: one who reads its language, else one who
works through translation; only agents with room under their capacity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentLoad:
    """An available agent as the offer sees them: what they read and how busy they are."""

    agent_id: int
    languages: tuple[str, ...]
    capacity: int
    holding: int
    translation: bool

    @property
    def has_room(self) -> bool:
        """Whether the agent holds fewer threads than they take at once."""
        return self.holding < self.capacity


def choose_agent(language: str | None, agents: list[AgentLoad]) -> AgentLoad | None:
    """The least busy agent with room who reads `language`; else the least busy with room and
    translation on; `None` when nobody fits (the thread waits in the queue for anyone)."""
    free = sorted((a for a in agents if a.has_room), key=lambda a: (a.holding, a.agent_id))
    primary = (language or "").split("-")[0].lower()
    for agent in free:
        if primary and primary in agent.languages:
            return agent
    return next((agent for agent in free if agent.translation), None)
