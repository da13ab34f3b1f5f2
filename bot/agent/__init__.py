"""The agent: language, intent, handoff signals and chat models for the turn pipeline.

Rooms: `pipeline` (the conductor), `state` (the turn and its tool calls), `decision`,
`flows/` (orders, exchanges, disputes and status, answers), `checks/` (what may be said),
`models/` (chat models and the one bounded call), `ports` (what the pipeline needs).
"""

from bot.agent.errors import LLMTimeout, LLMUnavailable
from bot.agent.intents import (
    Embed,
    Exemplar,
    Intent,
    IntentRoute,
    IntentRouter,
    exemplar_vectors,
    load_exemplars,
)
from bot.agent.language import LanguageGuess, LanguageIdentifier, supported_languages
from bot.agent.models import ModelSpec, invoke_chat, make_chat_model, parse_spec, stream_chat
from bot.agent.signals import (
    HandoffSignal,
    detect_anger,
    detect_dispute,
    detect_human_request,
    detect_legal_or_safety,
    handoff_signals,
)

__all__ = [
    "Embed",
    "Exemplar",
    "HandoffSignal",
    "Intent",
    "IntentRoute",
    "IntentRouter",
    "LLMTimeout",
    "LLMUnavailable",
    "LanguageGuess",
    "LanguageIdentifier",
    "ModelSpec",
    "detect_anger",
    "detect_dispute",
    "detect_human_request",
    "detect_legal_or_safety",
    "exemplar_vectors",
    "handoff_signals",
    "invoke_chat",
    "load_exemplars",
    "make_chat_model",
    "parse_spec",
    "stream_chat",
    "supported_languages",
]
