"""Checks on what the bot is about to say: the guard (language, script, promises, injections),
the grounding of figures in the passages, and sentence gating for streamed answers."""

from bot.agent.checks.grounding import price_answered_with_time, ungrounded_figures
from bot.agent.checks.guard import (
    Verdict,
    attacks_the_bot,
    check_reply,
    instructs_the_model,
    looks_like_injection,
    question_before_attack,
    repeats_question,
    undisguised,
)
from bot.agent.checks.reply import passes_checks, says_something, sentences_end

__all__ = [
    "Verdict",
    "attacks_the_bot",
    "check_reply",
    "instructs_the_model",
    "looks_like_injection",
    "passes_checks",
    "price_answered_with_time",
    "question_before_attack",
    "repeats_question",
    "says_something",
    "sentences_end",
    "undisguised",
    "ungrounded_figures",
]
