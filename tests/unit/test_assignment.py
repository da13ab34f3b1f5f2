"""Whom a queued thread is offered to: a reader of its language, else a translating agent,
never one at capacity; the least busy first."""

from __future__ import annotations

from bot.domain.assignment import AgentLoad, choose_agent


def agent(
    agent_id: int,
    languages: tuple[str, ...],
    *,
    holding: int = 0,
    capacity: int = 2,
    translation: bool = True,
) -> AgentLoad:
    return AgentLoad(agent_id, languages, capacity, holding, translation)


def test_a_reader_of_the_language_comes_before_a_less_busy_translating_agent() -> None:
    german = agent(2, ("de", "en"), holding=1)
    english = agent(1, ("en",), holding=0)
    assert choose_agent("de", [english, german]) == german
    assert choose_agent("de-AT", [english, german]) == german


def test_without_a_reader_the_least_busy_agent_with_translation_gets_it() -> None:
    busy = agent(1, ("en",), holding=1)
    free = agent(2, ("de",), holding=0)
    no_translation = agent(3, ("fr",), holding=0, translation=False)
    assert choose_agent("ja", [busy, free, no_translation]) == free
    assert choose_agent("ja", [no_translation]) is None


def test_an_agent_at_capacity_gets_nothing_even_in_their_language() -> None:
    full = agent(1, ("ja",), holding=2, capacity=2)
    other = agent(2, ("en",), holding=1)
    assert choose_agent("ja", [full, other]) == other
    assert choose_agent("ja", [full]) is None


def test_an_unknown_language_goes_to_a_translating_agent() -> None:
    reader = agent(1, ("en",), translation=False)
    translating = agent(2, ("de",))
    assert choose_agent(None, [reader, translating]) == translating
    assert choose_agent(None, []) is None
