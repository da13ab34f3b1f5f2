"""Two-way translation of chat messages while a person owns the thread: the checked engine and
the stored translations the agent console reads."""

from bot.agent.models.translator import lost_facts, translate
from bot.domain.translation import Outcome, Translation
from bot.translation.messages import (
    Interpreter,
    translate_message,
    translate_outgoing,
)

__all__ = [
    "Interpreter",
    "Outcome",
    "Translation",
    "lost_facts",
    "translate",
    "translate_message",
    "translate_outgoing",
]
