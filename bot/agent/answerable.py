"""The answer floors as the turn pipeline imports them; the rule itself is a domain value
(`bot.domain.answering`), so settings can build it without importing the agent."""

from bot.domain.answering import AnswerFloors

__all__ = ["AnswerFloors"]
