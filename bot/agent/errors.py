"""Typed errors of the agent layer; the turn pipeline turns them into a fallback or a handoff."""

from __future__ import annotations

from bot.domain.errors import ServiceUnavailable


class LLMUnavailable(ServiceUnavailable):
    """The chat model failed (provider error, crash, refused request): fall back, do not retry."""

    code = "llm_unavailable"


class LLMTimeout(LLMUnavailable):
    """The chat model did not answer within the configured time."""

    code = "llm_timeout"
